"""Published CyberTipline clients send their XML as text/plain, as application/octet-stream or with
no Content-Type at all (their HTTP library's defaults); NCMEC's endpoint reads the body as XML
whatever the header says, and so must tipline. Raw HTTP requests (http.client: exactly the bytes
and headers written here) against a live server."""

from __future__ import annotations

import base64
import http.client
from urllib.parse import urlsplit

import pytest
from intake_client import Esp, benign_bytes
from intake_documents import DOC_EXAMPLE, FILE_DETAILS_EXAMPLE
from lxml import etree
from sqlalchemy import func, select

from tipline.store.tables import ReportFileRow, ReportRow

# What HTTP libraries send when the caller names no type; the last is curl's --data without --header.
GENERIC_TYPES = [None, "text/plain", "text/plain; charset=ISO-8859-1", "application/octet-stream",
                 "application/x-www-form-urlencoded"]


def raw_post(api, path: str, body: bytes, content_type: str | None,  # type: ignore[no-untyped-def]
             extra: dict[str, str] | None = None) -> tuple[int, int, etree._Element]:
    """POST exactly `body` with exactly these headers; (HTTP status, responseCode, the XML answer)."""
    url = urlsplit(api.server.url)
    token = base64.b64encode(f"chirp:{api.site.esp_secret['chirp']}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Length": str(len(body)), **(extra or {})}
    if content_type is not None:
        headers["Content-Type"] = content_type
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.putrequest("POST", f"/ispws/{path}", skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    root = etree.fromstring(data)
    return response.status, int(root.findtext("responseCode")), root


def count(api, model) -> int:  # type: ignore[no-untyped-def]
    with api.instance.db.transaction() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("content_type", GENERIC_TYPES)
def test_xml_sent_as_text_plain_octet_stream_or_untyped_is_accepted(api, content_type) -> None:  # type: ignore[no-untyped-def]
    status, code, root = raw_post(api, "submit", DOC_EXAMPLE, content_type)
    assert (status, code) == (200, 0), root.findtext("responseDescription")
    report_id = int(root.findtext("reportId"))

    upload = Esp(api.base, api.session()).upload(report_id, benign_bytes(300))
    assert upload.code == 0
    details = FILE_DETAILS_EXAMPLE.format(report_id=report_id, file_id=upload.file_id).encode()
    status, code, root = raw_post(api, "fileinfo", details, content_type)
    assert (status, code) == (200, 0), root.findtext("responseDescription")

    with api.instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        assert row is not None and row.content["reporter"]["reportingPerson"]["lastName"] == "Smith"
        stored = session.execute(select(ReportFileRow.details).where(ReportFileRow.report_id == report_id)).scalar_one()
        assert stored is not None


def test_what_is_not_xml_is_still_refused_with_the_documented_codes(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    api = sqlite_api
    before = count(api, ReportRow)
    billion_laughs = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
                      b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><report>&b;</report>')
    cases = [
        (b"reporter=John+Smith", "text/plain", 400, 4110, "line 1"),
        (b'{"reporter": {}}', None, 400, 4110, "line 1"),
        (b"\x89PNG\r\n\x1a\n" + benign_bytes(64), "application/octet-stream", 400, 4110, ""),
        (b"", None, 400, 4110, "empty"),
        (billion_laughs, "text/plain", 400, 4110, "DOCTYPE"),
        (billion_laughs, None, 400, 4110, "DOCTYPE"),
        (DOC_EXAMPLE.replace(b"John", "J\u00f6rg".encode("latin-1")), "text/plain; charset=ISO-8859-1", 400, 4110,
         "UTF-8"),
        (b'{"reporter": {}}', "application/json", 415, 4000, "Content-Type"),
        (DOC_EXAMPLE, "text/xml; charset=iso-8859-1", 415, 4110, "charset"),
    ]
    for body, content_type, status, code, hint in cases:
        got_status, got_code, root = raw_post(api, "submit", body, content_type)
        description = root.findtext("responseDescription") or ""
        assert (got_status, got_code) == (status, code), (content_type, body[:20], description)
        assert hint in description, description
    assert count(api, ReportRow) == before


def test_the_body_limit_holds_for_untyped_xml(small_body_api) -> None:  # type: ignore[no-untyped-def]
    api = small_body_api
    padded = DOC_EXAMPLE.replace(b"<firstName>", b"<!--" + b"x" * 8000 + b"--><firstName>")
    for content_type in (None, "text/plain"):
        status, _code, _root = raw_post(api, "submit", padded, content_type)
        assert status == 413
    assert count(api, ReportRow) == 0


def test_a_page_of_another_site_cannot_submit_with_remembered_credentials(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    """text/plain can be sent across sites without a CORS preflight; a browser adds the Basic
    credentials it remembers. Such a request is refused (3000) and stores nothing."""
    api = sqlite_api
    for extra in ({"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"},
                  {"Origin": "null"}):
        status, code, root = raw_post(api, "submit", DOC_EXAMPLE, "text/plain", extra)
        assert (status, code) == (403, 3000), root.findtext("responseDescription")
    assert count(api, ReportRow) == 0
    own_origin = {"Origin": api.server.url, "Sec-Fetch-Site": "same-origin"}
    status, code, _root = raw_post(api, "submit", DOC_EXAMPLE, "text/plain", own_origin)
    assert (status, code) == (200, 0)
