"""Streaming crypto hashes: chunk by chunk equals all at once, checked against published test vectors."""

from __future__ import annotations

import io
import os

from tipline.media import StreamingHasher, hash_bytes, hash_stream
from tipline.media.crypto_hashes import hash_chunks

# FIPS 180 / RFC 1321 test vectors for "abc".
ABC = {
    "md5": "900150983cd24fb0d6963f7d28e17f72",
    "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
}


def test_published_vectors() -> None:
    result = hash_bytes(b"abc")
    assert (result.size, result.md5, result.sha1, result.sha256) == (3, ABC["md5"], ABC["sha1"], ABC["sha256"])


def test_chunked_updates_equal_one_update() -> None:
    hasher = StreamingHasher()
    for piece in (b"a", b"", memoryview(b"b"), bytearray(b"c")):
        hasher.update(piece)
    assert hasher.result() == hash_bytes(b"abc")
    assert hasher.size == 3


def test_streams_and_iterables() -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    whole = hash_bytes(data)
    assert hash_stream(io.BytesIO(data), chunk_size=65536) == whole
    assert hash_chunks(data[i : i + 1000] for i in range(0, len(data), 1000)) == whole
    assert whole.to_dict()["size"] == len(data)
