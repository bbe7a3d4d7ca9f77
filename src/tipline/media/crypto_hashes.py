"""Cryptographic hashes (MD5, SHA-1, SHA-256) and size, computed incrementally while a file streams in."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CryptoHashes:
    """The exact-match identity of a file: its size and three digests as lowercase hex."""

    size: int
    md5: str
    sha1: str
    sha256: str

    def to_dict(self) -> dict[str, int | str]:
        return {"size": self.size, "md5": self.md5, "sha1": self.sha1, "sha256": self.sha256}


class StreamingHasher:
    """Feed bytes chunk by chunk with update(); read the digests with result() at any time.

    The upload path calls update() on every chunk it receives (before or while encrypting it),
    so no second pass over the file is needed.
    """

    __slots__ = ("_md5", "_sha1", "_sha256", "_size")

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self._size = 0

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self._md5.update(chunk)
        self._sha1.update(chunk)
        self._sha256.update(chunk)
        self._size += len(chunk) if not isinstance(chunk, memoryview) else chunk.nbytes

    @property
    def size(self) -> int:
        return self._size

    def sha256_digest(self) -> bytes:
        """The raw 32-byte SHA-256 of everything fed so far."""
        return self._sha256.digest()

    def result(self) -> CryptoHashes:
        return CryptoHashes(
            size=self._size,
            md5=self._md5.hexdigest(),
            sha1=self._sha1.hexdigest(),
            sha256=self._sha256.hexdigest(),
        )


def hash_chunks(chunks: Iterable[bytes]) -> CryptoHashes:
    """Crypto hashes of an iterable of byte chunks."""
    hasher = StreamingHasher()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.result()


def hash_stream(stream: BinaryIO, chunk_size: int = READ_CHUNK) -> CryptoHashes:
    """Crypto hashes of a binary stream read from its current position to its end."""
    hasher = StreamingHasher()
    while chunk := stream.read(chunk_size):
        hasher.update(chunk)
    return hasher.result()


def hash_bytes(data: bytes | bytearray | memoryview) -> CryptoHashes:
    """Crypto hashes of bytes already in memory."""
    hasher = StreamingHasher()
    hasher.update(data)
    return hasher.result()
