"""Filters on a list of referrals (the agency portal's): status, date referred, priority, and words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, cast, or_, select

from tipline.referral.outcomes import Outcome
from tipline.store.referrals import ReferralOutcomeRow, ReferralRow
from tipline.store.tables import ReportRow

PRIORITIES = ("P1", "P2", "P3", "P4")
STATUSES = ("new", "opened", *(o.value for o in Outcome))  # new: not opened; opened: no outcome yet
MAX_TEXT = 200


@dataclass(frozen=True)
class ReferralFilters:
    status: str = ""
    since: date | None = None  # referred on or after this day (UTC)
    until: date | None = None  # referred on or before this day (UTC)
    priority: str = ""
    text: str = ""  # words in the incident type, the platform or the hotline's note; or a referral/report number

    @property
    def active(self) -> bool:
        return bool(self.status or self.since or self.until or self.priority or self.text)

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for paging links and the form)."""
        values = {"status": self.status, "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else "", "priority": self.priority, "q": self.text}
        return {k: v for k, v in values.items() if v}


def clauses(filters: ReferralFilters) -> list[ColumnElement[bool]]:
    """WHERE clauses over referrals joined with their reports."""
    where: list[ColumnElement[bool]] = []
    latest = (select(ReferralOutcomeRow.outcome).where(ReferralOutcomeRow.referral_id == ReferralRow.id)
              .order_by(ReferralOutcomeRow.recorded_at.desc(), ReferralOutcomeRow.id.desc()).limit(1)
              .correlate(ReferralRow).scalar_subquery())
    if filters.status == "new":
        where.append(ReferralRow.opened_at.is_(None))
    elif filters.status == "opened":
        where += [ReferralRow.opened_at.is_not(None), latest.is_(None)]
    elif filters.status:
        where.append(latest == filters.status)
    if filters.since:
        where.append(ReferralRow.created_at >= _day_start(filters.since))
    if filters.until:
        where.append(ReferralRow.created_at < _day_start(filters.until) + timedelta(days=1))
    if filters.priority:
        where.append(ReportRow.priority == filters.priority)
    text = filters.text.strip()
    if text:
        number = text.lstrip("#")
        if number.isascii() and number.isdigit() and len(number) < 18:  # "²" is a digit to isdigit, not to int
            where.append(or_(ReferralRow.id == int(number), ReferralRow.report_id == int(number)))
        else:
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(or_(*(column.ilike(pattern, escape="\\") for column in (
                ReportRow.incident_type, ReportRow.platform, ReferralRow.note, cast(ReportRow.id, String)))))
    return where


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_filters(status: str, since: str, until: str, priority: str, text: str) -> tuple[ReferralFilters, list[str]]:
    """Filters from a form; anything not understood is left out and named in the problems."""
    problems: list[str] = []
    days: list[Any] = []
    for label, value in (("From", since), ("To", until)):
        try:
            days.append(date.fromisoformat(value) if value else None)
        except ValueError:
            problems.append(f"{label}: {value!r} is not a date (YYYY-MM-DD)")
            days.append(None)
    if status and status not in STATUSES:
        problems.append(f"Status: {status!r} is not one of the statuses listed")
        status = ""
    if priority and priority not in PRIORITIES:
        problems.append(f"Priority: {priority!r} is not P1, P2, P3 or P4")
        priority = ""
    return ReferralFilters(status, days[0], days[1], priority, text.strip()[:MAX_TEXT]), problems


__all__ = ["PRIORITIES", "STATUSES", "ReferralFilters", "clauses", "parse_filters"]
