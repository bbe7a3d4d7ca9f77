"""Banks (named signal lists with a kind and a PDQ threshold) and bank entries with their provenance."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tipline.domain.files import FileClassification as Classification
from tipline.matching.signals import (
    PDQ_BITS,
    PDQ_DEFAULT_THRESHOLD,
    SignalError,
    SignalType,
    normalize_signal,
    parse_signal_type,
)

__all__ = [
    "Bank",
    "BankEntry",
    "BankKind",
    "Classification",
    "parse_classification",
]


class BankKind(StrEnum):
    """What a match against a bank means."""

    KNOWN_MATERIAL = "known_material"
    """Previously confirmed material: a match flags the file."""
    IDENTIFIED_SERIES = "identified_series"
    """Material of a victim-identification series; each entry can name its series."""
    IGNORE = "ignore"
    """Known false positives: a match here suppresses the file's other (perceptual) matches."""


def parse_classification(text: str | None) -> Classification | None:
    """A1, A2, B1 or B2 (any case), or None for an empty value or "none"; SignalError otherwise."""
    if text is None:
        return None
    cleaned = text.strip().upper()
    if cleaned in ("", "NONE"):
        return None
    try:
        return Classification(cleaned)
    except ValueError:
        raise SignalError(
            f"classification must be A1, A2, B1, B2 or none, got {text.strip()!r}"
        ) from None


def parse_bank_kind(text: str | None) -> BankKind | None:
    """A bank kind by name, or None for an empty value; SignalError otherwise."""
    if text is None or not text.strip():
        return None
    try:
        return BankKind(text.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in BankKind)
        raise SignalError(f"bank kind must be one of {known}, got {text.strip()!r}") from None


_BANK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Bank:
    """A named list of signals of one kind, with the PDQ distance at which its entries match."""

    name: str
    kind: BankKind = BankKind.KNOWN_MATERIAL
    pdq_threshold: int = PDQ_DEFAULT_THRESHOLD
    description: str = ""

    def __post_init__(self) -> None:
        if not _BANK_NAME.match(self.name):
            raise ValueError(
                f"bank name {self.name!r} must be 1 to 100 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit"
            )
        object.__setattr__(self, "kind", BankKind(self.kind))
        if not isinstance(self.pdq_threshold, int) or not 0 <= self.pdq_threshold <= PDQ_BITS:
            raise ValueError(f"pdq threshold must be an integer from 0 to 256, got {self.pdq_threshold!r}")


@dataclass(frozen=True, slots=True)
class BankEntry:
    """One signal in one bank, with where it came from; `entry_id` is the database's id when it has one."""

    bank: str
    signal_type: SignalType
    value: str
    source: str | None = None
    source_id: str | None = None
    classification: Classification | None = None
    series: str | None = None
    added_by: str | None = None
    added_at: datetime | None = None
    enabled: bool = True
    entry_id: int | None = None

    def __post_init__(self) -> None:
        kind = self.signal_type
        if type(kind) is not SignalType:
            kind = parse_signal_type(str(kind))
            object.__setattr__(self, "signal_type", kind)
        object.__setattr__(self, "value", normalize_signal(kind, self.value))
        if self.classification is not None and not isinstance(self.classification, Classification):
            object.__setattr__(self, "classification", parse_classification(str(self.classification)))
        if self.added_at is not None and self.added_at.tzinfo is None:
            raise ValueError("added_at must be timezone-aware (UTC)")

    @staticmethod
    def stored(bank: str, signal_type: SignalType, value: str, source: str | None, source_id: str | None,
               classification: Classification | None, series: str | None, added_by: str | None,
               added_at: datetime | None, enabled: bool, entry_id: int) -> BankEntry:
        """An entry read back from the database, its fields already of their types (signal type, classification,
        a timezone-aware time): only its value is checked again (SignalError when it is not a canonical value of
        its type). Half the CPU of the constructor (2 against 4 µs), which every process paid for each entry
        a fetch adds when it took them from the change log."""
        entry = object.__new__(BankEntry)
        put = object.__setattr__
        put(entry, "bank", bank)
        put(entry, "signal_type", signal_type)
        put(entry, "value", normalize_signal(signal_type, value))
        put(entry, "source", source)
        put(entry, "source_id", source_id)
        put(entry, "classification", classification)
        put(entry, "series", series)
        put(entry, "added_by", added_by)
        put(entry, "added_at", added_at)
        put(entry, "enabled", enabled)
        put(entry, "entry_id", entry_id)
        return entry

    def replace(self, **changes: object) -> BankEntry:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # field values of any type: __post_init__ validates them again

    def _with(self, **changes: object) -> BankEntry:
        """A copy with fields changed that need no validation (ids, flags, interned strings)."""
        copy = object.__new__(BankEntry)
        for name in _ENTRY_FIELDS:
            object.__setattr__(copy, name, changes[name] if name in changes else getattr(self, name))
        return copy

    @staticmethod
    def now() -> datetime:
        """The current time in UTC, as `added_at` wants it."""
        return datetime.now(UTC)


_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(BankEntry))
