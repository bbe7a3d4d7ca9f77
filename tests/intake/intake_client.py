"""A small ESP client for the tests: what an existing CyberTipline client does, over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from lxml import etree

XML = {"Content-Type": "text/xml; charset=utf-8"}


@dataclass
class Answer:
    status: int
    root: str
    code: int
    description: str | None
    report_id: int | None
    file_id: str | None
    hash: str | None
    files: list[str]
    headers: dict[str, str]


def answer(response: requests.Response) -> Answer:
    assert response.headers["content-type"].startswith("application/xml"), response.text
    root = etree.fromstring(response.content)
    files = root.find("files")
    report_id = root.findtext("reportId")
    return Answer(
        status=response.status_code,
        root=root.tag,
        code=int(root.findtext("responseCode")),
        description=root.findtext("responseDescription"),
        report_id=int(report_id) if report_id else None,
        file_id=root.findtext("fileId"),
        hash=root.findtext("hash"),
        files=[f.text for f in files.findall("fileId")] if files is not None else [],
        headers=dict(response.headers),
    )


class Esp:
    def __init__(self, base: str, session: requests.Session) -> None:
        self.base = base
        self.http = session

    def submit(self, document: bytes, headers: dict[str, str] | None = None) -> Answer:
        return answer(self.http.post(f"{self.base}/submit", data=document, headers=XML if headers is None else headers))

    def upload(self, report_id: int | str, content: bytes, name: str = "picture.jpg") -> Answer:
        return answer(self.http.post(f"{self.base}/upload", data={"id": str(report_id)},
                                     files={"file": (name, content, "application/octet-stream")}))

    def fileinfo(self, document: bytes) -> Answer:
        return answer(self.http.post(f"{self.base}/fileinfo", data=document, headers=XML))

    def finish(self, report_id: int | str) -> Answer:
        # curl --form id=... sends multipart/form-data
        return answer(self.http.post(f"{self.base}/finish", files={"id": (None, str(report_id))}))

    def retract(self, report_id: int | str) -> Answer:
        return answer(self.http.post(f"{self.base}/retract", files={"id": (None, str(report_id))}))


def benign_bytes(size: int, seed: int = 1) -> bytes:
    """Deterministic synthetic bytes (not an image of anything)."""
    import hashlib

    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])
