"""How the PDQ index cuts the 256 bits of a hash into direct-addressed chunk tables: the layout, the
per-chunk search radii that keep a range search exact (pigeonhole), and the cost model that picks the
cheapest layout fitting a memory budget (measured constants; docs/matching.md). Pure arithmetic, no
arrays: pdq_index.py builds and searches the tables a layout describes."""

from __future__ import annotations

from dataclasses import dataclass

from tipline.matching.signals import PDQ_BITS, PDQ_DEFAULT_THRESHOLD

QUERY_BATCH = 128
"""Queries searched together: large enough to amortise numpy's per-call cost, small enough to keep
the temporary arrays (batch x probes) inside the CPU caches."""

# Cost model (nanoseconds), measured on a 2-core AMD EPYC VM at 10 million hashes.
_NS_PER_PROBE_CACHED = 8.0
_NS_PER_PROBE_DRAM = 26.0
_NS_PER_CANDIDATE = 55.0
NS_PER_FLAT_COMPARISON = 1.7
_NS_QUERY_OVERHEAD = 40_000.0 / QUERY_BATCH
_MAX_CHUNK_BITS = 26


@dataclass(frozen=True)
class Layout:
    """How the 256 bits are cut into direct-addressed chunk tables (no tables: brute force only)."""

    widths: tuple[int, ...]

    @property
    def tables(self) -> int:
        return len(self.widths)

    @property
    def offset_entries(self) -> int:
        return sum((1 << b) + 1 for b in self.widths)

    def chunk_radii(self, radius: int) -> tuple[int, ...]:
        """Per-chunk search radii t_j with sum(t_j + 1) >= radius + 1, the wider chunks taking more.

        A radius of -1 means the chunk is not probed at all (enough other chunks cover the radius).
        """
        m = len(self.widths)
        need = radius + 1
        base, extra = divmod(need, m)
        by_width = sorted(range(m), key=lambda j: -self.widths[j])
        radii = [base - 1] * m
        for j in by_width[:extra]:
            radii[j] += 1
        return tuple(radii)

    def probes(self, radius: int) -> int:
        return sum(_ball(b, t) for b, t in zip(self.widths, self.chunk_radii(radius)))

    def candidates(self, n: int, radius: int) -> float:
        """Expected candidates per query for uniformly random hashes."""
        return n * sum(_ball(b, t) / (1 << b) for b, t in zip(self.widths, self.chunk_radii(radius)))

    def cost_ns(self, n: int, radius: int) -> float:
        """Modelled nanoseconds per query (probes + candidate checks)."""
        if not self.widths:
            return NS_PER_FLAT_COMPARISON * n
        per_probe = (
            _NS_PER_PROBE_CACHED if self.offset_entries * 4 <= 16 << 20 else _NS_PER_PROBE_DRAM
        )
        return (
            _NS_QUERY_OVERHEAD
            + per_probe * self.probes(radius)
            + _NS_PER_CANDIDATE * self.candidates(n, radius)
        )

    def table_bytes(self, n: int) -> int:
        """Memory of the chunk tables for n hashes (offsets + sorted row numbers)."""
        if not self.widths:
            return 0
        offset_bytes = 4 if self.tables * n < 2**32 else 8
        return self.offset_entries * offset_bytes + self.tables * n * 4


def _ball(bits: int, radius: int) -> int:
    """Keys within `radius` bit flips of a `bits`-bit key."""
    if radius < 0:
        return 0
    from math import comb

    return sum(comb(bits, k) for k in range(min(radius, bits) + 1))


def plan_layout(n: int, radius: int = PDQ_DEFAULT_THRESHOLD, bytes_per_hash: int = 200) -> Layout:
    """The cheapest layout (by the cost model) whose tables fit in `bytes_per_hash` x n bytes."""
    best = Layout(())
    best_cost = best.cost_ns(n, radius)
    budget = max(bytes_per_hash * n, 16 << 20)
    for m in range(8, 33):
        width, extra = divmod(PDQ_BITS, m)
        if width + (1 if extra else 0) > _MAX_CHUNK_BITS:
            continue
        layout = Layout(tuple([width + 1] * extra + [width] * (m - extra)))
        if layout.table_bytes(n) > budget:
            continue
        cost = layout.cost_ns(n, radius)
        if cost < best_cost:
            best, best_cost = layout, cost
    return best
