"""What an agency reports back about a referral."""

from __future__ import annotations

from tipline.domain.labels import LabelledEnum, labels


class Outcome(LabelledEnum):
    RECEIVED = "received"
    INVESTIGATION_OPENED = "investigation_opened"
    CHILD_SAFEGUARDED = "child_safeguarded"
    CHILD_IDENTIFIED = "child_identified"
    ARREST = "arrest"
    NO_ACTION_POSSIBLE = "no_action_possible"
    REFERRED_ON = "referred_on"


OUTCOME_LABELS = labels(Outcome, {
    Outcome.RECEIVED: "Received",
    Outcome.INVESTIGATION_OPENED: "Investigation opened",
    Outcome.CHILD_SAFEGUARDED: "Child safeguarded",
    Outcome.CHILD_IDENTIFIED: "Child identified",
    Outcome.ARREST: "Arrest",
    Outcome.NO_ACTION_POSSIBLE: "No action possible",
    Outcome.REFERRED_ON: "Referred on to another agency",
})
MAX_REASON = 2000
MAX_NOTE = 5000


def outcome_label(value: str) -> str:
    try:
        return Outcome(value).label
    except ValueError:
        return value
