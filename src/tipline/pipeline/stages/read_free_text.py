"""The read_free_text stage: what a report's descriptions and notes say about urgency, for triage."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.report import ReportContent
from tipline.enticement.free_text import TextFinding, read_report_text
from tipline.pipeline.stages.base import HasAudit, HasDatabase, Stage
from tipline.store.tables import ReportRow, TextFindingRow

FREE_TEXT_ACTOR = Actor.system("pipeline:free_text")


class ReadFreeTextContext(HasDatabase, HasAudit, Protocol):
    """Reads the report's free text; writes what it says about urgency."""


def read_report_free_text(context: ReadFreeTextContext, report_id: int) -> list[TextFinding]:
    """Read every free-text field of the report (outside any transaction: the model's work is not short)."""
    with context.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        if row is None:
            raise LookupError(f"report {report_id} does not exist")
        content = ReportContent.model_validate(row.content)
    return read_report_text(content.free_text())


def store_text_findings(context: ReadFreeTextContext, session: Session, report_id: int, findings: list[TextFinding]) -> None:
    """Replace the report's findings with these (running the stage again changes nothing)."""
    before = sorted((r.path, r.kind, r.quote, r.value) for r in session.execute(
        select(TextFindingRow).where(TextFindingRow.report_id == report_id)).scalars())
    after = sorted((f.path, f.kind, f.quote, f.value) for f in findings)
    if before == after:
        return
    session.execute(delete(TextFindingRow).where(TextFindingRow.report_id == report_id))
    now = utc_now()
    session.add_all(TextFindingRow(report_id=report_id, path=f.path[:300], kind=f.kind, quote=f.quote,
                                   value=f.value[:300], found_at=now) for f in findings)
    context.audit.append(session, FREE_TEXT_ACTOR, "report.free_text_read", report_id=report_id,
                          details={"findings": sorted({f.kind for f in findings})})


STAGE = Stage("read_free_text", "read descriptions and notes for threats, deadlines, demands, meetings and ages",
              store_text_findings, prepare=read_report_free_text)
