"""Looking through the audit trail: events filtered by who, what, report and dates, newest first, a
page at a time, or all of them for a CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from tipline.store.tables import AuditEventRow

PAGE = 100
BATCH = 1000  # rows read at once for an export
EXPORT_LIMIT = 1_000_000  # rows in one CSV export; narrow the filters for more
CSV_COLUMNS = ("seq", "at", "actor_type", "actor_name", "action", "report_id", "details", "chain_seq", "hash")


@dataclass(frozen=True)
class AuditFilters:
    who: str = ""  # an actor's name (a username, an API account, "public", a system part), exactly
    what: str = ""  # an action ("user.login"), or a family of them ending in "." or "*" ("referral.")
    report_id: int | None = None
    since: date | None = None  # on or after this day (UTC)
    until: date | None = None  # on or before this day (UTC)

    def as_dict(self) -> dict[str, Any]:
        """For the audit event that records a search, and for links keeping the filters."""
        return {k: v for k, v in {"who": self.who, "what": self.what, "report": self.report_id,
                                  "since": self.since.isoformat() if self.since else None,
                                  "until": self.until.isoformat() if self.until else None}.items() if v}

    def clauses(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.who:
            where.append(func.lower(AuditEventRow.actor_name) == self.who.strip().lower())
        what = self.what.strip()
        if what.endswith(("*", ".")):
            prefix = what.rstrip("*")
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(AuditEventRow.action.like(escaped + "%", escape="\\"))
        elif what:
            where.append(AuditEventRow.action == what)
        if self.report_id is not None:
            where.append(AuditEventRow.report_id == self.report_id)
        if self.since:
            where.append(AuditEventRow.at >= _day(self.since))
        if self.until:
            where.append(AuditEventRow.at < _day(self.until) + timedelta(days=1))
        return where


def _day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_filters(who: str, what: str, report: str, since: str, until: str) -> tuple[AuditFilters, list[str]]:
    """Filters from a form: what is not understood is left out and named."""
    problems: list[str] = []
    report_id = None
    if report.strip():
        digits = report.strip().lstrip("#")
        if digits.isascii() and digits.isdigit() and 0 < int(digits) < 2**62:  # "²" is a digit to isdigit only
            report_id = int(digits)
        else:
            problems.append(f"Report: {report!r} is not a report number")
    days: list[date | None] = []
    for label, value in (("From", since), ("To", until)):
        try:
            days.append(date.fromisoformat(value.strip()) if value.strip() else None)
        except ValueError:
            problems.append(f"{label}: {value!r} is not a date (YYYY-MM-DD)")
            days.append(None)
    return AuditFilters(who.strip()[:200], what.strip()[:64], report_id, days[0], days[1]), problems


def _statement(filters: AuditFilters) -> Select[AuditEventRow]:
    return select(AuditEventRow).where(*filters.clauses()).order_by(AuditEventRow.seq.desc())


def page_of_events(session: Session, filters: AuditFilters, *, before: int | None = None,
                   limit: int = PAGE) -> list[AuditEventRow]:
    """One page, newest first (`before`: events numbered below it, the next page)."""
    statement = _statement(filters)
    if before is not None:
        statement = statement.where(AuditEventRow.seq < before)
    return list(session.execute(statement.limit(limit)).scalars())


def count_events(session: Session, filters: AuditFilters) -> int:
    return session.execute(select(func.count()).select_from(AuditEventRow).where(*filters.clauses())).scalar_one()


def csv_lines(session: Session, filters: AuditFilters, limit: int = EXPORT_LIMIT) -> Iterator[str]:
    """The matching events as CSV text, newest first, in batches of lines."""
    out = io.StringIO()
    writer = csv.writer(out)

    def take() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield take()
    before, written = None, 0
    while written < limit:  # batches by number (keyset), each its own statement: no long transaction
        batch = page_of_events(session, filters, before=before, limit=min(BATCH, limit - written))
        for row in batch:
            writer.writerow([row.seq, row.at.isoformat(), row.actor_type, _safe(row.actor_name), row.action,
                             row.report_id or "", _safe(json.dumps(row.details, ensure_ascii=False, sort_keys=True)),
                             row.chain_seq or "", row.hash or ""])
        yield take()
        written += len(batch)
        if len(batch) < BATCH:
            return
        before = batch[-1].seq
        session.expunge_all()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): a leading =, +, - or @ is quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


__all__ = ["CSV_COLUMNS", "PAGE", "AuditFilters", "count_events", "csv_lines", "page_of_events", "parse_filters"]
