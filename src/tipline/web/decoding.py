"""The web process's budget for decoding pictures and videos on request (the HMA hashing APIs and
previews): at most TIPLINE_DECODE_CONCURRENCY decodes at once, on that many threads of their own,
and no picture that needs more than TIPLINE_DECODE_MAX_PIXELS pixels in memory to decode. Six
concurrent `POST /h/hash` of an 86 KB PNG of 9,400 x 9,400 pixels took the server from 0.3 to
2.8 GB before (benchmarks/decode_memory.py). The pipeline's workers hash stored files under their
own limits (tipline.media.HashOptions).

Decodes run on their own few threads, not on the shared request thread pool: glibc gives each
thread its own malloc arena and keeps what a decode freed there, so decodes spread over forty
pool threads held forty arenas' worth of pixels even with only two running at a time."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from tipline.media import HashOptions

T = TypeVar("T")
WAITING_PER_SLOT = 8
"""Requests that may wait for a decode per slot; beyond that the answer is 503 (retry later)."""


class DecodeBusy(RuntimeError):
    """Too many decodes are waiting already."""


try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _libc.malloc_trim.argtypes = [ctypes.c_size_t]
    _LIBC: ctypes.CDLL | None = _libc
except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
    _LIBC = None


def _malloc_trim() -> None:
    """Give a decode's freed buffers back to the operating system (glibc keeps them otherwise:
    the server stayed at 2.4 GB after the burst)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


class DecodeBudget:
    def __init__(self, concurrency: int, max_pixels: int) -> None:
        self.concurrency = concurrency
        self.hash_options = HashOptions(max_decoded_pixels=max_pixels)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tipline-decode")
        self._lock = threading.Lock()
        self._queued = 0

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(*args)` on a decode thread; DecodeBusy when too many are waiting already."""
        with self._lock:
            if self._queued >= self.concurrency * (1 + WAITING_PER_SLOT):
                raise DecodeBusy("the server is busy decoding other uploads; try again in a few seconds")
            self._queued += 1
        try:
            return await asyncio.wrap_future(self._pool.submit(self._job, work, *args))
        finally:
            with self._lock:
                self._queued -= 1

    @staticmethod
    def _job(work: Callable[..., T], *args: Any) -> T:
        try:
            return work(*args)
        finally:
            _malloc_trim()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
