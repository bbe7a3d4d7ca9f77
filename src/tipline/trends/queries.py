"""What the trends pages ask of the daily counts: a dimension over time, year on year, the top movers,
and the reports behind a bar (from each report's counted facts: no report is read to find them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tipline.store.tables import ReportRow
from tipline.trends.detector import NOT_DETECTED
from tipline.trends.tables import TrendCountRow, TrendFactRow

PERIODS = {"day": "Day", "week": "Week", "month": "Month", "year": "Year"}
DEFAULT_SPAN = {"day": 60, "week": 7 * 52, "month": 3 * 365, "year": 5 * 365}
OTHER = "(other values)"


def period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    return day


def period_end(start: date, period: str) -> date:
    if period == "week":
        return start + timedelta(days=6)
    if period == "month":
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    if period == "year":
        return start.replace(month=12, day=31)
    return start


def period_label(start: date, period: str) -> str:
    if period == "week":
        return f"w/c {start.day} {start:%b %Y}"
    if period == "month":
        return f"{start:%b %Y}"
    if period == "year":
        return str(start.year)
    return f"{start.day} {start:%b}"


def period_starts(first: date, last: date, period: str) -> list[date]:
    starts, current = [], period_start(first, period)
    while current <= last:
        starts.append(current)
        current = period_end(current, period) + timedelta(days=1)
    return starts


@dataclass
class Series:
    periods: list[date]
    values: list[str]  # the most counted first; OTHER last when there are more than `top`
    counts: dict[str, list[int]]


def over_time(session: Session, dimension: str, period: str, first: date, last: date, top: int = 6) -> Series:
    starts = period_starts(first, last, period)
    position = {s: i for i, s in enumerate(starts)}
    by_value: dict[str, list[int]] = defaultdict(lambda: [0] * len(starts))
    for day, value, count in session.execute(select(TrendCountRow.day, TrendCountRow.value, TrendCountRow.count).where(
            TrendCountRow.dimension == dimension, TrendCountRow.day >= first, TrendCountRow.day <= last,
            TrendCountRow.count > 0)):
        by_value[value][position[period_start(day, period)]] += count
    ranked = sorted(by_value, key=lambda v: (-sum(by_value[v]), v))
    shown = ranked[:top]
    counts = {v: by_value[v] for v in shown}
    rest = ranked[len(shown):]
    if rest:
        counts[OTHER] = [sum(by_value[v][i] for v in rest) for i in range(len(starts))]
    return Series(starts, list(counts), counts)


def _totals(session: Session, dimension: str | None, first: date, last: date) -> dict[tuple[str, str], int]:
    query = (select(TrendCountRow.dimension, TrendCountRow.value, func.sum(TrendCountRow.count))
             .where(TrendCountRow.day >= first, TrendCountRow.day <= last)
             .group_by(TrendCountRow.dimension, TrendCountRow.value))
    if dimension:
        query = query.where(TrendCountRow.dimension == dimension)
    return {(d, v): int(n or 0) for d, v, n in session.execute(query)}


def year_on_year(session: Session, dimension: str, end: date) -> list[dict[str, Any]]:
    """Each value's count in the 365 days to `end` against the 365 days before."""
    this = _totals(session, dimension, end - timedelta(days=364), end)
    before = _totals(session, dimension, end - timedelta(days=729), end - timedelta(days=365))
    rows = []
    for key in sorted(set(this) | set(before), key=lambda k: (-this.get(k, 0), k[1])):
        now, then = this.get(key, 0), before.get(key, 0)
        if now or then:
            rows.append({"value": key[1], "this": now, "before": then,
                         "change": round(100 * (now - then) / then, 1) if then else None})
    return rows


def top_movers(session: Session, end: date, days: int = 28, limit: int = 10, min_count: int = 10) -> list[dict[str, Any]]:
    """The series that rose most: the last `days` days against the `days` before (every dimension)."""
    recent_first, before_first = end - timedelta(days=days - 1), end - timedelta(days=2 * days - 1)
    recent = func.sum(case((TrendCountRow.day >= recent_first, TrendCountRow.count), else_=0))
    earlier = func.sum(case((TrendCountRow.day < recent_first, TrendCountRow.count), else_=0))
    rows = session.execute(
        select(TrendCountRow.dimension, TrendCountRow.value, recent, earlier)
        .where(TrendCountRow.day >= before_first, TrendCountRow.day <= end,
               TrendCountRow.dimension.not_in(sorted(NOT_DETECTED | {"all"})))
        .group_by(TrendCountRow.dimension, TrendCountRow.value)).all()
    movers = [{"dimension": d, "value": v, "recent": int(r or 0), "before": int(b or 0),
               "change": int(r or 0) - int(b or 0)} for d, v, r, b in rows if int(r or 0) >= min_count]
    movers.sort(key=lambda m: (-m["change"], m["dimension"], m["value"]))
    return [m for m in movers if m["change"] > 0][:limit]


def reports_behind(session: Session, dimension: str, value: str, first: date, last: date,
                   limit: int = 500) -> tuple[int, list[Any]]:
    """How many reports a bar holds, and the first `limit` of them (newest first)."""
    where = (TrendFactRow.dimension == dimension, TrendFactRow.value == value,
             TrendFactRow.day >= first, TrendFactRow.day <= last)
    total = session.execute(select(func.count()).select_from(TrendFactRow).where(*where)).scalar_one()
    rows = session.execute(
        select(ReportRow.id, ReportRow.received_at, ReportRow.incident_type, ReportRow.priority, ReportRow.state)
        .join(TrendFactRow, TrendFactRow.report_id == ReportRow.id).where(*where)
        .order_by(ReportRow.received_at.desc(), ReportRow.id.desc()).limit(limit)).all()
    return int(total), list(rows)


def last_counted_day(session: Session) -> date | None:
    found: date | None = session.execute(select(func.max(TrendCountRow.day)).where(
        TrendCountRow.dimension == "all")).scalar()
    return found
