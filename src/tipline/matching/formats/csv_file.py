"""CSV with a header: every field a record has (signal_type, signal_value, source, source_id, classification,
series, bank_kind); common other names of the columns (value, hash, type, kind…) are accepted."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from tipline.matching.banks import parse_bank_kind, parse_classification
from tipline.matching.formats.base import HashListFormat, HashRecord, LineInput, ReadOptions, SkippedLine
from tipline.matching.signals import SignalError, SignalType, infer_signal_type, normalize_signal, parse_signal_type

name = HashListFormat.CSV

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


def detect(filename: str, text: str, first: str) -> int:
    """A header naming a value column; else a `.csv` name (weaker than a ThreatExchange line)."""
    if "," in first and any(column in first for column in ("signal_value", "value", "hash")):
        return 3
    return 1 if filename.endswith(".csv") else 0


def csv_rows(reader: LineInput) -> Iterator[tuple[int, list[str] | None, str | None]]:
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


def read(reader: LineInput, options: ReadOptions) -> Iterator[HashRecord | SkippedLine]:
    signal_type, source_name = options.signal_type, options.source_name
    columns: list[str | None] | None = None
    for number, fields, problem in csv_rows(reader):
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


def _record_from_row(row: dict[str, str], signal_type: SignalType | None, source_name: str | None) -> HashRecord:
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


def write(records: Iterable[HashRecord], out: TextIO) -> None:
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
