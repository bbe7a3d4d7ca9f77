"""Files kept across a refused public-form submission.

When the form is refused (a date in the future, a missing answer), the files the person chose were
already encrypted into the blob store; instead of making them choose every file again, the files are
held under a random hold token that the refused page carries in a hidden field. Only a keyed hash of
the token is stored, the files stay encrypted (never written in plaintext), a hold lasts
`HOLD_MINUTES`, and the periodic `expire` drops what was abandoned (the blob collector then deletes
content nothing else holds).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.media.blobstore import StoredBlob
from tipline.store.files import FileStore, clean_file_name
from tipline.store.tables import HeldUploadRow

HOLD_MINUTES = 120
_TOKEN_BYTES = 24


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def _digest(secret_key: bytes, token: str) -> str:
    return hmac.new(secret_key, f"held-upload:{token}".encode(), hashlib.sha256).hexdigest()


def well_formed(token: str | None) -> bool:
    return bool(token) and len(token or "") <= 64 and all(c.isalnum() or c in "-_" for c in token or "")


def hold(session: Session, files: FileStore, secret_key: bytes, token: str, stored: StoredBlob,
         file_name: str | None, *, now: datetime | None = None) -> HeldUploadRow:
    now = now or utc_now()
    files.hold(session, stored)
    row = HeldUploadRow(token_hash=_digest(secret_key, token), blob_address=stored.address,
                        file_name=clean_file_name(file_name), size=stored.size, md5=stored.md5, sha1=stored.sha1,
                        sha256=stored.sha256, held_at=now, expires_at=now + timedelta(minutes=HOLD_MINUTES))
    session.add(row)
    session.flush()
    return row


def held(session: Session, secret_key: bytes, token: str | None, *, now: datetime | None = None) -> list[HeldUploadRow]:
    """The files still held under a token, oldest first (none for a malformed or unknown token)."""
    if not well_formed(token):
        return []
    return list(session.execute(
        select(HeldUploadRow).where(HeldUploadRow.token_hash == _digest(secret_key, token or ""),
                                    HeldUploadRow.expires_at > (now or utc_now()))
        .order_by(HeldUploadRow.id)).scalars())


def as_stored(row: HeldUploadRow) -> StoredBlob:
    return StoredBlob(address=row.blob_address, size=row.size, md5=row.md5, sha1=row.sha1, sha256=row.sha256,
                      deduplicated=True)


def release(session: Session, files: FileStore, rows: list[HeldUploadRow]) -> None:
    """Let go of held files (after they were attached to the report, or when the person removed them)."""
    for row in rows:
        files.release(session, row.blob_address)
        session.delete(row)
    session.flush()


def expire(session: Session, files: FileStore, *, now: datetime | None = None) -> int:
    """Drop holds past their time (the caller commits); returns how many files were let go."""
    rows = list(session.execute(select(HeldUploadRow).where(HeldUploadRow.expires_at <= (now or utc_now()))
                                .with_for_update()).scalars())
    for row in rows:
        files.release(session, row.blob_address)
    if rows:
        session.execute(delete(HeldUploadRow).where(HeldUploadRow.id.in_([row.id for row in rows])))
    return len(rows)
