"""The hash_files stage: what each file of a report is, its PDQ, and its video frame signatures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.media import CryptoHashes, FileHashes, HashOptions, hash_file
from tipline.media.streams import as_binary
from tipline.pipeline.stages.base import HasAudit, HasDatabase, HasFiles, Stage
from tipline.store.tables import FileSignalRow, ReportFileRow

HASHING_ACTOR = Actor.system("pipeline:hashing")


class HashFilesContext(HasDatabase, HasFiles, HasAudit, Protocol):
    """Reads each file not hashed yet (an audited system read); writes its hashes and signals."""


@dataclass(frozen=True)
class HashedFile:
    file_id: str
    hashes: FileHashes


def hash_report_files(context: HashFilesContext, report_id: int) -> list[HashedFile]:
    """Decrypt and hash every file of the report not hashed yet (outside any long transaction; each
    read of a file is an audited system read)."""
    with context.db.transaction() as session:
        pending = [
            (row.id, row.file_name, row.size, row.md5, row.sha1, row.sha256)
            for row in session.execute(
                select(ReportFileRow)
                .where(ReportFileRow.report_id == report_id, ReportFileRow.hashed_at.is_(None),
                       ReportFileRow.blob_address.is_not(None))
                .order_by(ReportFileRow.position)
            ).scalars()
        ]
    hashed = []
    for file_id, name, size, md5, sha1, sha256 in pending:
        with context.db.transaction() as session:
            reader = context.files.open_for_system(session, file_id, HASHING_ACTOR, purpose="hashing")
        with reader:
            known = CryptoHashes(size, md5, sha1, sha256) if md5 and sha1 and sha256 else None  # set at upload
            hashes = hash_file(as_binary(reader), name=name, options=HashOptions(), known_crypto=known)
        hashed.append(HashedFile(file_id, hashes))
    return hashed


def store_file_hashes(context: HashFilesContext, session: Session, report_id: int, hashed: list[HashedFile]) -> None:
    """Write what hashing found (idempotent: a file's signals are replaced, hashed_at marks it done)."""
    now = utc_now()
    for item in hashed:
        row = session.get(ReportFileRow, item.file_id)
        if row is None or row.hashed_at is not None:
            continue
        h = item.hashes
        row.media_type = h.media_type
        row.media_kind = h.kind.value
        row.declared_type = h.declared_type
        row.width, row.height = h.width, h.height
        row.pdq, row.pdq_quality = h.pdq, h.pdq_quality
        row.media_problems = {
            "errors": [p.to_dict() for p in h.errors],
            "warnings": [p.to_dict() for p in h.warnings],
        }
        row.hashed_at = now
        session.execute(delete(FileSignalRow).where(FileSignalRow.file_id == item.file_id))
        session.add_all(
            FileSignalRow(
                file_id=item.file_id,
                report_id=report_id,
                signal_type="vpdq_frame",
                value=frame.pdq,
                quality=frame.quality,
                frame_number=frame.frame_number,
                timestamp_ms=round(frame.timestamp * 1000),
            )
            for frame in h.video_frames
        )
        if h.dihedral is not None:  # the rotations and flips, so a turned copy still matches a bank
            session.add_all(
                FileSignalRow(file_id=item.file_id, report_id=report_id, signal_type="pdq_dihedral", value=variant,
                              quality=h.dihedral.quality, frame_number=index)
                for index, variant in enumerate(h.dihedral.hashes)
                if index > 0
            )
        context.audit.append(
            session, HASHING_ACTOR, "file.hashed", report_id=report_id,
            details={"file_id": item.file_id, "media_type": h.media_type, "pdq_quality": h.pdq_quality,
                     "video_frames": len(h.video_frames), "errors": [p.code.value for p in h.errors]},
        )


STAGE = Stage("hash_files", "hash every file (MD5, SHA-1, SHA-256, PDQ, video frames)", store_file_hashes,
              prepare=hash_report_files)
