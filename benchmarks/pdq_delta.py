"""What the PDQ index's delta costs while a bank grows: searching it, and merging it into the main segment.

Usage:
    .venv/bin/python benchmarks/pdq_delta.py                  # main segments of 100,000 and 1,000,000 hashes
    .venv/bin/python benchmarks/pdq_delta.py --main 100000,300000,1100000   # the exchange benchmark's sizes
    .venv/bin/python benchmarks/pdq_delta.py --main 1000000 --json

1. CPU per search of the delta (1 and 8 query hashes, radius 31) at 1,024 to 16,384 rows: the index's
   numpy search (the first half of each hash compared, the few rows within the radius there in full) against
   two baselines: main at f5c03e2's (the four words' popcounts summed over every row) and main at ecae649's
   (XOR of (n, 4) rows, popcount, sum across each row).
2. CPU of merging a delta into a main segment of --main hashes, at 4,096 rows (the old merge point) and at
   `PDQIndex.merge_at(main)` rows (the new one), and what that comes to per new hash.
3. CPU of one query (radius 31, as one image's lookup sends it) against the main segment alone at each --main
   size: how a lookup's cost grows with the bank (the layout widens its chunks, and probes more keys).

CPU is time.process_time() (all threads: a merge spreads over them), beside wall time, best of --rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from tipline.matching.pdq_index import PDQIndex, _columns, _range_search_flat

RADIUS = 31


def baseline_flat(queries: np.ndarray, codes: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The delta search before this change (main at ecae649)."""
    n, nq = len(codes), len(queries)
    words = np.ascontiguousarray(codes).view(np.uint64).reshape(n, 4)
    query_words = np.ascontiguousarray(queries).view(np.uint64).reshape(nq, 4)
    distances = np.bitwise_count(words[None, :, :] ^ query_words[:, None, :]).sum(axis=2, dtype=np.int32)
    qidx, rows = np.nonzero(distances <= radius)
    return qidx, rows, distances[qidx, rows]


def four_words(queries: np.ndarray, columns: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The delta search of main at f5c03e2: all four words' popcounts summed over every row."""
    query_words = np.ascontiguousarray(queries).view(np.uint64).reshape(-1, 4)
    sums = np.bitwise_count(columns[0][None, :] ^ query_words[:, 0:1])
    for k in (1, 2, 3):
        sums += np.bitwise_count(columns[k][None, :] ^ query_words[:, k : k + 1])
    qidx, rows = np.nonzero(sums <= radius)
    return qidx, rows


def cpu_per_call(fn: object, rounds: int, calls: int) -> tuple[float, float]:
    """Best (CPU µs, wall µs) per call over `rounds` rounds of `calls` calls."""
    best_cpu = best_wall = float("inf")
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(calls):
            fn()  # type: ignore[operator]
        best_cpu = min(best_cpu, (time.process_time() - cpu) / calls * 1e6)
        best_wall = min(best_wall, (time.perf_counter() - wall) / calls * 1e6)
    return best_cpu, best_wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--main", default="100000,1000000", help="main segment sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    out: dict[str, object] = {"load_average": f"{os.getloadavg()[0]:.2f}"}
    searches = []
    for n in (1024, 4096, 16384):
        codes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
        columns = _columns(codes)
        for nq in (1, 8):
            queries = rng.integers(0, 256, size=(nq, 32), dtype=np.uint8)
            new = cpu_per_call(lambda q=queries, c=codes, k=columns: _range_search_flat(q, c, RADIUS, k),
                               args.rounds, 300)
            old = cpu_per_call(lambda q=queries, c=codes: baseline_flat(q, c, RADIUS), args.rounds, 300)
            four = cpu_per_call(lambda q=queries, k=columns: four_words(q, k, RADIUS), args.rounds, 300)
            searches.append({"delta_rows": n, "queries": nq, "cpu_us": round(new[0], 1), "wall_us": round(new[1], 1),
                             "four_words_cpu_us": round(four[0], 1), "baseline_cpu_us": round(old[0], 1),
                             "ratio_four_words": round(four[0] / new[0], 2), "ratio": round(old[0] / new[0], 2)})
    out["delta_search"] = searches
    merges, growth = [], []
    for size in (int(s) for s in args.main.split(",")):
        codes = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
        index = PDQIndex.build(np.arange(size), codes, background_compaction=False)
        queries = [codes[i : i + 1].copy() for i in range(0, 700, 7)]  # each finds its own row
        turn = iter(range(10**9))
        cpu, wall = cpu_per_call(lambda x=index, q=queries, t=turn: x.search(q[next(t) % len(q)], RADIUS),
                                 args.rounds, 500)
        growth.append({"main": size, "layout": index.stats()["layout"], "search_cpu_us": round(cpu, 1),
                       "search_wall_us": round(wall, 1)})
        del index
        for delta in sorted({4096, PDQIndex(delta_limit=4096).merge_at(size)}):
            best_cpu = best_wall = float("inf")
            for _ in range(args.rounds):
                index = PDQIndex.build(np.arange(size), codes, background_compaction=False, delta_limit=10**9)
                index.add(np.arange(size, size + delta), rng.integers(0, 256, size=(delta, 32), dtype=np.uint8))
                cpu, wall = time.process_time(), time.perf_counter()
                index._compacting = True
                index._compact_now()
                best_cpu = min(best_cpu, time.process_time() - cpu)
                best_wall = min(best_wall, time.perf_counter() - wall)
            merges.append({"main": size, "delta_rows": delta, "merge_cpu_s": round(best_cpu, 3),
                           "merge_wall_s": round(best_wall, 3),
                           "merge_cpu_us_per_new_hash": round(best_cpu / delta * 1e6, 1)})
    out["merges"] = merges
    out["main_search"] = growth
    out["load_average_after"] = f"{os.getloadavg()[0]:.2f}"
    if args.json:
        print(json.dumps(out))
    else:
        print(f"load average {out['load_average']} / {out['load_average_after']}")
        print("delta search (radius 31): rows queries  CPU µs  (four words f5c03e2, ratio)  (baseline ecae649, ratio)")
        for s in searches:
            print(f"  {s['delta_rows']:>6} {s['queries']:>3}  {s['cpu_us']:>8}  ({s['four_words_cpu_us']:>8}"
                  f" {s['ratio_four_words']}x)  ({s['baseline_cpu_us']:>8} {s['ratio']}x)")
        print("merge into main: main  delta  CPU s  wall s  CPU µs per new hash")
        for m in merges:
            print(f"  {m['main']:>9} {m['delta_rows']:>6}  {m['merge_cpu_s']:>6}  {m['merge_wall_s']:>6}"
                  f"  {m['merge_cpu_us_per_new_hash']}")
        print("one query against the main segment: main  CPU µs  layout")
        for g in growth:
            print(f"  {g['main']:>9}  {g['search_cpu_us']:>7}  {g['layout']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
