"""The unpack_archives stage: the members of a report's ZIP attachments become files of the report.

A known picture sent inside a ZIP must be recognised as surely as one sent on its own. Each member
is stored encrypted like any upload (never a plaintext file on disk), linked to its archive and its
path there, and hashed here, so that matching, conversation analysis, the review page (blurred
previews, classification) and referral packages treat it as any other file. Archives that hashing
found to be bombs or damaged are not opened; ZIPs inside ZIPs are opened a few levels deep; every
member left out is named with the reason on its archive.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.media import FileHashes, HashOptions, hash_file
from tipline.media.blobstore import BlobStoreError, StoredBlob
from tipline.media.errors import Problem, ProblemCode
from tipline.media.sniffing import SNIFF_BYTES, MediaKind, sniff_media_type
from tipline.media.streams import as_binary
from tipline.pipeline.stages.base import HasAudit, HasDatabase, HasFiles, Stage
from tipline.pipeline.stages.hash_files import HashedFile, store_file_hashes
from tipline.store.tables import ReportFileRow

UNPACK_ACTOR = Actor.system("pipeline:unpacking")


class UnpackArchivesContext(HasDatabase, HasFiles, HasAudit, Protocol):
    """Reads each sound ZIP attachment (an audited system read); stores its members as files of the report."""
ZIP_MEDIA_TYPE = "application/zip"
MiB = 1024**2
# What reading one member can raise: damaged data, an unsupported compression method, a password.
_MEMBER_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError, RuntimeError)


@dataclass(frozen=True)
class UnpackLimits:
    """How much of one archive (its nested archives included) becomes files of the report."""

    max_members: int = 1_000
    max_member_bytes: int = 512 * MiB
    max_total_bytes: int = 4 * 1024 * MiB
    max_depth: int = 3
    """A ZIP inside a ZIP is opened up to this many levels below the attached archive."""


@dataclass(frozen=True)
class Member:
    """One file found in an archive, already stored encrypted and hashed."""

    parent: str | int
    """The attached archive's file id, or the index in `Unpacked.members` of the ZIP member holding it."""
    path: str
    """Where it sits in the attached archive (nested archives joined with '/')."""
    stored: StoredBlob
    hashes: FileHashes

    @property
    def name(self) -> str:
        return PurePosixPath(self.path.replace("\\", "/")).name or "member"


@dataclass
class Unpacked:
    file_id: str
    members: list[Member] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total_bytes: int = 0


class _Stop(Exception):
    """A per-archive limit was reached: what was found so far is kept."""


def unpack_report_archives(context: UnpackArchivesContext, report_id: int,
                           limits: UnpackLimits | None = None) -> list[Unpacked]:
    """Open every hashed, sound ZIP attachment not unpacked yet (outside any transaction; each read
    of an archive is an audited system read) and store and hash its members."""
    limits = limits or UnpackLimits()
    with context.db.transaction() as session:
        archives = [
            row.id for row in session.execute(
                select(ReportFileRow).where(
                    ReportFileRow.report_id == report_id, ReportFileRow.media_type == ZIP_MEDIA_TYPE,
                    ReportFileRow.hashed_at.is_not(None), ReportFileRow.unpacked_at.is_(None),
                    ReportFileRow.blob_address.is_not(None), ReportFileRow.parent_file_id.is_(None),
                ).order_by(ReportFileRow.position)
            ).scalars()
            if row.media_problems is None or not row.media_problems.get("errors")
        ]
    results = []
    for file_id in archives:
        with context.db.transaction() as session:
            reader = context.files.open_for_system(session, file_id, UNPACK_ACTOR, purpose="unpacking")
        unpacked = Unpacked(file_id)
        with reader:
            try:
                _walk(context, as_binary(reader), file_id, "", 0, unpacked, limits)
            except _Stop:
                pass
        results.append(unpacked)
    return results


def _walk(context: UnpackArchivesContext, source: BinaryIO, parent: str | int, prefix: str, depth: int, unpacked: Unpacked,
          limits: UnpackLimits) -> None:
    where = f"the ZIP at {prefix.rstrip('/')}" if prefix else "the archive"
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        unpacked.problems.append(Problem(ProblemCode.CORRUPT, f"{where} could not be opened: {exc}"))
        return
    with archive:
        names = archive.namelist()
        # Office, OpenDocument and EPUB files are ZIPs too: only the pictures, videos and archives
        # inside them are files of the report, not the XML of the document's own structure.
        document = "[Content_Types].xml" in names or (bool(names) and names[0] == "mimetype")
        for info in archive.infolist():
            if info.is_dir():
                continue
            path = f"{prefix}{info.filename}"
            if document and not _is_media(archive, info):
                continue
            if len(unpacked.members) >= limits.max_members:
                unpacked.problems.append(Problem(
                    ProblemCode.MEMBER_SKIPPED,
                    f"stopped after {limits.max_members:,} files (the configured limit); {path} and the rest "
                    "of the archive are not added"))
                raise _Stop
            if info.flag_bits & 0x1:
                unpacked.problems.append(Problem(ProblemCode.MEMBER_SKIPPED,
                                                 f"{path} is encrypted with a password and cannot be read"))
                continue
            if info.file_size > limits.max_member_bytes:
                unpacked.problems.append(Problem(
                    ProblemCode.MEMBER_SKIPPED,
                    f"{path} would expand to {info.file_size:,} bytes, over the limit of "
                    f"{limits.max_member_bytes:,} for one file"))
                continue
            if unpacked.total_bytes + info.file_size > limits.max_total_bytes:
                unpacked.problems.append(Problem(
                    ProblemCode.MEMBER_SKIPPED,
                    f"stopped at {path}: the archive's files would exceed {limits.max_total_bytes:,} bytes "
                    "(the configured limit)"))
                raise _Stop
            try:
                with archive.open(info) as member:
                    stored = context.files.blobs.put(member, max_size=limits.max_member_bytes)
            except (*_MEMBER_UNREADABLE, BlobStoreError) as exc:
                unpacked.problems.append(Problem(ProblemCode.MEMBER_SKIPPED, f"{path} could not be read: {exc}"))
                continue
            unpacked.total_bytes += stored.size
            with context.files.blobs.open(stored.address) as blob:
                hashes = hash_file(as_binary(blob), name=PurePosixPath(info.filename).name, options=HashOptions(),
                                   known_crypto=stored.crypto)
            unpacked.members.append(Member(parent, path, stored, hashes))
            if hashes.archive is not None and not hashes.errors:
                if depth + 1 > limits.max_depth:
                    unpacked.problems.append(Problem(
                        ProblemCode.MEMBER_SKIPPED,
                        f"{path} is a ZIP nested {depth + 2} levels deep; it is kept as a file but not opened"))
                    continue
                with context.files.blobs.open(stored.address) as inner:
                    _walk(context, as_binary(inner), len(unpacked.members) - 1, f"{path}/", depth + 1, unpacked, limits)


def _is_media(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    try:
        with archive.open(info) as member:
            head = member.read(SNIFF_BYTES)
    except _MEMBER_UNREADABLE:
        return True  # let the real read name the problem
    kind = sniff_media_type(head, complete=len(head) < SNIFF_BYTES).kind
    return kind in (MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.ARCHIVE)


def store_unpacked_members(context: UnpackArchivesContext, session: Session, report_id: int, prepared: list[Unpacked]) -> None:
    """Add each member as a file of the report, linked to its archive, with its hashes (idempotent:
    an archive already unpacked is left alone)."""
    now = utc_now()
    for unpacked in prepared:
        archive = session.get(ReportFileRow, unpacked.file_id)
        if archive is None or archive.unpacked_at is not None:
            continue
        ids: list[str] = []
        hashed: list[HashedFile] = []
        for member in unpacked.members:
            parent_id = member.parent if isinstance(member.parent, str) else ids[member.parent]
            row = context.files.register(session, report_id, member.stored, file_name=member.name,
                                          actor=UNPACK_ACTOR, parent_file_id=parent_id, archive_path=member.path)
            ids.append(row.id)
            hashed.append(HashedFile(row.id, member.hashes))
        store_file_hashes(context, session, report_id, hashed)
        for file_id, member in zip(ids, unpacked.members, strict=True):
            if member.hashes.archive is not None:  # a nested ZIP: opened here, or deliberately not (see problems)
                nested = session.get(ReportFileRow, file_id)
                if nested is not None:
                    nested.unpacked_at = now
        archive.unpacked_at = now
        if unpacked.problems:
            problems = dict(archive.media_problems or {})
            problems["warnings"] = [*problems.get("warnings", []), *(p.to_dict() for p in unpacked.problems)]
            archive.media_problems = problems
        context.audit.append(
            session, UNPACK_ACTOR, "file.unpacked", report_id=report_id,
            details={"file_id": unpacked.file_id, "members": len(unpacked.members),
                     "skipped": [p.message for p in unpacked.problems][:20]},
        )


STAGE = Stage("unpack_archives", "add the files inside ZIP attachments to the report, hashed", store_unpacked_members,
              prepare=unpack_report_archives)
