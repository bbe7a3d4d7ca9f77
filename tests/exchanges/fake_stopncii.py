"""A local stand-in for StopNCII.org's hash API (v1), over real HTTP on 127.0.0.1, answering as
python-threatexchange's client (`StopNCIIAPI`) and its documentation expect: `GET /v1/FetchHashes` with
`startTimestamp`, `pageSize` and `nextPageToken`, answering `count`, `nextPageToken`,
`nextSetTimestamp`, `hasMoreRecords` and `hashRecords` (each `lastModtimestamp`, `signalType`,
`hashValue`, `hashStatus`, `caseNumbers`, `CSPFeedbacks`); `POST /v1/SubmitFeedback` with
`hashFeedbacks`. Every request needs the endpoint's `x-functions-key` and the `Ocp-Apim-Subscription-Key`.

`fail_next(status, count)` answers the next requests with an error (the client retries 429 and 5xx
four times)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from fake_http import FakeHttpServer


@dataclass
class Record:
    ts: int
    signal_type: str  # ImagePDQ, VideoMD5, VideoTMK ...
    value: str
    status: str = "Active"  # Received, Active, Withdrawn, Deleted
    tags: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"lastModtimestamp": self.ts, "signalType": self.signal_type, "hashValue": self.value,
                "hashStatus": self.status, "caseNumbers": {"case-1": self.status},
                "CSPFeedbacks": [{"feedbackValue": "None", "tags": self.tags, "source": "another platform"}]
                if self.tags else []}


class FakeStopNcii(FakeHttpServer):
    methods = ("GET", "POST")

    def __init__(self, fetch_key: str = "fetch-key-1234", subscription_key: str = "subscription-5678",
                 feedback_key: str = "feedback-key-9012") -> None:
        self.fetch_key, self.subscription_key, self.feedback_key = fetch_key, subscription_key, feedback_key
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self._faults: list[int] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def credentials(self) -> str:
        return f"{self.fetch_key},{self.subscription_key},{self.feedback_key}"

    def add(self, record: Record) -> None:
        """Add a record, or replace the one of the same type and hash (an update: its timestamp moves on)."""
        with self.lock:
            self.records = [r for r in self.records if (r.signal_type, r.value) != (record.signal_type, record.value)]
            self.records.append(record)
            self.records.sort(key=lambda r: r.ts)

    def fail_next(self, status: int, count: int = 1) -> None:
        with self.lock:
            self._faults += [status] * count

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append({"method": method, "path": parts.path, "query": query})
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return self._send(handler, fault, {"message": "try again later"})
        endpoint = parts.path.rsplit("/", 1)[-1]
        wanted = {"FetchHashes": self.fetch_key, "SubmitFeedback": self.feedback_key}.get(endpoint)
        if wanted is None:
            return self._send(handler, 404, {"message": "not found"})
        if (handler.headers.get("x-functions-key") != wanted
                or handler.headers.get("Ocp-Apim-Subscription-Key") != self.subscription_key):
            return self._send(handler, 401, {"message": "Access denied due to invalid subscription key."})
        if endpoint == "FetchHashes" and method == "GET":
            return self._send(handler, 200, self._page(query))
        if endpoint == "SubmitFeedback" and method == "POST":
            body = json.loads(handler.rfile.read(int(handler.headers.get("Content-Length") or 0)))
            with self.lock:
                self.feedback += body["hashFeedbacks"]
            return self._send(handler, 200, {})
        return self._send(handler, 405, {"message": "method not allowed"})

    def _page(self, query: dict[str, str]) -> dict[str, Any]:
        start = int(query.get("startTimestamp", "10"))
        size = int(query.get("pageSize", "800"))
        offset = int(query.get("nextPageToken") or 0)
        with self.lock:
            chosen = [r for r in self.records if r.ts >= start]
        page = chosen[offset:offset + size]
        more = offset + size < len(chosen)
        return {"count": len(page), "nextPageToken": str(offset + size) if more else None,
                "nextSetTimestamp": page[-1].ts if page else start, "hasMoreRecords": more,
                "hashRecords": [r.as_json() for r in page]}

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
