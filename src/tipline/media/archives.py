"""ZIP inspection without extraction: entries, declared expansion, zip-bomb refusal (ratio, size, overlap, nesting)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from tipline.media.errors import CorruptFileError, TruncatedFileError, ZipBombError

GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """When a ZIP archive counts as a bomb. Nothing is extracted to decide, except small nested ZIPs (in memory)."""

    max_entries: int = 100_000
    max_uncompressed_bytes: int = 16 * GiB
    max_ratio: float = 100.0
    """Expansion ratio (declared uncompressed / archive size) over which a large archive is refused."""
    ratio_floor_bytes: int = 100 * MiB
    """The ratio rule applies only once the declared expansion exceeds this (small text archives compress well)."""
    max_nesting: int = 3
    """Nested ZIPs are opened (in memory) this many levels deep to add up what they would expand to."""
    max_nested_read_bytes: int = 16 * MiB
    """A nested ZIP larger than this, uncompressed, is not opened: its declared size is counted as is."""


@dataclass(frozen=True, slots=True)
class ArchiveInfo:
    """What a ZIP archive's central directory says, and what nested ZIPs add to it."""

    entries: int
    uncompressed_bytes: int
    compressed_bytes: int
    ratio: float
    encrypted_entries: int
    nested_archives: int

    def to_dict(self) -> dict[str, int | float]:
        return {
            "entries": self.entries,
            "uncompressed_bytes": self.uncompressed_bytes,
            "compressed_bytes": self.compressed_bytes,
            "ratio": round(self.ratio, 1),
            "encrypted_entries": self.encrypted_entries,
            "nested_archives": self.nested_archives,
        }


def _local_data_start(entry: zipfile.ZipInfo) -> int:
    # 30-byte local header + name; the local extra field may differ from the central one, so the
    # central lengths give a lower bound of where the data starts.
    return entry.header_offset + 30 + len(entry.orig_filename.encode("utf-8", "replace"))


def _check_overlap(entries: list[zipfile.ZipInfo]) -> None:
    ordered = sorted(entries, key=lambda e: e.header_offset)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.header_offset == before.header_offset:
            raise ZipBombError(
                f"entries {before.filename!r} and {after.filename!r} share the same data: overlapping entries "
                "are the mark of a non-recursive zip bomb; refused"
            )
        end = _local_data_start(before) + before.compress_size
        if after.header_offset < end and before.compress_size > 0:
            raise ZipBombError(
                f"entry {after.filename!r} starts inside the data of {before.filename!r}: overlapping entries "
                "are the mark of a non-recursive zip bomb; refused"
            )


def _read_nested(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int) -> bytes | None:
    if entry.file_size > limit or entry.flag_bits & 0x1:
        return None
    with archive.open(entry) as member:
        data = member.read(limit + 1)
    return data if len(data) <= limit else None


def _inspect(stream: BinaryIO, size: int, limits: ZipLimits, depth: int, path: str) -> tuple[int, int, int, int]:
    """(entries, uncompressed bytes, encrypted entries, nested archives), raising ZipBombError."""
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as exc:
        text = str(exc)
        if text == "File is not a zip file" or "truncated" in text.lower():
            # It starts like a ZIP (that is how it was sniffed) but its directory at the end is missing.
            raise TruncatedFileError(
                f"the ZIP archive{path} has no readable central directory at its end: the file is truncated or damaged"
            ) from exc
        raise CorruptFileError(f"the ZIP archive{path} is damaged: {text}") from exc
    except (OSError, EOFError, struct.error, ValueError) as exc:
        raise CorruptFileError(f"the ZIP archive{path} is damaged: {exc}") from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_entries:
            raise ZipBombError(
                f"the ZIP archive{path} lists {len(entries):,} entries, "
                f"over the limit of {limits.max_entries:,}; refused"
            )
        _check_overlap(entries)
        total = sum(e.file_size for e in entries)
        encrypted = sum(1 for e in entries if e.flag_bits & 0x1)
        nested = 0
        if depth < limits.max_nesting:
            for entry in entries:
                head_is_zip = entry.filename.lower().endswith((".zip", ".jar", ".docx", ".xlsx", ".epub"))
                if entry.is_dir() or not head_is_zip:
                    continue
                try:
                    data = _read_nested(archive, entry, limits.max_nested_read_bytes)
                except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
                    data = None
                if data is None or not data.startswith(b"PK"):
                    continue
                try:
                    sub_entries, sub_total, sub_encrypted, sub_nested = _inspect(
                        io.BytesIO(data), len(data), limits, depth + 1, f"{path} > {entry.filename}"
                    )
                except (CorruptFileError, TruncatedFileError):
                    continue  # a damaged nested archive expands to nothing more than its own bytes
                nested += 1 + sub_nested
                encrypted += sub_encrypted
                total += sub_total - entry.file_size
                if len(entries) + sub_entries > limits.max_entries * 10:
                    raise ZipBombError(
                        f"the ZIP archive{path} nests archives listing over "
                        f"{limits.max_entries * 10:,} entries; refused"
                    )
        _check_expansion(total, size, limits, path, nested)
        return len(entries), total, encrypted, nested


def _check_expansion(total: int, size: int, limits: ZipLimits, path: str, nested: int) -> None:
    nesting = f" (counting {nested} nested archives)" if nested else ""
    if total > limits.max_uncompressed_bytes:
        raise ZipBombError(
            f"the ZIP archive{path} would expand to {total:,} bytes{nesting}, over the limit of "
            f"{limits.max_uncompressed_bytes:,} bytes; refused"
        )
    ratio = total / max(1, size)
    if total > limits.ratio_floor_bytes and ratio > limits.max_ratio:
        raise ZipBombError(
            f"the ZIP archive{path} ({size:,} bytes) would expand to {total:,} bytes{nesting}, a ratio of "
            f"{ratio:,.0f}:1 over the limit of {limits.max_ratio:,.0f}:1; refused as a zip bomb"
        )


def inspect_zip(source: BinaryIO | bytes, limits: ZipLimits = ZipLimits()) -> ArchiveInfo:
    """Read a ZIP archive's central directory (never writing anything) and refuse bombs.

    Raises ZipBombError, TruncatedFileError or CorruptFileError.
    """
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    try:
        entries, total, encrypted, nested = _inspect(stream, size, limits, 0, "")
    finally:
        stream.seek(0)
    compressed = size
    return ArchiveInfo(
        entries=entries,
        uncompressed_bytes=total,
        compressed_bytes=compressed,
        ratio=total / max(1, size),
        encrypted_entries=encrypted,
        nested_archives=nested,
    )
