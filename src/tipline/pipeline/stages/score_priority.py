"""The score_priority stage: what triage reads about a report gathered from storage, scored (the scoring
itself is tipline.triage), and kept on the report with its reasons. Reports still waiting are scored
again as time passes (engine/maintenance.py), and when an analyst's decision or a bank change alters
their facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import and_, asc, func, select
from sqlalchemy.orm import Session, aliased

from tipline.domain.audit import Actor
from tipline.domain.base import STORED, utc_now
from tipline.domain.lifecycle import QUEUE_STATES, ReportState
from tipline.domain.report import ReportContent
from tipline.pipeline.stages.base import HasAudit, HasReports, Stage
from tipline.store.banks import match_facts_many
from tipline.store.tables import (
    ConversationAnalysisRow,
    IdentifierRow,
    InstanceSetting,
    ReportFileRow,
    ReportRow,
    TextFindingRow,
)
from tipline.triage import (
    DEFAULT_WEIGHTS,
    ConversationFact,
    DisclosureFact,
    FileFact,
    Priority,
    TacticFact,
    TextFact,
    TriageFacts,
    TriageWeights,
    score_priority,
)

TRIAGE_TACTICS = {"sextortion_threat", "meeting_request"}
TRIAGE_ACTOR = Actor.system("triage")
WEIGHTS_KEY = "triage_weights"
"""The instance setting that holds the weights supervisors set."""


class ScorePriorityContext(HasReports, HasAudit, Protocol):
    """Reads the report's stored facts (and the triage weights); writes its priority and reasons."""


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def child_ages(content: ReportContent) -> list[tuple[int, str]]:
    """The children's ages a report states, each with where it says so: victims' ages (or their
    age on the incident's date from a date of birth) and intended recipients under 18."""
    ages: list[tuple[int, str]] = []
    on = content.incident_summary.incident_date_time.date()
    for index, victim in enumerate(content.victims):
        person = victim.person
        if person.age is not None:
            ages.append((person.age, f"victim[{index}].victimPerson.age"))
        elif person.date_of_birth is not None:
            ages.append((_age_on(person.date_of_birth, on), f"victim[{index}].victimPerson.dateOfBirth"))
    public = content.public_report
    if public is not None and public.child_age is not None and public.child_age.exact is None and not ages:
        # a range ("13 or 14", "teen"): the youngest the child may be, since urgency must not be understated
        ages.append((public.child_age.low, "the reporter's estimate of the child's age"))
    for index, recipient in enumerate(content.intended_recipients):
        if recipient.person is not None and recipient.person.age is not None and recipient.person.age < 18:
            ages.append((recipient.person.age, f"intendedRecipient[{index}].intendedRecipientPerson.age"))
    return ages


def _disclosure(stored: object) -> DisclosureFact | None:
    """The stored analysis's disclosure (absent in analyses stored before disclosures were detected)."""
    if not isinstance(stored, dict) or not stored.get("discloser"):
        return None
    return DisclosureFact(str(stored["discloser"]), tuple(str(m) for m in stored.get("message_ids", [])),
                          tuple(str(e) for e in stored.get("evidence", [])), tuple(str(u) for u in stored.get("urgent", [])))


def collect_facts(session: Session, row: ReportRow) -> TriageFacts:
    """What triage reads about the report: its content, analyses, files and their matches, the reports
    sharing an identifier it reports, and text findings."""
    return collect_facts_many(session, [row])[row.id]


def collect_facts_many(session: Session, rows: Sequence[ReportRow]) -> dict[int, TriageFacts]:
    """collect_facts for several reports, each kind of fact read once for all of them (a weights preview
    scores up to PREVIEW_LIMIT reports: one read per report and kind took about 20 ms a report)."""
    ids = [row.id for row in rows]
    conversations: dict[int, list[ConversationFact]] = {i: [] for i in ids}
    for analysis in session.execute(
        select(ConversationAnalysisRow).where(ConversationAnalysisRow.report_id.in_(ids),
                                              ConversationAnalysisRow.error.is_(None))
        .order_by(ConversationAnalysisRow.report_id, ConversationAnalysisRow.id)
    ).scalars():
        conversations[analysis.report_id].append(ConversationFact(
            analysis_id=analysis.id,
            source_ref=analysis.source_ref,
            level=analysis.level or "none",
            alert=analysis.alert,
            tactics=tuple(
                TacticFact(t["tactic"], str(t["message_id"]), str(t.get("evidence", "")))
                for t in analysis.result.get("tactics", [])
                if t["tactic"] in TRIAGE_TACTICS
            ),
            disclosure=_disclosure(analysis.result.get("disclosure")),
        ))

    matches = match_facts_many(session, rows)
    files: dict[int, list[FileFact]] = {i: [] for i in ids}
    for file in session.execute(select(ReportFileRow).where(ReportFileRow.report_id.in_(ids))
                                .order_by(ReportFileRow.report_id, ReportFileRow.position)).scalars():
        annotations = ((file.details or {}).get("fileAnnotations") or {})
        infant = bool(annotations.get("infant")) or "infant" in (file.reviewed_annotations or {}).get("annotations", [])
        files[file.report_id].append(FileFact(file.id, file.file_name or file.id, file.media_kind, infant,
                                              tuple(matches[file.report_id][1].get(file.id, ()))))

    mine, other = aliased(IdentifierRow), aliased(IdentifierRow)
    shared: dict[int, list[int]] = {i: [] for i in ids}
    for report_id, other_id in session.execute(
        select(mine.report_id, other.report_id)
        .join(mine, and_(mine.kind == other.kind, mine.value == other.value))
        .where(mine.report_id.in_(ids), mine.role == "reported", other.report_id != mine.report_id)
        .distinct()
        .order_by(mine.report_id, other.report_id)
    ):
        shared[report_id].append(other_id)
    text: dict[int, list[TextFact]] = {i: [] for i in ids}
    for finding in session.execute(select(TextFindingRow).where(TextFindingRow.report_id.in_(ids))
                                   .order_by(TextFindingRow.report_id, TextFindingRow.id)).scalars():
        text[finding.report_id].append(TextFact(finding.kind, finding.path, finding.quote, finding.value))
    return {row.id: _facts(row, tuple(conversations[row.id]), tuple(files[row.id]), matches[row.id][0],
                           tuple(shared[row.id]), tuple(text[row.id])) for row in rows}


def _facts(row: ReportRow, conversations: tuple[ConversationFact, ...], files: tuple[FileFact, ...],
           matching_done: bool, shared: tuple[int, ...], text: tuple[TextFact, ...]) -> TriageFacts:
    content = ReportContent.model_validate(row.content, context=STORED)
    summary = content.incident_summary
    reviewed = (row.reviewed_annotations or {}).get("annotations", [])
    return TriageFacts(
        received_at=row.received_at,
        escalation_text=summary.escalate_to_high_priority,
        child_in_danger_now=bool(content.public_report and content.public_report.child_in_danger_now),
        sextortion_annotation=bool(summary.report_annotations and summary.report_annotations.sextortion)
        or "sextortion" in reviewed,
        victim_ages=tuple(child_ages(content)),
        conversations=conversations,
        files=files,
        matching_done=matching_done,
        shared_reports=shared,
        analyst_escalation=row.escalation_note if row.escalated_to_supervisor_at else None,
        text=text,
    )


def triage_weights(session: Session) -> TriageWeights:
    """The weights supervisors set (the defaults until they set any)."""
    setting = session.get(InstanceSetting, WEIGHTS_KEY)
    return TriageWeights.model_validate(setting.value) if setting else DEFAULT_WEIGHTS


def rescore(context: ScorePriorityContext, session: Session, report_id: int, trigger: str, *,
            now: datetime | None = None, weights: TriageWeights | None = None) -> Priority:
    """Score the report again from its current facts and keep the result on the report."""
    row = context.reports.row(session, report_id)
    priority = score_priority(collect_facts(session, row), weights or triage_weights(session), now or utc_now())
    changed = (row.priority, row.priority_score) != (priority.level, priority.score)
    row.priority, row.priority_score, row.priority_rank = priority.level, priority.score, priority.rank
    row.priority_reasons = priority.to_dict()
    row.scored_at = now or utc_now()
    if changed:
        context.audit.append(
            session, TRIAGE_ACTOR, "report.prioritised", report_id=report_id,
            details={"priority": priority.level, "score": priority.score, "trigger": trigger,
                     "reasons": [r.code for r in priority.reasons]},
        )
    return priority


def rescore_waiting(context: ScorePriorityContext, session: Session, *, now: datetime | None = None,
                    limit: int = 5000) -> int:
    """Score again the reports still waiting (so time waiting counts), oldest scores first."""
    weights = triage_weights(session)
    ids = list(session.execute(
        select(ReportRow.id).where(ReportRow.state.in_([s.value for s in QUEUE_STATES]))
        .order_by(asc(ReportRow.scored_at)).limit(limit)
    ).scalars())
    for report_id in ids:
        rescore(context, session, report_id, "time", now=now, weights=weights)
    return len(ids)


PREVIEW_LIMIT = 1000  # reports scored for a preview; more waiting: an even sample through the queue


@dataclass(frozen=True)
class WeightsPreview:
    """What new weights would do to the reports awaiting review, scored now both ways from the same facts
    (so only the weights differ): how many each level would hold, and how many would move."""

    waiting: int  # reports awaiting review
    considered: int  # of them, scored for the preview (all, or an even sample through the queue's order)
    before: dict[str, int] = field(default_factory=dict)  # level -> reports, under the current weights
    after: dict[str, int] = field(default_factory=dict)  # ... under the proposed ones
    moves: dict[tuple[str, str], int] = field(default_factory=dict)  # (from, to) -> reports

    @property
    def into_p1(self) -> int:
        return sum(n for (old, new), n in self.moves.items() if new == "P1" and old != "P1")

    @property
    def out_of_p1(self) -> int:
        return sum(n for (old, new), n in self.moves.items() if old == "P1" and new != "P1")

    @property
    def moved(self) -> int:
        return sum(self.moves.values())

    @property
    def sampled(self) -> bool:
        return self.considered < self.waiting

    def estimate(self, count: int) -> int:
        """A count in the sample scaled to every waiting report (the count itself when all were scored)."""
        return round(count * self.waiting / self.considered) if self.sampled and self.considered else count


def preview_weights(session: Session, weights: TriageWeights, *, now: datetime | None = None,
                    limit: int = PREVIEW_LIMIT) -> WeightsPreview:
    """Score the reports awaiting review under the current weights and under `weights`, changing nothing."""
    when = now or utc_now()
    current = triage_weights(session)
    waiting_state = ReportRow.state == ReportState.AWAITING_REVIEW.value
    waiting = session.execute(select(func.count()).select_from(ReportRow).where(waiting_state)).scalar_one()
    queue = list(session.execute(
        select(ReportRow.id).where(waiting_state)
        .order_by(asc(ReportRow.priority).nulls_last(), ReportRow.priority_rank.desc(), asc(ReportRow.id))
    ).scalars())
    # every report, or an even sample through the queue (each level in its share), at about 10 ms a report
    ids = queue if len(queue) <= limit else [queue[i * len(queue) // limit] for i in range(limit)]
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    moves: dict[tuple[str, str], int] = {}
    for start in range(0, len(ids), 200):
        rows = list(session.execute(select(ReportRow).where(ReportRow.id.in_(ids[start:start + 200]))).scalars())
        facts_of = collect_facts_many(session, rows)
        for row in rows:
            facts = facts_of[row.id]
            old = score_priority(facts, current, when).level
            new = score_priority(facts, weights, when).level
            before[old] = before.get(old, 0) + 1
            after[new] = after.get(new, 0) + 1
            if old != new:
                moves[(old, new)] = moves.get((old, new), 0) + 1
    return WeightsPreview(int(waiting), len(ids), before, after, moves)


def score_report_priority(context: ScorePriorityContext, session: Session, report_id: int) -> None:
    rescore(context, session, report_id, "pipeline")


STAGE = Stage("score_priority", "score the report's priority with its reasons", score_report_priority)
