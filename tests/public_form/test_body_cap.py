"""The public form reads no more of an anonymous body than a submission can need (every file
allowed, every answer at its longest): a larger declared Content-Length is refused before any
byte of the body is read, a larger streamed body as soon as it passes the cap. Before, a 300 MiB
body was read to its end before the files were refused."""

from __future__ import annotations

import asyncio
from typing import Any

import lxml.html
import pytest
from public_form.formsupport import MINIMAL, FormClient, counts
from starlette.requests import Request

from tipline.web.public_form.guards import FormSettings
from tipline.web.public_form.upload import FormReader, FormUnreadable

MIB = 1024 * 1024
BOUNDARY = "synthetic-boundary"
HEAD = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"clip.mp4\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n").encode()


def _read(settings: FormSettings, total: int, declared: int | None) -> tuple[int, BaseException | None]:
    """Feed the reader a multipart body of `total` bytes in 256 KiB messages; how much it asked for."""
    asked = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        body = HEAD if asked == 0 else b"x" * (MIB // 4)
        asked += len(body)
        return {"type": "http.request", "body": body, "more_body": asked < total}

    headers = [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    reader = FormReader(_no_files(), settings, lambda values: False)
    try:
        asyncio.run(reader.read(Request({"type": "http", "method": "POST", "path": "/report", "headers": headers},
                                        receive)))
    except FormUnreadable as error:
        return asked, error
    return asked, None


class _no_files:  # noqa: N801  (files are never kept: may_store answers False)
    def writer(self, max_size: int) -> None:
        raise AssertionError("nothing is stored")


@pytest.mark.parametrize("declared", [None, 64 * MIB])
def test_a_body_far_over_what_the_form_needs_is_not_read_to_its_end(declared: int | None) -> None:
    settings = FormSettings(max_files=2, max_file_bytes=2 * MIB, max_total_bytes=4 * MIB)
    asked, error = _read(settings, 64 * MIB, declared)
    assert isinstance(error, FormUnreadable) and error.status == 413
    assert "4 MB" in error.message
    if declared is None:
        assert asked < 4 * MIB + 2 * MIB  # stopped just past the cap: the files allowed plus the answers
    else:
        assert asked == 0  # refused on the declared length, before any of the body


def test_a_body_within_what_the_form_needs_is_read_whole() -> None:
    settings = FormSettings(max_files=2, max_file_bytes=2 * MIB, max_total_bytes=4 * MIB)
    # 4.5 MiB: over the files' limit but within what a submission can need, so read to its end and
    # then explained file by file (as before)
    asked, error = _read(settings, 4 * MIB + MIB // 2, None)
    assert error is None and asked >= 4 * MIB + MIB // 2


def test_the_person_is_told_what_the_form_accepts_and_the_connection_closes(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(TIPLINE_PUBLIC_FORM_MAX_TOTAL_BYTES=str(MIB), TIPLINE_PUBLIC_FORM_MAX_FILE_BYTES=str(MIB))
    visitor = FormClient(site)
    visitor.open()
    before = counts(site.instance)
    answer = visitor.send({**MINIMAL, "platform": "Chirp"}, files=[("clip.mp4", b"x" * (3 * MIB))])
    assert answer.status_code == 413
    assert answer.headers["connection"] == "close"
    assert "files may add up to 1 MB in all" in lxml.html.fromstring(answer.text).text_content()
    assert counts(site.instance) == before
