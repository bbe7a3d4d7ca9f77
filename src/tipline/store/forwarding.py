"""Tables of forwarding: the CyberTipline-compatible services reports can be forwarded to, and each
forwarding of a report with the progress that makes resuming after a crash safe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import BigId


class ForwardDestinationRow(Base):
    """A CyberTipline-compatible service (NCMEC, a partner hotline's tipline): where, as whom, and
    whether it is a test or a production service. The password is sealed with the instance's
    forwarding key (tipline.forwarding.credentials); it is never stored or printed in clear."""

    __tablename__ = "forward_destinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str] = mapped_column(String(200))
    sealed_password: Mapped[str] = mapped_column(Text)
    environment: Mapped[str] = mapped_column(String(20))  # "test" or "production"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class ForwardingRow(Base):
    """One forwarding of one report to one destination, and how far it got.

    `remote_report_id` is committed as soon as the destination answers /submit, before any file is
    sent; `progress` records each file's remote id as soon as its upload is answered (and, before
    the upload, that it is being sent), so a resumed forwarding sends only what is missing."""

    __tablename__ = "forwardings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("forward_destinations.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)  # a new remote report after a retraction
    remote_report_id: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    retracted_remote_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    give_up_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
