"""ThreatExchange and HMA signal files: read in their three shapes, written as a python-threatexchange dataset CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from tipline.matching.banks import BankKind, Classification
from tipline.matching.formats.base import HashListFormat, HashRecord, LineInput, ReadOptions, SkippedLine
from tipline.matching.formats.csv_file import csv_rows
from tipline.matching.signals import SignalError, normalize_signal, parse_signal_type

name = HashListFormat.THREATEXCHANGE

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


def detect(filename: str, text: str, first: str) -> int:
    """A dataset header (strong); else a first line that starts with a signal type (weak)."""
    if first.startswith("signal_type,signal_str") or first.startswith("signal_type signal"):
        return 4
    if "," in first or " " in first:
        try:
            parse_signal_type(first.replace(" ", ",").split(",")[0])
            return 2
        except SignalError:
            pass
    return 0


def read(reader: LineInput, options: ReadOptions) -> Iterator[HashRecord | SkippedLine]:
    source_name = options.source_name
    header_seen = False
    for number, fields, problem in csv_rows(reader):
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


def write(records: Iterable[HashRecord], out: TextIO) -> None:
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
