"""Helpers for the public report form tests: a form client that fills and sends the form like a
browser without JavaScript would, and counts of everything a submission could leave behind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from websupport import Site

from tipline.instance import Instance
from tipline.store.tables import (
    AuditEventRow,
    BlobRow,
    IdentifierRow,
    PipelineJob,
    ReportFileRow,
    ReportRow,
)

# The two answers a report needs; everything else is optional.
MINIMAL = {
    "what": "enticement",
    "description": "A grown-up on a game keeps asking my pupil to move to a private chat and keep it secret.",
}


class FormClient:
    """One visitor: opens the form (getting its cookie and token) and sends answers with it."""

    def __init__(self, site: Site, address: str = "198.51.100.20") -> None:
        self.site = site
        self.http = TestClient(site.app, base_url="http://testserver", follow_redirects=False,
                               client=(address, 50000))
        self.token: str | None = None

    def open(self) -> httpx.Response:
        page = self.http.get("/report")
        assert page.status_code == 200, page.text
        self.token = form_token(page.text)
        return page

    def send(self, answers: dict[str, Any] | None = None, files: list[tuple[str, bytes]] | None = None,
             *, token: str | None = None, multipart: bool = True) -> httpx.Response:
        if self.token is None and token is None:
            self.open()
        data = {"form_token": token if token is not None else self.token, **(answers or {})}
        if multipart:
            parts: list[tuple[str, tuple[str, bytes, str]]] = [
                ("attachments", (name, content, "application/octet-stream")) for name, content in (files or [])
            ]
            if not parts:  # a browser sends an empty file part when no file is chosen
                parts = [("attachments", ("", b"", "application/octet-stream"))]
            response = self.http.post("/report", data=data, files=parts)
        else:
            response = self.http.post("/report", data=data)
        if response.status_code != 303:
            token_now = form_token(response.text, required=False)
            if token_now:
                self.token = token_now
        return response

    def receipt(self, response: httpx.Response) -> tuple[int, str]:
        """The report number on the receipt a successful submission redirects to, and the page."""
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert location.startswith("/report/received/")
        page = self.http.get(location)
        assert page.status_code == 200
        number = re.search(r'id="report-number">(\d+)<', page.text)
        assert number is not None
        return int(number.group(1)), page.text


def form_token(html: str, required: bool = True) -> str | None:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    if required:
        assert match is not None, "the page has no form token"
    return match.group(1) if match else None


def counts(instance: Instance) -> dict[str, int]:
    """Rows of every table a submission writes to, and blobs (finished and temporary) on disk."""
    with instance.db.transaction() as session:
        result = {
            name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (("reports", ReportRow), ("files", ReportFileRow), ("blobs", BlobRow),
                                ("audit", AuditEventRow), ("jobs", PipelineJob), ("identifiers", IdentifierRow))
        }
    store = Path(instance.settings.file_store_dir)
    result["blob_files"] = sum(1 for path in (store / "blobs").rglob("*") if path.is_file())
    result["temp_files"] = sum(1 for path in (store / "tmp").glob("*") if path.is_file())
    return result


def load(site: Site, report_id: int) -> Any:
    with site.instance.db.transaction() as session:
        return site.instance.reports.load(session, report_id)
