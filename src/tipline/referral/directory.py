"""The agency directory in an instance: importing a CSV all-or-nothing, exporting it, tying agency
users to their agency, and the demo's fictional directory."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.jurisdiction.directory import directory_csv, parse_directory_csv
from tipline.referral.keys import b64, create_agency_key, load_agency_private_key, raw_public
from tipline.referral.locating import refresh_suggestions
from tipline.store.referrals import (
    AgencyRow,
    DirectoryError,
    agency_by_code,
    assign_user_to_agency,
    import_agencies,
    list_agencies,
    rotate_agency_key,
)

if TYPE_CHECKING:
    from tipline.instance import Instance

DEMO_DIRECTORY = "agency_directory.csv"
DEMO_AGENCY_USER_CODE = "us-fcps"  # the demo's `agency` login belongs to this agency
DEMO_KEYS_DIR = "demo-agency-keys"


def import_directory(instance: Instance, session: Session, data: bytes | str, actor: Actor) -> dict[str, Any]:
    """Check every row first (DirectoryImportError names each bad cell), then write all of them in the
    caller's transaction and suggest agencies again for open reports."""
    records = parse_directory_csv(data)
    counts = import_agencies(session, records, actor, instance.audit)
    counts["suggestions_changed"] = refresh_suggestions(instance, session)
    return counts


def export_directory(session: Session) -> str:
    return directory_csv(row.record() for row in list_agencies(session))


def assign_user(instance: Instance, session: Session, username: str, agency_code: str, actor: Actor) -> AgencyRow:
    user = instance.accounts.user_by_name(session, username)
    if user is None:
        raise DirectoryError(f"no user named {username!r}")
    agency = agency_by_code(session, agency_code)
    if agency is None:
        raise DirectoryError(f"no agency with the code {agency_code!r} is in the directory "
                             "(`tipline agencies list` shows them)")
    assign_user_to_agency(session, user, agency, actor, instance.audit)
    return agency


def rotate_key(instance: Instance, session: Session, agency_code: str, public_key_text: str, actor: Actor,
               reason: str | None = None) -> tuple[str | None, str]:
    """An agency's new public key (base64 or hex, as `tipline agencies keygen` prints it): new packages
    are encrypted to it, earlier ones keep the key they name; audited as `agency.key_rotated`.
    Returns (old key id, new key id)."""
    from tipline.jurisdiction.directory import public_key_bytes

    agency = agency_by_code(session, agency_code)
    if agency is None:
        raise DirectoryError(f"no agency with the code {agency_code!r} is in the directory "
                             "(`tipline agencies list` shows them)")
    try:
        public = public_key_bytes(public_key_text)
    except ValueError as error:
        raise DirectoryError(str(error)) from None
    return rotate_agency_key(session, agency, public, actor, instance.audit, reason)


def load_demo_directory(instance: Instance, session: Session, actor: Actor) -> dict[str, Any]:
    """The demo's fictional directory; each demo agency gets a key pair (private keys under the key
    folder's demo-agency-keys/, so the demo can decrypt its own packages), and the demo `agency`
    login belongs to the first agency. Safe to run again."""
    data = resources.files("tipline.demo").joinpath(DEMO_DIRECTORY).read_text(encoding="utf-8")
    counts = import_directory(instance, session, data, actor)
    keys = instance.settings.key_dir / DEMO_KEYS_DIR
    for agency in list_agencies(session):
        private = keys / f"{agency.code}.key"
        if private.exists():  # a second run: the directory's empty key cell must not lose the demo key
            public = raw_public(load_agency_private_key(private).public_key())
        else:
            public = create_agency_key(private)
        agency.public_key = b64(public)
    user = instance.accounts.user_by_name(session, "agency")
    if user is not None and getattr(user, "agency_id", None) is None:
        assign_user(instance, session, "agency", DEMO_AGENCY_USER_CODE, actor)
    return {**counts, "agency_keys": str(keys)}


def demo_key_path(instance: Instance, agency_code: str) -> Path:
    return instance.settings.key_dir / DEMO_KEYS_DIR / f"{agency_code}.key"
