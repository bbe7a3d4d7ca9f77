"""Project VIC VICS JSON (OData Media lists), read as a stream and written as VICS 1.3.

How VICS categories become bank kinds is in the formats package docstring.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from tipline.matching.banks import BankKind
from tipline.matching.formats.base import HashListFormat, HashRecord, LineInput, ReadOptions, SkippedLine
from tipline.matching.signals import SignalError, SignalType, normalize_signal

name = HashListFormat.VICS


def detect(filename: str, text: str, first: str) -> int:
    """A `.json` name or a JSON object: the strongest claim."""
    return 5 if filename.endswith(".json") or text.startswith("{") else 0


def read(reader: LineInput, options: ReadOptions) -> Iterator[HashRecord | SkippedLine]:
    return _read_vics(reader, options.source_name, frozenset(options.vics_categories))


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

    def __init__(self, reader: LineInput) -> None:
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
    reader: LineInput, source_name: str | None, categories: frozenset[int]
) -> Iterator[HashRecord | SkippedLine]:
    stream = _JsonStream(reader)
    try:
        stream.expect("{")
        if stream.peek() == "}":
            yield SkippedLine(stream.line, 'the VICS file has no "value" list of Media')
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
            yield SkippedLine(stream.line, 'the VICS file has no "value" list of Media')
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
            line,
            f"Category {category} ({_VICS_CATEGORY_NAMES[category]}) is not imported unless asked for",
            item,
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


def write(records: Iterable[HashRecord], out: TextIO) -> None:
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
