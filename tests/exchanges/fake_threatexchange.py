"""A local stand-in for Meta ThreatExchange's Graph API, over real HTTP on 127.0.0.1, answering as
python-threatexchange's client (`ThreatExchangeAPI`) and the Graph API's documentation expect:

* `GET /v26.0/{privacy_group}/threat_updates/` with `access_token`, `start_time`, `limit` and `fields`:
  `{"data": [update ...], "paging": {"cursors": ..., "next": URL}}`, each update `id` (the
  ThreatIndicator's), `indicator`, `type`, `last_updated` (unix time), `should_delete` and, unless
  deleted, `descriptors: {"data": [{id, owner: {id}, status, tags: {"data": [{id, text}]}, reactions}]}`,
  oldest first. `next` is a whole URL holding the token and an `after` cursor, as Graph API paging does.
* `GET /v26.0/{indicator_id}?fields=descriptors`: the indicator's descriptors.
* `POST /v26.0/{descriptor_id}/?access_token=...&reactions=HELPFUL`: a reaction; answers `{"success": true}`.

A wrong token gets Graph's error 190 (HTTP 400). `fail_next(status, count, code=None)` answers the next
requests with an error: a bare HTTP status (the client retries 429 and 5xx four times), or a Graph error
`code` (4, 17, 32, 613: rate limits); `garble_next()` answers the next request with a body that is not JSON."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from fake_http import FakeHttpServer

VERSION = "v26.0"
OTHER_APP = 2000000002
"""The app id of the member that shares the indicators (ours is the token's)."""


@dataclass
class Indicator:
    id: int
    type: str  # HASH_PDQ, HASH_MD5, HASH_VIDEO_MD5, URI ...
    value: str
    updated: int
    group: int = 1
    tags: list[str] = field(default_factory=list)
    status: str = "MALICIOUS"
    owners: tuple[int, ...] = (OTHER_APP,)
    """The apps whose descriptors of it the privacy group shows (one each)."""
    deleted: bool = False
    raw: dict[str, Any] | None = None
    """Answered as it is instead (a malformed update)."""

    def descriptor_id(self, owner: int) -> int:
        return self.id * 10 + self.owners.index(owner) + 1

    def descriptors(self) -> list[dict[str, Any]]:
        return [{"id": str(self.descriptor_id(owner)), "owner": {"id": str(owner)}, "status": self.status,
                 "added_on": "2026-01-01T00:00:00+0000",
                 "tags": {"data": [{"id": str(9000 + i), "text": tag} for i, tag in enumerate(self.tags)]},
                 "reactions": []} for owner in self.owners]

    def as_json(self) -> dict[str, Any]:
        if self.raw is not None:
            return self.raw
        update: dict[str, Any] = {"id": str(self.id), "indicator": self.value, "type": self.type,
                                  "last_updated": self.updated, "should_delete": self.deleted}
        if not self.deleted:
            update["descriptors"] = {"data": self.descriptors()}
        return update


class FakeThreatExchange(FakeHttpServer):
    methods = ("GET", "POST")

    def __init__(self, token: str = "1000000001|aSecretPartOfTheToken_0123") -> None:
        self.token = token
        self.indicators: list[Indicator] = []
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.reactions: list[tuple[int, str]] = []
        self._faults: list[tuple[int, int | None]] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.origin}/{VERSION}"

    def add(self, indicator: Indicator) -> None:
        """Add an indicator's update, or replace the one of the same id and group (its time moves on)."""
        with self.lock:
            self.indicators = [i for i in self.indicators if (i.id, i.group) != (indicator.id, indicator.group)]
            self.indicators.append(indicator)
            self.indicators.sort(key=lambda i: (i.updated, i.id))

    def fail_next(self, status: int, count: int = 1, code: int | None = None) -> None:
        with self.lock:
            self._faults += [(status, code)] * count

    def garble_next(self) -> None:
        self.fail_next(200, 1, code=-1)

    def updates_requests(self) -> list[dict[str, str]]:
        return [r["query"] for r in self.requests if r["path"].endswith("/threat_updates/")]

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append({"method": method, "path": parts.path, "query": query})
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            status, code = fault
            if code == -1:
                return self._send(handler, 200, b"<html>upstream proxy error</html>")
            if code is None:
                return self._send(handler, status, {"error": {"message": "An unexpected error has occurred."}},
                                  {"Retry-After": "0"} if status == 429 else {})
            return self._send(handler, status, {"error": {"message": f"({code}) Application request limit reached",
                                                          "type": "OAuthException", "code": code}})
        if query.get("access_token") != self.token:
            return self._send(handler, 400, {"error": {"message": "Invalid OAuth access token.",
                                                       "type": "OAuthException", "code": 190}})
        path = parts.path.strip("/").split("/")
        if len(path) == 3 and path[0] == VERSION and path[2] == "threat_updates" and method == "GET":
            return self._send(handler, 200, self._updates(parts.path, int(path[1]), query))
        if len(path) == 2 and path[0] == VERSION and method == "GET":
            return self._send(handler, 200, self._descriptors(int(path[1])))
        if len(path) == 2 and path[0] == VERSION and method == "POST":
            body = urllib.parse.parse_qs(handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode())
            reaction = query.get("reactions") or body.get("reactions", [""])[0]
            with self.lock:
                self.reactions.append((int(path[1]), reaction))
            return self._send(handler, 200, {"success": True})
        return self._send(handler, 404, {"error": {"message": "Unknown path components", "code": 2500}})

    def _updates(self, path: str, group: int, query: dict[str, str]) -> dict[str, Any]:
        start = int(query.get("start_time") or 0)
        limit = int(query.get("limit") or 100)
        offset = int(query.get("after") or 0)
        with self.lock:
            chosen = [i for i in self.indicators if i.group == group and i.updated >= start]
        page = chosen[offset:offset + limit]
        answer: dict[str, Any] = {"data": [i.as_json() for i in page],
                                  "paging": {"cursors": {"before": str(offset), "after": str(offset + limit)}}}
        if offset + limit < len(chosen):
            following = {**query, "after": str(offset + limit)}
            answer["paging"]["next"] = f"{self.origin}{path}?{urllib.parse.urlencode(following)}"
        return answer

    def _descriptors(self, indicator_id: int) -> dict[str, Any]:
        with self.lock:
            found = [d for i in self.indicators if i.id == indicator_id and not i.deleted for d in i.descriptors()]
        return {"id": str(indicator_id), "descriptors": {"data": found}}

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
