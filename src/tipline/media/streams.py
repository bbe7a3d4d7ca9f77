"""Stream helpers: a borrowed view of a caller's stream that third-party decoders can read and seek but not close."""

from __future__ import annotations

import io
from typing import Any, BinaryIO, cast


class BorrowedStream:
    """Forwards everything to the wrapped stream except close(): Pillow and PyAV close what they are given."""

    __slots__ = ("_raw",)

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)

    def close(self) -> None:
        """Leave the caller's stream open: its owner closes it."""

    def __enter__(self) -> BorrowedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class ChunkedPlaintextReader(io.RawIOBase):
    """A seekable, read-only view of plaintext kept as authenticated encrypted chunks of equal size.

    Subclasses open the file, set `_file`, `_chunk` (plaintext bytes per chunk) and `_size`, and
    implement `_plaintext_of(index)` (decrypt and authenticate chunk `index`). The last chunk read is
    cached, so reading forward costs one decryption per chunk.
    """

    _file: BinaryIO
    _chunk: int
    _size: int
    _pos: int = 0
    _cached_index: int = -1
    _cached: bytes = b""

    def _plaintext_of(self, index: int) -> bytes:
        raise NotImplementedError

    def _chunk_plaintext(self, index: int) -> bytes:
        if index != self._cached_index:
            self._cached = self._plaintext_of(index)
            self._cached_index = index
        return self._cached

    @property
    def size(self) -> int:
        """The plaintext size in bytes."""
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self.closed:
            raise ValueError("I/O operation on a closed reader")
        bases = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}
        if whence not in bases:
            raise ValueError(f"invalid whence {whence}")
        position = bases[whence] + offset
        if position < 0:
            raise ValueError("negative seek position")
        self._pos = position
        return position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # typeshed says Buffer; io hands it a writable bytearray or memoryview
        if self.closed:
            raise ValueError("I/O operation on a closed reader")
        view = memoryview(buffer).cast("B")
        written = 0
        while written < len(view) and self._pos < self._size:
            index = self._pos // self._chunk
            plaintext = self._chunk_plaintext(index)
            start = self._pos - index * self._chunk
            take = min(len(plaintext) - start, len(view) - written)
            view[written : written + take] = plaintext[start : start + take]
            written += take
            self._pos += take
        return written

    def readall(self) -> bytes:
        out = bytearray()
        while self._pos < self._size:
            index = self._pos // self._chunk
            plaintext = self._chunk_plaintext(index)
            start = self._pos - index * self._chunk
            out += plaintext[start:]
            self._pos += len(plaintext) - start
        return bytes(out)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
            self._cached = b""
        super().close()


def as_binary(reader: io.RawIOBase) -> BinaryIO:
    """A reader of this module (a seekable io.RawIOBase) where a binary file object is expected: it has
    every method such a caller uses (read, readinto, seek, tell, iteration, context management)."""
    return cast(BinaryIO, reader)
