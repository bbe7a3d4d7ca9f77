"""The match_files stage: every file's hashes looked up in the hash banks, each match kept with its
provenance (bank, distance, classification, series) and whether a known false positive silenced it, or
a flood quarantine holds the entry (tipline.exchanges.quarantine)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.exchanges.quarantine import hold_floods
from tipline.matching import FileSignals, PdqQuery, VpdqFrame
from tipline.pipeline.stages.base import HasAudit, HasMatcher, Stage
from tipline.store.tables import FileMatchRow, FileSignalRow, ReportFileRow, ReportRow

MATCHING_ACTOR = Actor.system("pipeline:matching")


class MatchFilesContext(HasMatcher, HasAudit, Protocol):
    """Reads the files' hashes and the hash banks; writes the report's matches."""


def file_signals(session: Session, file: ReportFileRow) -> FileSignals:
    """What the hashing stage found for one file, as the matcher's query."""
    signals = session.execute(
        select(FileSignalRow).where(FileSignalRow.file_id == file.id).order_by(FileSignalRow.id)
    ).scalars().all()
    pdq: list[PdqQuery] = []
    if file.pdq:
        pdq.append(PdqQuery(file.pdq, file.pdq_quality))
        pdq += [PdqQuery(s.value, file.pdq_quality) for s in signals if s.signal_type == "pdq_dihedral"]
    frames = [VpdqFrame(s.value, s.quality or 0, (s.timestamp_ms or 0) / 1000, s.frame_number or 0)
              for s in signals if s.signal_type == "vpdq_frame"]
    return FileSignals(md5=file.md5, sha1=file.sha1, sha256=file.sha256, pdq=pdq, vpdq=frames)


def match_report_files(context: MatchFilesContext, session: Session, report_id: int) -> None:
    """Replace the report's matches with a fresh lookup (so new bank entries are seen when it runs again)."""
    files = list(session.execute(
        select(ReportFileRow).where(ReportFileRow.report_id == report_id, ReportFileRow.hashed_at.is_not(None))
        .order_by(ReportFileRow.position)
    ).scalars())
    matcher = context.matching.matcher(session)
    results = matcher.lookup_many([file_signals(session, f) for f in files]) if files else []
    before = sorted((m.file_id, m.entry_id, m.suppressed) for m in session.execute(
        select(FileMatchRow).where(FileMatchRow.report_id == report_id)).scalars())
    session.execute(delete(FileMatchRow).where(FileMatchRow.report_id == report_id))
    now = utc_now()
    for file, result in zip(files, results, strict=True):
        for match in result.matches:
            session.add(FileMatchRow(
                report_id=report_id, file_id=file.id, bank=match.bank.name, bank_kind=match.bank.kind.value,
                entry_id=match.entry.entry_id, signal_type=match.signal_type.value, distance=match.distance,
                classification=match.entry.classification.value if match.entry.classification else None,
                series=match.entry.series, source=match.entry.source, source_id=match.entry.source_id,
                suppressed=match.suppressed,
                suppressed_by=(f"{match.suppressed_by.bank} entry {match.suppressed_by.entry_id}"
                               if match.suppressed_by else None),
                matched_at=now,
            ))
    session.flush()
    hold_floods(session, context.audit, report_id)  # shared entries that match far too much are held
    after = sorted((m.file_id, m.entry_id, m.suppressed) for m in session.execute(
        select(FileMatchRow).where(FileMatchRow.report_id == report_id)).scalars())
    report = session.get(ReportRow, report_id)
    if report is None:
        raise LookupError(f"report {report_id} does not exist")
    first_time = report.files_matched_at is None
    report.files_matched_at = now
    if files and (after != before or first_time):
        hits = sum(1 for _, _, suppressed in after if not suppressed)
        context.audit.append(session, MATCHING_ACTOR, "report.files_matched", report_id=report_id,
                              details={"files": len(files), "matches": len(after), "hits": hits})


STAGE = Stage("match_files", "look every file up in the hash banks", match_report_files)
