"""The PDQ index returns exactly what brute force finds, and additions and removals show at once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from pdq_synthetic import (
    as_sets,
    brute_force,
    clustered_hashes,
    flip_bits,
    hamming,
    random_hashes,
    read_hashes,
    to_hex,
)

from tipline.matching.pdq_index import Layout, PDQIndex, plan_layout
from tipline.matching.signals import pdq_hashes_to_array

# Layouts the planner picks at different bank sizes, forced here on small banks so each is tested
LAYOUTS = {
    "brute force": Layout(()),
    "16 x 16 bits": Layout((16,) * 16),
    "13 x 19-20 bits": Layout((20,) * 9 + (19,) * 4),
    "8 x 20 bits (bits left over)": Layout((20,) * 8),
}
TEN_MILLION_LAYOUT = Layout((24,) * 3 + (23,) * 8)  # what the planner picks at 10 million hashes


def _bank(seed: int, n_random: int, n_clustered: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([random_hashes(rng, n_random), clustered_hashes(rng, n_clustered)])


def _queries(seed: int, bank: np.ndarray, n: int) -> np.ndarray:
    """Near copies of bank rows (0-40 bits away) and unrelated hashes."""
    rng = np.random.default_rng(seed + 1)
    near = flip_bits(rng, bank[rng.integers(0, len(bank), n)], 0, 40)
    return np.concatenate([near, random_hashes(rng, n // 4)])


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
@pytest.mark.parametrize("radius", [0, 12, 31, 45])
def test_search_equals_brute_force(layout_name: str, radius: int) -> None:
    bank = _bank(1, 3000, 3000)
    labels = np.arange(len(bank), dtype=np.int64) * 7 + 3
    queries = _queries(2, bank, 120)
    index = PDQIndex.build(labels, bank, layout=LAYOUTS[layout_name])
    expected = brute_force(bank, labels, queries, radius)
    assert as_sets(index.search(queries, radius), len(queries)) == expected
    assert sum(map(len, expected)) > 0


@pytest.mark.parametrize("layout_name", ["16 x 16 bits", "13 x 19-20 bits"])
def test_bucket_pairs_give_the_same_answers(layout_name: str) -> None:
    """The (first row, second row) pairs built for dense tables, including buckets of 3 or more."""
    bank = _bank(1, 3000, 6000)  # clusters make buckets of many rows
    labels = np.arange(len(bank), dtype=np.int64)
    queries = _queries(2, bank, 120)
    index = PDQIndex.build(labels, bank, layout=LAYOUTS[layout_name], pairs=True)
    main = index._snap.main
    assert main is not None and main.pairs is not None and (main.pairs[:, 1] == -2).any()
    for radius in (0, 31, 45):
        assert as_sets(index.search(queries, radius), len(queries)) == brute_force(bank, labels, queries, radius)


def test_the_ten_million_layout_is_exact() -> None:
    bank = _bank(1, 3000, 3000)
    labels = np.arange(len(bank), dtype=np.int64)
    queries = _queries(2, bank, 120)
    index = PDQIndex.build(labels, bank, layout=TEN_MILLION_LAYOUT)
    for radius in (0, 31):
        assert as_sets(index.search(queries, radius), len(queries)) == brute_force(bank, labels, queries, radius)


def test_planned_layouts_are_exact_on_a_larger_bank() -> None:
    bank = _bank(3, 60_000, 60_000)
    labels = np.arange(len(bank), dtype=np.int64)
    index = PDQIndex.build(labels, bank)
    assert index.stats()["layout"], "a bank of 120k hashes should get chunk tables"
    queries = _queries(4, bank, 150)
    assert as_sets(index.search(queries, 31), len(queries)) == brute_force(bank, labels, queries, 31)


def test_meta_haystack_and_needles() -> None:
    haystack = read_hashes("haystack.txt")
    needles = read_hashes("needles.txt")
    assert (len(haystack), len(needles)) == (1350, 100)
    codes = pdq_hashes_to_array(haystack)
    queries = pdq_hashes_to_array(needles)
    labels = np.arange(len(codes), dtype=np.int64)
    expected = brute_force(codes, labels, queries, 31)
    assert sum(map(len, expected)) > 0  # the needles do find hay
    for layout in (None, Layout((16,) * 16), Layout((20,) * 9 + (19,) * 4)):
        index = PDQIndex.build(labels, codes, layout=layout) if layout else PDQIndex.build(labels, haystack)
        assert as_sets(index.search(needles, 31), len(needles)) == expected


def test_results_are_nearest_first_with_one_row_per_label() -> None:
    rng = np.random.default_rng(5)
    base = random_hashes(rng, 1)
    near = flip_bits(rng, np.repeat(base, 30, axis=0), 0, 30)
    labels = np.repeat(np.arange(10), 3)  # three hashes per label, as the frames of one video
    index = PDQIndex.build(labels, near, layout=Layout((16,) * 16))
    found = index.search(base, 31).for_query(0)
    distances = hamming(near, base)
    expected = {}
    for label, d in zip(labels.tolist(), distances.tolist()):
        if d <= 31:
            expected[label] = min(d, expected.get(label, 999))
    assert dict(found) == expected
    assert len(found) == len(expected)
    assert [d for _, d in found] == sorted(d for _, d in found)


def test_queries_as_hex_bytes_or_arrays_agree() -> None:
    bank = _bank(6, 500, 500)
    index = PDQIndex.build(np.arange(len(bank)), bank)
    queries = bank[:20]
    by_array = as_sets(index.search(queries), 20)
    assert as_sets(index.search(to_hex(queries)), 20) == by_array
    assert as_sets(index.search([bytes(q) for q in queries]), 20) == by_array
    assert set(index.search_one(to_hex(queries[:1])[0])) == by_array[0]


def test_invalid_hashes_are_refused() -> None:
    index = PDQIndex()
    with pytest.raises(ValueError, match="pdq hash must be 64 hex characters, got 63"):
        index.add([1], ["a" * 63])
    with pytest.raises(ValueError, match="radius must be 0 to 256"):
        index.search(["a" * 64], 300)


@pytest.mark.parametrize(("background", "pairs"), [(False, False), (True, None), (True, True)])
def test_additions_and_removals_are_visible_to_the_next_search(background: bool, pairs: bool | None) -> None:
    bank = _bank(7, 8000, 8000)
    labels = np.arange(len(bank), dtype=np.int64)
    index = PDQIndex.build(labels, bank, delta_limit=500, background_compaction=background, pairs=pairs)
    rng = np.random.default_rng(8)
    fresh = random_hashes(rng, 2000)
    fresh_labels = np.arange(10**6, 10**6 + 2000)
    alive = np.ones(len(bank) + len(fresh), dtype=bool)
    all_codes = np.concatenate([bank, fresh])
    all_labels = np.concatenate([labels, fresh_labels])
    queries = np.concatenate([_queries(9, bank, 40), flip_bits(rng, fresh[::50], 0, 20)])
    for step in range(10):  # several compactions happen along the way
        lo, hi = step * 200, (step + 1) * 200
        index.add(fresh_labels[lo:hi], fresh[lo:hi])
        gone = labels[step * 400 : step * 400 + 150]
        index.remove(gone)
        alive[step * 400 : step * 400 + 150] = False
        shown = alive.copy()
        shown[len(bank) + hi :] = False  # not added yet
        assert as_sets(index.search(queries, 31), len(queries)) == brute_force(
            all_codes, all_labels, queries, 31, shown
        ), f"step {step}"
    index.wait_for_compaction()
    assert index.compactions >= 2
    index.compact()
    stats = index.stats()
    assert stats["delta_rows"] == 0 and stats["main_dead"] == 0
    assert len(index) == int(alive.sum())
    assert as_sets(index.search(queries, 31), len(queries)) == brute_force(all_codes, all_labels, queries, 31, alive)


@pytest.mark.parametrize("layout_name", ["16 x 16 bits", "13 x 19-20 bits"])
def test_merged_rows_are_found_in_every_bucket_the_first_and_last_included(layout_name: str) -> None:
    """A merge that keeps every row appends the new ones to each table's buckets: the hashes found afterwards
    are those brute force finds, merge after merge, for new rows whose chunks are all zeros or all ones (the
    first and last bucket of every table), copies of rows already held (a bucket that grows) and new ones."""
    rng = np.random.default_rng(40)
    bank = _bank(41, 3000, 1000)
    index = PDQIndex.build(np.arange(len(bank)), bank, layout=LAYOUTS[layout_name], delta_limit=300,
                           background_compaction=False)
    held_codes, held_labels = [bank], [np.arange(len(bank))]
    edges = np.stack([np.zeros(32, dtype=np.uint8), np.full(32, 255, dtype=np.uint8)])
    for step in range(4):
        block = np.concatenate([edges, bank[rng.integers(0, len(bank), 100)], random_hashes(rng, 200)])
        labels = np.arange(len(block)) + 10_000 * (step + 1)
        index.add(labels, block)
        held_codes.append(block)
        held_labels.append(labels)
        assert index.stats()["delta_rows"] == 0  # merged: 302 rows reach the delta's limit
        codes, all_labels = np.concatenate(held_codes), np.concatenate(held_labels)
        queries = np.concatenate([edges, flip_bits(rng, block[2::20], 0, 31), _queries(42 + step, bank, 20)])
        assert as_sets(index.search(queries, 31), len(queries)) == brute_force(codes, all_labels, queries, 31)
    assert index.compactions == 4


def test_remove_then_add_again_and_missing_labels() -> None:
    bank = _bank(10, 2000, 0)
    index = PDQIndex.build(np.arange(2000), bank)
    assert index.remove([5, 5, 99999]) == 1
    assert 5 not in dict(index.search_one(bytes(bank[5]), 0))
    index.add([5], bank[5:6])
    assert dict(index.search_one(bytes(bank[5]), 0))[5] == 0
    assert index.remove([424242]) == 0


def test_removals_while_a_compaction_runs_are_not_lost() -> None:
    bank = _bank(11, 20000, 20000)
    labels = np.arange(len(bank), dtype=np.int64)
    index = PDQIndex.build(labels, bank, delta_limit=10**9)
    rng = np.random.default_rng(12)
    extra = random_hashes(rng, 3000)
    index.add(np.arange(10**6, 10**6 + 3000), extra)
    worker = threading.Thread(target=index.compact)
    worker.start()
    removed = labels[:3000]
    for chunk in np.array_split(removed, 30):  # interleave with the compaction
        index.remove(chunk)
    index.add(np.arange(2 * 10**6, 2 * 10**6 + 10), extra[:10])
    worker.join()
    queries = bank[:3000:50]
    found = as_sets(index.search(queries, 0), len(queries))
    assert all(not any(label in removed for label, _ in f) for f in found)
    assert set(index.search_one(bytes(extra[3]), 0)) == {(10**6 + 3, 0), (2 * 10**6 + 3, 0)}
    assert len(index) == len(bank) - 3000 + 3000 + 10


def test_add_and_remove_take_effect_well_within_a_second_on_a_large_index() -> None:
    rng = np.random.default_rng(13)
    bank = random_hashes(rng, 300_000)
    index = PDQIndex.build(np.arange(len(bank)), bank)
    probe = random_hashes(rng, 1)
    started = time.perf_counter()
    index.add([777_777_777], probe)
    added = index.search(probe, 0).for_query(0)
    index.remove([777_777_777, 12])
    removed = index.search(np.concatenate([probe, bank[12:13]]), 0)
    elapsed = time.perf_counter() - started
    assert added == [(777_777_777, 0)]
    assert removed.for_query(0) == [] and removed.for_query(1) == []
    assert elapsed < 1.0


def test_concurrent_readers_with_one_writer() -> None:
    bank = _bank(14, 10000, 10000)
    labels = np.arange(len(bank), dtype=np.int64)
    index = PDQIndex.build(labels, bank, delta_limit=300)
    stable = bank[10000:10200]  # rows the writer never touches must always be found
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                result = index.search(stable, 0)
                for i in range(len(stable)):
                    if (10000 + i, 0) not in result.for_query(i):
                        raise AssertionError(f"row {10000 + i} went missing")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    rng = np.random.default_rng(15)
    for step in range(40):
        index.add(np.arange(10**7 + step * 50, 10**7 + (step + 1) * 50), random_hashes(rng, 50))
        index.remove(labels[step * 100 : (step + 1) * 100])
    stop.set()
    for t in readers:
        t.join()
    index.wait_for_compaction()
    assert not errors, errors[0]
    assert len(index) == len(bank) - 4000 + 2000


def test_planner_prefers_tables_for_big_banks_and_brute_force_for_tiny_ones() -> None:
    assert plan_layout(500).widths == ()
    big = plan_layout(10_000_000)
    assert sum(big.widths) <= 256 and big.tables >= 8
    radii = big.chunk_radii(31)
    assert sum(t + 1 for t in radii) >= 32  # the pigeonhole condition that makes the search exact
    assert big.table_bytes(10_000_000) <= 200 * 10_000_000


def test_wide_radius_is_exact_too() -> None:
    bank = _bank(16, 2000, 2000)
    labels = np.arange(len(bank), dtype=np.int64)
    queries = _queries(17, bank, 40)
    index = PDQIndex.build(labels, bank, layout=Layout((16,) * 16))
    assert index.stats()["layout"] == [16] * 16
    expected = brute_force(bank, labels, queries, 90)
    assert as_sets(index.search(queries, 90), len(queries)) == expected
    assert sum(map(len, expected)) > len(queries)


def test_waiting_for_a_compaction_whose_thread_is_not_started_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    """wait_for_compaction never meets a compaction thread that exists but has not started.

    The compaction thread's start() is held back until a second thread has called
    wait_for_compaction, so the window in which CI met "cannot join thread before it is started"
    under load is open every time.
    """
    real_start = threading.Thread.start
    starting = threading.Event()
    go_on = threading.Event()

    def slow_start(thread: threading.Thread) -> None:
        if thread.name == "pdq-index-compaction" and not go_on.is_set():
            starting.set()
            go_on.wait(5)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", slow_start)
    bank = _bank(21, 600, 0)
    index = PDQIndex.build(np.arange(600), bank, delta_limit=100)
    errors: list[BaseException] = []

    def catching(work) -> threading.Thread:  # type: ignore[no-untyped-def]
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    extra = random_hashes(np.random.default_rng(22), 100)
    writer = catching(lambda: index.add(np.arange(10**6, 10**6 + 100), extra))
    assert starting.wait(5), "the writer did not start a compaction"
    waiter = catching(index.wait_for_compaction)
    waiter.join(0.5)  # without the fix it has already failed; with it, it waits for the compaction
    go_on.set()
    writer.join(5)
    waiter.join(5)
    assert not errors, errors[0]
    assert not waiter.is_alive()
    assert index.compactions == 1  # it returned only once the compaction it saw had finished
    assert index.stats()["delta_rows"] == 0
    assert index.search(extra[:5], 0).for_query(0) == [(10**6, 0)]


def test_a_removal_during_a_compaction_never_misaligns_hashes_and_labels() -> None:
    """The compaction reads a delta's alive flags once: a removal landing between its reads of the
    codes and of the labels (the writer does not wait for the compaction) cannot shift the labels."""
    from tipline.matching import pdq_index

    codes = random_hashes(np.random.default_rng(23), 50)
    labels = np.arange(100, 150, dtype=np.int64)
    alive = np.ones(50, dtype=bool)
    alive[3] = False

    class RemovedMeanwhile(np.ndarray):
        """Codes whose masking is followed by a concurrent remove() of label 140."""

        def __getitem__(self, key):  # type: ignore[no-untyped-def]
            out = np.asarray(self)[key]
            alive[40] = False
            return out

    delta = pdq_index._Flat(codes.view(RemovedMeanwhile), labels, alive)
    index = PDQIndex(background_compaction=False)
    main = index._build_main(None, [delta])
    assert len(main.codes) == len(main.labels) == 49  # label 103 was dead; 140 is replayed later
    for row in (0, 10, 45):
        label = 100 + row
        assert index._search_main(main, codes[row : row + 1], 0)[1].tolist() == [label]


@pytest.mark.parametrize("radius", [0, 31, 255, 256])
@pytest.mark.parametrize("n_queries", [1, 7])
def test_the_delta_is_searched_exactly(radius: int, n_queries: int) -> None:
    """Hashes added after the build are searched word by word (four popcounts summed in one byte, which
    wraps to 0 at distance 256): as brute force finds them, a hash's complement included."""
    main = _bank(20, 500, 500)
    added = _bank(21, 800, 800)
    queries = _queries(22, added, n_queries)[:n_queries]
    added[:n_queries] = ~queries  # every bit differs: distance 256
    index = PDQIndex.build(np.arange(len(main)), main, delta_limit=10**6)
    labels = np.arange(len(added), dtype=np.int64) + 10_000
    index.add(labels[:900], added[:900])
    index.add(labels[900:], added[900:])  # a second block, appended to the same delta
    assert index.stats()["delta_rows"] == len(added)
    expected = [a | b for a, b in zip(brute_force(main, np.arange(len(main)), queries, radius),
                                      brute_force(added, labels, queries, radius), strict=True)]
    assert as_sets(index.search(queries, radius), len(queries)) == expected
    for q, found in enumerate(expected):  # each query's complement: found at 256 only, at distance 256
        assert ((int(labels[q]), 256) in found) == (radius == 256)


def _flipped_in(code: np.ndarray, byte_range: range, count: int, rng: np.random.Generator) -> np.ndarray:
    """`code` with `count` bits flipped, all within the bytes of `byte_range`."""
    bits = np.unpackbits(code.copy())
    positions = rng.choice(np.arange(8 * byte_range.start, 8 * byte_range.stop), size=count, replace=False)
    bits[positions] ^= 1
    return np.packbits(bits)


@pytest.mark.parametrize("n_queries", [1, 5])
def test_the_delta_misses_nothing_whose_differences_lie_in_one_half(n_queries: int) -> None:
    """The delta is searched half a hash first (its first 16 bytes), then in full: a hash whose 31 differing
    bits all lie in either half is found at radius 31, as is one with 16 and 15 split between the halves;
    32 differing bits, however split, are not."""
    rng = np.random.default_rng(30)
    queries = random_hashes(rng, n_queries)
    first, second = range(0, 16), range(16, 32)
    cases = [  # (bits flipped in the first half, in the second, found at 31)
        (31, 0, True), (0, 31, True), (16, 15, True), (1, 30, True), (0, 0, True),
        (32, 0, False), (0, 32, False), (16, 16, False), (31, 1, False), (1, 31, False)]
    added, labels, expected = [], [], [set() for _ in range(n_queries)]
    for q in range(n_queries):
        for c, (in_first, in_second, found) in enumerate(cases):
            code = _flipped_in(_flipped_in(queries[q], first, in_first, rng), second, in_second, rng)
            label = 1000 * q + c
            added.append(code)
            labels.append(label)
            if found:
                expected[q].add((label, in_first + in_second))
    index = PDQIndex.build([1], random_hashes(rng, 1), delta_limit=10**6)  # the main holds one unrelated hash
    filler = random_hashes(rng, 3000)  # unrelated rows around them (none within 31 of a query: about 2^-150)
    index.add(np.arange(len(filler)) + 10**6, filler)
    index.add(labels, np.array(added))
    assert index.stats()["delta_rows"] == len(filler) + len(added)
    assert as_sets(index.search(queries, 31), n_queries) == expected
    for q in range(n_queries):  # one query at a time, as a lookup of one image sends it
        assert as_sets(index.search(queries[q : q + 1], 31), 1) == [expected[q]]


def test_a_big_main_segment_waits_for_a_bigger_delta() -> None:
    """A merge costs O(main size): the delta of a million-hash index gathers a 64th of it (at most 16,384)
    before it is merged, a small index's delta_limit rows."""
    index = PDQIndex(delta_limit=4096)
    assert index.merge_at(0) == index.merge_at(100_000) == 4096
    assert index.merge_at(1_000_000) == 15_625
    assert index.merge_at(10_000_000) == 16_384
