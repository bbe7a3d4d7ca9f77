"""The matcher: banks and their entries in memory, exact and PDQ/vPDQ lookups answering every match with provenance.

Rules a lookup follows (docs/matching.md explains why):

* Cryptographic hashes (md5, sha1, sha256, video_md5) match when equal; `md5` and `video_md5`
  entries share one table, since both are the MD5 of a file's bytes.
* A PDQ hash matches an entry when their Hamming distance is at most the entry's bank threshold
  (default 31). Query hashes of quality below `min_quality` (50) are never matched. Up to eight
  query hashes (the dihedral variants of one image) are searched together; each entry is reported
  once, with the variant that came nearest.
* A video's vPDQ frames match an entry's frames within the bank threshold; the video matches when
  at least `vpdq_query_percent` of the query's frames, or `vpdq_compared_percent` of the entry's,
  found a match (both 80 by default). Frames of quality below `min_quality` are left out on both sides.
* Ignore banks hold known false positives. Every match is reported, but a perceptual (pdq, vpdq)
  match is marked suppressed when the same file also matches an ignore entry exactly (the file is
  a known benign file), or matches an ignore entry of the same signal type at least as closely.
  Exact matches are never suppressed: an identical file is not a false positive of a perceptual hash.

Length (a little over 500 lines): one class, `Matcher`, whose lookups and incremental updates share
one in-memory state under one lock; the query and answer shapes above it are what its callers import.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from tipline.matching.banks import Bank, BankEntry, BankKind
from tipline.matching.pdq_index import PDQIndex
from tipline.matching.signals import (
    EXACT_FAMILY,
    PDQ_MIN_QUALITY,
    SignalType,
    VpdqFrame,
    normalize_hex,
    parse_signal_type,
    parse_vpdq,
)

__all__ = ["FileSignals", "LookupResult", "Match", "Matcher", "PdqQuery"]

MAX_PDQ_VARIANTS = 8
_FRAME_BITS = 20  # vPDQ index labels are entry_id << 20 | frame number within the entry
_FRAME_MASK = (1 << _FRAME_BITS) - 1


@dataclass(frozen=True, slots=True)
class PdqQuery:
    """A PDQ hash to look up, with its quality when known (None: treated as good enough)."""

    hash: str
    quality: int | None = None


@dataclass(frozen=True)
class FileSignals:
    """What tipline.media computed for one file: its crypto hashes, PDQ variants, or vPDQ frames."""

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: Sequence[PdqQuery] | object = ()
    """The image's PDQ hash first, then optionally its dihedral variants (at most 8 in all).

    Items may be PdqQuery, hex strings (quality unknown), or tipline.media's PdqHash (`hex`,
    `quality`); a tipline.media DihedralPdq (`hashes`, `quality`) may stand for the whole list.
    """
    vpdq: Sequence[VpdqFrame] = ()
    """A video's frame signatures: VpdqFrame, or anything with `pdq`, `quality` and `timestamp`
    (tipline.media's VideoFrameHash)."""


@dataclass(frozen=True, slots=True)
class Match:
    """One bank entry a file matched, how closely, and whether an ignore entry suppressed it."""

    entry: BankEntry
    bank: Bank
    signal_type: SignalType
    distance: int
    """0 for exact hashes; Hamming distance for pdq; smallest frame distance for vpdq."""
    query: str
    """The query value that matched (for pdq, the nearest dihedral variant)."""
    variant: int = 0
    """Index of the matching pdq query hash (0 is the image as given)."""
    suppressed: bool = False
    suppressed_by: BankEntry | None = None
    query_match_percent: float | None = None
    """vpdq: share of the query video's frames that matched this entry."""
    compared_match_percent: float | None = None
    """vpdq: share of this entry's frames that the query matched."""

    @property
    def is_exact(self) -> bool:
        return self.signal_type.is_exact


@dataclass(frozen=True)
class LookupResult:
    """Every match of one file, and the query signals that were not matched and why."""

    matches: tuple[Match, ...] = ()
    not_matched: tuple[str, ...] = ()

    @property
    def hits(self) -> tuple[Match, ...]:
        """Matches against known_material and identified_series banks that nothing suppressed."""
        return tuple(m for m in self.matches if m.bank.kind is not BankKind.IGNORE and not m.suppressed)

    @property
    def suppressed(self) -> tuple[Match, ...]:
        return tuple(m for m in self.matches if m.suppressed)


@dataclass
class _Raw:
    entry_id: int
    signal_type: SignalType
    distance: int
    query: str
    variant: int = 0
    query_pct: float | None = None
    compared_pct: float | None = None


@dataclass
class _State:
    """Everything a reader needs; the writer mutates it under the matcher's lock."""

    banks: dict[str, Bank] = field(default_factory=dict)
    entries: dict[int, BankEntry] = field(default_factory=dict)
    bank_entries: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    exact: dict[str, dict[str, tuple[int, ...]]] = field(
        default_factory=lambda: {"md5": {}, "sha1": {}, "sha256": {}}
    )
    vpdq_frames: dict[int, int] = field(default_factory=dict)  # entry id -> usable frames


class Matcher:
    """Banks in memory with their indexes; thread-safe for concurrent lookups and one writer.

    Entry ids are the database's (pass BankEntry.entry_id); entries without one get the next free id.
    """

    def __init__(
        self,
        *,
        min_quality: int = PDQ_MIN_QUALITY,
        vpdq_query_percent: float = 80.0,
        vpdq_compared_percent: float = 80.0,
        index_options: dict[str, object] | None = None,
    ) -> None:
        self.min_quality = min_quality
        self.vpdq_query_percent = vpdq_query_percent
        self.vpdq_compared_percent = vpdq_compared_percent
        self._index_options = dict(index_options or {})
        self._state = _State()
        self._pdq = PDQIndex(**self._index_options)  # type: ignore[arg-type]  # PDQIndex's own keyword arguments, passed through
        self._vpdq = PDQIndex(**self._index_options)  # type: ignore[arg-type]  # PDQIndex's own keyword arguments, passed through
        self._lock = threading.RLock()
        self._next_id = 1
        self._max_threshold = 0

    # ---- banks

    def add_bank(self, bank: Bank) -> None:
        """Add a bank (ValueError if one of that name exists)."""
        with self._lock:
            if bank.name in self._state.banks:
                raise ValueError(f"bank {bank.name!r} already exists")
            self._state.banks[bank.name] = bank
            self._refresh_threshold()

    def update_bank(self, bank: Bank) -> None:
        """Change a bank's kind, threshold or description; takes effect on the next lookup."""
        with self._lock:
            if bank.name not in self._state.banks:
                raise KeyError(f"no bank {bank.name!r}")
            self._state.banks[bank.name] = bank
            self._refresh_threshold()

    def remove_bank(self, name: str) -> int:
        """Remove a bank and all its entries; returns how many entries went."""
        with self._lock:
            if name not in self._state.banks:
                raise KeyError(f"no bank {name!r}")
            ids = list(self._state.bank_entries.get(name, ()))
            for entry_id in ids:
                self.remove(entry_id)
            del self._state.banks[name]
            self._state.bank_entries.pop(name, None)
            self._refresh_threshold()
            return len(ids)

    def bank(self, name: str) -> Bank | None:
        return self._state.banks.get(name)

    def banks(self) -> list[Bank]:
        return sorted(self._state.banks.values(), key=lambda b: b.name)

    def _refresh_threshold(self) -> None:
        self._max_threshold = max((b.pdq_threshold for b in self._state.banks.values()), default=0)

    # ---- entries

    def __len__(self) -> int:
        return len(self._state.entries)

    def entry(self, entry_id: int) -> BankEntry | None:
        return self._state.entries.get(entry_id)

    def entries(self, bank: str | None = None) -> Iterator[BankEntry]:
        """The entries (of one bank), in id order."""
        with self._lock:
            ids = sorted(self._state.bank_entries.get(bank, ()) if bank else self._state.entries)
            found = [self._state.entries[i] for i in ids]
        return iter(found)

    def load(self, entries: Iterable[BankEntry]) -> list[BankEntry]:
        """Add many entries at once (the startup path): the PDQ index is built in one pass."""
        with self._lock:
            added = [self._register(e) for e in entries]
            pdq = [e for e in added if e.signal_type is SignalType.PDQ and e.enabled]
            if pdq:
                ids = np.fromiter((e.entry_id for e in pdq), dtype=np.int64, count=len(pdq))
                codes = np.frombuffer(bytes.fromhex("".join(e.value for e in pdq)), dtype=np.uint8)
                codes = codes.reshape(-1, 32).copy()  # values were validated by BankEntry
                if len(self._pdq) == 0:
                    self._pdq = PDQIndex.build(ids, codes, **self._index_options)
                else:
                    self._pdq.add(ids, codes)
            for e in added:
                if e.enabled and e.signal_type is not SignalType.PDQ:
                    self._index(e)
            return added

    def add(self, entry: BankEntry) -> BankEntry:
        """Add one entry; it matches from the next lookup on. Returns it with its entry_id."""
        with self._lock:
            registered = self._register(entry)
            if registered.enabled:
                self._index(registered)
            return registered

    def disable(self, entry_id: int) -> BankEntry:
        """Stop an entry matching (kept, and can be enabled again)."""
        with self._lock:
            entry = self._get(entry_id)
            if entry.enabled:
                self._unindex(entry)
                entry = entry._with(enabled=False)
                self._state.entries[entry_id] = entry
            return entry

    def enable(self, entry_id: int) -> BankEntry:
        """Let a disabled entry match again."""
        with self._lock:
            entry = self._get(entry_id)
            if not entry.enabled:
                entry = entry._with(enabled=True)
                self._state.entries[entry_id] = entry
                self._index(entry)
            return entry

    def remove(self, entry_id: int) -> BankEntry:
        """Delete an entry."""
        with self._lock:
            entry = self._get(entry_id)
            if entry.enabled:
                self._unindex(entry)
            del self._state.entries[entry_id]
            self._state.bank_entries[entry.bank].discard(entry_id)
            self._state.vpdq_frames.pop(entry_id, None)
            return entry

    def _get(self, entry_id: int) -> BankEntry:
        entry = self._state.entries.get(entry_id)
        if entry is None:
            raise KeyError(f"no bank entry {entry_id}")
        return entry

    def _register(self, entry: BankEntry) -> BankEntry:
        if entry.bank not in self._state.banks:
            raise KeyError(f"no bank {entry.bank!r}")
        if entry.entry_id is None:
            entry = entry._with(entry_id=self._next_id)
        elif entry.entry_id in self._state.entries:
            raise ValueError(f"bank entry {entry.entry_id} already exists")
        assert entry.entry_id is not None
        if entry.entry_id >= 1 << (63 - _FRAME_BITS):
            raise ValueError(f"bank entry id {entry.entry_id} is too large")
        self._next_id = max(self._next_id, entry.entry_id + 1)
        # share one string object per bank, source, person and series across millions of entries
        bank, source, added_by, series = (
            sys.intern(entry.bank),
            _interned(entry.source),
            _interned(entry.added_by),
            _interned(entry.series),
        )
        if not (
            bank is entry.bank and source is entry.source and added_by is entry.added_by and series is entry.series
        ):
            entry = entry._with(bank=bank, source=source, added_by=added_by, series=series)
        entry_id = entry.entry_id
        if entry_id is None:
            raise ValueError("only stored entries (with their database id) are matched")
        self._state.entries[entry_id] = entry
        self._state.bank_entries[entry.bank].add(entry_id)
        return entry

    def _index(self, entry: BankEntry) -> None:
        entry_id = entry.entry_id
        assert entry_id is not None
        if entry.signal_type is SignalType.PDQ:
            self._pdq.add([entry_id], [entry.value])
        elif entry.signal_type is SignalType.VPDQ:
            frames = _usable_frames(parse_vpdq(entry.value), self.min_quality)
            self._state.vpdq_frames[entry_id] = len(frames)
            if frames:
                labels = [(entry_id << _FRAME_BITS) | i for i in range(len(frames))]
                self._vpdq.add(labels, frames)
        else:
            table = self._state.exact[EXACT_FAMILY[entry.signal_type]]
            table[entry.value] = table.get(entry.value, ()) + (entry_id,)

    def _unindex(self, entry: BankEntry) -> None:
        entry_id = entry.entry_id
        assert entry_id is not None
        if entry.signal_type is SignalType.PDQ:
            self._pdq.remove([entry_id])
        elif entry.signal_type is SignalType.VPDQ:
            count = self._state.vpdq_frames.get(entry_id, 0)
            self._vpdq.remove([(entry_id << _FRAME_BITS) | i for i in range(count)])
        else:
            table = self._state.exact[EXACT_FAMILY[entry.signal_type]]
            remaining = tuple(i for i in table.get(entry.value, ()) if i != entry_id)
            if remaining:
                table[entry.value] = remaining
            else:
                table.pop(entry.value, None)

    def wait_for_compaction(self) -> None:
        """Block until background index compactions have finished (tests, benchmarks, shutdown)."""
        self._pdq.wait_for_compaction()
        self._vpdq.wait_for_compaction()

    def stats(self) -> dict[str, object]:
        return {
            "banks": len(self._state.banks),
            "entries": len(self._state.entries),
            "pdq_index": self._pdq.stats(),
            "vpdq_index": self._vpdq.stats(),
        }

    # ---- lookups

    def lookup_signal(self, signal_type: SignalType | str, value: str, quality: int | None = None) -> LookupResult:
        """Look up one signal (e.g. HMA's /m/lookup?signal_type=pdq&signal=...)."""
        kind = signal_type if isinstance(signal_type, SignalType) else parse_signal_type(signal_type)
        if kind is SignalType.PDQ:
            return self.lookup(FileSignals(pdq=[PdqQuery(value, quality)]))
        if kind is SignalType.VPDQ:
            return self.lookup(FileSignals(vpdq=parse_vpdq(value)))
        value = normalize_hex(kind, value)
        family = EXACT_FAMILY[kind]
        return self.lookup(FileSignals(**{family: value}))  # type: ignore[arg-type]  # family is md5, sha1 or sha256: str fields

    def lookup(self, signals: FileSignals) -> LookupResult:
        """Every entry this file matches (see the module docstring for the rules)."""
        return self.lookup_many([signals])[0]

    def lookup_many(self, files: Sequence[FileSignals]) -> list[LookupResult]:
        """Look up many files at once (PDQ hashes of all files go to the index as one batch)."""
        state = self._state
        raws: list[list[_Raw]] = [[] for _ in files]
        notes: list[list[str]] = [[] for _ in files]
        pdq_hashes: list[str] = []
        pdq_owner: list[tuple[int, int]] = []  # (file, variant)
        for f, signals in enumerate(files):
            for family in ("md5", "sha1", "sha256"):
                value = getattr(signals, family)
                if value is None:
                    continue
                value = normalize_hex(SignalType(family), value)
                for entry_id in state.exact[family].get(value, ()):
                    entry = state.entries.get(entry_id)
                    if entry is not None:
                        raws[f].append(_Raw(entry_id, entry.signal_type, 0, value))
            queries = _pdq_queries(signals.pdq)
            if len(queries) > MAX_PDQ_VARIANTS:
                raise ValueError(f"at most {MAX_PDQ_VARIANTS} pdq hashes per file (the dihedral variants)")
            for variant, query in enumerate(queries):
                value = normalize_hex(SignalType.PDQ, query.hash)
                if query.quality is not None and query.quality < self.min_quality:
                    notes[f].append(
                        f"pdq hash {variant} has quality {query.quality}, below {self.min_quality}: not matched"
                    )
                    continue
                pdq_hashes.append(value)
                pdq_owner.append((f, variant))
        if pdq_hashes and self._max_threshold:
            found = self._pdq.search(pdq_hashes, self._max_threshold)
            best: dict[tuple[int, int], _Raw] = {}
            for q, (f, variant) in enumerate(pdq_owner):
                for entry_id, distance in found.for_query(q):
                    known = best.get((f, entry_id))
                    if known is None or distance < known.distance:
                        best[(f, entry_id)] = _Raw(entry_id, SignalType.PDQ, distance, pdq_hashes[q], variant)
            for (f, _), raw in best.items():
                raws[f].append(raw)
        for f, signals in enumerate(files):
            if signals.vpdq:
                raws[f].extend(self._lookup_vpdq(signals.vpdq, notes[f]))
        return [self._finish(raw, tuple(note)) for raw, note in zip(raws, notes)]

    def _lookup_vpdq(self, frames: Sequence[VpdqFrame], notes: list[str]) -> list[_Raw]:
        query_frames = _usable_frames(parse_vpdq(frames), self.min_quality)
        if not query_frames:
            notes.append(f"no vpdq frame has quality {self.min_quality} or more: not matched")
            return []
        if not self._max_threshold:
            return []
        found = self._vpdq.search(query_frames, self._max_threshold)
        state = self._state
        per_entry: dict[int, tuple[set[int], set[int], list[int]]] = {}
        for q in range(len(query_frames)):
            for label, distance in found.for_query(q):
                entry_id = label >> _FRAME_BITS
                entry = state.entries.get(entry_id)
                bank = state.banks.get(entry.bank) if entry else None
                if bank is None or distance > bank.pdq_threshold:
                    continue
                matched_q, matched_e, dists = per_entry.setdefault(entry_id, (set(), set(), []))
                matched_q.add(q)
                matched_e.add(label & _FRAME_MASK)
                dists.append(distance)
        out = []
        signature = f"{len(query_frames)} frames"
        for entry_id, (matched_q, matched_e, dists) in per_entry.items():
            total = state.vpdq_frames.get(entry_id, 0)
            if not total:
                continue
            query_pct = 100.0 * len(matched_q) / len(query_frames)
            compared_pct = 100.0 * len(matched_e) / total
            if query_pct >= self.vpdq_query_percent or compared_pct >= self.vpdq_compared_percent:
                out.append(_Raw(entry_id, SignalType.VPDQ, min(dists), signature, 0, query_pct, compared_pct))
        return out

    def _finish(self, raws: list[_Raw], notes: tuple[str, ...]) -> LookupResult:
        state = self._state
        resolved: list[tuple[_Raw, BankEntry, Bank]] = []
        for raw in raws:
            entry = state.entries.get(raw.entry_id)
            if entry is None or not entry.enabled:
                continue  # disabled or removed while we looked
            bank = state.banks.get(entry.bank)
            if bank is None:
                continue
            if raw.signal_type is SignalType.PDQ and raw.distance > bank.pdq_threshold:
                continue
            resolved.append((raw, entry, bank))
        ignores = [(raw, entry) for raw, entry, bank in resolved if bank.kind is BankKind.IGNORE]
        exact_ignore = next((entry for raw, entry in ignores if raw.signal_type.is_exact), None)
        matches = []
        for raw, entry, bank in resolved:
            suppressor = None
            if bank.kind is not BankKind.IGNORE and not raw.signal_type.is_exact:
                suppressor = exact_ignore
                if suppressor is None:
                    closest = [
                        (ignore_raw.distance, ignore_entry)
                        for ignore_raw, ignore_entry in ignores
                        if ignore_raw.signal_type is raw.signal_type and ignore_raw.distance <= raw.distance
                    ]
                    if closest:
                        suppressor = min(closest, key=lambda pair: (pair[0], pair[1].entry_id or 0))[1]
            matches.append(
                Match(
                    entry=entry,
                    bank=bank,
                    signal_type=raw.signal_type,
                    distance=raw.distance,
                    query=raw.query,
                    variant=raw.variant,
                    suppressed=suppressor is not None,
                    suppressed_by=suppressor,
                    query_match_percent=raw.query_pct,
                    compared_match_percent=raw.compared_pct,
                )
            )
        matches.sort(key=lambda m: (m.bank.kind is BankKind.IGNORE, m.distance, m.bank.name, m.entry.entry_id or 0))
        return LookupResult(tuple(matches), notes)


def _interned(text: str | None) -> str | None:
    return sys.intern(text) if text else text


def _pdq_queries(given: object) -> list[PdqQuery]:
    """PdqQuery objects from what FileSignals.pdq may hold (see there)."""
    hashes = getattr(given, "hashes", None)
    if hashes is not None and not isinstance(given, (str, bytes)):
        quality = getattr(given, "quality", None)
        return [PdqQuery(h, quality) for h in hashes]
    queries = []
    for item in given:  # type: ignore[attr-defined]  # FileSignals.pdq: hex strings or PdqQuery objects (an iterable)
        if isinstance(item, PdqQuery):
            queries.append(item)
        elif isinstance(item, str):
            queries.append(PdqQuery(item))
        elif hasattr(item, "hex") and hasattr(item, "quality"):
            queries.append(PdqQuery(item.hex, item.quality))
        else:
            raise TypeError(f"cannot look up {item!r} as a pdq hash")
    return queries


def _usable_frames(frames: Sequence[VpdqFrame], min_quality: int) -> list[str]:
    """Distinct frame hashes of at least min_quality, in order of first appearance (as vPDQ does)."""
    seen: dict[str, None] = {}
    for frame in frames:
        if frame.quality >= min_quality:
            seen.setdefault(frame.pdq, None)
    return list(seen)

