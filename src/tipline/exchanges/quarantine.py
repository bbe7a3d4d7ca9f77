"""Flood quarantine: an entry shared by an exchange that suddenly matches far too much (more files or
reports in a window than its exchange allows), or matches material already classified benign (a file
an ignore bank also matches), is held. Its matches are kept, marked suppressed with the reason, so
triage, series sightings and alerts do not act on them, until a person releases or disables it
(`tipline exchanges release|disable`, the supervisor's exchanges page).

It runs wherever a report's matches are written (`match_files.match_report_files`), so the pipeline,
`tipline banks rematch` and an exchange's re-matching all respect it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.store.audit import AuditLog
from tipline.store.exchange_tables import ExchangeEntryRow, ExchangeRow
from tipline.store.tables import FileMatchRow

HELD_PREFIX = "held: "
QUARANTINE_ACTOR = Actor.system("exchanges:quarantine")
DEFAULT_FLOOD = {"flood_reports": 20, "flood_files": 50, "flood_hours": 24}
"""An exchange's entry is held once it matches more than 20 reports or 50 files within 24 hours,
unless the exchange's config says otherwise (`tipline exchanges add --flood-reports ...`)."""


def flood_limits(config: dict[str, Any]) -> dict[str, int]:
    return {key: int(config.get(key) or default) for key, default in DEFAULT_FLOOD.items()}


def hold_floods(session: Session, audit: AuditLog, report_id: int) -> int:
    """After a report's matches were written: suppress the matches of held entries, and hold the
    exchange entries among them that flood or match benign material. Returns how many were held now."""
    found = session.execute(
        select(FileMatchRow, ExchangeEntryRow, ExchangeRow.config, ExchangeRow.name)
        .join(ExchangeEntryRow, ExchangeEntryRow.bank_entry_id == FileMatchRow.entry_id)
        .join(ExchangeRow, ExchangeRow.id == ExchangeEntryRow.exchange_id)
        .where(FileMatchRow.report_id == report_id)
    ).all()
    if not found:
        return 0
    benign_files = set(session.execute(select(FileMatchRow.file_id).where(
        FileMatchRow.report_id == report_id, FileMatchRow.bank_kind == "ignore")).scalars())
    now = utc_now()
    held_now = 0
    candidates: dict[int, tuple[ExchangeEntryRow, dict[str, int], str]] = {}
    for match, entry, config, exchange in found:
        if entry.hold == "held":
            match.suppressed, match.suppressed_by = True, f"{HELD_PREFIX}{entry.hold_reason}"
        elif entry.hold is None and (match.file_id in benign_files or match.suppressed):
            _hold(session, audit, entry, exchange, "matched material classified benign (an ignore bank matched the file)")
            held_now += 1
        elif entry.hold is None:
            candidates[entry.bank_entry_id] = (entry, flood_limits(config), exchange)
    if candidates:
        longest = max(limits["flood_hours"] for _, limits, _ in candidates.values())
        counts = {entry_id: (reports, files, newest) for entry_id, reports, files, newest in session.execute(
            select(FileMatchRow.entry_id, func.count(func.distinct(FileMatchRow.report_id)),
                   func.count(func.distinct(FileMatchRow.file_id)), func.max(FileMatchRow.matched_at))
            .where(FileMatchRow.entry_id.in_(list(candidates)),
                   FileMatchRow.matched_at >= now - timedelta(hours=longest))
            .group_by(FileMatchRow.entry_id))}
        for entry_id, (entry, limits, exchange) in candidates.items():
            reports, files, _ = counts.get(entry_id, (0, 0, None))
            if longest != limits["flood_hours"]:
                reports, files = _count_within(session, entry_id, now - timedelta(hours=limits["flood_hours"]))
            if reports > limits["flood_reports"] or files > limits["flood_files"]:
                _hold(session, audit, entry, exchange,
                      f"matched {files} files in {reports} reports within {limits['flood_hours']} hours "
                      f"(this exchange allows {limits['flood_files']} files or {limits['flood_reports']} reports)")
                held_now += 1
    return held_now


def _count_within(session: Session, entry_id: int, since: Any) -> tuple[int, int]:
    reports, files = session.execute(
        select(func.count(func.distinct(FileMatchRow.report_id)), func.count(func.distinct(FileMatchRow.file_id)))
        .where(FileMatchRow.entry_id == entry_id, FileMatchRow.matched_at >= since)).one()
    return reports, files


def _hold(session: Session, audit: AuditLog, entry: ExchangeEntryRow, exchange: str, reason: str) -> None:
    entry.hold, entry.hold_reason, entry.hold_at = "held", reason, utc_now()
    session.flush()
    session.execute(update(FileMatchRow).where(FileMatchRow.entry_id == entry.bank_entry_id,
                                               FileMatchRow.suppressed.is_(False))
                    .values(suppressed=True, suppressed_by=f"{HELD_PREFIX}{reason}"))
    audit.append(session, QUARANTINE_ACTOR, "exchange.entry_held", details={
        "exchange": exchange, "entry": entry.id, "remote_id": entry.remote_id, "bank_entry_id": entry.bank_entry_id,
        "reason": reason})
