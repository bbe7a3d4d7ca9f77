"""The lifecycle allows exactly the documented transitions, and says why when it refuses one."""

from __future__ import annotations

import itertools

import pytest

from tipline.domain.lifecycle import LifecycleError, ReportState, check_transition

S = ReportState
ALLOWED = {
    (S.OPEN, S.RECEIVED),
    (S.OPEN, S.RETRACTED),
    (S.RECEIVED, S.PROCESSING),
    (S.PROCESSING, S.AWAITING_REVIEW),
    (S.AWAITING_REVIEW, S.IN_REVIEW),
    (S.IN_REVIEW, S.AWAITING_REVIEW),
    (S.IN_REVIEW, S.REFERRED),
    (S.IN_REVIEW, S.INFORMATIONAL),
    (S.IN_REVIEW, S.CLOSED_NO_ACTION),
    (S.INFORMATIONAL, S.AWAITING_REVIEW),
    (S.CLOSED_NO_ACTION, S.AWAITING_REVIEW),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_only_documented_transitions_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(LifecycleError):
            check_transition(current, target)


def test_retraction_is_only_possible_before_receipt() -> None:
    sources = {current for current, target in ALLOWED if target == S.RETRACTED}
    assert sources == {S.OPEN}


def test_the_refusal_names_the_states() -> None:
    with pytest.raises(LifecycleError, match="'received' cannot become 'retracted'; allowed from 'received': processing"):
        check_transition(S.RECEIVED, S.RETRACTED)
    with pytest.raises(LifecycleError, match="none \\(it is final\\)"):
        check_transition(S.REFERRED, S.IN_REVIEW)
