"""Detector v5.2 (issue 10): rule 1 (sextortion: a threat with a demand) needs the threat and the demand close
together, as a sextortionist writes them, not fifty lines apart in a relative's long chat."""

from __future__ import annotations

from tipline.enticement.analyzer import THREAT_DEMAND_WINDOW, AuthorState, ConversationState
from tipline.enticement.tactics import TACTICS


def _probs(**shown: float) -> list[float]:
    values = [0.0] * len(TACTICS)
    for tactic, p in shown.items():
        values[TACTICS.index(tactic)] = p
    return values


def _read(state: AuthorState, lines: list[tuple[list[float], dict[str, int]]]) -> None:
    for own, cues in lines:
        ConversationState._threat_and_demand(state, own, cues)
        state.messages += 1


def test_a_threat_and_a_demand_count_together_only_when_close() -> None:
    assert THREAT_DEMAND_WINDOW is not None
    quiet = (_probs(), {})
    threat = (_probs(sextortion_threat=0.9), {})
    photo = (_probs(image_request=0.9), {})
    money = (_probs(), {"demand": 1})

    # A line that reads as a threat, and fifty lines later a photo asked for (a relative's long surprise chat).
    far = AuthorState("aunt", None)
    _read(far, [threat, *[quiet] * 50, photo])
    assert not far.threat_with_demand

    # The same the other way round: the demand first, the threat long after.
    late = AuthorState("coach", None)
    _read(late, [money, *[quiet] * (THREAT_DEMAND_WINDOW + 1), threat])
    assert not late.threat_with_demand

    # A sextortionist's threat and demand come together, in either order, in one message or a few apart.
    for lines in ([threat, money], [photo, quiet, threat], [money, *[quiet] * (THREAT_DEMAND_WINDOW - 1), threat]):
        near = AuthorState("x", None)
        _read(near, lines)
        assert near.threat_with_demand
    both = AuthorState("y", None)
    _read(both, [(_probs(sextortion_threat=0.95), {"demand": 1})])
    assert both.threat_with_demand
