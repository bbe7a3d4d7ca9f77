"""Plain lists: one value a line, of one signal type (md5 and sha1 are recognised by length); '#' starts a comment."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from tipline.matching.formats.base import HashListFormat, HashRecord, LineInput, ReadOptions, SkippedLine
from tipline.matching.signals import SignalError, SignalType, infer_signal_type, normalize_signal

name = HashListFormat.PLAIN


def detect(filename: str, text: str, first: str) -> int:
    """Anything no other format claims is a plain list (the weakest claim)."""
    return 0


def read(reader: LineInput, options: ReadOptions) -> Iterator[HashRecord | SkippedLine]:
    signal_type, source_name = options.signal_type, options.source_name
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


def write(records: Iterable[HashRecord], out: TextIO) -> None:
    kind: SignalType | None = None
    for record in records:
        if kind is None:
            kind = record.signal_type
        elif record.signal_type is not kind:
            raise ValueError(f"a plain list holds one signal type; got {kind.value} and {record.signal_type.value}")
        out.write(record.value + "\n")
