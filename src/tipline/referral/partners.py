"""The registry of partner hotlines: agencies of type `hotline` with the Ed25519 signing key their
referral packages and outcome files are verified with. A partner is one directory row both ways:
its X25519 `public_key` (packages we refer to it are encrypted to it) and its `signing_key` (what it
sends us is verified with it)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.jurisdiction.directory import CODE, AgencyType, public_key_bytes
from tipline.jurisdiction.places import country_code
from tipline.referral.keys import fingerprint, parse_public_key_text
from tipline.store.referrals import AgencyRow, DirectoryError, agency_by_code

if TYPE_CHECKING:
    from tipline.instance import Instance


class UnknownPartner(LookupError):
    """No partner hotline holds the signing key a package or file was signed with."""


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    country: str
    signing_key_id: str | None
    package_key_id: str | None
    active: bool


def partner_of(row: AgencyRow) -> Partner:
    return Partner(row.code, row.name, row.country,
                   fingerprint(base64.b64decode(row.signing_key)) if row.signing_key else None,
                   fingerprint(public_key_bytes(row.public_key)) if row.public_key else None, row.active)


def signing_public_key(row: AgencyRow) -> Ed25519PublicKey:
    if not row.signing_key:
        raise UnknownPartner(f"{row.name} has no signing key registered: `tipline partners add {row.code} "
                             "--signing-key FILE` (the key it prints with `tipline referral signing-key`)")
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(row.signing_key))


def add_partner(instance: Instance, session: Session, code: str, signing_key_text: str, country: str, actor: Actor,
                *, name: str | None = None, public_key_text: str | None = None) -> tuple[AgencyRow, bool]:
    """Register a partner hotline (a new agency of type hotline) or set an existing one's signing key
    (and package key, if given). Audited as `partner.registered`. Returns (row, created)."""
    code = code.strip().lower()
    if not CODE.match(code):
        raise DirectoryError(f"{code!r} is not a code: use 2-64 lower-case letters, digits, '.', '_' or '-'")
    cc = country_code(country)
    if cc is None:
        raise DirectoryError(f"{country!r} is not an ISO 3166-1 country code or country name")
    try:
        signing = parse_public_key_text(signing_key_text, "partner's signing key")
        Ed25519PublicKey.from_public_bytes(signing)
    except ValueError as error:
        raise DirectoryError(str(error)) from None
    signing_text = base64.b64encode(signing).decode("ascii")
    package_text = None
    if public_key_text:
        try:
            package_text = base64.b64encode(public_key_bytes(public_key_text.strip().removeprefix("x25519:"))
                                            ).decode("ascii")
        except ValueError as error:
            raise DirectoryError(str(error)) from None
    holder = session.execute(select(AgencyRow).where(AgencyRow.signing_key == signing_text)).scalar_one_or_none()
    if holder is not None and holder.code != code:
        raise DirectoryError(f"that signing key is already {holder.name}'s ({holder.code}); each partner has its own")
    own = fingerprint(signing) == _own_key_id(instance)
    if own:
        raise DirectoryError("that is this hotline's own signing key, not a partner's")
    row = agency_by_code(session, code)
    now = utc_now()
    created = row is None
    if row is None:
        row = AgencyRow(code=code, name=(name or code).strip()[:200], agency_type=AgencyType.HOTLINE.value,
                        country=cc, active=True, created_at=now, updated_at=now)
        session.add(row)
    elif row.agency_type != AgencyType.HOTLINE.value:
        raise DirectoryError(f"{row.name} ({code}) is in the directory as {row.agency_type}, not as a hotline: "
                             "give the partner another code, or change its type in the directory first")
    old_key_id = fingerprint(base64.b64decode(row.signing_key)) if row.signing_key else None
    row.signing_key, row.country, row.updated_at = signing_text, cc, now
    if name:
        row.name = name.strip()[:200]
    if package_text:
        row.public_key = package_text
    session.flush()
    instance.audit.append(session, actor, "partner.registered", details={
        "agency": row.code, "name": row.name, "country": cc, "created": created,
        "signing_key_id": fingerprint(signing), "old_signing_key_id": old_key_id,
        "package_key_id": partner_of(row).package_key_id})
    return row, created


def _own_key_id(instance: Instance) -> str | None:
    from tipline.referral.keys import SIGNING_KEY_FILE, raw_public, signing_key

    if not (instance.settings.key_dir / SIGNING_KEY_FILE).exists():
        return None
    return fingerprint(raw_public(signing_key(instance.settings.key_dir).public_key()))


def list_partners(session: Session) -> list[AgencyRow]:
    return list(session.execute(select(AgencyRow).where(AgencyRow.agency_type == AgencyType.HOTLINE.value)
                                .order_by(AgencyRow.code)).scalars())


def partner_by_key_id(session: Session, key_id: str) -> AgencyRow:
    """The active partner hotline whose signing key has this id; UnknownPartner if none."""
    for row in session.execute(select(AgencyRow).where(AgencyRow.signing_key.is_not(None))).scalars():
        if row.signing_key and fingerprint(base64.b64decode(row.signing_key)) == key_id:
            if not row.active:
                raise UnknownPartner(f"the sender is {row.name} ({row.code}), which is not active in the directory")
            return row
    raise UnknownPartner(f"no partner hotline with the signing key {key_id or '(none named)'} is registered: "
                         "an unknown sender. Register the partner with `tipline partners add CODE --signing-key "
                         "FILE --country CC` once its key id is confirmed by another channel")
