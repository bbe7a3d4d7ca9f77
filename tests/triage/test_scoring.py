"""Triage on realistic cases: the report about a child in danger tonight comes first; every level
comes with the reasons that produced it, each pointing at its evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tipline.triage import (
    DEFAULT_WEIGHTS,
    ConversationFact,
    DisclosureFact,
    FileFact,
    MatchFact,
    TacticFact,
    TextFact,
    TriageFacts,
    TriageWeights,
    score_priority,
)

NOW = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def chat(*tactics: tuple[str, str, str], level: str = "high") -> ConversationFact:
    return ConversationFact(1, "internetDetails[0].chatImIncident", level, level in ("high", "critical"),
                            tuple(TacticFact(t, m, e) for t, m, e in tactics))


# Each case is a report an experienced analyst would rank; the list is in the order they would work it:
# a meeting in person tonight first, then a sextortion deadline, then a bare "in danger now", ...
CASES: list[tuple[str, TriageFacts]] = [
    ("provider escalation: meeting arranged for this evening", TriageFacts(
        received_at=NOW - HOUR, escalation_text="The user arranged to meet the child in person this evening.",
        conversations=(chat(("meeting_request", "12", "can I pick you up after school"),),),
        victim_ages=((14, "victim[0].victimPerson.age"),))),
    ("sextortion with a deadline tonight, 13-year-old, offender in 4 other reports", TriageFacts(
        received_at=NOW - 2 * HOUR, sextortion_annotation=True, victim_ages=((13, "victim[0].victimPerson.age"),),
        conversations=(chat(("sextortion_threat", "9", "you have 24 hours, send $200 or everyone sees it"),
                            ("image_request", "6", "send me a picture"), level="critical"),),
        shared_reports=(11, 12, 13, 14))),
    ("public report: a child in danger now", TriageFacts(
        received_at=NOW - 3 * HOUR, child_in_danger_now=True)),
    ("new images matching an unidentified victim series", TriageFacts(
        received_at=NOW - 20 * HOUR, matching_done=True,
        files=(FileFact("f1", "img.jpg", "image", matches=(MatchFact("identified_series", "vid-series", "S-204", False),)),))),
    ("known material showing an infant", TriageFacts(
        received_at=NOW - 5 * HOUR, matching_done=True,
        files=(FileFact("f2", "a.jpg", "image", infant=True, matches=(MatchFact("known_material", "ncmec-list"),)),))),
    ("enticement detected, 14-year-old, offender seen in 3 other reports", TriageFacts(
        received_at=NOW - 6 * HOUR, victim_ages=((14, "victim[0].victimPerson.age"),),
        conversations=(chat(("secrecy", "3", "don't tell your parents"), level="high"),), shared_reports=(5, 6, 7))),
    ("apparently new images, nothing else known", TriageFacts(
        received_at=NOW - 8 * HOUR, matching_done=True, files=(FileFact("f3", "b.jpg", "image"),))),
    ("known meme-like material, waiting four days", TriageFacts(
        received_at=NOW - 96 * HOUR, matching_done=True,
        files=(FileFact("f4", "c.jpg", "image", matches=(MatchFact("known_material", "ncmec-list"),)),))),
    ("a report with nothing urgent in it, received an hour ago", TriageFacts(received_at=NOW - HOUR)),
]


def test_realistic_cases_come_out_in_the_order_an_analyst_would_work_them() -> None:
    ranked = sorted(CASES, key=lambda case: -score_priority(case[1], DEFAULT_WEIGHTS, NOW).rank)
    assert [name for name, _ in ranked] == [name for name, _ in CASES]


@pytest.mark.parametrize(("name", "level"), [
    ("sextortion with a deadline tonight, 13-year-old, offender in 4 other reports", "P1"),
    ("provider escalation: meeting arranged for this evening", "P1"),
    ("public report: a child in danger now", "P1"),
    ("new images matching an unidentified victim series", "P1"),
    ("known material showing an infant", "P2"),
    ("enticement detected, 14-year-old, offender seen in 3 other reports", "P2"),
    ("apparently new images, nothing else known", "P3"),
    ("known meme-like material, waiting four days", "P3"),
    ("a report with nothing urgent in it, received an hour ago", "P4"),
])
def test_each_case_gets_the_level_an_analyst_expects(name: str, level: str) -> None:
    facts = dict(CASES)[name]
    assert score_priority(facts, DEFAULT_WEIGHTS, NOW).level == level


def test_every_reason_points_at_its_evidence() -> None:
    priority = score_priority(dict(CASES)["sextortion with a deadline tonight, 13-year-old, offender in 4 other reports"],
                              DEFAULT_WEIGHTS, NOW)
    by_code = {reason.code: reason for reason in priority.reasons}
    assert set(by_code) >= {"sextortion_threat", "sextortion_annotation", "victim_age_13_to_15", "shared_identifiers",
                            "enticement_alert"}
    threat = by_code["sextortion_threat"]
    assert threat.immediate and threat.evidence[0].kind == "conversation"
    assert threat.evidence[0].ref == "analysis 1, message 9"
    assert "24 hours" in threat.evidence[0].text
    assert [e.ref for e in by_code["shared_identifiers"].evidence] == ["11", "12", "13", "14"]
    assert priority.score == sum(r.points for r in priority.reasons)
    assert priority.reasons[0].immediate  # immediate reasons are listed first


def test_no_match_says_nothing_until_files_were_looked_up() -> None:
    unmatched = FileFact("f", "x.jpg", "image")
    before = score_priority(TriageFacts(received_at=NOW, files=(unmatched,)), DEFAULT_WEIGHTS, NOW)
    after = score_priority(TriageFacts(received_at=NOW, files=(unmatched,), matching_done=True), DEFAULT_WEIGHTS, NOW)
    assert "apparently_new_material" not in {r.code for r in before.reasons}
    assert "apparently_new_material" in {r.code for r in after.reasons}


def test_waiting_time_adds_up_to_its_cap() -> None:
    def waiting(days: float) -> int:
        reasons = score_priority(TriageFacts(received_at=NOW - timedelta(days=days)), DEFAULT_WEIGHTS, NOW).reasons
        return next((r.points for r in reasons if r.code == "waiting"), 0)

    assert waiting(0.5) == 0 and waiting(1) == 3 and waiting(3) == 9 and waiting(30) == 15


def test_a_supervisor_can_change_the_weights() -> None:
    known, new = CASES[7][1], CASES[6][1]
    assert score_priority(known, DEFAULT_WEIGHTS, NOW).rank < score_priority(new, DEFAULT_WEIGHTS, NOW).rank
    heavier = DEFAULT_WEIGHTS.model_copy(update={"known_material_match": 40})
    assert score_priority(known, heavier, NOW).rank > score_priority(new, heavier, NOW).rank
    calmer = DEFAULT_WEIGHTS.model_copy(update={"immediate": ["reporter_escalation"]})
    assert score_priority(CASES[3][1], calmer, NOW).level != "P1"


def test_weights_are_checked() -> None:
    with pytest.raises(ValidationError, match="thresholds must fall"):
        TriageWeights(p1_from=20, p2_from=40)
    with pytest.raises(ValidationError, match="not reasons: hunch"):
        TriageWeights(immediate=["hunch"])
    with pytest.raises(ValidationError):
        TriageWeights(infant=-5)


DESCRIPTION = "publicReport.description"
DEMAND = "He wants $500 in gift cards by Friday 6pm."


def test_a_described_demand_with_a_deadline_is_sextortion_quoted_in_the_reason() -> None:
    facts = TriageFacts(received_at=NOW - HOUR, text=(
        TextFact("money_demand", DESCRIPTION, DEMAND, "$500"), TextFact("deadline", DESCRIPTION, DEMAND, "by Friday 6pm"),
        TextFact("child_age", DESCRIPTION, "My son is 13.", "13")))
    priority = score_priority(facts, DEFAULT_WEIGHTS, NOW)
    by_code = {reason.code: reason for reason in priority.reasons}
    assert priority.level == "P1"
    assert [(e.ref, e.text) for e in by_code["sextortion_threat"].evidence] == [(DESCRIPTION, DEMAND)]
    assert [(e.ref, e.text) for e in by_code["victim_age_13_to_15"].evidence] == [(DESCRIPTION, "My son is 13.")]


def test_a_demand_without_deadline_or_threat_is_not_sextortion_by_itself() -> None:
    facts = TriageFacts(received_at=NOW - HOUR, text=(TextFact("money_demand", DESCRIPTION, "He wants $20.", "$20"),))
    priority = score_priority(facts, DEFAULT_WEIGHTS, NOW)
    assert "sextortion_threat" not in {reason.code for reason in priority.reasons}
    assert priority.level != "P1"


def test_a_meeting_in_the_description_is_a_planned_meeting() -> None:
    quote = "He keeps asking her to meet him at the mall."
    facts = TriageFacts(received_at=NOW - HOUR, text=(TextFact("meeting_request", DESCRIPTION, quote),))
    reason = next(r for r in score_priority(facts, DEFAULT_WEIGHTS, NOW).reasons if r.code == "meeting_planned")
    assert reason.immediate and reason.evidence[0].text == quote


def disclosed(*urgent: str) -> ConversationFact:
    """A conversation in which a child tells a parent of an approach (analysed: level low, no alert)."""
    return ConversationFact(4, "internetDetails[0].chatImIncident", "low", False, (),
                            DisclosureFact("kid_1", ("m3", "m5"), ("this guy keeps asking for a pic", "he said dont tell u"),
                                           urgent))


def test_a_disclosure_is_a_reason_quoting_the_child_and_not_an_enticement_alert() -> None:
    priority = score_priority(TriageFacts(received_at=NOW - HOUR, conversations=(disclosed(),)), DEFAULT_WEIGHTS, NOW)
    codes = [r.code for r in priority.reasons]
    assert codes == ["disclosure"]
    reason = priority.reasons[0]
    assert reason.points == 25 and not reason.immediate
    assert [(e.ref, e.text) for e in reason.evidence] == [
        ("analysis 4, message m3", "kid_1: this guy keeps asking for a pic"),
        ("analysis 4, message m5", "kid_1: he said dont tell u"),
    ]
    assert priority.level == "P3"  # 25 points: above P3's 20, below P2's 45


def test_a_disclosure_of_a_live_threat_or_meeting_is_immediate() -> None:
    for urgent in (("threat",), ("deadline",), ("meeting",), ("threat", "deadline")):
        priority = score_priority(TriageFacts(received_at=NOW - HOUR, conversations=(disclosed(*urgent),)),
                                  DEFAULT_WEIGHTS, NOW)
        assert priority.level == "P1"
        assert [r.code for r in priority.reasons] == ["disclosure_live_threat"]
        assert priority.reasons[0].immediate and priority.reasons[0].points == 45
        assert all(word in priority.reasons[0].label for word in urgent)


def test_a_supervisor_can_switch_disclosures_off() -> None:
    weights = TriageWeights(disclosure=0, disclosure_live_threat=0)
    priority = score_priority(TriageFacts(received_at=NOW - HOUR, conversations=(disclosed("threat"),)), weights, NOW)
    assert priority.reasons == () and priority.level == "P4"


def test_stored_analyses_give_their_disclosure_to_triage() -> None:
    from tipline.pipeline.stages.score_priority import _disclosure

    stored = {"discloser": "kid_1", "message_ids": ["m3"], "evidence": ["he said send a pic"], "urgent": ["meeting"]}
    assert _disclosure(stored) == DisclosureFact("kid_1", ("m3",), ("he said send a pic",), ("meeting",))
    assert _disclosure(None) is None  # analyses stored before disclosures were detected
    assert _disclosure({"discloser": None}) is None
