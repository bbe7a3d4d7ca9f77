"""Tables of notice and takedown: the abuse-contact directory, where each URL of a report is hosted
(as last looked up), and the notices sent to hosting providers with their states and re-checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import BigId, JSONDocument


class AbuseContactRow(Base):
    """A hosting provider's abuse desk: found by its networks (ASNs) and/or domains, reached by email
    or a web form (tipline.takedown.contacts)."""

    __tablename__ = "abuse_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    asns: Mapped[list[int]] = mapped_column(JSONDocument, default=list)
    domain_suffixes: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    web_form: Mapped[str | None] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HostingLookupRow(Base):
    """Where one URL of a report was hosted when last looked up: its addresses (each with country,
    network and organisation), the country and network named for it, or why it could not be found."""

    __tablename__ = "hosting_lookups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1024))
    host: Mapped[str | None] = mapped_column(String(253))
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    country: Mapped[str | None] = mapped_column(String(2))
    asn: Mapped[int | None] = mapped_column(BigId)
    organisation: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    looked_up_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(200))  # who looked it up; who asked is in the audit trail

    __table_args__ = (UniqueConstraint("report_id", "url", name="uq_hosting_lookups_report_id_url"),)


class TakedownNoticeRow(Base):
    """A notice to a hosting provider about one URL of a report, and what became of it. Each state's
    date and who set it are kept; `checks` lists the re-checks ({at, result, by}); the hours from
    sending to removal are what the trends count (tipline.takedown.figures)."""

    __tablename__ = "takedown_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1024))
    host: Mapped[str | None] = mapped_column(String(253))
    hosting_country: Mapped[str | None] = mapped_column(String(2))
    asn: Mapped[int | None] = mapped_column(BigId)
    provider: Mapped[str | None] = mapped_column(String(200))  # the contact's name, else the network's
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("abuse_contacts.id", ondelete="SET NULL"))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_web_form: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    found_at: Mapped[datetime]
    drafted_at: Mapped[datetime]
    drafted_by: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    refused_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    state_changed_at: Mapped[datetime]
    state_changed_by: Mapped[str] = mapped_column(String(200))
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    last_checked_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    mail_requested_by: Mapped[str | None] = mapped_column(String(200))  # who asked for it to be mailed

    __table_args__ = (Index("ix_takedown_notices_state_sent_at", "state", "sent_at"),)
