"""The tables of trends: each report's facts, the daily counts they add up to, and the alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import BigId


class TrendFactRow(Base):
    """One fact of one report that a daily count holds (the report's day, a dimension and its value):
    what the counting stage added, so that running it again changes only what changed, and the reports
    behind any bar are found without reading reports."""

    __tablename__ = "trend_facts"

    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_trend_facts_dimension_value_day", "dimension", "value", "day"),)


class TrendCountRow(Base):
    """How many reports received on a day (UTC) have a value of a dimension."""

    __tablename__ = "trend_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_trend_counts_dimension_value_day", "dimension", "value", "day"),)


class TrendAlertRow(Base):
    """An emerging threat: a count that rose beyond its baseline ("rise"), or an identifier that
    suddenly appeared in many reports from several sources ("identifier")."""

    __tablename__ = "trend_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # rise, identifier
    dimension: Mapped[str] = mapped_column(String(40))  # a dimension, or an identifier kind
    value: Mapped[str] = mapped_column(String(1024))
    since: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float]
    details: Mapped[dict[str, Any]]  # the baseline's method and figures, the sources, the p-value
    report_ids: Mapped[dict[str, Any]]  # {"ids": [...]}
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, acknowledged, dismissed
    detected_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_trend_alerts_key", "kind", "dimension", "value", "last_day"),
                      Index("ix_trend_alerts_status", "status"))
