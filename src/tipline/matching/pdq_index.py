"""An exact, incremental PDQ range index: multi-index hashing over numpy arrays, a flat delta and tombstones.

Design (measured against python-threatexchange's faiss `IndexBinaryMultiHash`; see docs/matching.md):

* The 256 bits of a hash are cut into `m` disjoint chunks of ~256/m bits (11 chunks of 23-24 bits at
  10 million hashes). By the pigeonhole principle, if two hashes differ in at most R bits and chunk j
  is searched with radius t_j, where sum(t_j + 1) >= R + 1, then at least one chunk differs in at most
  t_j bits. So probing, for each chunk, every key within t_j bit flips of the query's chunk finds
  every hash within R: the search is exact (recall 100%), never approximate.
* Each chunk has a direct-addressed table: `offsets[key]..offsets[key+1]` delimits the rows whose
  chunk equals `key` in an array of row numbers sorted by that chunk. Probing is two numpy gathers
  per probe key, with no hash maps and no per-query Python loops; candidates are verified by an exact
  256-bit popcount, so false candidates cost time, never correctness.
* New hashes go to a small flat "delta" segment searched by brute force (word by word in numpy, faiss
  `hamming_range_search` for large batches); removals flip a byte in an `alive` array (a tombstone). Both are visible to
  the next query. When the delta outgrows `merge_at(main size)`, it is merged into the main segment in the
  background: an O(n) merge of already-sorted tables (no re-sort), built aside and swapped in
  atomically, so readers never wait.
* Readers take the current immutable snapshot and never lock; one writer at a time changes it.

Length (about 900 lines), on purpose: the segments, the batched search and the background merge are one
data structure sharing private array layouts (sorted row numbers, offsets, pair tables) on the hot path,
read and measured together. The layout and its cost model, which need no arrays, are pdq_layout.py.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

import faiss
import numpy as np

from tipline.matching.pdq_layout import NS_PER_FLAT_COMPARISON, QUERY_BATCH, Layout, plan_layout
from tipline.matching.signals import PDQ_BITS, PDQ_DEFAULT_THRESHOLD, pdq_hashes_to_array

__all__ = ["Layout", "PDQIndex", "RangeResult", "plan_layout"]

log = logging.getLogger(__name__)

_CODE_BYTES = 32
_VOID32 = np.dtype((np.void, _CODE_BYTES))
_QUERY_BATCH = QUERY_BATCH
_DELTA_SHARE = 64
_DELTA_CAP = 16_384
"""A delta is merged at a 64th of the main segment's rows, at most 16,384 (delta_limit at least)."""
_NUMPY_FLAT_LIMIT = 8 * _DELTA_CAP
"""Query x hash comparisons up to which a flat segment is searched in numpy rather than by faiss."""


@lru_cache(maxsize=64)
def _flip_masks(bits: int, radius: int) -> np.ndarray:
    """Every XOR mask of at most `radius` set bits within `bits` bits (the keys to probe)."""
    masks = [0]
    for k in range(1, radius + 1):
        for positions in itertools.combinations(range(bits), k):
            value = 0
            for p in positions:
                value |= 1 << p
            masks.append(value)
    out = np.array(masks, dtype=np.int64)
    out.setflags(write=False)
    return out


class _KeyExtractor:
    """Extracts each chunk's key from hashes seen as 4 little-endian 64-bit words."""

    def __init__(self, widths: Sequence[int]) -> None:
        w = np.asarray(widths, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(w)[:-1]]).astype(np.int64)
        offset = starts % 64
        straddles = offset + w > 64
        self.lo_word = starts // 64
        self.hi_word = np.where(straddles, self.lo_word + 1, self.lo_word)
        self.lo_shift = offset.astype(np.uint64)
        self.hi_shift = np.where(straddles, 64 - offset, 0).astype(np.uint64)
        self.hi_mask = np.where(straddles, np.uint64(2**64 - 1), np.uint64(0)).astype(np.uint64)
        self.key_mask = ((np.uint64(1) << w.astype(np.uint64)) - np.uint64(1)).astype(np.uint64)

    def keys(self, words: np.ndarray, table: int | None = None) -> np.ndarray:
        """(n, m) int64 keys of all chunks, or (n,) keys of one chunk."""
        if table is None:
            lo = words[:, self.lo_word] >> self.lo_shift
            hi = (words[:, self.hi_word] << self.hi_shift) & self.hi_mask
            return ((lo | hi) & self.key_mask).astype(np.int64)
        j = table
        lo = words[:, self.lo_word[j]] >> self.lo_shift[j]
        hi = (words[:, self.hi_word[j]] << self.hi_shift[j]) & self.hi_mask[j]
        keys: np.ndarray = ((lo | hi) & self.key_mask[j]).astype(np.int64)
        return keys


def _words(codes: np.ndarray) -> np.ndarray:
    """(n, 4) uint64 view of (n, 32) uint8 codes (no copy)."""
    return codes.view(np.uint64).reshape(-1, 4)


# --- segments -----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Flat:
    """Rows searched by brute force: the delta of recent additions, or a small main segment."""

    codes: np.ndarray  # (n, 32) uint8, C-contiguous
    labels: np.ndarray  # (n,) int64
    alive: np.ndarray  # (n,) bool; the writer clears entries in place (tombstones)
    columns: np.ndarray | None = None  # (4, n) uint64: word k of every row, contiguous (see _range_search_flat)

    @property
    def size(self) -> int:
        return len(self.labels)


@dataclass(eq=False)
class _Main:
    """The bulk of the rows, with one direct-addressed table per chunk."""

    layout: Layout
    codes: np.ndarray  # (n, 32) uint8
    labels: np.ndarray  # (n,) int64
    alive: np.ndarray  # (n,) bool, cleared in place by the writer
    label_order: np.ndarray  # rows sorted by label
    sorted_labels: np.ndarray  # labels[label_order]
    offsets: np.ndarray  # concatenated per-table offsets, global positions into `rows`
    rows: np.ndarray  # (m * n,) int32: per table, row numbers sorted by that table's key
    table_base: np.ndarray  # (m,) int64 start of each table in `offsets`
    extractor: _KeyExtractor | None
    pairs: np.ndarray | None = None  # (slots, 2) int32: a bucket's first rows, see _build_pairs
    dead: int = 0
    _plans: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.labels)

    def probe_plan(self, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(table, flip mask, table base) of each probe key, or None when brute force is cheaper."""
        if not self.layout.widths:
            return None
        plan = self._plans.get(radius)
        if plan is not None:
            return plan
        mih_cost = self.layout.cost_ns(self.size, radius)
        flat_cost = NS_PER_FLAT_COMPARISON * self.size
        if mih_cost > flat_cost or self.layout.probes(radius) > 2_000_000:
            return None
        tables, masks = [], []
        for j, (bits, t) in enumerate(zip(self.layout.widths, self.layout.chunk_radii(radius))):
            if t < 0:
                continue
            flips = _flip_masks(bits, t)
            tables.append(np.full(len(flips), j, dtype=np.int64))
            masks.append(flips)
        table_of_probe = np.concatenate(tables)
        plan = (table_of_probe, np.concatenate(masks), self.table_base[table_of_probe])
        self._plans[radius] = plan
        return plan

    def nbytes(self) -> int:
        return sum(
            a.nbytes
            for a in (
                self.codes,
                self.labels,
                self.alive,
                self.label_order,
                self.sorted_labels,
                self.offsets,
                self.rows,
            )
        ) + (self.pairs.nbytes if self.pairs is not None else 0)


@dataclass(frozen=True, eq=False)
class _Snapshot:
    main: _Main | None
    deltas: tuple[_Flat, ...]


_EMPTY_CODES = np.zeros((0, _CODE_BYTES), dtype=np.uint8)
_EMPTY_LABELS = np.zeros(0, dtype=np.int64)


def _empty_flat() -> _Flat:
    return _Flat(_EMPTY_CODES, _EMPTY_LABELS, np.zeros(0, dtype=bool), np.zeros((4, 0), dtype=np.uint64))


def _columns(codes: np.ndarray) -> np.ndarray:
    """(4, n) uint64: word k of every hash side by side, as the flat search reads them."""
    return np.ascontiguousarray(_words(codes).T)


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeResult:
    """Matches of a batch of queries: those of query i are labels[lims[i]:lims[i+1]], nearest first."""

    lims: np.ndarray
    labels: np.ndarray
    distances: np.ndarray

    def __len__(self) -> int:
        return len(self.lims) - 1

    def for_query(self, i: int) -> list[tuple[int, int]]:
        """(label, distance) pairs of query i, nearest first."""
        lo, hi = int(self.lims[i]), int(self.lims[i + 1])
        return list(zip(self.labels[lo:hi].tolist(), self.distances[lo:hi].tolist()))


def _as_codes(hashes: np.ndarray | Sequence[str] | Sequence[bytes]) -> np.ndarray:
    if isinstance(hashes, np.ndarray):
        if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != _CODE_BYTES:
            raise ValueError("hash arrays must be (n, 32) uint8")
        return np.ascontiguousarray(hashes)
    items = list(hashes)
    if items and isinstance(items[0], (bytes, bytearray)):
        if any(len(b) != _CODE_BYTES for b in items):
            raise ValueError("PDQ hashes given as bytes must be 32 bytes long")
        return np.frombuffer(b"".join(cast("list[bytes]", items)), dtype=np.uint8).reshape(-1, _CODE_BYTES).copy()
    return pdq_hashes_to_array(cast("list[str]", items))  # the first is not bytes: hex strings


def _range_search_flat(
    queries: np.ndarray, codes: np.ndarray, radius: int, columns: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brute-force (query index, row, distance) triples within radius, via faiss; a few queries against
    a small segment are compared in numpy instead (faiss' OpenMP threads cost tens of milliseconds to
    wake on a busy machine, where a single lookup in a 4,096-hash delta takes 10 microseconds).

    numpy compares the first two words of the queries with those of every row, each word of the rows one
    contiguous array (`columns`, (4, n), kept with the delta), and keeps the rows whose first half is within
    the radius: a distance is at least that of its first half, so no row within the radius is left out,
    and a random row passes with a chance of about 1 in 100,000 at radius 31. Only those are compared in
    full. Half the passes over the delta of the four-word sum (the search of main at f5c03e2): 26 against
    76 µs of CPU for one query and 16,384 rows, 10 against 25 at 4,096 (benchmarks/pdq_delta.py, load 4)."""
    nq, n = len(queries), len(codes)
    if nq == 0 or n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.int32)
    if nq * n <= _NUMPY_FLAT_LIMIT:
        words = _words(np.ascontiguousarray(codes))
        cols = columns if columns is not None else np.ascontiguousarray(words.T)
        query_words = _words(np.ascontiguousarray(queries))
        if nq == 1:
            q = query_words[0]
            half = np.bitwise_count(cols[0] ^ q[0])  # uint8: a half differs in at most 128 bits
            half += np.bitwise_count(cols[1] ^ q[1])
            rows = np.flatnonzero(half <= radius)
            if not len(rows):  # the usual answer: nothing to compare in full
                return rows, rows, np.zeros(0, dtype=np.int32)
            qidx = np.zeros(len(rows), dtype=np.int64)
        else:
            half = np.bitwise_count(cols[0][None, :] ^ query_words[:, 0:1])
            half += np.bitwise_count(cols[1][None, :] ^ query_words[:, 1:2])
            qidx, rows = np.nonzero(half <= radius)
        distances = np.bitwise_count(words[rows] ^ query_words[qidx]).sum(axis=1, dtype=np.int32)
        within = distances <= radius
        return qidx[within].astype(np.int64), rows[within].astype(np.int64), distances[within]
    result = faiss.RangeSearchResult(nq)
    faiss.hamming_range_search(  # type: ignore[attr-defined]  # in faiss's SWIG module, not in its stubs
        faiss.swig_ptr(queries), faiss.swig_ptr(codes), nq, n, radius + 1, _CODE_BYTES, result
    )
    lims = faiss.rev_swig_ptr(result.lims, nq + 1).astype(np.int64)
    total = int(lims[-1])
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.int32)
    rows = faiss.rev_swig_ptr(result.labels, total).copy()
    dist = faiss.rev_swig_ptr(result.distances, total).astype(np.int32)
    qidx = np.repeat(np.arange(nq, dtype=np.int64), np.diff(lims))
    return qidx, rows, dist


# --- the index ----------------------------------------------------------------------------------

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _pool(workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="pdq-search")
        return pool



class PDQIndex:
    """Exact PDQ range search over labelled hashes, with additions and removals visible at once.

    Labels are the caller's int64 ids (e.g. bank entry ids); a label may label several hashes
    (e.g. the frames of one video). Thread-safe: any number of concurrent readers (`search`) and
    one writer at a time (`add`, `remove`, `compact`; writers serialise on an internal lock).
    """

    def __init__(
        self,
        *,
        delta_limit: int = 4096,
        background_compaction: bool = True,
        bytes_per_hash: int = 200,
        radius_hint: int = PDQ_DEFAULT_THRESHOLD,
        layout: Layout | None = None,
        pairs: bool | None = None,
    ) -> None:
        self.delta_limit = delta_limit
        self.pairs = pairs  # None: build bucket pairs when the tables are dense (see _build_pairs)
        self.background_compaction = background_compaction
        self.bytes_per_hash = bytes_per_hash
        self.radius_hint = radius_hint
        self._fixed_layout = layout
        self._snap = _Snapshot(None, (_empty_flat(),))
        self._lock = threading.RLock()
        self._compacting = False
        self._frozen = 0  # deltas[:frozen] are being merged by a running compaction
        self._removal_log: list[np.ndarray] | None = None
        self._compactor: threading.Thread | None = None
        self.compactions = 0

    # ---- building

    @classmethod
    def build(
        cls,
        labels: Sequence[int] | np.ndarray,
        hashes: np.ndarray | Sequence[str] | Sequence[bytes],
        **options: object,
    ) -> PDQIndex:
        """An index holding `hashes` labelled `labels`, built in one pass (the startup path).

        A C-contiguous (n, 32) uint8 array is kept as it is, not copied: do not change it afterwards.
        """
        index = cls(**options)  # type: ignore[arg-type]  # options are PDQIndex's own keyword arguments, passed through
        codes = _as_codes(hashes)
        label_array = np.asarray(labels, dtype=np.int64)
        if len(label_array) != len(codes):
            raise ValueError("labels and hashes differ in length")
        main = index._build_main(None, [_Flat(codes, label_array, np.ones(len(codes), dtype=bool))])
        index._snap = _Snapshot(main, (_empty_flat(),))
        return index

    def _layout_for(self, n: int) -> Layout:
        if self._fixed_layout is not None:
            return self._fixed_layout
        return plan_layout(n, self.radius_hint, self.bytes_per_hash)

    # ---- queries

    def __len__(self) -> int:
        snap = self._snap
        total = sum(int(d.alive.sum()) for d in snap.deltas)
        if snap.main is not None:
            total += snap.main.size - snap.main.dead
        return total

    def search(
        self,
        hashes: np.ndarray | Sequence[str] | Sequence[bytes],
        radius: int = PDQ_DEFAULT_THRESHOLD,
        *,
        threads: int | None = None,
    ) -> RangeResult:
        """Every live (label, distance) within `radius` of each query hash, nearest first.

        Batches of more than 256 queries are split over `threads` threads (default: one per CPU,
        as faiss does); numpy releases the GIL while it gathers and counts bits.
        """
        if not 0 <= radius <= PDQ_BITS:
            raise ValueError(f"radius must be 0 to 256, got {radius}")
        queries = _as_codes(hashes)
        snap = self._snap
        parts_q: list[np.ndarray] = []
        parts_l: list[np.ndarray] = []
        parts_d: list[np.ndarray] = []
        if snap.main is not None and snap.main.size:
            main = snap.main
            starts = range(0, len(queries), _QUERY_BATCH)
            workers = min(threads or _cpu_count(), len(starts))
            if workers > 1 and len(queries) > 2 * _QUERY_BATCH:
                pool = _pool(workers)
                found = list(
                    pool.map(lambda s: self._search_main(main, queries[s : s + _QUERY_BATCH], radius), starts)
                )
            else:
                found = [self._search_main(main, queries[s : s + _QUERY_BATCH], radius) for s in starts]
            for start, (q, lab, d) in zip(starts, found):
                parts_q.append(q + start)
                parts_l.append(lab)
                parts_d.append(d)
        for delta in snap.deltas:
            if not delta.size:
                continue
            q, rows, d = _range_search_flat(queries, delta.codes, radius, delta.columns)
            keep = delta.alive[rows]
            parts_q.append(q[keep])
            parts_l.append(delta.labels[rows[keep]])
            parts_d.append(d[keep])
        return _collate(len(queries), parts_q, parts_l, parts_d)

    def search_one(self, hash: str | bytes, radius: int = PDQ_DEFAULT_THRESHOLD) -> list[tuple[int, int]]:
        """(label, distance) pairs within `radius` of one hash, nearest first."""
        queries: Sequence[str] | Sequence[bytes] = [hash] if isinstance(hash, str) else [hash]
        return self.search(queries, radius).for_query(0)

    @staticmethod
    def _search_main(
        main: _Main, queries: np.ndarray, radius: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        plan = main.probe_plan(radius)
        if plan is None:
            qidx, rows, dist = _range_search_flat(queries, main.codes, radius)
        else:
            qidx, rows, dist = _probe(main, plan, queries, radius)
        keep = main.alive[rows]
        return qidx[keep], main.labels[rows[keep]], dist[keep]

    # ---- writing

    def add(self, labels: Sequence[int] | np.ndarray, hashes: np.ndarray | Sequence[str] | Sequence[bytes]) -> None:
        """Add hashes under labels; visible to the next search."""
        codes = _as_codes(hashes)
        label_array = np.asarray(labels, dtype=np.int64).reshape(-1)
        if len(label_array) != len(codes):
            raise ValueError("labels and hashes differ in length")
        if not len(codes):
            return
        with self._lock:
            snap = self._snap
            deltas = list(snap.deltas)
            if len(deltas) <= self._frozen:
                deltas.append(_empty_flat())
            last = deltas[-1]
            last_columns = last.columns if last.columns is not None else _columns(last.codes)
            deltas[-1] = _Flat(
                np.concatenate([last.codes, codes]),
                np.concatenate([last.labels, label_array]),
                np.concatenate([last.alive, np.ones(len(codes), dtype=bool)]),
                np.concatenate([last_columns, _columns(codes)], axis=1),
            )
            self._snap = _Snapshot(snap.main, tuple(deltas))
            self._maybe_compact()

    def remove(self, labels: Iterable[int] | np.ndarray) -> int:
        """Remove every hash under these labels; returns how many hashes were removed."""
        wanted = np.unique(np.asarray(list(labels) if not isinstance(labels, np.ndarray) else labels, dtype=np.int64))
        if not len(wanted):
            return 0
        with self._lock:
            snap = self._snap
            removed = 0
            if snap.main is not None and snap.main.size:
                removed += _kill_main(snap.main, wanted)
            for delta in snap.deltas:
                if delta.size:
                    hit = np.flatnonzero(np.isin(delta.labels, wanted) & delta.alive)
                    delta.alive[hit] = False
                    removed += len(hit)
            if self._removal_log is not None:
                self._removal_log.append(wanted)
            self._maybe_compact()
            return removed

    def _maybe_compact(self) -> None:
        if self._compacting:
            return
        snap = self._snap
        pending = sum(d.size for d in snap.deltas)
        dead = snap.main.dead if snap.main is not None else 0
        main_size = snap.main.size if snap.main is not None else 0
        if pending >= self.merge_at(main_size) or (dead > 1024 and dead > main_size // 4):
            self._compacting = True
            if self.background_compaction:
                # started before it is published, both under the writers' lock (held by every caller
                # of this method), so wait_for_compaction never sees a thread it cannot join yet
                thread = threading.Thread(target=self._compact_now, name="pdq-index-compaction", daemon=True)
                thread.start()
                self._compactor = thread
            else:
                self._compact_now()

    def merge_at(self, main_size: int) -> int:
        """How many rows the delta gathers before it is merged into a main segment of `main_size` rows.

        A merge costs O(main size) of CPU in the process that searches (0.2 to 0.6 s at a million
        hashes), a delta row 2 to 5 ns per query: a big main segment waits for a bigger delta, a 64th of
        it up to 16,384 rows (at a million hashes a merge per 15,625 new hashes instead of per 4,096,
        while one query spends about 50 µs more on the delta at its largest; benchmarks/pdq_delta.py)."""
        return max(self.delta_limit, min(main_size // _DELTA_SHARE, _DELTA_CAP))

    def compact(self) -> None:
        """Merge the delta into the main segment and drop every removed row, now (after a running one)."""
        while True:
            self.wait_for_compaction()
            with self._lock:
                busy = self._compacting
                if not busy:
                    self._compacting = True
            if busy:
                time.sleep(0.01)
                continue
            self._compact_now(purge=True)
            return

    def wait_for_compaction(self, timeout: float | None = None) -> None:
        """Block until no background compaction runs (or `timeout` seconds have passed).

        A compaction that ends by starting the next one (the delta grew meanwhile) is waited for too.
        The compaction thread is read under the writers' lock, which is held from its creation until
        it has started and been published; do not call this while holding that lock (a writer's
        callback), as the compaction needs it to finish.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        joined: threading.Thread | None = None
        while True:
            with self._lock:
                thread = self._compactor
            if thread is None or thread is joined or thread is threading.current_thread():
                return
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
            if thread.is_alive():
                return  # timed out
            joined = thread

    def _compact_now(self, purge: bool = False) -> None:
        """Build a new main segment aside, then swap it in; the caller has set `_compacting`."""
        with self._lock:
            snap = self._snap
            self._frozen = len(snap.deltas)
            self._removal_log = []
        try:
            new_main = self._build_main(snap.main, list(snap.deltas), purge)
        except BaseException:
            with self._lock:
                self._compacting = False
                self._frozen = 0
                self._removal_log = None
            log.exception("PDQ index compaction failed; the index keeps its delta")
            raise
        with self._lock:
            current = self._snap
            later = current.deltas[self._frozen :]
            if self._removal_log:
                _kill_main(new_main, np.unique(np.concatenate(self._removal_log)))
            self._snap = _Snapshot(new_main, tuple(later) or (_empty_flat(),))
            self._frozen = 0
            self._removal_log = None
            self._compacting = False
            self.compactions += 1
            self._maybe_compact()

    # ---- main segment construction

    def _build_main(self, old: _Main | None, deltas: list[_Flat], purge: bool = False) -> _Main:
        """A new main segment: the rows of `old` followed by the live rows of `deltas`.

        Dead rows of `old` are dropped when `purge` is set or more than 1/10 of its rows are dead,
        otherwise they are carried over, still dead (dropping renumbers every row of every table).
        """
        # a writer may clear a delta's alive flags while this runs (its removals are replayed on the
        # result): read each delta's flags once, or codes and labels could be cut by different masks
        live = []
        for d in deltas:
            if not d.size:
                continue
            alive = d.alive.copy()
            live.append(d if alive.all() else _Flat(d.codes[alive], d.labels[alive], alive[alive]))
        add_codes = _join([d.codes for d in live], _EMPTY_CODES)  # no copy for a single segment
        add_labels = _join([d.labels for d in live], _EMPTY_LABELS)
        if old is not None:
            keep = old.alive.copy()  # frozen now: removals from here on are replayed later
            kept = int(keep.sum())
        else:
            keep, kept = None, 0
        n = kept + len(add_labels)
        layout = self._layout_for(n)
        if old is not None and old.layout == layout and layout.widths:
            if not purge and old.size - kept <= old.size // _PURGE_FRACTION:
                # few dead rows: keep them (dead) rather than renumber every row of every table
                return _merge(old, None, old.size, add_codes, add_labels, self.pairs, keep)
            return _merge(old, keep, kept, add_codes, add_labels, self.pairs)
        if old is not None:
            codes = np.concatenate([old.codes[keep], add_codes])
            labels = np.concatenate([old.labels[keep], add_labels])
        else:
            codes, labels = np.ascontiguousarray(add_codes), add_labels
        return _fresh(layout, codes, labels, self.pairs)

    # ---- introspection

    def stats(self) -> dict[str, object]:
        """Sizes and memory of the segments (for logs, the benchmark and `tipline banks` status)."""
        snap = self._snap
        main = snap.main
        delta_bytes = sum(d.codes.nbytes + d.labels.nbytes + d.alive.nbytes
                          + (d.columns.nbytes if d.columns is not None else 0) for d in snap.deltas)
        return {
            "hashes": len(self),
            "main_rows": main.size if main else 0,
            "main_dead": main.dead if main else 0,
            "delta_rows": sum(d.size for d in snap.deltas),
            "layout": list(main.layout.widths) if main else [],
            "memory_bytes": (main.nbytes() if main else 0) + delta_bytes,
            "compactions": self.compactions,
        }

    def memory_bytes(self) -> int:
        return int(cast(int, self.stats()["memory_bytes"]))


def _join(parts: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
    if not parts:
        return empty
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _collate(
    nq: int, parts_q: list[np.ndarray], parts_l: list[np.ndarray], parts_d: list[np.ndarray]
) -> RangeResult:
    if parts_q:
        q = np.concatenate(parts_q)
        lab = np.concatenate(parts_l)
        d = np.concatenate(parts_d)
    else:
        q = lab = np.zeros(0, dtype=np.int64)
        d = np.zeros(0, dtype=np.int32)
    if len(q) > 1:
        # nearest first per query; one result per (query, label), keeping its nearest hash
        order = np.lexsort((d, lab, q))
        q, lab, d = q[order], lab[order], d[order]
        first = np.ones(len(q), dtype=bool)
        first[1:] = (q[1:] != q[:-1]) | (lab[1:] != lab[:-1])
        q, lab, d = q[first], lab[first], d[first]
        order = np.lexsort((lab, d, q))
        q, lab, d = q[order], lab[order], d[order]
    lims = np.zeros(nq + 1, dtype=np.int64)
    np.cumsum(np.bincount(q, minlength=nq), out=lims[1:])
    return RangeResult(lims, lab.astype(np.int64, copy=False), d.astype(np.int32, copy=False))


def _probe(
    main: _Main, plan: tuple[np.ndarray, np.ndarray, np.ndarray], queries: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-index probe of one batch of queries: (query index, row, distance) within radius."""
    table_of_probe, flips, bases = plan
    nprobe = len(flips)
    words = _words(queries)
    assert main.extractor is not None
    keys = main.extractor.keys(words)  # (q, m)
    slots = keys[:, table_of_probe]
    np.bitwise_xor(slots, flips, out=slots)
    slots += bases
    slots = slots.ravel()
    if main.pairs is not None:
        rows, qidx = _candidates_from_pairs(main, slots, nprobe)
        dist = _distances(np.take(words, qidx, axis=0), main, rows)
        within = np.flatnonzero(dist <= radius)
        return qidx[within], rows[within].astype(np.int64), dist[within]
    starts = np.take(main.offsets, slots)
    counts = np.take(main.offsets[1:], slots) - starts  # offsets[slot + 1], mostly the same cache line
    hit = np.flatnonzero(counts)
    if not len(hit):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.int32)
    starts = np.take(starts, hit).astype(np.int64)
    counts = np.take(counts, hit).astype(np.int64)
    ends = np.cumsum(counts)
    total = int(ends[-1])
    positions = np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - counts), counts)
    rows = np.take(main.rows, positions)
    per_query = np.bincount(hit // nprobe, weights=counts, minlength=len(queries)).astype(np.int64)
    dist = _distances(np.repeat(words, per_query, axis=0), main, rows)
    within = np.flatnonzero(dist <= radius)
    qidx = np.searchsorted(np.cumsum(per_query), within, side="right")
    return qidx.astype(np.int64), rows[within].astype(np.int64), dist[within]


def _distances(query_words: np.ndarray, main: _Main, rows: np.ndarray) -> np.ndarray:
    """Hamming distances between each query (four uint64 words per row; overwritten) and the stored
    hash at the same position of `rows`."""
    cand = np.take(main.codes.view(_VOID32).reshape(-1), rows).view(np.uint64).reshape(-1, 4)
    np.bitwise_xor(query_words, cand, out=query_words)
    bits = np.bitwise_count(query_words)
    distances: np.ndarray = bits[:, 0].astype(np.int32) + bits[:, 1] + bits[:, 2] + bits[:, 3]
    return distances


def _candidates_from_pairs(main: _Main, slots: np.ndarray, nprobe: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, query index) of every row in the probed buckets, from the pairs plus overflowing buckets."""
    assert main.pairs is not None
    got = np.take(main.pairs.view(np.dtype((np.void, 8))).reshape(-1), slots).view(np.int32)
    valid = np.flatnonzero(got >= 0)
    rows = np.take(got, valid)
    qidx = valid // (2 * nprobe)
    over = np.flatnonzero(got[1::2] == -2)  # buckets of three or more: the rest from the CSR table
    if len(over):
        where = np.take(slots, over)
        starts = np.take(main.offsets, where).astype(np.int64) + 1
        counts = np.take(main.offsets[1:], where).astype(np.int64) - starts
        ends = np.cumsum(counts)
        positions = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(starts - (ends - counts), counts)
        rows = np.concatenate([rows, np.take(main.rows, positions)])
        qidx = np.concatenate([qidx, np.repeat(over // nprobe, counts)])
    return rows, qidx.astype(np.int64)


def _kill_main(main: _Main, labels: np.ndarray) -> int:
    lo = np.searchsorted(main.sorted_labels, labels, side="left")
    hi = np.searchsorted(main.sorted_labels, labels, side="right")
    spans = hi - lo
    if not spans.sum():
        return 0
    positions = np.repeat(lo - np.concatenate([[0], np.cumsum(spans)[:-1]]), spans) + np.arange(spans.sum())
    rows = main.label_order[positions]
    rows = rows[main.alive[rows]]
    main.alive[rows] = False
    main.dead += len(rows)
    return len(rows)


def _offsets_dtype(layout: Layout, n: int) -> type:
    return np.uint32 if layout.tables * n < 2**32 else np.int64


def _label_index(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(labels, kind="stable")
    order = order.astype(np.int32) if len(labels) < 2**31 else order
    return order, labels[order]


def _fresh(layout: Layout, codes: np.ndarray, labels: np.ndarray, pairs: bool | None = None) -> _Main:
    """Build a main segment from scratch (sorting every chunk)."""
    n = len(labels)
    codes = np.ascontiguousarray(codes)
    label_order, sorted_labels = _label_index(labels)
    if not layout.widths:
        return _Main(
            layout, codes, labels, np.ones(n, dtype=bool), label_order, sorted_labels,
            np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64), None,
        )
    extractor = _KeyExtractor(layout.widths)
    words = _words(codes)
    sizes = np.array([(1 << b) + 1 for b in layout.widths], dtype=np.int64)
    table_base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    offsets: np.ndarray = np.empty(int(sizes.sum()), dtype=_offsets_dtype(layout, n))
    rows = np.empty(layout.tables * n, dtype=np.int32)

    def build_table(j: int) -> None:
        keys = extractor.keys(words, j)
        rows[j * n : (j + 1) * n] = np.argsort(keys, kind="stable")
        counts = np.bincount(keys, minlength=1 << layout.widths[j])
        _write_offsets(offsets, table_base[j], j * n, counts)

    # numpy sorts without the GIL, so the tables build in parallel
    list(_pool(_cpu_count()).map(build_table, range(layout.tables)))
    return _Main(
        layout, codes, labels, np.ones(n, dtype=bool), label_order, sorted_labels,
        offsets, rows, table_base, extractor, _build_pairs(layout, table_base, offsets, rows, n, pairs),
    )


def _write_offsets(offsets: np.ndarray, base: int, position: int, counts: np.ndarray) -> None:
    seg = offsets[base : base + len(counts) + 1]
    seg[0] = 0
    np.cumsum(counts, out=seg[1:])
    seg += position


_PURGE_FRACTION = 10
"""A merge drops dead rows (renumbering every row) only when more than 1/10 of them are dead."""


def _merge(
    old: _Main,
    keep: np.ndarray | None,
    kept: int,
    add_codes: np.ndarray,
    add_labels: np.ndarray,
    pairs: bool | None,
    carried_alive: np.ndarray | None = None,
) -> _Main:
    """Main segment of old's rows (those in `keep`, or all) then the added rows, in O(n) per table.

    With keep=None every old row stays, with its alive flag from `carried_alive`: row numbers do not
    change, so the sorted tables take the new rows by insertion and the pairs are patched only
    where new rows landed.
    """
    layout = old.layout
    extractor = old.extractor
    assert extractor is not None
    n_old = old.size
    n_add = len(add_labels)
    n = kept + n_add
    all_kept = keep is None or kept == n_old
    if all_kept:
        codes = np.concatenate([old.codes, add_codes])
        labels = np.concatenate([old.labels, add_labels])
        remap = None
    else:
        assert keep is not None  # not all kept: some rows are marked dead
        codes = np.concatenate([old.codes[keep], add_codes])
        labels = np.concatenate([old.labels[keep], add_labels])
        remap = (np.cumsum(keep, dtype=np.int64) - 1).astype(np.int32)
    # labels: merge the sorted kept labels with the sorted added labels
    kept_order = old.label_order if all_kept or keep is None else old.label_order[keep[old.label_order]]
    kept_sorted = old.sorted_labels if all_kept else old.labels[kept_order]
    if remap is not None:
        kept_order = remap[kept_order]
    add_order = np.argsort(add_labels, kind="stable")
    add_sorted = add_labels[add_order]
    at = np.searchsorted(kept_sorted, add_sorted, side="right")
    label_order = np.insert(kept_order.astype(np.int64), at, add_order + kept)
    label_order = label_order.astype(np.int32) if n < 2**31 else label_order
    sorted_labels = np.insert(kept_sorted, at, add_sorted)

    dead_words = _words(old.codes[~keep]) if keep is not None and not all_kept else None
    add_words = _words(np.ascontiguousarray(add_codes))
    offsets: np.ndarray = np.empty(old.offsets.shape, dtype=_offsets_dtype(layout, n))
    rows = np.empty(layout.tables * n, dtype=np.int32)

    def merge_table(j: int) -> None:
        if dead_words is None or not len(dead_words):
            _merge_table_appending(old, j, add_words, kept, n, offsets, rows)
            return
        bits = layout.widths[j]
        base = int(old.table_base[j])
        old_seg = old.offsets[base : base + (1 << bits) + 1].astype(np.int64)
        counts = np.diff(old_seg)
        old_rows = old.rows[j * n_old : (j + 1) * n_old]
        if dead_words is not None and len(dead_words):
            counts = counts - np.bincount(extractor.keys(dead_words, j), minlength=1 << bits)
            assert keep is not None and remap is not None  # dead rows exist only when some are not kept
            old_rows = old_rows[keep[old_rows]]
            old_rows = remap[old_rows]
        add_keys = extractor.keys(add_words, j)
        order = np.argsort(add_keys, kind="stable")
        bucket_end = np.cumsum(counts)  # end of bucket k among kept rows
        at = bucket_end[add_keys[order]]
        rows[j * n : (j + 1) * n] = np.insert(old_rows, at, (order + kept).astype(np.int32))
        counts = counts + np.bincount(add_keys, minlength=1 << bits)
        _write_offsets(offsets, base, j * n, counts)

    list(_pool(_cpu_count()).map(merge_table, range(layout.tables)))
    if carried_alive is not None and all_kept:
        alive = np.concatenate([carried_alive, np.ones(n_add, dtype=bool)])
        dead = int(n - alive.sum())
    else:
        alive, dead = np.ones(n, dtype=bool), 0
    new_pairs: np.ndarray | None
    if all_kept and old.pairs is not None and pairs is not False:
        new_pairs = _patch_pairs(old, offsets, rows, add_words)
    else:
        new_pairs = _build_pairs(layout, old.table_base, offsets, rows, n, pairs)
    merged = _Main(
        layout, codes, labels, alive, label_order, sorted_labels,
        offsets, rows, old.table_base, extractor, new_pairs,
    )
    merged.dead = dead
    return merged


def _merge_table_appending(
    old: _Main, j: int, add_words: np.ndarray, kept: int, n: int, offsets: np.ndarray, rows: np.ndarray
) -> None:
    """Table j of a merge that keeps every old row (numbered as before) and appends the added ones after them.

    A table's offsets span 2^bits + 1 entries (4 million at a million hashes, far more than the rows added):
    the new ones are the old ones plus the added rows of lower keys, plus the table's shift, in three passes
    (bincount, cumsum, add) instead of eight: merging 15,625 new hashes into a million takes 0.23 s of CPU
    instead of 0.54 (benchmarks/pdq_delta.py, load 3.4)."""
    assert old.extractor is not None
    bits = old.layout.widths[j]
    size = 1 << bits
    base = int(old.table_base[j])
    n_old, n_add = old.size, n - kept
    add_keys = old.extractor.keys(add_words, j)
    order = np.argsort(add_keys, kind="stable")
    # where each added row goes among the old rows of its table: the end of its bucket there
    at = old.offsets[base + 1 + add_keys[order]].astype(np.int64) - j * n_old
    rows[j * n : (j + 1) * n] = np.insert(old.rows[j * n_old : (j + 1) * n_old], at, (order + kept).astype(np.int32))
    # before[k] = the table's shift + the added rows of keys below k + 1; new offset = old offset + before
    before = np.bincount(add_keys, minlength=size).astype(np.int64, copy=False)
    before[0] += j * n_add
    np.cumsum(before, out=before)
    new_seg = offsets[base : base + size + 1]
    new_seg[0] = j * n
    np.add(old.offsets[base + 1 : base + size + 1], before, out=new_seg[1:], casting="unsafe")


def _patch_pairs(old: _Main, offsets: np.ndarray, rows: np.ndarray, add_words: np.ndarray) -> np.ndarray:
    """old.pairs with the buckets that received new rows rewritten (row numbers did not change)."""
    assert old.pairs is not None and old.extractor is not None
    pairs = old.pairs.copy()
    for j in range(old.layout.tables):
        keys = np.unique(old.extractor.keys(add_words, j))
        slots = keys + old.table_base[j]
        _fill_pairs(pairs, slots, offsets[slots].astype(np.int64), offsets[slots + 1].astype(np.int64), rows)
    return pairs


def _fill_pairs(pairs: np.ndarray, slots: np.ndarray, first: np.ndarray, end: np.ndarray, rows: np.ndarray) -> None:
    counts = end - first
    pairs[slots] = -1
    has = counts > 0
    pairs[slots[has], 0] = rows[first[has]]
    two = counts == 2
    pairs[slots[two], 1] = rows[first[two] + 1]
    pairs[slots[counts > 2], 1] = -2


_PAIR_BYTES_PER_HASH = 128


def _build_pairs(
    layout: Layout, table_base: np.ndarray, offsets: np.ndarray, rows: np.ndarray, n: int, wanted: bool | None
) -> np.ndarray | None:
    """Each bucket's first two rows, side by side, so one 8-byte gather answers most probes.

    pairs[slot] = (row, row) for a bucket of two, (row, -1) for one, (-1, -1) for none, and
    (first row, -2) for a bucket of three or more, whose other rows are read from `rows` via
    `offsets`. Built when the tables are dense (at millions of hashes most buckets hold a row or
    two, and the pair saves the offsets gather and the rows gather: ~1.6x faster lookups at 10
    million hashes, measured), i.e. when it costs at most 128 bytes a hash; `wanted` forces it.
    """
    if wanted is False or not layout.widths:
        return None
    if wanted is None and 8 * len(offsets) > _PAIR_BYTES_PER_HASH * n:
        return None
    pairs = np.empty((len(offsets), 2), dtype=np.int32)

    def fill(j: int) -> None:
        base = int(table_base[j])
        size = 1 << layout.widths[j]
        seg = offsets[base : base + size + 1].astype(np.int64)
        out = pairs[base : base + size + 1]
        out.fill(-1)  # page by page, in this thread
        first = seg[:-1]
        counts = np.diff(seg)
        has = np.flatnonzero(counts)
        out[has, 0] = rows[first[has]]
        two = np.flatnonzero(counts == 2)
        out[two, 1] = rows[first[two] + 1]
        out[np.flatnonzero(counts > 2), 1] = -2

    list(_pool(_cpu_count()).map(fill, range(layout.tables)))
    return pairs
