"""Hash-list files in and out: plain lists, CSV, Project VIC VICS JSON and ThreatExchange/HMA signal files.

Readers stream (a file of millions of lines is never held whole in memory), report every bad line
with its number and the reason, and carry on: `read_hash_list` returns the good records and the
skipped lines. A `progress(done, total)` callback receives bytes read and the file size (None when
unknown), so a command line can draw a bar. Writers stream too, and what they write reads back as
the same records, within what each format can carry:

| format           | carries                                                                        |
|------------------|--------------------------------------------------------------------------------|
| plain            | the value (one signal type per file; md5 and sha1 are recognised by length)   |
| csv              | everything: signal_type, signal_value, source, source_id, classification,      |
|                  | series, bank_kind                                                              |
| vics             | md5 and sha1 values, source_id (MediaID), series, bank_kind (from Category and |
|                  | VictimIdentified, see below)                                                   |
| threatexchange   | signal_type, value, source (collab), bank_kind known_material/ignore (category)|
|                  | and classification (as a tag)                                                  |

Project VIC categories and tipline (the VICS "Category" of each Media, Project VIC's US scheme):

| Category | Project VIC meaning                                | tipline                                          |
|----------|----------------------------------------------------|--------------------------------------------------|
| 0        | non-pertinent (seen in cases, not of interest)     | `ignore` bank kind: a known false positive        |
| 1        | child abuse material (CAM)                         | `known_material`, or `identified_series` when     |
|          |                                                    | VictimIdentified is true                          |
| 2        | child exploitive, not CAM / age difficult          | skipped unless asked for (then as category 1)     |
| 3        | CGI / animation, child exploitive                  | skipped unless asked for (then as category 1)     |
| 4        | comparison (exemplar) images                       | never imported: reference pictures, not matches   |
| missing  | uncategorised                                      | imported with no kind: the target bank's kind     |

VICS carries no A1/A2/B1/B2 classification, so VICS records have none. Series is kept as given.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, TextIO

from tipline.matching.banks import BankEntry, BankKind, Classification, parse_bank_kind, parse_classification
from tipline.matching.signals import (
    SignalError,
    SignalType,
    infer_signal_type,
    normalize_signal,
    parse_signal_type,
)

__all__ = [
    "HashListFormat",
    "HashRecord",
    "ImportResult",
    "Progress",
    "SkippedLine",
    "VICS_DEFAULT_CATEGORIES",
    "guess_format",
    "iter_hash_list",
    "read_hash_list",
    "write_hash_list",
]

Progress = Callable[[int, "int | None"], None]
"""progress(bytes_read, total_bytes_or_None)."""

_PROGRESS_EVERY = 1 << 16
_MAX_LINE_SHOWN = 80


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
            added_at=added_at if added_at is not None else BankEntry.now(),  # type: ignore[arg-type]
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


# --- reading lines with byte counts -------------------------------------------------------------


Source = str | os.PathLike[str] | IO[bytes] | IO[str]


class _Input:
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


def _shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_LINE_SHOWN else text[: _MAX_LINE_SHOWN - 1] + "…"


# --- the entry points ---------------------------------------------------------------------------


VICS_DEFAULT_CATEGORIES: frozenset[int] = frozenset({0, 1})
"""VICS categories imported unless the caller asks for others (see the module docstring)."""


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
    kind = HashListFormat(fmt)
    default_type = (
        signal_type
        if signal_type is None or isinstance(signal_type, SignalType)
        else parse_signal_type(signal_type)
    )
    reader = _Input(source, progress)
    try:
        if kind is HashListFormat.PLAIN:
            yield from _read_plain(reader, default_type, source_name)
        elif kind is HashListFormat.CSV:
            yield from _read_csv(reader, default_type, source_name)
        elif kind is HashListFormat.THREATEXCHANGE:
            yield from _read_threatexchange(reader, source_name)
        else:
            yield from _read_vics(reader, source_name, frozenset(vics_categories))
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
    writer = {
        HashListFormat.PLAIN: _write_plain,
        HashListFormat.CSV: _write_csv,
        HashListFormat.VICS: _write_vics,
        HashListFormat.THREATEXCHANGE: _write_threatexchange,
    }[kind]
    counted = _counting(records, progress)
    writer(counted, dest)
    return counted.count


class _counting:
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
    """The likely format of a file from its name and first bytes (the CLI's --format default)."""
    lower = name.lower()
    text = head.decode("utf-8", "replace").lstrip("\ufeff").lstrip()
    if lower.endswith(".json") or text.startswith("{"):
        return HashListFormat.VICS
    first = text.splitlines()[0].strip().lower() if text else ""
    if first.startswith("signal_type,signal_str") or first.startswith("signal_type signal"):
        return HashListFormat.THREATEXCHANGE
    if "," in first and any(name in first for name in ("signal_value", "value", "hash")):
        return HashListFormat.CSV
    if "," in first or " " in first:
        try:
            parse_signal_type(first.replace(" ", ",").split(",")[0])
            return HashListFormat.THREATEXCHANGE
        except SignalError:
            pass
    return HashListFormat.CSV if lower.endswith(".csv") else HashListFormat.PLAIN


# --- plain lists --------------------------------------------------------------------------------


def _read_plain(
    reader: _Input, signal_type: SignalType | None, source_name: str | None
) -> Iterator[HashRecord | SkippedLine]:
    for number, text in reader.lines():
        if text is None:
            yield SkippedLine(number, "not UTF-8 text")
            continue
        value = text.strip()
        if not value or value.startswith("#"):
            continue
        try:
            kind = signal_type or infer_signal_type(value)
            yield HashRecord(kind, normalize_signal(kind, value), source=source_name)
        except SignalError as exc:
            yield SkippedLine(number, str(exc))


def _write_plain(records: Iterable[HashRecord], out: TextIO) -> None:
    kind: SignalType | None = None
    for record in records:
        if kind is None:
            kind = record.signal_type
        elif record.signal_type is not kind:
            raise ValueError(
                f"a plain list holds one signal type; got {kind.value} and {record.signal_type.value}"
            )
        out.write(record.value + "\n")


# --- CSV ----------------------------------------------------------------------------------------

CSV_COLUMNS = ("signal_type", "signal_value", "source", "source_id", "classification", "series", "bank_kind")
_CSV_ALIASES = {
    "signal_value": "signal_value",
    "value": "signal_value",
    "signal": "signal_value",
    "signal_str": "signal_value",
    "hash": "signal_value",
    "signal_type": "signal_type",
    "type": "signal_type",
    "source": "source",
    "source_id": "source_id",
    "classification": "classification",
    "series": "series",
    "bank_kind": "bank_kind",
    "kind": "bank_kind",
}


def _csv_rows(reader: _Input) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line of the row, fields, or None and the reason it could not be parsed)."""
    bad: dict[int, str] = {}

    def text_lines() -> Iterator[str]:
        for number, text in reader.lines():
            if text is None:
                bad[number] = "not UTF-8 text"
                yield "\n"
            else:
                yield text

    rows = csv.reader(text_lines(), strict=True)
    while True:
        start = rows.line_num + 1
        try:
            fields = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, None, f"malformed CSV: {exc}"
            continue
        if start in bad:
            yield start, None, bad.pop(start)
            continue
        yield start, fields, None


def _read_csv(
    reader: _Input, signal_type: SignalType | None, source_name: str | None
) -> Iterator[HashRecord | SkippedLine]:
    columns: list[str | None] | None = None
    for number, fields, problem in _csv_rows(reader):
        if problem is not None:
            yield SkippedLine(number, problem)
            continue
        assert fields is not None
        if not any(f.strip() for f in fields):
            continue
        if columns is None:
            if fields[0].lstrip().startswith("#"):
                continue
            names = [f.strip().lower() for f in fields]
            columns = [_CSV_ALIASES.get(n) for n in names]
            if "signal_value" not in columns:
                yield SkippedLine(
                    number,
                    "the CSV header must name a signal_value column (found: " + ", ".join(names) + "); "
                    "the file was not read",
                )
                return
            continue
        if len(fields) != len(columns):
            yield SkippedLine(number, f"expected {len(columns)} fields, got {len(fields)}")
            continue
        row = {name: value.strip() for name, value in zip(columns, fields) if name is not None}
        try:
            yield _record_from_row(row, signal_type, source_name)
        except SignalError as exc:
            yield SkippedLine(number, str(exc))


def _record_from_row(
    row: dict[str, str], signal_type: SignalType | None, source_name: str | None
) -> HashRecord:
    value = row.get("signal_value", "")
    if not value:
        raise SignalError("the signal_value is empty")
    named = row.get("signal_type", "")
    kind = parse_signal_type(named) if named else (signal_type or infer_signal_type(value))
    return HashRecord(
        signal_type=kind,
        value=normalize_signal(kind, value),
        source=row.get("source") or source_name,
        source_id=row.get("source_id") or None,
        classification=parse_classification(row.get("classification")),
        series=row.get("series") or None,
        bank_kind=parse_bank_kind(row.get("bank_kind")),
    )


def _write_csv(records: Iterable[HashRecord], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(
            [
                r.signal_type.value,
                r.value,
                r.source or "",
                r.source_id or "",
                r.classification.value if r.classification else "",
                r.series or "",
                r.bank_kind.value if r.bank_kind else "",
            ]
        )


# --- ThreatExchange / HMA signal files ----------------------------------------------------------
#
# python-threatexchange reads "signal_type signal" lines (its local file exchange) and writes
# `threatexchange dataset --csv` as "signal_type,signal_str,collab,category,tags" with a header;
# HMA's bank exports are "signal_type,signal_value" rows. All three are read; the writer writes the
# dataset CSV, the richest of them.

TE_COLUMNS = ("signal_type", "signal_str", "collab", "category", "tags")
_TE_CATEGORY_TO_KIND = {
    "positive_class": BankKind.KNOWN_MATERIAL,
    "investigation_seed": BankKind.KNOWN_MATERIAL,
    "negative_class": BankKind.IGNORE,
}
_KIND_TO_TE_CATEGORY = {
    BankKind.KNOWN_MATERIAL: "POSITIVE_CLASS",
    BankKind.IDENTIFIED_SERIES: "POSITIVE_CLASS",
    BankKind.IGNORE: "NEGATIVE_CLASS",
}


def _read_threatexchange(reader: _Input, source_name: str | None) -> Iterator[HashRecord | SkippedLine]:
    header_seen = False
    for number, fields, problem in _csv_rows(reader):
        if problem is not None:
            yield SkippedLine(number, problem)
            continue
        assert fields is not None
        if not any(f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            if fields[0].strip().lower() == "signal_type":
                continue
        if len(fields) == 1:  # python-threatexchange's "signal_type signal" lines
            fields = fields[0].split(None, 1)
        if len(fields) < 2:
            yield SkippedLine(number, "expected signal_type,signal_value")
            continue
        try:
            yield _te_record(fields, source_name)
        except SignalError as exc:
            yield SkippedLine(number, str(exc))


def _te_record(fields: list[str], source_name: str | None) -> HashRecord:
    kind = parse_signal_type(fields[0])
    value = normalize_signal(kind, fields[1])
    collab = fields[2].strip() if len(fields) > 2 else ""
    category = fields[3].strip().lower() if len(fields) > 3 else ""
    tags = fields[4].split() if len(fields) > 4 else []
    if category and category not in _TE_CATEGORY_TO_KIND:
        raise SignalError(
            f"category must be POSITIVE_CLASS, NEGATIVE_CLASS or INVESTIGATION_SEED, got {fields[3].strip()!r}"
        )
    classification = None
    for tag in tags:
        if tag.upper() in {c.value for c in Classification}:
            classification = Classification(tag.upper())
    return HashRecord(
        signal_type=kind,
        value=value,
        source=collab or source_name,
        classification=classification,
        bank_kind=_TE_CATEGORY_TO_KIND.get(category),
    )


def _write_threatexchange(records: Iterable[HashRecord], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TE_COLUMNS)
    for r in records:
        writer.writerow(
            [
                r.signal_type.value,
                r.value,
                r.source or "",
                _KIND_TO_TE_CATEGORY.get(r.bank_kind, "") if r.bank_kind else "",
                r.classification.value if r.classification else "",
            ]
        )


# --- Project VIC VICS JSON ----------------------------------------------------------------------

VICS_METADATA_KEY = "odata.metadata"
VICS_METADATA = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
_VICS_CHUNK = 1 << 20
_VICS_MAX_MEDIA = 16 << 20
"""A single Media object larger than this is refused (real ones are a few kilobytes)."""
_WS = " \t\r\n"


class _JsonStream:
    """Incremental access to a JSON text: skip whitespace, expect a character, decode one value.

    Only the current value is in memory; consumed text is dropped as the reader advances.
    """

    def __init__(self, reader: _Input) -> None:
        self.reader = reader
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line number at self.pos
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.reader.read(_VICS_CHUNK)
        except UnicodeDecodeError:
            raise _JsonProblem(self.line, "the file is not UTF-8 text") from None
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end), without consuming it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                if self.buf[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def expect(self, chars: str) -> str:
        found = self.peek()
        if not found or found not in chars:
            shown = repr(found) if found else "the end of the file"
            raise _JsonProblem(self.line, f"expected {' or '.join(repr(c) for c in chars)}, found {shown}")
        self.advance(self.pos + 1)
        return found

    def value(self) -> object:
        """Decode the JSON value starting at the next non-whitespace character."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos < _VICS_MAX_MEDIA and self._more():
                    continue
                line = self.line + self.buf.count("\n", self.pos, exc.pos)
                raise _JsonProblem(line, f"invalid JSON: {exc.msg}") from None
            # a number or literal cut by the end of the buffer would decode short: make sure
            if end == len(self.buf) and not self.eof and self._more():
                continue
            self.advance(end)
            return value

    def skip_to_next_item(self) -> bool:
        """After invalid JSON inside the list: move to the next '{' that follows a ',' (False at the end)."""
        while True:
            comma = self.buf.find(",", self.pos)
            while comma != -1:
                after = comma + 1
                while after < len(self.buf) and self.buf[after] in _WS:
                    after += 1
                if after < len(self.buf) and self.buf[after] == "{":
                    self.advance(after)
                    return True
                if after == len(self.buf):
                    break
                comma = self.buf.find(",", after)
            keep = max(self.pos, comma if comma != -1 else len(self.buf))
            self.advance(keep)
            if not self._more():
                return False


class _JsonProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _read_vics(
    reader: _Input, source_name: str | None, categories: frozenset[int]
) -> Iterator[HashRecord | SkippedLine]:
    stream = _JsonStream(reader)
    try:
        stream.expect("{")
        if stream.peek() == "}":
            yield SkippedLine(stream.line, "the VICS file has no \"value\" list of Media")
            return
        found_value = False
        while True:
            stream.peek()
            key_line = stream.line
            key = stream.value()
            if not isinstance(key, str):
                raise _JsonProblem(key_line, "expected an object key")
            stream.expect(":")
            if key == "value":
                found_value = True
                yield from _read_vics_media(stream, source_name, categories)
            else:
                stream.value()  # odata.metadata / @odata.context and the like
            if stream.expect(",}") == "}":
                break
        if not found_value:
            yield SkippedLine(stream.line, "the VICS file has no \"value\" list of Media")
    except _JsonProblem as problem:
        yield SkippedLine(problem.line, problem.message + "; the rest of the file was not read")


def _read_vics_media(
    stream: _JsonStream, source_name: str | None, categories: frozenset[int]
) -> Iterator[HashRecord | SkippedLine]:
    stream.expect("[")
    if stream.peek() == "]":
        stream.advance(stream.pos + 1)
        return
    item = 0
    while True:
        item += 1
        stream.peek()
        line = stream.line
        try:
            media = stream.value()
        except _JsonProblem as problem:
            yield SkippedLine(problem.line, problem.message, item)
            if not stream.skip_to_next_item():
                raise _JsonProblem(stream.line, "the Media list is not closed") from None
            continue
        yield from _vics_records(media, line, item, source_name, categories)
        if stream.expect(",]") == "]":
            return


def _vics_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if value is None:
        return None
    raise SignalError(f"VictimIdentified must be true or false, got {value!r}")


_VICS_CATEGORY_NAMES = {
    0: "non-pertinent",
    1: "child abuse material",
    2: "child exploitive (not CAM) / age difficult",
    3: "CGI / animation",
    4: "comparison images",
}


def _vics_records(
    media: object, line: int, item: int, source_name: str | None, categories: frozenset[int]
) -> Iterator[HashRecord | SkippedLine]:
    if not isinstance(media, dict):
        yield SkippedLine(line, "a Media must be a JSON object", item)
        return
    try:
        raw_category = media.get("Category")
        category: int | None
        if raw_category is None or raw_category == "":
            category = None
        elif isinstance(raw_category, bool):
            raise SignalError(f"Category must be a number 0 to 4, got {raw_category!r}")
        else:
            try:
                category = int(raw_category)
            except (TypeError, ValueError):
                raise SignalError(f"Category must be a number 0 to 4, got {raw_category!r}") from None
            if category not in _VICS_CATEGORY_NAMES:
                raise SignalError(f"Category must be a number 0 to 4, got {raw_category!r}")
        identified = _vics_bool(media.get("VictimIdentified"))
        series = media.get("Series")
        if series is not None and not isinstance(series, str):
            raise SignalError(f"Series must be text, got {series!r}")
        media_id = media.get("MediaID")
        if media_id is not None and (isinstance(media_id, bool) or not isinstance(media_id, (int, str))):
            raise SignalError(f"MediaID must be a number or text, got {media_id!r}")
    except SignalError as exc:
        yield SkippedLine(line, str(exc), item)
        return
    if category == 4:
        yield SkippedLine(line, "Category 4 (comparison images) is never imported", item)
        return
    if category is not None and category not in categories:
        yield SkippedLine(
            line, f"Category {category} ({_VICS_CATEGORY_NAMES[category]}) is not imported "
            "unless asked for", item,
        )
        return
    if category is None:
        kind = None
    elif category == 0:
        kind = BankKind.IGNORE
    else:
        kind = BankKind.IDENTIFIED_SERIES if identified else BankKind.KNOWN_MATERIAL
    hashes = [(SignalType.MD5, media.get("MD5")), (SignalType.SHA1, media.get("SHA1"))]
    if all(value in (None, "") for _, value in hashes):
        yield SkippedLine(line, "the Media has no MD5 or SHA1", item)
        return
    for signal_type, value in hashes:
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            yield SkippedLine(line, f"{signal_type.label} must be text, got {value!r}", item)
            continue
        try:
            normalized = normalize_signal(signal_type, value)
        except SignalError as exc:
            yield SkippedLine(line, str(exc), item)
            continue
        yield HashRecord(
            signal_type=signal_type,
            value=normalized,
            source=source_name,
            source_id=str(media_id) if media_id is not None else None,
            series=series or None,
            bank_kind=kind,
        )


def _write_vics(records: Iterable[HashRecord], out: TextIO) -> None:
    out.write("{" + json.dumps(VICS_METADATA_KEY) + ": " + json.dumps(VICS_METADATA) + ', "value": [')
    first = True
    pending: dict[str, object] | None = None
    pending_key: tuple[object, ...] | None = None

    def flush() -> None:
        nonlocal first, pending
        if pending is not None:
            out.write(("\n" if first else ",\n") + json.dumps(pending))
            first = False
            pending = None

    for r in records:
        if r.signal_type not in (SignalType.MD5, SignalType.SHA1):
            raise ValueError(f"VICS carries md5 and sha1 only, not {r.signal_type.value}")
        if r.classification is not None:
            raise ValueError("VICS carries no A1/A2/B1/B2 classification; export as CSV to keep it")
        key = (r.source_id, r.series, r.bank_kind)
        # an MD5 followed by the SHA1 of the same Media share one object, as VICS files have them
        if (
            pending is not None
            and pending_key == key
            and r.signal_type is SignalType.SHA1
            and "MD5" in pending
            and "SHA1" not in pending
        ):
            pending["SHA1"] = r.value.upper()
            continue
        flush()
        media: dict[str, object] = {}
        if r.source_id is not None:
            numeric = r.source_id.isascii() and r.source_id.isdigit() and r.source_id == str(int(r.source_id))
            media["MediaID"] = int(r.source_id) if numeric else r.source_id
        if r.bank_kind is BankKind.IGNORE:
            media["Category"] = 0
        elif r.bank_kind is not None:
            media["Category"] = 1
        media["MD5" if r.signal_type is SignalType.MD5 else "SHA1"] = r.value.upper()
        if r.series is not None:
            media["Series"] = r.series
        if r.bank_kind is not None and r.bank_kind is not BankKind.IGNORE:
            media["VictimIdentified"] = "true" if r.bank_kind is BankKind.IDENTIFIED_SERIES else "false"
        pending, pending_key = media, key
    flush()
    out.write("\n]}\n")
