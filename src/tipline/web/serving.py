"""How `tipline serve` runs uvicorn: which proxies may name the client's address, and how large a
request's head may be before the server stops reading it.

uvicorn's defaults are unsafe for tipline: it believes `X-Forwarded-For` from 127.0.0.1 (so any
local process could choose the address the login throttle and the audit trail see), and its
httptools parser reads a request head of any size (an 8 MB header was accepted). Here no proxy is
trusted unless TIPLINE_FORWARDED_ALLOW_IPS names it, and the head is limited to
TIPLINE_MAX_HEADER_BYTES while it is read (431), by both HTTP implementations."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from tipline.config import Settings


class _HeadTooLarge(Exception):
    pass


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request line and headers larger than the limit
    (uvicorn's h11_max_incomplete_event_size, the same limit its h11 protocol applies) with 431
    as soon as the limit is passed, before the rest is read."""

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
