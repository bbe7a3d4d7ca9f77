"""PDQ radius-31 lookups: tipline's PDQIndex against python-threatexchange's PDQIndex on the same hashes.

Usage:
    .venv/bin/python benchmarks/matching.py                       # 100k and 1M hashes
    .venv/bin/python benchmarks/matching.py --sizes 1000000,10000000

For each bank size it generates synthetic PDQ hashes (clusters of near-duplicates, as real hash sets
have, plus random entries) and a query set (exact copies, near copies at 1-40 bits, and unrelated
hashes). Each implementation runs in its own child process that regenerates the same data from the
seed, so the memory figure is the resident memory its index holds after the input was freed
(RSS after minus RSS before). Ground truth is an exact brute-force range search (faiss
IndexBinaryFlat, a separate code path from both indexes); recall is the share of true
(query, hash) pairs within radius that an index returned. Both indexes stay built, each in its own
process, while timing rounds of at least two seconds alternate between them (best of three per
mode), so that the background load of a shared machine falls on both alike.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import multiprocessing as mp
import os
import resource
import sys
import time
from typing import Any

import numpy as np

RADIUS = 31


# --- synthetic data -----------------------------------------------------------------------------


def synthetic_bank(n: int, seed: int, cluster_fraction: float = 0.5) -> np.ndarray:
    """(n, 32) uint8 PDQ hashes: random entries and clusters of near-duplicates (1-24 bits apart).

    Cluster sizes are geometric with mean 20 (most small, a few large), like the near-copies of
    one image that accumulate in a real hash list; rows are shuffled.
    """
    rng = np.random.default_rng(seed)
    n_clustered = int(n * cluster_fraction)
    out = np.empty((n, 32), dtype=np.uint8)
    out[n_clustered:] = rng.integers(0, 256, (n - n_clustered, 32), dtype=np.uint8)
    sizes = []
    total = 0
    while total < n_clustered:
        size = min(int(rng.geometric(1 / 20)), n_clustered - total)
        sizes.append(size)
        total += size
    centers = rng.integers(0, 256, (len(sizes), 32), dtype=np.uint8)
    out[:n_clustered] = np.repeat(centers, sizes, axis=0)
    out[:n_clustered] ^= _random_flips(rng, n_clustered, 0, 24)
    return out[rng.permutation(n)]


def _random_flips(rng: np.random.Generator, count: int, low: int, high: int) -> np.ndarray:
    """(count, 32) uint8 masks with a uniform number of set bits in [low, high] each."""
    want = rng.integers(low, high + 1, count)
    out = np.empty((count, 32), dtype=np.uint8)
    block = 1 << 16
    for start in range(0, count, block):
        stop = min(start + block, count)
        order = rng.permuted(np.tile(np.arange(256, dtype=np.uint8), (stop - start, 1)), axis=1)[:, :high]
        chosen = np.arange(high)[None, :] < want[start:stop, None]  # the first `want` bits of each order
        bits = np.zeros((stop - start, 256), dtype=np.uint8)
        rows = np.repeat(np.arange(stop - start), want[start:stop])
        bits[rows, order[chosen]] = 1
        out[start:stop] = np.packbits(bits, axis=1)
    return out


def synthetic_queries(bank: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Queries: 10% exact copies of bank hashes, 40% copies with 1-40 bits flipped, 50% unrelated."""
    rng = np.random.default_rng(seed + 1)
    exact = count // 10
    near = count * 4 // 10
    picks = rng.integers(0, len(bank), exact + near)
    queries = np.empty((count, 32), dtype=np.uint8)
    queries[: exact + near] = bank[picks]
    queries[exact : exact + near] ^= _random_flips(rng, near, 1, 40)
    queries[exact + near :] = rng.integers(0, 256, (count - exact - near, 32), dtype=np.uint8)
    return queries[rng.permutation(count)]


def brute_force(bank: np.ndarray, queries: np.ndarray, radius: int) -> set[tuple[int, int]]:
    """Every (query, row) pair within radius, by exhaustive search (faiss IndexBinaryFlat)."""
    import faiss

    flat = faiss.IndexBinaryFlat(256)
    flat.add(bank)
    lims, _, rows = flat.range_search(queries, radius + 1)
    pairs = set()
    for q in range(len(queries)):
        for row in rows[lims[q] : lims[q + 1]]:
            pairs.add((q, int(row)))
    return pairs


# --- measurement --------------------------------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Runner:
    """One index in a child process: it builds, then answers timing commands from the parent."""

    def __init__(self, result: dict[str, Any], *, batch: Any, one: Any, pairs: Any, queries: np.ndarray,
                 recall_queries: np.ndarray, single: int) -> None:
        self.result = result
        self.batch, self.one, self.pairs = batch, one, pairs
        self.hex_queries = _hex(queries)
        self.singles = self.hex_queries[:single]
        self.recall_hexes = _hex(recall_queries)
        for h in self.singles[:20]:
            one(h)  # warm up

    def one_at_a_time(self) -> int:
        for h in self.singles:
            self.one(h)
        return len(self.singles)

    def as_batch(self) -> int:
        self.batch(self.hex_queries)
        return len(self.hex_queries)


def _build_tipline(holder: list[np.ndarray], queries: np.ndarray, recall_queries: np.ndarray, single: int,
                   before: int) -> _Runner:
    from tipline.matching.pdq_index import PDQIndex

    bank = holder.pop()
    labels = np.arange(len(bank), dtype=np.int64)
    started = time.perf_counter()
    index = PDQIndex.build(labels, bank)  # the index keeps the array: nothing else holds it now
    build = time.perf_counter() - started
    del bank, labels
    result: dict[str, Any] = {"build_s": build, "layout": index.stats()["layout"]}
    result["memory_bytes"] = _index_memory(before, queries, recall_queries)
    result["index_bytes"] = index.memory_bytes()
    return _Runner(
        result,
        batch=lambda hexes: index.search(hexes, RADIUS),
        one=lambda h: index.search_one(h, RADIUS),
        pairs=lambda hexes: _pairs_tipline(index.search(hexes, RADIUS)),
        queries=queries,
        recall_queries=recall_queries,
        single=single,
    )


def _index_memory(before: int, *arrays: np.ndarray) -> int:
    """Resident memory now, less what the process held before the bank existed and the query arrays.

    glibc keeps freed build temporaries resident unless asked to return them, for either index, so
    both are measured after malloc_trim.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    return _rss_bytes() - before - sum(a.nbytes for a in arrays)


def _pairs_tipline(result: Any) -> set[tuple[int, int]]:
    pairs = set()
    for q in range(len(result)):
        for label, _ in result.for_query(q):
            pairs.add((q, label))
    return pairs


def _build_threatexchange(holder: list[np.ndarray], queries: np.ndarray, recall_queries: np.ndarray, single: int,
                          before: int) -> _Runner:
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex as TXPDQIndex

    bank = holder.pop()
    hexes = bank.tobytes().hex()
    n = len(bank)
    del bank
    entries = ((hexes[i * 64 : (i + 1) * 64], i) for i in range(n))  # (signal, entry) as HMA passes them
    started = time.perf_counter()
    index = TXPDQIndex(entries)
    build = time.perf_counter() - started
    del hexes, entries
    result: dict[str, Any] = {"build_s": build}
    result["memory_bytes"] = _index_memory(before, queries, recall_queries)

    def batch(hex_queries: list[str]) -> Any:
        # PDQIndex.query takes one hash; its faiss wrapper takes many (the batch API HMA could use)
        return index.index.search_with_distance_in_result(hex_queries, index.get_match_threshold())

    def pairs(hex_queries: list[str]) -> set[tuple[int, int]]:
        found = set()
        for q, h in enumerate(hex_queries):
            for match in index.query(h):
                found.add((q, int(match.metadata)))
        return found

    return _Runner(result, batch=batch, one=index.query, pairs=pairs, queries=queries,
                   recall_queries=recall_queries, single=single)


def _rate(run: Any, min_seconds: float) -> float:
    """Queries per second of `run`, repeated for at least min_seconds."""
    done = 0
    started = time.perf_counter()
    while True:
        done += run()
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return done / elapsed


def _hex(codes: np.ndarray) -> list[str]:
    text = codes.tobytes().hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def _child(which: str, n: int, seed: int, n_queries: int, n_recall: int, single: int, cluster_fraction: float,
           conn: Any) -> None:
    try:
        import faiss  # noqa: F401  (libraries load before the baseline reading)

        if which == "tipline":
            import tipline.matching.pdq_index  # noqa: F401
        else:
            import threatexchange.signal_type.pdq.pdq_index  # noqa: F401
        before = _index_memory(0)
        bank = synthetic_bank(n, seed, cluster_fraction)
        queries = synthetic_queries(bank, n_queries, seed)
        recall_queries = synthetic_queries(bank, n_recall, seed + 7)
        gc.collect()
        build = _build_tipline if which == "tipline" else _build_threatexchange
        holder = [bank]
        del bank
        runner = build(holder, queries, recall_queries, single, before)
        runner.result["peak_bytes"] = _peak_rss_bytes() - before
        conn.send(runner.result)
    except BaseException as exc:  # report to the parent rather than dying silently
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
        conn.close()
        return
    while True:  # the parent alternates timing rounds between the indexes
        command, argument = conn.recv()
        if command == "single":
            conn.send(_rate(runner.one_at_a_time, argument))
        elif command == "batch":
            conn.send(_rate(runner.as_batch, argument))
        elif command == "pairs":
            conn.send(runner.pairs(runner.recall_hexes))
        else:
            break
    conn.close()


def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== {n:,} hashes (radius {RADIUS}; {args.queries} batch queries, {args.single} one at a time)",
          flush=True)
    started = time.perf_counter()
    bank = synthetic_bank(n, args.seed, args.cluster_fraction)
    recall_queries = synthetic_queries(bank, args.recall_queries, args.seed + 7)
    truth = brute_force(bank, recall_queries, RADIUS)
    del bank
    print(f"   ground truth: {len(truth)} (query, hash) pairs within {RADIUS} for {args.recall_queries} "
          f"queries, by brute force in {time.perf_counter() - started:.1f} s", flush=True)
    impls = ["tipline"] + ([] if args.skip_threatexchange else ["threatexchange"])
    ctx = mp.get_context("spawn")  # not fork: faiss (OpenMP) hangs in a forked child
    children: dict[str, tuple[Any, Any]] = {}
    results: dict[str, dict[str, Any]] = {}
    try:
        # build one after the other; each child then holds its index, idle, while the other works
        for which in impls:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(which, n, args.seed, args.queries, args.recall_queries,
                                                    args.single, args.cluster_fraction, child))
            proc.start()
            child.close()
            res = parent.recv()
            if "error" in res:
                print(f"   {which}: failed: {res['error']}")
                proc.join()
                continue
            children[which] = (parent, proc)
            results[which] = res
        # timing rounds alternate between the indexes, so background load on this shared machine
        # falls on both alike; one at a time first (faiss' OpenMP threads spin after a batch)
        for mode in ("single", "batch"):
            for _ in range(args.rounds):
                for which, (conn, _) in children.items():
                    conn.send((mode, args.min_seconds))
                    rate = conn.recv()
                    results[which][f"{mode}_qps"] = max(results[which].get(f"{mode}_qps", 0.0), rate)
        for which, (conn, _) in children.items():
            conn.send(("pairs", None))
            found = conn.recv()
            res = results[which]
            res["recall"] = len(found & truth) / len(truth) if truth else 1.0
            res["false_positives"] = len(found - truth)
    finally:
        for conn, proc in children.values():
            try:
                conn.send(("exit", None))
            except OSError:
                pass
            proc.join()
    for which, res in results.items():
        if "recall" not in res:
            continue
        layout = (f"  (index arrays {res['index_bytes'] / 2**20:.0f} MiB, chunk widths {res['layout']})"
                  if "layout" in res else "")
        print(f"   {which:15s} build {res['build_s']:7.1f} s   memory {res['memory_bytes'] / 2**20:8.0f} MiB"
              f" (peak {res['peak_bytes'] / 2**20:6.0f})   batch {res['batch_qps']:9.0f} q/s"
              f"   one-at-a-time {res['single_qps']:8.0f} q/s   recall {res['recall']:.4f}"
              f"   false {res['false_positives']}{layout}", flush=True)
    if "recall" in results.get("tipline", {}) and "recall" in results.get("threatexchange", {}):
        ours, theirs = results["tipline"], results["threatexchange"]
        print(f"   ratio (tipline / threatexchange): batch {ours['batch_qps'] / theirs['batch_qps']:.1f}x,"
              f" one-at-a-time {ours['single_qps'] / theirs['single_qps']:.1f}x,"
              f" memory {ours['memory_bytes'] / theirs['memory_bytes']:.2f}x,"
              f" build {theirs['build_s'] / ours['build_s']:.1f}x faster", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated bank sizes")
    parser.add_argument("--queries", type=int, default=2000, help="queries in the batch run")
    parser.add_argument("--single", type=int, default=300, help="queries looked up one at a time")
    parser.add_argument("--recall-queries", type=int, default=300, help="queries checked against brute force")
    parser.add_argument("--cluster-fraction", type=float, default=0.5, help="share of hashes in clusters")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--skip-threatexchange", action="store_true", help="only run tipline's index")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds per mode; the best counts")
    parser.add_argument("--min-seconds", type=float, default=2.0, help="shortest timing round")
    args = parser.parse_args(argv)
    import faiss

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, faiss {faiss.__version__}, "
          f"{os.cpu_count()} CPUs, faiss threads {faiss.omp_get_max_threads()}", flush=True)
    if not args.skip_threatexchange:
        try:
            import threatexchange  # noqa: F401
        except ImportError:
            print("python-threatexchange is not installed: pip install 'tipline[bench]' (or --skip-threatexchange)")
            return 2
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        run_size(n, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
