"""Tables of victim identification: series aliases, victims (pseudonymous), a series' history,
notifications to the agency that identified a series, the victim-identification queue, "child
identified" confirmations, and clusters of unidentified material recurring across reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import BigId


class SeriesAliasRow(Base):
    """Another name of a series (an old name after a rename, a merged series' name). Names and aliases
    share one namespace: a name resolves to at most one series."""

    __tablename__ = "series_aliases"

    alias: Mapped[str] = mapped_column(String(200), primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(200))


class SeriesVictimRow(Base):
    """A child seen in a series, as a pseudonymous record: no real name, address or contact detail."""

    __tablename__ = "series_victims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(40))
    sex: Mapped[str] = mapped_column(String(10))
    age_band: Mapped[str] = mapped_column(String(10))  # apparent age when the material was produced
    status: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(200))


class SeriesEventRow(Base):
    """One step of a series' history (created, status changed, renamed, merged, split, media added),
    shown on its page; the audit trail holds the same events, chained."""

    __tablename__ = "series_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]]


class SeriesNotificationRow(Base):
    """An identified series came back in a new report: the agency that identified it is told, once per
    report and series, with what can be shared (never the media)."""

    __tablename__ = "series_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("series_id", "report_id"),)


class VictimIdQueueRow(Base):
    """A report in which an unidentified series appeared, for a victim-identification specialist."""

    __tablename__ = "victim_id_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("series_id", "report_id"),
        Index("ix_victim_id_queue_reviewed_at_created_at", "reviewed_at", "created_at"),
    )


class SeriesConfirmationRow(Base):
    """An agency reported "child identified" on a referral whose report matched a series: a specialist
    confirms (the series is marked identified by that agency) or declines."""

    __tablename__ = "series_confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    referral_id: Mapped[int] = mapped_column(BigId)
    report_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(20))  # confirmed, declined
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("series_id", "referral_id"),)


class MediaClusterRow(Base):
    """Near-identical files found in several reports and matching no bank: possibly new material of
    a child not yet identified. Its figures are kept current as files join, for ranking."""

    __tablename__ = "media_clusters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open, promoted, dismissed
    files: Mapped[int] = mapped_column(Integer, default=0)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    providers: Mapped[int] = mapped_column(Integer, default=0)
    countries: Mapped[int] = mapped_column(Integer, default=0)
    youngest: Mapped[str | None] = mapped_column(String(20))  # infant, prepubescent, pubescent (annotations)
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    score: Mapped[int] = mapped_column(Integer, default=0, index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class ClusterFileRow(Base):
    """A report file that belongs to a cluster."""

    __tablename__ = "cluster_files"

    file_id: Mapped[str] = mapped_column(ForeignKey("report_files.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(BigId, ForeignKey("media_clusters.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    basis: Mapped[str] = mapped_column(String(20))  # sha256, md5, pdq, vpdq
    distance: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime]
