"""Report files: rows in the database, contents in the encrypted store, every read audited."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, BinaryIO
from typing import cast as typing_cast

from sqlalchemy import Table, Text, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.errors import TiplineError
from tipline.domain.files import FileDetails
from tipline.media.blobstore import (
    BlobReader,
    BlobStoreError,
    BlobWriter,
    EncryptedBlobStore,
    StoredBlob,
)
from tipline.store.accounts import Principal
from tipline.store.audit import AuditLog
from tipline.store.db import forget_loaded
from tipline.store.reports import ReportNotFound, ReportStore
from tipline.store.tables import BlobRow, ReportFileRow, ReportRow

MAX_FILE_NAME = 1024
_FILES = typing_cast(Table, ReportFileRow.__table__)  # a mapped class\'s table (typed as any FromClause)
_BLOBS = typing_cast(Table, BlobRow.__table__)  # a mapped class\'s table (typed as any FromClause)
_FILE_COLUMNS = ("id", "report_id", "file_name", "size", "media_type", "md5", "sha1", "sha256", "blob_address",
                 "uploaded_at", "details", "parent_file_id", "archive_path")
# A new file row, numbered after the report's other files, in one statement (the caller holds the
# report's row lock, so no other file of the report is being added at the same time).
_INSERT_FILE = insert(_FILES).values({
    **{name: bindparam(f"file_{name}") for name in _FILE_COLUMNS},
    "position": select(func.count()).select_from(_FILES).where(_FILES.c.report_id == bindparam("file_report_id"))
    .scalar_subquery(),
}).returning(_FILES.c.position)


def _blob_reference(dialect: str) -> Any:
    """One more reference to a stored blob, its row created if new, in one statement (the row stays
    locked until commit, as the collector's delete does)."""
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(_BLOBS).values(
        address=bindparam("address"), size=bindparam("size"), refs=1, created_at=bindparam("now"),
        unreferenced_since=None)
    return statement.on_conflict_do_update(
        index_elements=[_BLOBS.c.address], set_={"refs": _BLOBS.c.refs + 1, "unreferenced_since": None})


_BLOB_REFERENCE = {dialect: _blob_reference(dialect) for dialect in ("postgresql", "sqlite")}
# No details yet: SQL NULL, or the JSON null the ORM stores for None.
_NO_DETAILS = func.coalesce(cast(_FILES.c.details, Text), "null") == "null"


class FileNotFound(TiplineError, LookupError):
    """No such file, or none the asker may see (indistinguishable on purpose)."""

    status, code, title = 404, "not_found", "File not found"

    def __init__(self, file_id: str) -> None:
        super().__init__(f"file {file_id} does not exist")
        self.file_id = file_id


class BlobVanished(BlobStoreError):
    """Content an upload relied on was collected as garbage while the upload ran; send it again."""

    def __init__(self, address: str) -> None:
        super().__init__(f"the stored content {address[:12]}... was removed while this file was being "
                         "added (it had been unreferenced); nothing was added: send the file again")
        self.address = address


class DetailsAlreadySet(ValueError):
    """The reporter's details of a file may be given once."""

    def __init__(self, file_id: str) -> None:
        super().__init__(f"file {file_id} already has its details")
        self.file_id = file_id


def new_file_id() -> str:
    return uuid.uuid4().hex


# Control characters, and the invisible marks that reorder text on screen: "photo\u202egnp.exe"
# would read as "photoexe.png" to an analyst. A file's name is shown exactly as its letters go.
_HIDDEN = dict.fromkeys([*range(0x00, 0x20), 0x7F, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def clean_file_name(name: str | None) -> str | None:
    """The last path component only (a name never says where a file goes on anyone's disk), without
    control characters or text-direction marks (a name cannot disguise its extension)."""
    if name is None:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1].translate(_HIDDEN).strip()
    return base[:MAX_FILE_NAME] or None


class FileStore:
    def __init__(self, blobs: EncryptedBlobStore, audit: AuditLog, reports: ReportStore) -> None:
        self.blobs = blobs
        self.audit = audit
        self.reports = reports

    # --- adding -------------------------------------------------------------------------------

    def writer(self, max_size: int | None = None) -> BlobWriter:
        """Encrypt an upload chunk by chunk as it arrives; pass the committed blob to `register`."""
        return self.blobs.writer(max_size=max_size)

    def add(self, session: Session, report_id: int, data: bytes | BinaryIO | Iterable[bytes], *,
            file_name: str | None, actor: Actor, max_size: int | None = None) -> ReportFileRow:
        """Store a whole file for a report (the convenience form of writer + register)."""
        with self.writer(max_size) as writer:
            if isinstance(data, (bytes, bytearray, memoryview)):
                writer.write(data)
            elif hasattr(data, "read"):
                while chunk := data.read(1024 * 1024):
                    writer.write(chunk)
            else:
                for chunk in data:
                    writer.write(chunk)
            stored = writer.commit()
        return self.register(session, report_id, stored, file_name=file_name, actor=actor)

    def register(self, session: Session, report_id: int, stored: StoredBlob, *, file_name: str | None,
                 actor: Actor, file_id: str | None = None, parent_file_id: str | None = None,
                 archive_path: str | None = None) -> ReportFileRow:
        """Attach a stored blob to a report: a file row, one more reference to the blob, an audit event.
        The caller holds the report's row lock (files are numbered in upload order). Returns the file
        row as stored (a copy outside the session). Three Core statements before the audit append.
        A file found inside one of the report's archives names that archive and its path there."""
        session.flush()
        connection = session.connection()
        now = utc_now()
        connection.execute(_BLOB_REFERENCE[connection.dialect.name],
                           {"address": stored.address, "size": stored.size, "now": now})
        forget_loaded(session, BlobRow, stored.address)
        if not self.blobs.exists(stored.address):
            # The collector deleted this content (unreferenced for its grace period) after the writer
            # found it already stored and kept no copy: refuse rather than point at nothing. The
            # reference above holds the blob's row until commit, so it cannot happen after this check.
            raise BlobVanished(stored.address)
        values = {
            "id": file_id or new_file_id(),
            "report_id": report_id,
            "file_name": clean_file_name(file_name),
            "size": stored.size,
            "media_type": None,
            "md5": stored.md5,
            "sha1": stored.sha1,
            "sha256": stored.sha256,
            "blob_address": stored.address,
            "uploaded_at": now,
            "details": None,
            "parent_file_id": parent_file_id,
            "archive_path": archive_path.translate(_HIDDEN)[:MAX_FILE_NAME] if archive_path else None,
        }
        values["position"] = connection.execute(
            _INSERT_FILE, {f"file_{name}": value for name, value in values.items()}).scalar_one()
        details = {"file_id": values["id"], "size": stored.size, "md5": stored.md5}
        if parent_file_id:
            details["from_archive"] = parent_file_id
        self.audit.append(session, actor, "file.added", report_id=report_id, details=details)
        return ReportFileRow(**values)

    def set_details(self, session: Session, file_id: str, details: FileDetails, actor: Actor, *,
                    report_id: int | None = None, once: bool = False) -> int:
        """Keep the reporter's details of a file (audited); returns the file's report ID. With
        `report_id`, only a file of that report (else FileNotFound); with `once`, only a file that
        has no details yet (else DetailsAlreadySet)."""
        statement = update(_FILES).where(_FILES.c.id == file_id)
        if report_id is not None:
            statement = statement.where(_FILES.c.report_id == report_id)
        if once:
            statement = statement.where(_NO_DETAILS)
        session.flush()
        connection = session.connection()
        owner: int | None = connection.execute(
            statement.values(details=details.to_wire()).returning(_FILES.c.report_id)
        ).scalar_one_or_none()
        if owner is None:
            found = connection.execute(select(_FILES.c.report_id).where(_FILES.c.id == file_id)).first()
            if found is None or (report_id is not None and found.report_id != report_id):
                raise FileNotFound(file_id)
            raise DetailsAlreadySet(file_id)
        forget_loaded(session, ReportFileRow, file_id)
        self.audit.append(session, actor, "file.details_set", report_id=owner, details={"file_id": file_id})
        return owner

    # --- reading (always audited) ----------------------------------------------------------------

    def row(self, session: Session, file_id: str) -> ReportFileRow:
        row = session.get(ReportFileRow, file_id)
        if row is None:
            raise FileNotFound(file_id)
        return row

    def open_for(self, session: Session, file_id: str, principal: Principal, purpose: str) -> BlobReader:
        """A file's plaintext for a person or account allowed to see its report; audited."""
        row = self.row(session, file_id)
        try:
            self.reports.visible_row(session, row.report_id, principal)
        except ReportNotFound:
            raise FileNotFound(file_id) from None
        return self._open(session, row, principal.actor, purpose)

    def open_for_system(self, session: Session, file_id: str, actor: Actor, purpose: str) -> BlobReader:
        """A file's plaintext for the system's own work (hashing, analysis); audited all the same."""
        return self._open(session, self.row(session, file_id), actor, purpose)

    def _open(self, session: Session, row: ReportFileRow, actor: Actor, purpose: str) -> BlobReader:
        if row.blob_address is None:
            raise FileNotFound(row.id)
        self.audit.append(session, actor, "file.read", report_id=row.report_id,
                          details={"file_id": row.id, "purpose": purpose})
        return self.blobs.open(row.blob_address)

    # --- removing --------------------------------------------------------------------------------

    def hold(self, session: Session, stored: StoredBlob) -> None:
        """One more reference to a stored blob that no report holds yet (a file kept across a refused
        submission): the collector leaves it alone until `release`."""
        session.flush()
        connection = session.connection()
        connection.execute(_BLOB_REFERENCE[connection.dialect.name],
                           {"address": stored.address, "size": stored.size, "now": utc_now()})
        forget_loaded(session, BlobRow, stored.address)

    def release(self, session: Session, address: str) -> None:
        """Drop a reference taken by `hold`; content nothing else holds is deleted by `collect_garbage`."""
        blob = session.execute(select(BlobRow).where(BlobRow.address == address).with_for_update()).scalar_one_or_none()
        if blob is not None:
            blob.refs = max(0, blob.refs - 1)
            if blob.refs == 0:
                blob.unreferenced_since = utc_now()

    def remove_report_files(self, session: Session, report_id: int, actor: Actor) -> int:
        """Drop a report's files; content no other report holds is deleted by `collect_garbage`."""
        rows = list(session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report_id)).scalars())
        now = utc_now()
        for row in rows:
            if row.blob_address:
                blob = session.execute(select(BlobRow).where(BlobRow.address == row.blob_address)
                                       .with_for_update()).scalar_one_or_none()
                if blob is not None:
                    blob.refs = max(0, blob.refs - 1)
                    if blob.refs == 0:
                        blob.unreferenced_since = now
            session.delete(row)
        if rows:
            self.audit.append(session, actor, "file.removed", report_id=report_id,
                              details={"file_ids": [row.id for row in rows]})
        session.flush()
        return len(rows)

    def collect_garbage(self, session: Session, grace: timedelta = timedelta(minutes=10)) -> int:
        """Delete blobs no report file has pointed at for `grace` (the caller commits)."""
        cutoff = utc_now() - grace
        unreferenced = list(session.execute(
            select(BlobRow).where(BlobRow.refs == 0, BlobRow.unreferenced_since < cutoff).with_for_update()
        ).scalars())
        for blob in unreferenced:
            self.blobs.delete(blob.address)
            session.delete(blob)
        return len(unreferenced)

    def report_of(self, session: Session, file_id: str) -> ReportRow:
        return self.reports.row(session, self.row(session, file_id).report_id)
