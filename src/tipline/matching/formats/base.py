"""What every hash-list format shares: the records it reads and writes, skipped lines, and the input.

`LineInput` streams lines (or, for JSON, chunks) of a path or stream and counts the bytes read for
progress reports; `Format` is what a format module provides to the table in `formats.registry`.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Protocol, TextIO

from tipline.matching.banks import BankEntry, BankKind, Classification
from tipline.matching.signals import SignalType

Progress = Callable[[int, "int | None"], None]
"""progress(bytes_read, total_bytes_or_None)."""

_PROGRESS_EVERY = 1 << 16


class HashListFormat(StrEnum):
    PLAIN = "plain"
    CSV = "csv"
    VICS = "vics"
    THREATEXCHANGE = "threatexchange"


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One signal of a hash-list file with the provenance the file carried (no bank yet)."""

    signal_type: SignalType
    value: str
    source: str | None = None
    source_id: str | None = None
    classification: Classification | None = None
    series: str | None = None
    bank_kind: BankKind | None = None
    """The kind of bank the file says this belongs in (VICS Category, CSV bank_kind), if it says."""

    def to_entry(
        self,
        bank: str,
        *,
        added_by: str | None = None,
        added_at: object = None,
        enabled: bool = True,
    ) -> BankEntry:
        """A bank entry for this record (added_at defaults to now, UTC)."""
        return BankEntry(
            bank=bank,
            signal_type=self.signal_type,
            value=self.value,
            source=self.source,
            source_id=self.source_id,
            classification=self.classification,
            series=self.series,
            added_by=added_by,
            added_at=added_at if added_at is not None else BankEntry.now(),  # type: ignore[arg-type]  # a datetime: the record's, or now
            enabled=enabled,
        )

    @classmethod
    def from_entry(cls, entry: BankEntry, bank_kind: BankKind | None = None) -> HashRecord:
        """The record to export for an entry (pass its bank's kind for VICS and ThreatExchange)."""
        return cls(
            entry.signal_type,
            entry.value,
            entry.source,
            entry.source_id,
            entry.classification,
            entry.series,
            bank_kind,
        )


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line (or VICS Media) that was not imported, and why."""

    line: int
    reason: str
    item: int | None = None
    """For VICS, the Media's position in the value list (from 1)."""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (media {self.item})" if self.item is not None else "")
        return f"{where}: {self.reason}"


@dataclass
class ImportResult:
    """The records read, and every line skipped with its reason."""

    records: list[HashRecord] = field(default_factory=list)
    skipped: list[SkippedLine] = field(default_factory=list)


Source = str | os.PathLike[str] | IO[bytes] | IO[str]


class LineInput:
    """Lines of a path or stream, with the bytes consumed so far for progress reports."""

    def __init__(self, source: Source, progress: Progress | None) -> None:
        self._close = False
        self.total: int | None = None
        if isinstance(source, (str, os.PathLike)):
            self.stream: IO[bytes] | IO[str] = open(source, "rb")
            self._close = True
            self.total = os.fstat(self.stream.fileno()).st_size
        else:
            self.stream = source
            try:
                if source.seekable():
                    here = source.tell()
                    end = source.seek(0, io.SEEK_END)
                    source.seek(here)
                    self.total = end - here
            except (OSError, ValueError, AttributeError):
                self.total = None
        self.binary = not isinstance(self.stream, io.TextIOBase)
        self.done = 0
        self._reported = 0
        self._progress = progress
        self._first = True
        self._utf8: codecs.IncrementalDecoder | None = None

    def close(self) -> None:
        self.report(final=True)
        if self._close:
            self.stream.close()

    def report(self, final: bool = False) -> None:
        if self._progress is not None and (final or self.done - self._reported >= _PROGRESS_EVERY):
            self._reported = self.done
            self._progress(self.done, self.total)

    def _decode(self, raw: bytes | str) -> str:
        if isinstance(raw, str):
            text = raw
            self.done += len(raw.encode("utf-8", "surrogatepass"))
        else:
            self.done += len(raw)
            text = raw.decode("utf-8")  # UnicodeDecodeError is reported by the caller
        if self._first:
            self._first = False
            text = text.removeprefix("\ufeff")
        return text

    def lines(self) -> Iterator[tuple[int, str | None]]:
        """(line number, text with its line ending, or None when it is not UTF-8)."""
        number = 0
        for raw in self.stream:
            number += 1
            try:
                text: str | None = self._decode(raw)
            except UnicodeDecodeError:
                text = None
            yield number, text
            self.report()

    def read(self, size: int) -> str:
        """Up to `size` characters (for the JSON reader); '' at the end. UnicodeDecodeError if not UTF-8."""
        raw = self.stream.read(size)
        if isinstance(raw, bytes):
            self.done += len(raw)
            if self._utf8 is None:
                self._utf8 = codecs.getincrementaldecoder("utf-8")()
            text = self._utf8.decode(raw, final=not raw)
        else:
            text = raw
            self.done += len(raw.encode("utf-8", "surrogatepass"))
        if not raw:
            return ""
        if self._first and text:
            self._first = False
            text = text.removeprefix("\ufeff")
        self.report()
        return text if text else self.read(size)


VICS_DEFAULT_CATEGORIES: frozenset[int] = frozenset({0, 1})
"""VICS categories imported unless the caller asks for others (see the formats package docstring)."""


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What a caller may tell a reader: the type of untyped values, the source to record, VICS categories."""

    signal_type: SignalType | None = None
    """The type of a plain list (or of CSV rows without one); otherwise md5 and sha1 are recognised by length."""
    source_name: str | None = None
    """Fills `source` where the file gives none."""
    vics_categories: Collection[int] = VICS_DEFAULT_CATEGORIES


class Format(Protocol):
    """One hash-list format: its name, how sure it is a file is in it, its reader and its writer."""

    name: HashListFormat

    def detect(self, filename: str, text: str, first: str) -> int:
        """How strongly a file looks like this format (0: not at all; the strongest claim wins).

        `filename` is the file name in lower case, `text` the decoded head without BOM or leading
        whitespace, `first` its first line stripped and in lower case.
        """
        ...

    def read(self, reader: LineInput, options: ReadOptions) -> Iterator[HashRecord | SkippedLine]: ...

    def write(self, records: Iterable[HashRecord], out: TextIO) -> None: ...


Writer = Callable[[Iterable[HashRecord], TextIO], None]
