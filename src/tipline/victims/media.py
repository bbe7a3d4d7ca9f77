"""A series' media from files: each picture or video hashed (MD5, SHA-1, SHA-256, PDQ, vPDQ) into bank
entries with their provenance, all files first, so that one that cannot be hashed changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tipline.matching import BankEntry, SignalType, VpdqFrame, format_vpdq
from tipline.media.hashing import FileHashes, hash_file

SOURCE = "tipline series add-media"


class MediaHashError(ValueError):
    """A file that cannot be added to a series, and why."""


def hash_media(path: Path) -> FileHashes:
    try:
        result = hash_file(path)
    except OSError as error:
        raise MediaHashError(f"cannot read {path}: {error.strerror or error}") from None
    if result.errors:
        raise MediaHashError(f"{path.name} cannot be hashed: {result.errors[0].message}")
    if result.kind.value not in ("image", "video"):
        raise MediaHashError(f"{path.name} is not a picture or a video (it looks like {result.kind.value}); "
                             "a series' media are pictures and videos")
    return result


def entries_for(result: FileHashes, *, source: str = SOURCE, source_id: str | None = None,
                added_by: str | None = None) -> list[BankEntry]:
    """The bank entries of one hashed file (the series is set by whoever adds them)."""
    now = BankEntry.now()

    def entry(kind: SignalType, value: str) -> BankEntry:
        return BankEntry(bank="", signal_type=kind, value=value, source=source, source_id=source_id or result.name,
                         added_by=added_by, added_at=now)

    entries = [entry(SignalType.MD5, result.md5), entry(SignalType.SHA1, result.sha1),
               entry(SignalType.SHA256, result.sha256)]
    if result.pdq_matchable and result.pdq is not None:
        entries.append(entry(SignalType.PDQ, result.pdq))
    frames = [VpdqFrame(f.pdq, f.quality, f.timestamp, f.frame_number) for f in result.video_frames]
    if frames:
        entries.append(entry(SignalType.VPDQ, format_vpdq(frames)))
    return entries


def hash_files(paths: Sequence[Path], *, added_by: str | None = None) -> list[BankEntry]:
    """Every file's entries, or MediaHashError for the first file that cannot be hashed."""
    if not paths:
        raise MediaHashError("name at least one file")
    entries: list[BankEntry] = []
    for path in paths:
        entries += entries_for(hash_media(path), added_by=added_by)
    return entries
