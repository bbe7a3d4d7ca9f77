"""Synthetic PDQ hashes for the matching tests, and a brute-force reference that shares no code with the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data" / "matching"


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 32) uint8 uniformly random hashes."""
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def flip_bits(rng: np.random.Generator, codes: np.ndarray, low: int, high: int) -> np.ndarray:
    """Copies of `codes` with between low and high (inclusive) distinct bits flipped in each row."""
    bits = np.unpackbits(codes, axis=1)
    counts = rng.integers(low, high + 1, len(codes))
    order = rng.permuted(np.tile(np.arange(256), (len(codes), 1)), axis=1)  # a random bit order per row
    chosen = np.arange(256)[None, :] < counts[:, None]  # the first `count` bits of that order
    rows = np.repeat(np.arange(len(codes)), counts)
    bits[rows, order[chosen]] ^= 1
    return np.packbits(bits, axis=1)


def clustered_hashes(rng: np.random.Generator, n: int, cluster_size: int = 25, spread: int = 20) -> np.ndarray:
    """(n, 32) hashes in clusters of near-duplicates up to `spread` bits from their cluster's centre."""
    centres = random_hashes(rng, -(-n // cluster_size))
    members = np.repeat(centres, cluster_size, axis=0)[:n]
    return flip_bits(rng, members, 0, spread)


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit differences between rows of a and b (broadcast), counting each byte's bits by table."""
    return _BYTE_BITS[np.bitwise_xor(a, b)].sum(axis=-1)


def brute_force(
    codes: np.ndarray, labels: np.ndarray, queries: np.ndarray, radius: int, alive: np.ndarray | None = None
) -> list[set[tuple[int, int]]]:
    """For each query, {(label, distance)} of every live row within radius (nearest per label)."""
    results = []
    for query in queries:
        distances = hamming(codes, query[None, :])
        ok = distances <= radius
        if alive is not None:
            ok &= alive
        best: dict[int, int] = {}
        for label, distance in zip(labels[ok].tolist(), distances[ok].tolist()):
            best[label] = min(distance, best.get(label, 1 << 30))
        results.append(set(best.items()))
    return results


def as_sets(result: object, count: int) -> list[set[tuple[int, int]]]:
    """The (label, distance) sets of an index RangeResult."""
    return [set(result.for_query(i)) for i in range(count)]  # type: ignore[attr-defined]


def to_hex(codes: np.ndarray) -> list[str]:
    return [bytes(row).hex() for row in codes]


def read_hashes(name: str) -> list[str]:
    return [line.strip() for line in (DATA / name).read_text().splitlines() if line.strip()]
