"""Stream helpers: a borrowed view of a caller's stream that third-party decoders can read and seek but not close."""

from __future__ import annotations

from typing import Any, BinaryIO


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
