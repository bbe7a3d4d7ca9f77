"""The table of hash-list formats and the entry points that use it: read, write and guess a file's format.

A format is a module (or any object) with `name`, `detect`, `read` and `write` (see `base.Format`);
adding a format means writing its module, naming it in `HashListFormat` and listing it in `FORMATS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import TextIO

from tipline.matching.formats import csv_file, plain, threatexchange, vics
from tipline.matching.formats.base import (
    VICS_DEFAULT_CATEGORIES,
    Format,
    HashListFormat,
    HashRecord,
    ImportResult,
    LineInput,
    Progress,
    ReadOptions,
    SkippedLine,
    Source,
)
from tipline.matching.signals import SignalType, parse_signal_type

FORMATS: dict[HashListFormat, Format] = {module.name: module for module in (plain, csv_file, vics, threatexchange)}
"""Every format by its name; on equal claims `guess_format` prefers the one listed first."""


def iter_hash_list(
    source: Source,
    fmt: HashListFormat | str,
    *,
    signal_type: SignalType | str | None = None,
    source_name: str | None = None,
    vics_categories: Collection[int] = VICS_DEFAULT_CATEGORIES,
    progress: Progress | None = None,
) -> Iterator[HashRecord | SkippedLine]:
    """Records and skipped lines of a hash-list file, one at a time, in file order.

    `signal_type` is the type of a plain list (or of CSV rows without one; otherwise md5 and sha1
    are recognised by length). `source_name` fills `source` where the file gives none.
    """
    kind = FORMATS[HashListFormat(fmt)]
    default_type = (
        signal_type if signal_type is None or isinstance(signal_type, SignalType) else parse_signal_type(signal_type)
    )
    options = ReadOptions(default_type, source_name, vics_categories)
    reader = LineInput(source, progress)
    try:
        yield from kind.read(reader, options)
    finally:
        reader.close()


def read_hash_list(
    source: Source,
    fmt: HashListFormat | str,
    *,
    signal_type: SignalType | str | None = None,
    source_name: str | None = None,
    vics_categories: Collection[int] = VICS_DEFAULT_CATEGORIES,
    progress: Progress | None = None,
) -> ImportResult:
    """All the records of a hash-list file, and the lines skipped with their reasons."""
    result = ImportResult()
    for item in iter_hash_list(
        source,
        fmt,
        signal_type=signal_type,
        source_name=source_name,
        vics_categories=vics_categories,
        progress=progress,
    ):
        if isinstance(item, HashRecord):
            result.records.append(item)
        else:
            result.skipped.append(item)
    return result


def write_hash_list(
    records: Iterable[HashRecord],
    dest: str | os.PathLike[str] | TextIO,
    fmt: HashListFormat | str,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write records in a format; returns how many were written. ValueError for what cannot be carried."""
    kind = HashListFormat(fmt)
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "w", encoding="utf-8", newline="") as out:
            return write_hash_list(records, out, kind, progress=progress)
    counted = _Counting(records, progress)
    FORMATS[kind].write(counted, dest)
    return counted.count


class _Counting:
    def __init__(self, records: Iterable[HashRecord], progress: Callable[[int], None] | None) -> None:
        self._records = records
        self._progress = progress
        self.count = 0

    def __iter__(self) -> Iterator[HashRecord]:
        for record in self._records:
            yield record
            self.count += 1
            if self._progress is not None and self.count % 10_000 == 0:
                self._progress(self.count)
        if self._progress is not None:
            self._progress(self.count)


def guess_format(name: str, head: bytes) -> HashListFormat:
    """The likely format of a file from its name and first bytes (the CLI's --format default).

    Each format says how strongly the file looks like it; the strongest claim wins, a plain list
    when none claims it.
    """
    filename = name.lower()
    text = head.decode("utf-8", "replace").lstrip("\ufeff").lstrip()
    first = text.splitlines()[0].strip().lower() if text else ""
    best, strength = HashListFormat.PLAIN, 0
    for kind, fmt in FORMATS.items():
        claim = fmt.detect(filename, text, first)
        if claim > strength:
            best, strength = kind, claim
    return best
