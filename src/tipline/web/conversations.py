"""Conversations on the report page: each transcript with the messages detection flagged, marked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.report import Report
from tipline.enticement import (
    TACTIC_NAMES,
    ConversationFormatError,
    parse_conversations,
)
from tipline.instance import Instance
from tipline.store.accounts import Principal
from tipline.store.tables import ConversationAnalysisRow

MAX_DISPLAY_BYTES = 20 * 1024 * 1024


@dataclass
class MessageView:
    id: str
    author: str
    time: str | None
    text: Markup
    tactics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.tactics)


@dataclass
class ConversationView:
    analysis: ConversationAnalysisRow
    title: str
    messages: list[MessageView]
    transcript_error: str | None = None

    @property
    def tactic_counts(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for finding in self.analysis.result.get("tactics", []):
            counts[finding["tactic"]] = counts.get(finding["tactic"], 0) + 1
        return sorted(counts.items(), key=lambda item: -item[1])


def tactic_label(tactic: str) -> str:
    return TACTIC_NAMES.get(tactic, tactic)


def _marked(text: str, evidence: list[str]) -> Markup:
    """The message text, escaped, with the evidence words marked."""
    words = sorted({e for e in evidence if e and e.strip()}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    parts: list[Markup] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(escape(text[position:match.start()]))
        parts.append(Markup("<mark>{}</mark>").format(match.group(0)))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def conversation_views(instance: Instance, session: Session, report: Report, principal: Principal
                       ) -> list[ConversationView]:
    """Every analysed conversation of the report with its transcript (reading an attached chat log is
    an audited file read by the person viewing it)."""
    rows = list(session.execute(
        select(ConversationAnalysisRow).where(ConversationAnalysisRow.report_id == report.id)
        .order_by(ConversationAnalysisRow.id)
    ).scalars())
    transcripts: dict[str, Any] = {}
    views = []
    for row in rows:
        if row.source_ref not in transcripts:
            transcripts[row.source_ref] = _load_transcripts(instance, session, report, principal, row)
        parsed = transcripts[row.source_ref]
        title = _title(report, row)
        if isinstance(parsed, str):
            views.append(ConversationView(row, title, [], parsed))
            continue
        conversation = next((c for c in parsed if c.id == row.conversation_id), parsed[0] if parsed else None)
        findings: dict[str, list[dict[str, Any]]] = {}
        for finding in row.result.get("tactics", []):
            findings.setdefault(str(finding["message_id"]), []).append(finding)
        messages = []
        for message in conversation.messages if conversation else []:
            found = findings.get(str(message.id), [])
            evidence = [word for f in found for word in _evidence_words(f.get("evidence"))]
            messages.append(MessageView(str(message.id), message.author, message.time, _marked(message.text, evidence),
                                        [{**f, "label": tactic_label(f["tactic"])} for f in found]))
        views.append(ConversationView(row, title, messages))
    return views


def _evidence_words(evidence: Any) -> list[str]:
    if isinstance(evidence, str):
        return [evidence]
    if isinstance(evidence, list):
        return [str(item) for item in evidence]
    return []


def _title(report: Report, row: ConversationAnalysisRow) -> str:
    if row.source == "file":
        file = next((f for f in report.files if f.file_id == row.source_ref), None)
        return f"Attached chat log {file.display_name if file else row.source_ref}"
    return f"Chat text in {row.source_ref}"


def _load_transcripts(instance: Instance, session: Session, report: Report, principal: Principal,
                      row: ConversationAnalysisRow) -> list[Any] | str:
    try:
        if row.source == "file":
            with instance.files.open_for(session, row.source_ref, principal, purpose="conversation view") as reader:
                data = reader.read(MAX_DISPLAY_BYTES)
            name = next((f.file_name for f in report.files if f.file_id == row.source_ref), None)
            return parse_conversations(data, "auto", filename=name)
        index = int(row.source_ref.split("[", 1)[1].split("]", 1)[0])
        detail = report.content.internet_details[index].detail
        return parse_conversations(getattr(detail, "content", "") or "", "auto", lenient=True)
    except ConversationFormatError as error:
        return f"The transcript could not be read: {error}"
    except (LookupError, ValueError) as error:
        return f"The transcript is no longer available ({error})."
