"""Time to removal, for the trends: of the notices whose material was removed, the median hours from
sending the notice to its removal, by hosting country or by provider."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.store.takedown import TakedownNoticeRow
from tipline.takedown.notices import NoticeState

GROUPINGS = ("country", "provider")
UNKNOWN = "not known"


@dataclass(frozen=True)
class RemovalFigure:
    group: str  # a country code or a provider's name
    notices: int
    median_hours: float
    slowest_hours: float

    def as_json(self) -> dict[str, object]:
        return {"group": self.group, "notices": self.notices, "median_hours": self.median_hours,
                "slowest_hours": self.slowest_hours}


def removal_times(session: Session, by: str = "country", *, since: datetime | None = None) -> list[RemovalFigure]:
    """One figure per country (or provider) of the notices removed since `since` (all when None), the
    slowest median first. A notice removed before it was sent is not counted: nothing was asked."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    column = TakedownNoticeRow.hosting_country if by == "country" else TakedownNoticeRow.provider
    statement = select(column, TakedownNoticeRow.sent_at, TakedownNoticeRow.removed_at).where(
        TakedownNoticeRow.state == NoticeState.REMOVED.value, TakedownNoticeRow.sent_at.is_not(None),
        TakedownNoticeRow.removed_at.is_not(None))
    if since is not None:
        statement = statement.where(TakedownNoticeRow.removed_at >= since)
    hours: dict[str, list[float]] = {}
    for group, sent_at, removed_at in session.execute(statement):
        if sent_at is None or removed_at is None:
            continue
        hours.setdefault(group or UNKNOWN, []).append(max((removed_at - sent_at).total_seconds(), 0) / 3600)
    figures = [RemovalFigure(group, len(values), round(statistics.median(values), 1), round(max(values), 1))
               for group, values in hours.items()]
    return sorted(figures, key=lambda f: (-f.median_hours, f.group))
