"""Gathering what triage reads about a report from storage (the scoring itself is tipline.triage)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from tipline.domain.base import STORED
from tipline.domain.report import ReportContent
from tipline.store.banks import match_facts
from tipline.store.tables import (
    ConversationAnalysisRow,
    IdentifierRow,
    ReportFileRow,
    ReportRow,
    TextFindingRow,
)
from tipline.triage import (
    ConversationFact,
    DisclosureFact,
    FileFact,
    TacticFact,
    TextFact,
    TriageFacts,
)

TRIAGE_TACTICS = {"sextortion_threat", "meeting_request"}

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
    content = ReportContent.model_validate(row.content, context=STORED)
    summary = content.incident_summary
    reviewed = (row.reviewed_annotations or {}).get("annotations", [])
    sextortion = bool(summary.report_annotations and summary.report_annotations.sextortion) or "sextortion" in reviewed
    ages = child_ages(content)

    conversations = tuple(
        ConversationFact(
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
        )
        for analysis in session.execute(
            select(ConversationAnalysisRow).where(ConversationAnalysisRow.report_id == row.id,
                                                  ConversationAnalysisRow.error.is_(None))
            .order_by(ConversationAnalysisRow.id)
        ).scalars()
    )

    matching_done, matches = match_facts(session, row.id)
    files = []
    for file in session.execute(select(ReportFileRow).where(ReportFileRow.report_id == row.id)
                                .order_by(ReportFileRow.position)).scalars():
        annotations = ((file.details or {}).get("fileAnnotations") or {})
        infant = bool(annotations.get("infant")) or "infant" in (file.reviewed_annotations or {}).get("annotations", [])
        files.append(FileFact(file.id, file.file_name or file.id, file.media_kind, infant,
                              tuple(matches.get(file.id, ()))))

    mine, other = aliased(IdentifierRow), aliased(IdentifierRow)
    shared = tuple(
        session.execute(
            select(other.report_id)
            .join(mine, and_(mine.kind == other.kind, mine.value == other.value))
            .where(mine.report_id == row.id, mine.role == "reported", other.report_id != row.id)
            .distinct()
            .order_by(other.report_id)
        ).scalars()
    )
    text = tuple(
        TextFact(finding.kind, finding.path, finding.quote, finding.value)
        for finding in session.execute(select(TextFindingRow).where(TextFindingRow.report_id == row.id)
                                       .order_by(TextFindingRow.id)).scalars()
    )
    return TriageFacts(
        received_at=row.received_at,
        escalation_text=summary.escalate_to_high_priority,
        child_in_danger_now=bool(content.public_report and content.public_report.child_in_danger_now),
        sextortion_annotation=sextortion,
        victim_ages=tuple(ages),
        conversations=conversations,
        files=tuple(files),
        matching_done=matching_done,
        shared_reports=shared,
        analyst_escalation=row.escalation_note if row.escalated_to_supervisor_at else None,
        text=text,
    )
