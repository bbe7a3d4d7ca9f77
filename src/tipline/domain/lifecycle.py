"""The report lifecycle: its states and the one table of transitions that every path must obey."""

from __future__ import annotations

from typing import Any

from tipline.domain.errors import TiplineError
from tipline.domain.labels import LabelledEnum, labels


class ReportState(LabelledEnum):
    OPEN = "open"  # a service provider is still uploading
    RECEIVED = "received"  # finished by the reporter, acknowledged, waiting for the pipeline
    PROCESSING = "processing"  # the pipeline is adding its facts
    AWAITING_REVIEW = "awaiting_review"  # in the analysts' queue
    IN_REVIEW = "in_review"  # an analyst has claimed it
    REFERRED = "referred"  # sent to a law-enforcement agency
    INFORMATIONAL = "informational"  # reviewed, kept for information
    CLOSED_NO_ACTION = "closed_no_action"  # reviewed, nothing to act on
    RETRACTED = "retracted"  # withdrawn (or expired) before it was received


STATE_LABELS = labels(ReportState, {
    ReportState.OPEN: "Open (uploading)",
    ReportState.RECEIVED: "Received",
    ReportState.PROCESSING: "Processing",
    ReportState.AWAITING_REVIEW: "Awaiting review",
    ReportState.IN_REVIEW: "In review",
    ReportState.REFERRED: "Referred",
    ReportState.INFORMATIONAL: "Informational",
    ReportState.CLOSED_NO_ACTION: "Closed, no action",
    ReportState.RETRACTED: "Retracted",
})

TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    ReportState.OPEN: frozenset({ReportState.RECEIVED, ReportState.RETRACTED}),
    ReportState.RECEIVED: frozenset({ReportState.PROCESSING}),
    ReportState.PROCESSING: frozenset({ReportState.AWAITING_REVIEW}),
    ReportState.AWAITING_REVIEW: frozenset({ReportState.IN_REVIEW}),
    ReportState.IN_REVIEW: frozenset(
        {
            ReportState.AWAITING_REVIEW,  # released back to the queue
            ReportState.REFERRED,
            ReportState.INFORMATIONAL,
            ReportState.CLOSED_NO_ACTION,
        }
    ),
    ReportState.INFORMATIONAL: frozenset({ReportState.AWAITING_REVIEW}),  # reopened
    ReportState.CLOSED_NO_ACTION: frozenset({ReportState.AWAITING_REVIEW}),  # reopened
    ReportState.REFERRED: frozenset(),
    ReportState.RETRACTED: frozenset(),
}

TERMINAL_STATES = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
REVIEWED_STATES = frozenset({ReportState.REFERRED, ReportState.INFORMATIONAL, ReportState.CLOSED_NO_ACTION})
STAFF_VISIBLE_STATES = frozenset(ReportState) - {ReportState.OPEN, ReportState.RETRACTED}
QUEUE_STATES = (ReportState.AWAITING_REVIEW, ReportState.IN_REVIEW)
"""The review queue: reports waiting for an analyst or held by one (scored again as time passes)."""


class LifecycleError(TiplineError, ValueError):
    """A transition the lifecycle does not allow."""

    status, code, title = 409, "invalid_state", "Not possible in this state"

    def __init__(self, current: ReportState, target: ReportState) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (it is final)"
        super().__init__(
            f"a report in state '{current}' cannot become '{target}'; allowed from '{current}': {allowed}"
        )
        self.current = current
        self.target = target

    def problem_details(self) -> dict[str, Any]:
        return {"state": self.current.value}


def check_transition(current: ReportState, target: ReportState) -> None:
    """Raise LifecycleError unless the lifecycle allows current -> target."""
    if target not in TRANSITIONS[current]:
        raise LifecycleError(current, target)


def can_transition(current: ReportState, target: ReportState) -> bool:
    return target in TRANSITIONS[current]
