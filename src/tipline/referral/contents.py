"""What goes into a referral package besides the evidence: the report as JSON and the PDF summary's
content, gathered from storage (the report, identifiers, location, priority, tactics, matches, notes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.report import SOURCE_LABELS, Report
from tipline.enticement import TACTIC_NAMES
from tipline.jurisdiction.places import country_name
from tipline.referral.summary_pdf import Section, SummaryDocument
from tipline.store.banks import match_facts
from tipline.store.tables import ConversationAnalysisRow, IdentifierRow, ReportFileRow, ReportNote, ReportRow


@dataclass
class FileMatch:
    file_id: str
    bank_kind: str
    bank: str
    series: str | None
    identified: bool


@dataclass
class ReportFacts:
    """Everything the JSON and the PDF say beyond the report's own content."""

    report: Report
    row: ReportRow
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    jurisdiction: dict[str, Any] | None = None
    conversations: list[dict[str, Any]] = field(default_factory=list)
    matches: list[FileMatch] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    classifications: dict[str, str] = field(default_factory=dict)


def report_matches(session: Session, report_id: int) -> list[FileMatch]:
    """The report's files' bank matches (not those a known false positive silenced)."""
    _done, by_file = match_facts(session, report_id)
    return [FileMatch(file_id, match.bank_kind, match.bank, match.series, match.identified)
            for file_id, matches in by_file.items() for match in matches]


def gather_facts(session: Session, report: Report, row: ReportRow, jurisdiction: dict[str, Any] | None) -> ReportFacts:
    facts = ReportFacts(report=report, row=row, jurisdiction=jurisdiction)
    for identifier in session.execute(
        select(IdentifierRow).where(IdentifierRow.report_id == report.id).order_by(IdentifierRow.id)
    ).scalars():
        facts.identifiers.append({"kind": identifier.kind, "value": identifier.value, "raw": identifier.raw,
                                  "role": identifier.role, "path": identifier.path, "valid": identifier.valid})
    for analysis in session.execute(
        select(ConversationAnalysisRow).where(ConversationAnalysisRow.report_id == report.id)
        .order_by(ConversationAnalysisRow.id)
    ).scalars():
        tactics: dict[str, int] = {}
        for finding in analysis.result.get("tactics", []):
            tactics[finding["tactic"]] = tactics.get(finding["tactic"], 0) + 1
        facts.conversations.append({
            "source": analysis.source_ref, "conversation": analysis.conversation_id, "level": analysis.level,
            "risk": None if analysis.risk is None else round(float(analysis.risk), 2), "alert": analysis.alert,
            "suspected_author": analysis.suspected_author, "first_alert_message": analysis.first_alert_message,
            "tactics": tactics, "error": analysis.error,
        })
    facts.matches = report_matches(session, report.id)
    for note in session.execute(
        select(ReportNote).where(ReportNote.report_id == report.id).order_by(ReportNote.created_at)
    ).scalars():
        facts.notes.append({"author": note.author_name, "at": note.created_at.isoformat(), "text": note.text})
    for file_row in session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report.id)).scalars():
        classification = getattr(file_row, "reviewed_classification", None)
        if classification:
            facts.classifications[file_row.id] = classification
    return facts


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _shown(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def report_json(facts: ReportFacts, referral: dict[str, Any]) -> dict[str, Any]:
    """The full report as JSON: its content on the wire (the XSD's names), its files, and what the
    hotline found (identifiers, location, priority, tactics, matches, analysts' classifications and notes)."""
    report, row = facts.report, facts.row
    return {
        "referral": referral,
        "report": {
            "id": report.id,
            "state": report.state.value,
            "source": report.source.value,
            "submittedBy": report.submitted_by,
            "openedAt": _iso(report.opened_at),
            "receivedAt": _iso(report.received_at),
            "content": report.content.to_wire(),
            "files": [
                {"fileId": f.file_id, "fileName": f.file_name, "size": f.size, "mediaType": f.media_type,
                 "md5": f.md5, "sha1": f.sha1, "sha256": f.sha256, "pdq": f.pdq,
                 "uploadedAt": _iso(f.uploaded_at), "details": f.details.to_wire() if f.details else None,
                 "analystClassification": facts.classifications.get(f.file_id)}
                for f in report.files
            ],
        },
        "review": {
            "incidentTypeAsReviewed": getattr(row, "reviewed_incident_type", None) or row.incident_type,
            "priority": getattr(row, "priority_reasons", None),
            "notes": facts.notes,
        },
        "identifiers": facts.identifiers,
        "location": facts.jurisdiction,
        "conversations": facts.conversations,
        "matches": [{"fileId": m.file_id, "bankKind": m.bank_kind, "bank": m.bank, "series": m.series,
                     "identified": m.identified} for m in facts.matches],
    }


def summary_document(facts: ReportFacts, referral: dict[str, Any], agency_name: str,
                     evidence: list[dict[str, Any]]) -> SummaryDocument:
    report, row = facts.report, facts.row
    content = report.content
    summary = content.incident_summary
    sections: list[Section] = []
    incident = Section("The report")
    incident.pairs += [
        ("Incident type", getattr(row, "reviewed_incident_type", None) or summary.incident_type.value),
        ("Incident time", _shown(summary.incident_date_time)),
        ("Received", _shown(report.received_at or report.opened_at)),
        ("Source", SOURCE_LABELS[report.source] + (f": {report.submitted_by}" if report.submitted_by else "")),
        ("Platform", summary.platform or ""),
    ]
    if summary.report_annotations and summary.report_annotations.names():
        incident.pairs.append(("Annotations", ", ".join(summary.report_annotations.names())))
    if summary.escalate_to_high_priority:
        incident.pairs.append(("Escalated by reporter", summary.escalate_to_high_priority))
    if content.public_report is not None:
        incident.pairs.append(("Public report", "yes" + (" — a child is said to be in danger now"
                                                          if content.public_report.child_in_danger_now else "")))
        incident.lines.append(f"In the reporter's words: {content.public_report.description}")
    sections.append(incident)

    priority = getattr(row, "priority_reasons", None)
    if priority and priority.get("reasons"):
        section = Section(f"Priority {priority.get('level', '')} (score {priority.get('score', '')})")
        section.lines += [f"• {reason.get('label', reason.get('code', ''))} (+{reason.get('points', 0)})"
                          for reason in priority["reasons"]]
        sections.append(section)

    parties = Section("People and accounts")
    for index, person in enumerate(content.persons_or_users_reported):
        bits = [b for b in (person.screen_name, person.esp_service, person.esp_identifier) if b]
        if person.person is not None:
            name = " ".join(n for n in (person.person.first_name, person.person.last_name) if n)
            bits = ([name] if name else []) + bits + [e.value for e in person.person.emails]
        parties.lines.append(f"Reported person {index + 1}: {', '.join(bits) or 'no details'}")
    for index, victim in enumerate(content.victims):
        bits = [b for b in (victim.person.first_name, victim.person.last_name) if b]
        if victim.person.age is not None:
            bits.append(f"age {victim.person.age}")
        if victim.school_name:
            bits.append(f"school: {victim.school_name}")
        parties.lines.append(f"Victim {index + 1}: {', '.join(bits) or 'no details'}")
    for index, recipient in enumerate(content.intended_recipients):
        bits = [b for b in (recipient.screen_name, recipient.esp_service) if b]
        parties.lines.append(f"Intended recipient {index + 1}: {', '.join(bits) or 'no details'}")
    if parties.lines:
        sections.append(parties)

    if facts.jurisdiction and facts.jurisdiction.get("best"):
        best = facts.jurisdiction["best"]
        where = ", ".join(p for p in (best.get("city"), best.get("region"), country_name(best.get("country"))) if p)
        location = Section(f"Location: {where} (confidence {facts.jurisdiction.get('confidence', 0)})")
        location.lines += list(facts.jurisdiction.get("reasoning", []))
        disagreeing = [c for c in facts.jurisdiction.get("clues", []) if not c.get("agrees")]
        if disagreeing:
            location.lines.append("Clues pointing elsewhere:")
            location.lines += [f"• {c['party']}: {c['evidence']} ({c['confidence']})" for c in disagreeing[:20]]
        sections.append(location)

    if facts.conversations:
        tactics = Section("Enticement tactics found")
        for conversation in facts.conversations:
            if conversation.get("error"):
                tactics.lines.append(f"{conversation['source']}: not read as a conversation ({conversation['error']})")
                continue
            found = ", ".join(f"{TACTIC_NAMES.get(t, t)}" + (f" ×{n}" if n > 1 else "")
                              for t, n in sorted(conversation["tactics"].items())) or "none"
            tactics.lines.append(f"{conversation['source']}: {conversation.get('level') or 'no'} risk"
                                 + (f", suspected author {conversation['suspected_author']}"
                                    if conversation.get("suspected_author") else "") + f"; tactics: {found}")
        sections.append(tactics)

    files = Section(f"Evidence files ({len(evidence)}), in the package under evidence/ — no image is shown here")
    matches_by_file: dict[str, list[FileMatch]] = {}
    for match in facts.matches:
        matches_by_file.setdefault(match.file_id, []).append(match)
    for item in evidence:
        line = f"{item['path']}: {item['size']:,} bytes, {item.get('media_type') or 'type unknown'}, SHA-256 {item['sha256']}"
        if facts.classifications.get(item["file_id"]):
            line += f"; analyst classification {facts.classifications[item['file_id']]}"
        for match in matches_by_file.get(item["file_id"], []):
            line += f"; matches {match.bank}" + (f" (series {match.series})" if match.series else "")
        files.lines.append(line)
    if not evidence:
        files.lines.append("The report has no files.")
    sections.append(files)

    if facts.notes:
        notes = Section("Analyst notes")
        notes.lines += [f"{n['author']} ({n['at'][:16].replace('T', ' ')}): {n['text']}" for n in facts.notes]
        sections.append(notes)
    if referral.get("note"):
        sections.append(Section("Note to the agency", [referral["note"]]))
    return SummaryDocument(
        title=f"Referral {referral['id']} — report #{report.id}",
        subtitle=f"To {agency_name}. Referred {referral['created_at'][:16].replace('T', ' ')} UTC by "
                 f"{referral['created_by']}. Check the package with `tipline referral verify` before use.",
        sections=sections,
        footer=f"CONFIDENTIAL — referral {referral['id']}, report #{report.id}",
    )
