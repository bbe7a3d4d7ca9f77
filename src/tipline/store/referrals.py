"""Tables and queries of jurisdiction and referral: the agency directory, each agency user's agency,
each report's located jurisdiction and suggested agency, referrals and the outcomes agencies report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.roles import Role
from tipline.jurisdiction.directory import AgencyRecord, AgencyType
from tipline.store.tables import Base, User
from tipline.store.types import BigId


class AgencyRow(Base):
    """A law-enforcement agency (or partner hotline) reports can be referred to, and the area it covers."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_type: Mapped[str] = mapped_column(String(30))
    country: Mapped[str] = mapped_column(String(2), index=True)
    region: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(64))
    public_key: Mapped[str | None] = mapped_column(String(64))  # X25519, base64: packages are encrypted to it
    # A partner hotline's Ed25519 public key, base64: its referral packages and outcome files are
    # verified with it (`tipline partners add`); never set by a directory import.
    signing_key: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def record(self) -> AgencyRecord:
        return AgencyRecord(
            code=self.code, name=self.name, type=AgencyType(self.agency_type), country=self.country,
            region=self.region, city=self.city, contact_name=self.contact_name, contact_email=self.contact_email,
            contact_phone=self.contact_phone, public_key=self.public_key, active=self.active,
        )


# An agency user belongs to one agency: every query of the agency portal is scoped by this column.
# (Agencies are deactivated, never deleted, so the key needs no ON DELETE rule; SQLite also keeps
# no rule it could report back for a column added to an existing table.)
User.agency_id = mapped_column(
    Integer, ForeignKey("agencies.id"), nullable=True, index=True
)


class ReportJurisdictionRow(Base):
    """Where a report is (every clue, the resolution) and the suggested agency, computed by the
    pipeline's resolve_jurisdiction stage; and the analyst's confirmation or override."""

    __tablename__ = "report_jurisdictions"

    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    resolution: Mapped[dict[str, Any]]
    suggested_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))
    suggestion: Mapped[dict[str, Any]]  # {"reasoning": [...], "candidates": [codes]}
    computed_at: Mapped[datetime]
    chosen_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"))
    chosen_by: Mapped[str | None] = mapped_column(String(200))
    chosen_at: Mapped[datetime | None]
    choice_reason: Mapped[str | None] = mapped_column(Text)


class ReferralRow(Base):
    """A report handed to an agency: the signed, encrypted package and what the agency did with it."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)  # the analyst's note to the agency
    package_name: Mapped[str] = mapped_column(String(200))
    package_size: Mapped[int] = mapped_column(BigId)
    package_sha256: Mapped[str] = mapped_column(String(64))  # of the encrypted file as downloaded
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    recipient_key_id: Mapped[str] = mapped_column(String(16))
    signing_key_id: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime | None]  # first opened by a user of the agency
    opened_by: Mapped[str | None] = mapped_column(String(200))
    last_downloaded_at: Mapped[datetime | None]
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    # when the package was written and the referral completed; empty while it is being built (a row no
    # list, page or count shows; see referral.service.refer)
    built_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_referrals_agency_id_created_at", "agency_id", "created_at"),
        # The supervisor's reminders: referrals no one at the agency has opened, the oldest first.
        Index("ix_referrals_unopened", "created_at", "id", postgresql_where=text("opened_at IS NULL"),
              sqlite_where=text("opened_at IS NULL")),
    )


class ReferralOutcomeRow(Base):
    """What an agency reports back about a referral (many over time: received, investigation, arrest ...)."""

    __tablename__ = "referral_outcomes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(BigId, ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(BigId, index=True)
    outcome: Mapped[str] = mapped_column(String(40), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    referred_to: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_user_id: Mapped[int | None] = mapped_column(Integer)


class DirectoryError(ValueError):
    """A directory request that cannot be done, with the reason."""


# --- the agency directory ------------------------------------------------------------------------


def agency_by_code(session: Session, code: str) -> AgencyRow | None:
    return session.execute(select(AgencyRow).where(AgencyRow.code == code.strip().lower())).scalar_one_or_none()


def list_agencies(session: Session, *, active_only: bool = False) -> list[AgencyRow]:
    statement = select(AgencyRow).order_by(AgencyRow.country, AgencyRow.region, AgencyRow.city, AgencyRow.name)
    if active_only:
        statement = statement.where(AgencyRow.active.is_(True))
    return list(session.execute(statement).scalars())


def import_agencies(session: Session, records: Sequence[AgencyRecord], actor: Actor, audit: Any) -> dict[str, int]:
    """Add new agencies and update existing ones (by code), in the caller's transaction: the caller
    validated every row first (parse_directory_csv), so either all rows are written or none."""
    now = utc_now()
    existing = {row.code: row for row in session.execute(select(AgencyRow)).scalars()}
    added = updated = unchanged = 0
    key_changes: dict[str, tuple[str | None, str | None]] = {}
    for record in records:
        row = existing.get(record.code)
        values = dict(name=record.name, agency_type=record.type.value, country=record.country, region=record.region,
                      city=record.city, contact_name=record.contact_name, contact_email=record.contact_email,
                      contact_phone=record.contact_phone, public_key=record.public_key, active=record.active)
        if row is None:
            session.add(AgencyRow(code=record.code, created_at=now, updated_at=now, **values))
            added += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            if row.public_key != record.public_key:
                key_changes[record.code] = (row.public_key, record.public_key)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            updated += 1
        else:
            unchanged += 1
    session.flush()
    for code, (old_key, new_key) in key_changes.items():
        _audit_key_change(session, audit, actor, code, old_key, new_key, "directory import")
    audit.append(session, actor, "agency.directory_imported",
                 details={"added": added, "updated": updated, "unchanged": unchanged,
                          "codes": [r.code for r in records][:200]})
    return {"added": added, "updated": updated, "unchanged": unchanged}


def _key_id(public_key: str | None) -> str | None:
    from tipline.jurisdiction.directory import key_id, public_key_bytes

    return key_id(public_key_bytes(public_key)) if public_key else None


def _audit_key_change(session: Session, audit: Any, actor: Actor, code: str, old_key: str | None,
                      new_key: str | None, how: str, reason: str | None = None) -> None:
    """`agency.key_rotated`: which key the agency's packages are encrypted to from now on (packages made
    before keep naming the key they were encrypted to, and open with that key's private half)."""
    details: dict[str, Any] = {"agency": code, "old_key_id": _key_id(old_key), "new_key_id": _key_id(new_key),
                               "how": how}
    if reason:
        details["reason"] = reason[:500]
    audit.append(session, actor, "agency.key_rotated", details=details)


def rotate_agency_key(session: Session, agency: AgencyRow, public_key: bytes, actor: Actor, audit: Any,
                      reason: str | None = None) -> tuple[str | None, str]:
    """Register an agency's new public key (its old one compromised, lost or due for renewal): packages
    built from now on are encrypted to it; earlier ones still name, and open with, the old key.
    Returns (old key id, new key id)."""
    import base64

    from tipline.jurisdiction.directory import key_id

    new_text = base64.b64encode(public_key).decode("ascii")
    if agency.public_key == new_text:
        raise DirectoryError(f"{agency.name} already has the key {key_id(public_key)}")
    holder = session.execute(select(AgencyRow).where(AgencyRow.public_key == new_text)).scalar_one_or_none()
    if holder is not None:
        raise DirectoryError(f"the key {key_id(public_key)} is {holder.name}'s; each agency needs its own key")
    old_text = agency.public_key
    agency.public_key, agency.updated_at = new_text, utc_now()
    session.flush()
    _audit_key_change(session, audit, actor, agency.code, old_text, new_text, "rotate-key", reason)
    return _key_id(old_text), key_id(public_key)


def assign_user_to_agency(session: Session, user: User, agency: AgencyRow, actor: Actor, audit: Any) -> None:
    if user.role != Role.AGENCY.value:
        raise DirectoryError(f"{user.username} is a {user.role} user; only agency users belong to an agency")
    user.agency_id = agency.id  # type: ignore[attr-defined]  # User.agency_id is added to the class in this module (above)
    audit.append(session, actor, "user.agency_assigned", details={"username": user.username, "agency": agency.code})


def agency_of_user(session: Session, user_id: int | None) -> AgencyRow | None:
    """The agency an agency user belongs to (None for anyone else, or an agency user not yet assigned)."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or user.role != Role.AGENCY.value:
        return None
    agency_id = getattr(user, "agency_id", None)
    return session.get(AgencyRow, agency_id) if agency_id is not None else None


def agency_user_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(User.agency_id, func.count()).where(User.agency_id.is_not(None)).group_by(User.agency_id)  # type: ignore[attr-defined]  # User.agency_id, added above
    )
    return {agency_id: count for agency_id, count in rows}
