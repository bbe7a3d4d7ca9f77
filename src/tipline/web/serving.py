"""How `tipline serve` runs uvicorn: which proxies may name the client's address, how large a
request's head may be before the server stops reading it, and how an answer goes out.

uvicorn's defaults are unsafe for tipline: it believes `X-Forwarded-For` from 127.0.0.1 (so any
local process could choose the address the login throttle and the audit trail see), and its
httptools parser reads a request head of any size (an 8 MB header was accepted). Here no proxy is
trusted unless TIPLINE_FORWARDED_ALLOW_IPS names it, and the head is limited to
TIPLINE_MAX_HEADER_BYTES while it is read (431), by both HTTP implementations.

uvicorn writes an answer's status line and headers, then its body, as two writes: two TCP segments
(the socket has TCP_NODELAY) and two wake-ups of the client for every request. `CoalescingTransport`
sends what one turn of the event loop writes as one write instead (docs/ispws.md, "benchmarks/intake.py")."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from tipline.config import Settings


class _HeadTooLarge(Exception):
    pass


class CoalescingTransport:
    """A connection's transport that gathers the writes of one turn of the event loop and hands them
    to the real transport as one write at the end of that turn (a response's head and a body
    written right after it leave as one segment). Order is kept; `close` sends what is gathered
    first, `abort` drops it; everything else is the real transport's. Once `GATHER_LIMIT` bytes
    are gathered they go at once, so a large streamed answer is not held in memory and the real
    transport's flow control still pauses the writer."""

    GATHER_LIMIT = 64 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._pending_bytes += len(data)
        if self._pending_bytes >= self.GATHER_LIMIT:  # a large answer goes on at once (flow control sees it)
            self.flush()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        self._pending_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._pending_bytes = 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request line and headers larger than the limit
    (uvicorn's h11_max_incomplete_event_size, the same limit its h11 protocol applies) with 431
    as soon as the limit is passed, before the rest is read."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own
        # The wrapper stands in for the transport: what it does not do itself, it forwards.
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))  # type: ignore[arg-type]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_too_large = False

    def _count(self, size: int) -> None:
        self._head_bytes += size
        limit = self.config.h11_max_incomplete_event_size
        if limit is not None and self._head_bytes > limit:
            self._head_too_large = True
            raise _HeadTooLarge

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers a parser error (which a callback's exception becomes) with 400; a head
        over the limit is 431 Request Header Fields Too Large."""
        if not getattr(self, "_head_too_large", False):
            super().send_400_response(msg)
            return
        message = b"the request's headers are over the limit"
        self.transport.write(b"".join([
            STATUS_LINE[431], b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(message)).encode() + b"\r\n", b"connection: close\r\n\r\n", message,
        ]))
        self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments `tipline serve` gives uvicorn.run / uvicorn.Config."""
    trusted = settings.forwarded_allow_ips
    return {
        "http": BoundedHttpToolsProtocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        # Without a trusted proxy, X-Forwarded-* are not read at all; with one, only from it.
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or "",
        "server_header": False,
    }
