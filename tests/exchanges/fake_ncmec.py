"""A local stand-in for NCMEC's hash-sharing API (v2), over real HTTP on 127.0.0.1, answering as the
published API and python-threatexchange's test fixtures show it: XML `queryResult` pages of `image`,
`video`, `deletedImage` and `deletedVideo` entries for a `from`/`to` window, paged by `start`/`size`/`max`
in `paging/next`; HTTP Basic credentials; `PUT /v2/entries/{esp}/{id}/{TYPE}/feedback` for votes and
`GET /v2/feedback/{TYPE}/reasons`.

Faults are scripted: `fail_next(status, count, retry_after)` answers the next requests with an error
(429 with Retry-After, 500 ...); `malformed_after(n)` answers every page after the n-th with broken XML;
`repeat_pages` sends each page twice (the client then sees repeated entries).
Every request is recorded (path, query, Authorization present) so tests can check what was asked.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
import urllib.parse
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from xml.sax.saxutils import escape

from fake_http import FakeHttpServer

DATE = "%Y-%m-%dT%H:%M:%SZ"
NS = "https://hashsharing.ncmec.org/hashsharing/v2"


@dataclass
class Entry:
    id: str
    member: int
    ts: int
    kind: str = "image"  # image or video
    deleted: bool = False
    classification: str | None = "A1"
    fingerprints: dict[str, str] = field(default_factory=dict)


def _ts(text: str) -> int:
    return int(datetime.strptime(text, DATE).replace(tzinfo=UTC).timestamp())


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(DATE)


class FakeNcmec(FakeHttpServer):
    methods = ("GET", "PUT")

    def __init__(self, user: str = "esp-user", password: str = "s3cret-pass-word", page_size: int = 1000,
                 prefix: str = "/hashsharing") -> None:
        self.user, self.password, self.page_size, self.prefix = user, password, page_size, prefix
        self._entries: list[Entry] = []
        self._keys: list[tuple[int, str]] = []
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self._faults: list[tuple[int, int | None]] = []
        self.malformed_after_pages: int | None = None
        self.pages_served = 0
        self.repeat_pages = False
        self._repeated: set[str] = set()
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.origin}{self.prefix}"

    # --- the data ---------------------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Add or replace (same member and id) an entry; a replacement's timestamp is its update time."""
        with self.lock:
            self._entries = [e for e in self._entries if (e.member, e.id) != (entry.member, entry.id)]
            self._entries.append(entry)
            self._entries.sort(key=lambda e: (e.ts, e.member, e.id))
            self._keys = [(e.ts, f"{e.member}-{e.id}") for e in self._entries]

    def add_many(self, entries: list[Entry]) -> None:
        """Add entries known to be new (fast: for large fakes)."""
        with self.lock:
            self._entries.extend(entries)
            self._entries.sort(key=lambda e: (e.ts, e.member, e.id))
            self._keys = [(e.ts, f"{e.member}-{e.id}") for e in self._entries]

    def delete(self, member: int, entry_id: str, ts: int) -> None:
        old = next(e for e in self._entries if (e.member, e.id) == (member, entry_id))
        self.add(Entry(entry_id, member, ts, old.kind, deleted=True, classification=None))

    def fail_next(self, status: int, count: int = 1, retry_after: int | None = None) -> None:
        with self.lock:
            self._faults += [(status, retry_after)] * count

    # --- answering --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        auth = handler.headers.get("Authorization", "")
        with self.lock:
            self.requests.append({"method": method, "path": parts.path, "query": query, "auth": bool(auth)})
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            status, retry_after = fault
            handler.send_response(status)
            if retry_after is not None:
                handler.send_header("Retry-After", str(retry_after))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        expected = f"{self.user}:{self.password}"
        if not auth.startswith("Basic ") or b64decode(auth[6:]).decode() != expected:
            return self._send(handler, 401, "<error>unauthorized</error>")
        path = parts.path[len(self.prefix):] if parts.path.startswith(self.prefix) else None
        if path == "/v2/status":
            return self._send(handler, 200, f'<status xmlns="{NS}"><ipAddress>127.0.0.1</ipAddress>'
                                            f'<username>{self.user}</username><member id="7">Test ESP</member></status>')
        if path == "/v2/entries" and method == "GET":
            return self._send(handler, 200, self._page(query))
        if path and path.startswith("/v2/feedback/") and path.endswith("/reasons"):
            return self._send(handler, 200, f'<feedbackReasons xmlns="{NS}"><availableFeedbackReasons>'
                                            '<reason guid="0000-1111" name="Not CSAM" type="PDQ"/>'
                                            '</availableFeedbackReasons></feedbackReasons>')
        if path and path.startswith("/v2/entries/") and path.endswith("/feedback") and method == "PUT":
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length).decode()
            esp, entry_id, kind = path.split("/")[3:6]
            with self.lock:
                self.feedback.append({"esp": esp, "id": entry_id, "type": kind, "body": body})
            return self._send(handler, 200, "")
        return self._send(handler, 404, "<error>not found</error>")

    def _select(self, start_ts: int, end_ts: int, start: int, size: int) -> tuple[list[Entry], int]:
        """The page from `start` (1-based) of the entries stamped in [start_ts, end_ts), and how many those are."""
        low = bisect.bisect_left(self._keys, (start_ts, ""))
        high = bisect.bisect_left(self._keys, (end_ts, ""))
        return self._entries[low + start - 1: min(low + start - 1 + size, high)], high - low

    def _page(self, query: dict[str, str]) -> str:
        start_ts, end_ts = _ts(query["from"]), _ts(query["to"])
        start = int(query.get("start", "1"))
        size = int(query.get("size", str(self.page_size)))
        with self.lock:
            chosen, total = self._select(start_ts, end_ts, start, size)
            self.pages_served += 1
            served = self.pages_served
        if self.malformed_after_pages is not None and served > self.malformed_after_pages:
            return f'<queryResult xmlns="{NS}"><images count="1"><image><member id="1">x</member></ima'
        images = [e for e in chosen if e.kind == "image"]
        videos = [e for e in chosen if e.kind == "video"]
        body = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><queryResult xmlns="{NS}">']
        for tag, group in (("images", images), ("videos", videos)):
            if group:
                body.append(f'<{tag} count="{len(group)}" maxTimestamp="{_date(max(e.ts for e in group))}">')
                body += [self._entry(e) for e in group]
                body.append(f"</{tag}>")
        if start - 1 + size < total:
            nxt = (f"/v2/entries?from={urllib.parse.quote(query['from'])}&to={urllib.parse.quote(query['to'])}"
                   f"&start={start + size}&size={size}&max={total}")
            body.append(f"<paging><next>{escape(nxt)}</next></paging>")
        body.append("</queryResult>")
        return "".join(body)

    @staticmethod
    def _entry(e: Entry) -> str:
        tag = ("deleted" + e.kind.capitalize()) if e.deleted else e.kind
        inner = [f'<member id="{e.member}">Member {e.member}</member>', f"<timestamp>{_date(e.ts)}</timestamp>",
                 f"<id>{escape(e.id)}</id>"]
        if not e.deleted:
            if e.classification:
                inner.append(f"<classification>{e.classification}</classification>")
            inner.append("<fingerprints>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in e.fingerprints.items())
                         + "</fingerprints>")
        return f"<{tag}>{''.join(inner)}</{tag}>"

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: str) -> None:
        data = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


class GeneratedNcmec(FakeNcmec):
    """A fake with `count` entries made on demand (for benchmarks: no list held): entry i is image
    `e{i}` of member 42, stamped `base + i // per_second`, with an MD5 and a PDQ derived from i."""

    def __init__(self, count: int, base: int, per_second: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count, self.base, self.per_second = count, base, per_second

    def _select(self, start_ts: int, end_ts: int, start: int, size: int) -> tuple[list[Entry], int]:
        low = max(0, (start_ts - self.base) * self.per_second)
        high = min(self.count, max(0, (end_ts - self.base) * self.per_second))
        first = low + start - 1
        return [generated_entry(i, self.base, self.per_second) for i in range(first, min(first + size, high))], \
            max(0, high - low)


def generated_entry(i: int, base: int, per_second: int) -> Entry:
    seed = str(i).encode()
    return Entry(f"e{i}", 42, base + i // per_second, "image",
                 fingerprints={"md5": hashlib.md5(seed).hexdigest(), "pdq": hashlib.sha256(seed).hexdigest()})


def now() -> int:
    return int(time.time())
