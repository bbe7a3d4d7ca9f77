"""Hash banks and matching: signal types, bank entries, an exact incremental PDQ index, lookups, hash-list formats.

Usable as a library without the server or a database:

    from tipline.matching import Bank, BankEntry, BankKind, FileSignals, Matcher, PdqQuery

    matcher = Matcher()
    matcher.add_bank(Bank("known", BankKind.KNOWN_MATERIAL))
    matcher.load(entries)                      # startup: BankEntry objects built from database rows
    matcher.add(BankEntry("known", "pdq", "f8f8..."))   # effective on the next lookup
    result = matcher.lookup(FileSignals(md5=..., pdq=[PdqQuery(hash, quality)]))
    for match in result.hits: ...
"""

from tipline.matching.banks import Bank, BankEntry, BankKind, Classification, parse_classification
from tipline.matching.matcher import FileSignals, LookupResult, Match, Matcher, PdqQuery
from tipline.matching.pdq_index import PDQIndex, RangeResult
from tipline.matching.signals import (
    PDQ_DEFAULT_THRESHOLD,
    PDQ_MIN_QUALITY,
    SignalError,
    SignalType,
    VpdqFrame,
    format_vpdq,
    infer_signal_type,
    normalize_signal,
    parse_signal_type,
    parse_vpdq,
    pdq_distance,
)

__all__ = [
    "PDQ_DEFAULT_THRESHOLD",
    "PDQ_MIN_QUALITY",
    "Bank",
    "BankEntry",
    "BankKind",
    "Classification",
    "FileSignals",
    "LookupResult",
    "Match",
    "Matcher",
    "PDQIndex",
    "PdqQuery",
    "RangeResult",
    "SignalError",
    "SignalType",
    "VpdqFrame",
    "format_vpdq",
    "infer_signal_type",
    "normalize_signal",
    "parse_classification",
    "parse_signal_type",
    "parse_vpdq",
    "pdq_distance",
]
