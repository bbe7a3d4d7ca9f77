"""Tables of the exchange with partner hotlines: each referral package imported from a partner (the
report it became, and where it came from), and each outcome file a partner sent back about one of our
referrals (so a file is imported once and an older one is refused as a replay)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import BigId


class ImportedReferralRow(Base):
    """A report that came to us as a partner hotline's referral package: the partner (an agency of
    type hotline with a signing key), its report and referral ids, and the package's hashes. One
    row per partner and referral: a second import of the same referral is refused."""

    __tablename__ = "imported_referrals"
    __table_args__ = (UniqueConstraint("partner_id", "sender_referral_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    sender_referral_id: Mapped[int] = mapped_column(BigId)
    sender_report_id: Mapped[int] = mapped_column(BigId)
    sender_name: Mapped[str] = mapped_column(String(200))  # the hotline's name in the manifest
    signing_key_id: Mapped[str] = mapped_column(String(16))
    package_sha256: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    referred_at: Mapped[datetime | None]  # when the partner referred it (its manifest)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(200))
    outcome_files: Mapped[int] = mapped_column(Integer, default=0)  # outcome files written back so far


class PartnerOutcomeFileRow(Base):
    """An outcome file a partner hotline sent back about one of our referrals, as imported: its id
    and sequence number (refused if seen again, or older than one imported) and the ids of the
    outcomes it added (each outcome is added once, however many files repeat it)."""

    __tablename__ = "partner_outcome_files"
    __table_args__ = (UniqueConstraint("referral_id", "sequence"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(BigId, ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(String(64), unique=True)
    sequence: Mapped[int] = mapped_column(Integer)
    file_sha256: Mapped[str] = mapped_column(String(64))
    outcome_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"ids": [...]}
    written_at: Mapped[datetime]
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(200))
