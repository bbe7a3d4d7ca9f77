"""The analyze_conversations stage: enticement detection on every conversation a report carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import STORED, utc_now
from tipline.domain.report import ReportContent
from tipline.enticement import (
    AnalysisResult,
    ConversationFormatError,
    analyze_file,
    analyze_text,
)
from tipline.pipeline.stages.base import HasAudit, HasDatabase, HasFiles, Stage
from tipline.store.tables import ConversationAnalysisRow, ReportFileRow, ReportRow

ENTICEMENT_ACTOR = Actor.system("pipeline:enticement")


class AnalyzeConversationsContext(HasDatabase, HasFiles, HasAudit, Protocol):
    """Reads chat text and chat logs attached as files (audited system reads); writes the analyses."""
CHAT_TYPES = {"text/plain", "text/csv", "application/json", "application/xml", "text/xml"}
MAX_CHAT_FILE_BYTES = 20 * 1024 * 1024
CHAT_DETAIL_KINDS = {"chat_im_incident": "chatImIncident", "online_gaming_incident": "onlineGamingIncident"}


@dataclass
class ConversationSource:
    source: str  # "file" or "internet_details"
    source_ref: str
    results: list[AnalysisResult] = field(default_factory=list)
    error: str | None = None


def _chat_files(context: AnalyzeConversationsContext, report_id: int) -> list[tuple[str, str | None]]:
    with context.db.transaction() as session:
        rows = session.execute(
            select(ReportFileRow.id, ReportFileRow.file_name, ReportFileRow.media_type, ReportFileRow.size)
            .where(ReportFileRow.report_id == report_id)
            .order_by(ReportFileRow.position)
        ).all()
    return [(file_id, name) for file_id, name, media_type, size in rows
            if media_type in CHAT_TYPES and size <= MAX_CHAT_FILE_BYTES]


def analyse_report_conversations(context: AnalyzeConversationsContext, report_id: int) -> list[ConversationSource]:
    """Read every chat log attached as a file (an audited system read) and the text of chat and
    gaming incidents, and run the detector on each conversation, in order."""
    sources: list[ConversationSource] = []
    with context.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        if row is None:
            raise LookupError(f"report {report_id} does not exist")
        content = ReportContent.model_validate(row.content, context=STORED)
    for index, details in enumerate(content.internet_details):
        wire_kind = CHAT_DETAIL_KINDS.get(details.kind)
        text = getattr(details.detail, "content", None) if wire_kind else None
        if text and text.strip():
            source = ConversationSource("internet_details", f"internetDetails[{index}].{wire_kind}")
            try:
                source.results = analyze_text(text, conversation_id=source.source_ref)
            except ConversationFormatError as error:
                source.error = str(error)
            sources.append(source)
    for file_id, name in _chat_files(context, report_id):
        with context.db.transaction() as session:
            reader = context.files.open_for_system(session, file_id, ENTICEMENT_ACTOR, purpose="conversation analysis")
        with reader:
            data = reader.read(MAX_CHAT_FILE_BYTES + 1)
        source = ConversationSource("file", file_id)
        try:
            source.results = analyze_file(data, filename=name)
        except ConversationFormatError as error:
            source.error = str(error)
        sources.append(source)
    return sources


def store_conversation_analyses(context: AnalyzeConversationsContext, session: Session, report_id: int,
                                sources: list[ConversationSource]) -> None:
    """Replace the report's analyses with these (so running the stage again changes nothing)."""
    before = [
        (row.source_ref, row.conversation_id, row.level, row.risk, row.error)
        for row in session.execute(select(ConversationAnalysisRow).where(ConversationAnalysisRow.report_id == report_id)
                                   .order_by(ConversationAnalysisRow.id)).scalars()
    ]
    session.execute(delete(ConversationAnalysisRow).where(ConversationAnalysisRow.report_id == report_id))
    now = utc_now()
    alerts = 0
    for source in sources:
        if source.error is not None:
            session.add(_row(report_id, source, None, now))
            continue
        for result in source.results:
            session.add(_row(report_id, source, result, now))
            alerts += int(result.alert)
    session.flush()
    after = [
        (row.source_ref, row.conversation_id, row.level, row.risk, row.error)
        for row in session.execute(select(ConversationAnalysisRow).where(ConversationAnalysisRow.report_id == report_id)
                                   .order_by(ConversationAnalysisRow.id)).scalars()
    ]
    if sources and after != before:
        context.audit.append(
            session, ENTICEMENT_ACTOR, "report.conversations_analysed", report_id=report_id,
            details={"conversations": sum(len(s.results) for s in sources), "alerts": alerts,
                     "unreadable": [s.source_ref for s in sources if s.error]},
        )


def _row(report_id: int, source: ConversationSource, result: AnalysisResult | None, now: Any) -> ConversationAnalysisRow:
    if result is None:
        return ConversationAnalysisRow(
            report_id=report_id, source=source.source, source_ref=source.source_ref, conversation_id="",
            risk=None, level=None, alert=False, suspected_author=None, first_alert_message=None,
            suggested_incident_type=None, suggested_annotations={"annotations": []}, result={},
            error=source.error, analysed_at=now,
        )
    return ConversationAnalysisRow(
        report_id=report_id,
        source=source.source,
        source_ref=source.source_ref,
        conversation_id=result.conversation_id[:200],
        risk=round(result.risk, 4),
        level=result.level,
        alert=result.alert,
        suspected_author=result.suspected_author,
        first_alert_message=result.first_alert_message,
        suggested_incident_type=result.suggested_incident_type,
        suggested_annotations={"annotations": list(result.suggested_annotations)},
        result=result.details(),
        error=None,
        analysed_at=now,
    )


STAGE = Stage("analyze_conversations", "detect enticement tactics in attached chat logs and chat text",
              store_conversation_analyses, prepare=analyse_report_conversations)
