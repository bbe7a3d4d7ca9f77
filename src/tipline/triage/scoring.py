"""Scoring a report's priority from its facts: a level (P1 immediate … P4 routine), a score, and the
reasons that produced it, each pointing at its evidence. Pure: facts in, priority out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tipline.domain.numbers import parse_whole_number
from tipline.triage.config import TriageWeights

LEVELS = ("P1", "P2", "P3", "P4")
LEVEL_LABELS = {"P1": "P1 immediate", "P2": "P2 high", "P3": "P3 medium", "P4": "P4 routine"}


@dataclass(frozen=True)
class Evidence:
    """Where a reason comes from: a place in the report, a message of a conversation, a file, a report."""

    kind: str  # "report", "conversation", "file", "report_link", "review"
    ref: str  # a path in the report, "analysis 12, message 7", a file id, a report id
    text: str = ""  # a short quotation or description

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.ref, "text": self.text}


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    points: int
    immediate: bool
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "points": self.points, "immediate": self.immediate,
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass(frozen=True)
class Priority:
    level: str
    score: int
    reasons: tuple[Reason, ...]

    @property
    def rank(self) -> int:
        """A single number that sorts reports most urgent first: the level, then the score."""
        return (len(LEVELS) - LEVELS.index(self.level)) * 100_000 + self.score

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "score": self.score, "reasons": [r.to_dict() for r in self.reasons]}


@dataclass(frozen=True)
class TacticFact:
    tactic: str
    message_id: str
    evidence: str


@dataclass(frozen=True)
class DisclosureFact:
    """A participant of an analysed conversation disclosed an approach, threat or abuse (the detector's
    `disclosure`): who, the messages that tell it, and what makes it urgent (threat, deadline, meeting)."""

    discloser: str
    message_ids: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    urgent: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConversationFact:
    analysis_id: int
    source_ref: str
    level: str
    alert: bool
    tactics: tuple[TacticFact, ...] = ()
    disclosure: DisclosureFact | None = None


@dataclass(frozen=True)
class TextFact:
    """What a free-text field says: kind (sextortion_threat, meeting_request, image_request, deadline,
    money_demand, child_age), the field, the sentence quoted and a value (an age, an amount, a deadline)."""

    kind: str
    path: str
    quote: str
    value: str = ""


@dataclass(frozen=True)
class MatchFact:
    bank_kind: str  # known_material, identified_series
    bank: str
    series: str | None = None
    identified: bool = False
    identified_by: str | None = None  # the agency that identified the series' victim (it is notified)


@dataclass(frozen=True)
class FileFact:
    file_id: str
    name: str
    media_kind: str | None
    infant: bool = False
    matches: tuple[MatchFact, ...] = ()


@dataclass(frozen=True)
class TriageFacts:
    """Everything triage reads about one report (collected from storage by the caller)."""

    received_at: datetime | None
    escalation_text: str | None = None
    child_in_danger_now: bool = False
    sextortion_annotation: bool = False
    victim_ages: tuple[tuple[int, str], ...] = ()  # (age, where it was stated)
    conversations: tuple[ConversationFact, ...] = ()
    files: tuple[FileFact, ...] = ()
    matching_done: bool = False  # files were looked up in the banks (so "no match" means something)
    shared_reports: tuple[int, ...] = ()  # other reports sharing the reported person's identifiers
    analyst_escalation: str | None = None
    text: tuple[TextFact, ...] = ()  # what the report's descriptions and notes say
    extra: dict[str, Any] = field(default_factory=dict)


def score_priority(facts: TriageFacts, weights: TriageWeights, now: datetime) -> Priority:
    """The report's priority with every reason that contributed, most points first."""
    reasons: list[Reason] = []

    def add(code: str, label: str, points: int, evidence: list[Evidence] | tuple[Evidence, ...] = ()) -> None:
        if points > 0:
            reasons.append(Reason(code, label, points, code in weights.immediate, tuple(evidence)))

    if facts.escalation_text and facts.escalation_text.strip():
        add("reporter_escalation", "The reporter escalated it: a child may be at immediate risk",
            weights.reporter_escalation,
            [Evidence("report", "incidentSummary.escalateToHighPriority", facts.escalation_text.strip()[:300])])
    if facts.child_in_danger_now:
        add("child_in_danger_now", "The public reporter says a child is in danger right now",
            weights.child_in_danger_now, [Evidence("report", "publicReport.childInDangerNow", "yes")])

    threats = _tactic_evidence(facts, "sextortion_threat") + _text_evidence(facts, "sextortion_threat")
    demands = _text_evidence(facts, "money_demand")
    deadlines = _text_evidence(facts, "deadline")
    if threats or (demands and deadlines):
        # a demand with a deadline is coercion even when no threat is written out
        for evidence in demands + deadlines:
            if evidence not in threats:
                threats.append(evidence)
    if threats:
        add("sextortion_threat", "Sextortion: threats, deadlines or demands", weights.sextortion_threat, threats)
    if facts.sextortion_annotation:
        add("sextortion_annotation", "The reporter marked it as sextortion", weights.sextortion_annotation,
            [Evidence("report", "incidentSummary.reportAnnotations.sextortion", "")])
    meetings = _tactic_evidence(facts, "meeting_request") + _text_evidence(facts, "meeting_request")
    if meetings:
        add("meeting_planned", "Plans or requests to meet the child in person", weights.meeting_planned, meetings)
    disclosed = [(c, c.disclosure) for c in facts.conversations if c.disclosure is not None]
    if disclosed:
        told = [Evidence("conversation", f"analysis {c.analysis_id}, message {mid}", f"{d.discloser}: {text}")
                for c, d in disclosed
                for mid, text in zip(d.message_ids, d.evidence, strict=False)]
        urgent = sorted({u for _, d in disclosed for u in d.urgent})
        if urgent:
            add("disclosure_live_threat", "A disclosure tells of a live " + ", ".join(urgent)
                + " (a child or carer describes it)", weights.disclosure_live_threat, told)
        else:
            add("disclosure", "A child or carer discloses an approach, a threat or abuse", weights.disclosure, told)
    alerted = [c for c in facts.conversations if c.alert]
    if alerted:
        add("enticement_alert", f"Enticement detected in {len(alerted)} conversation{'s' if len(alerted) > 1 else ''}",
            weights.enticement_alert,
            [Evidence("conversation", f"analysis {c.analysis_id}", f"{c.source_ref}: {c.level}") for c in alerted])

    infants = [f for f in facts.files if f.infant]
    if infants:
        add("infant", "A file is annotated as showing an infant or toddler", weights.infant,
            [Evidence("file", f.file_id, f.name) for f in infants])
    ages = [(age, where, f"age {age}") for age, where in facts.victim_ages]
    stated = [(parse_whole_number(t.value, 0, 150), t) for t in facts.text if t.kind == "child_age"]
    ages += [(age, t.path, t.quote) for age, t in stated if age is not None]
    if ages:
        youngest, where, words = min(ages)
        stated_age = [Evidence("report", where, words)]
        if youngest <= 12:
            add("victim_age_12_or_under", f"The youngest victim is {youngest}", weights.victim_age_12_or_under, stated_age)
        elif youngest <= 15:
            add("victim_age_13_to_15", f"The youngest victim is {youngest}", weights.victim_age_13_to_15, stated_age)
        elif youngest <= 17:
            add("victim_age_16_to_17", f"The youngest victim is {youngest}", weights.victim_age_16_to_17, stated_age)

    def matches(kind: str, identified: bool | None = None) -> list[Evidence]:
        found = []
        for file in facts.files:
            for match in file.matches:
                if match.bank_kind == kind and (identified is None or match.identified == identified):
                    label = f"{match.bank}" + (f", series {match.series}" if match.series else "")
                    if match.identified and match.identified_by:
                        label += f", identified by {match.identified_by} (notified)"
                    found.append(Evidence("file", file.file_id, label))
        return found

    unidentified = matches("identified_series", identified=False)
    if unidentified:
        add("unidentified_series_match", "A file matches an unidentified victim series: possible ongoing abuse",
            weights.unidentified_series_match, unidentified)
    identified = matches("identified_series", identified=True)
    if identified:
        notified = any(m.identified_by for f in facts.files for m in f.matches if m.identified)
        add("identified_series_match", "A file matches an identified victim series"
            + ("; the agency that identified the child is notified" if notified else ""),
            weights.identified_series_match, identified)
    known = matches("known_material")
    if known:
        add("known_material_match", "A file matches known material", weights.known_material_match, known)
    if facts.matching_done:
        unmatched = [f for f in facts.files if f.media_kind in ("image", "video") and not f.matches]
        if unmatched:
            add("apparently_new_material", f"{len(unmatched)} image or video file{'s' if len(unmatched) > 1 else ''} "
                "match nothing known: possibly new material", weights.apparently_new_material,
                [Evidence("file", f.file_id, f.name) for f in unmatched])

    if facts.shared_reports:
        count = len(facts.shared_reports)
        add("shared_identifiers", f"{count} other report{'s' if count > 1 else ''} share the reported person's identifiers",
            min(weights.shared_identifier_cap, weights.shared_identifier_per_report * count),
            [Evidence("report_link", str(report_id), "") for report_id in facts.shared_reports[:20]])
    if facts.analyst_escalation:
        add("analyst_escalation", "An analyst escalated it to a supervisor", weights.analyst_escalation,
            [Evidence("review", "escalation", facts.analyst_escalation[:300])])
    if facts.received_at is not None:
        days = max(0.0, (now - facts.received_at).total_seconds() / 86400)
        points = min(weights.waiting_cap, int(days) * weights.waiting_per_day)
        if points:
            add("waiting", f"Waiting {days:.1f} days since receipt", points,
                [Evidence("report", "receivedAt", facts.received_at.isoformat())])

    reasons.sort(key=lambda r: (-int(r.immediate), -r.points, r.code))
    score = sum(r.points for r in reasons)
    if any(r.immediate for r in reasons) or score >= weights.p1_from:
        level = "P1"
    elif score >= weights.p2_from:
        level = "P2"
    elif score >= weights.p3_from:
        level = "P3"
    else:
        level = "P4"
    return Priority(level, score, tuple(reasons))


def _text_evidence(facts: TriageFacts, kind: str) -> list[Evidence]:
    """The sentences of the report's free text that say `kind`, quoted (each sentence once)."""
    seen: set[tuple[str, str]] = set()
    found = []
    for fact in facts.text:
        if fact.kind == kind and (fact.path, fact.quote) not in seen:
            seen.add((fact.path, fact.quote))
            found.append(Evidence("report", fact.path, fact.quote))
    return found


def _tactic_evidence(facts: TriageFacts, tactic: str) -> list[Evidence]:
    return [
        Evidence("conversation", f"analysis {c.analysis_id}, message {t.message_id}", t.evidence)
        for c in facts.conversations
        for t in c.tactics
        if t.tactic == tactic
    ]
