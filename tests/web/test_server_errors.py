"""An unexpected error answers 500 with the security headers and the Request-ID that the log names,
and closes the connection (`Connection: close`), for the API and for pages alike."""

from __future__ import annotations

import logging

import httpx
import pytest
from websupport import LiveServer, Site

from tipline.web.auth import public


def _break(site: Site) -> None:
    """A route that fails as a bug would: registered in this test's own application."""
    from fastapi import Depends

    def boom() -> None:
        raise RuntimeError("an unexpected failure for the test")

    site.app.add_api_route("/api/v1/boom", boom, dependencies=[Depends(public())])
    site.app.add_api_route("/boom", boom, dependencies=[Depends(public())])


@pytest.mark.parametrize("path", ["/api/v1/boom", "/boom"])
def test_a_500_keeps_the_security_headers_and_the_request_id(site: Site, path: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    _break(site)
    with caplog.at_level(logging.ERROR, logger="tipline.web"), LiveServer(site.app) as server:
        with httpx.Client(base_url=server.url) as client:
            answer = client.get(path, headers={"accept": "text/html"})
            assert answer.status_code == 500
            request_id = answer.headers["request-id"]
            assert len(request_id) == 16
            assert answer.headers["content-security-policy"].startswith("default-src 'self'")
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["connection"] == "close"
            assert request_id in answer.text
            assert "RuntimeError" not in answer.text and "Traceback" not in answer.text
            if path.startswith("/api/"):
                assert answer.json()["request_id"] == request_id
            else:
                assert answer.headers["content-type"].startswith("text/html")
            # the server is still well: the next request on a new connection answers normally
            assert client.get("/healthz").status_code == 200
    assert any(request_id in record.getMessage() and "RuntimeError" in record.getMessage()
               for record in caplog.records)
