"""Files sent with the form: streamed encrypted into the store, limited in count and size, and never
half-stored: a refused or failed submission leaves no row, no blob and no temporary file behind."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from public_form.formsupport import MINIMAL, FormClient, counts, load
from starlette.requests import ClientDisconnect, Request
from websupport import Site

from tipline.web.public_form.guards import FormSettings
from tipline.web.public_form.upload import FormReader

MIB = 1024 * 1024
MARKER = b"SYNTHETIC-PLAINTEXT-MARKER-7f3a"


def summary_links(html: str) -> list[str]:
    page = lxml.html.fromstring(html)
    return [" ".join(a.text_content().split()) for a in page.get_element_by_id("error-summary").findall(".//li/a")]


def plaintext_on_disk(root: Path, needle: bytes) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


def test_files_are_stored_encrypted_with_the_report_and_read_back_intact(site: Site, visitor: FormClient) -> None:
    screenshot = MARKER + b" screenshot " + bytes(range(256)) * 300
    notes = MARKER + b" notes: the account asked to move to another app"
    number, _ = visitor.receipt(visitor.send(MINIMAL, files=[("chat.png", screenshot), ("notes.txt", notes)]))

    report = load(site, number)
    assert [(f.file_name, f.size, f.md5) for f in report.files] == [
        ("chat.png", len(screenshot), hashlib.md5(screenshot).hexdigest()),
        ("notes.txt", len(notes), hashlib.md5(notes).hexdigest()),
    ]
    with site.instance.db.transaction() as session:
        for stored, original in zip(report.files, (screenshot, notes), strict=True):
            with site.instance.files.open_for_system(session, stored.file_id, _system(), "test") as reader:
                assert reader.read() == original
    # only ciphertext anywhere under the instance's data directory; no temporary file left over
    assert plaintext_on_disk(site.instance.settings.data_dir, MARKER) == []
    assert counts(site.instance)["temp_files"] == 0


def _system() -> Any:
    from tipline.domain.audit import Actor

    return Actor.system("test")


def test_file_names_keep_only_their_last_component(site: Site, visitor: FormClient) -> None:
    number, _ = visitor.receipt(visitor.send(MINIMAL, files=[
        ("C:\\Users\\pupil\\Desktop\\chat one.png", b"synthetic a"),
        ("../../etc/passwd", b"synthetic b"),
    ]))
    assert [f.file_name for f in load(site, number).files] == ["chat one.png", "passwd"]


def test_file_names_in_any_script_are_kept_as_the_browser_sent_them(site: Site, visitor: FormClient) -> None:
    """Browsers send a file's name as raw UTF-8 in its part's headers: a name in Arabic, Cyrillic or with
    accents is stored as chosen (the form once failed on any name outside Latin-1)."""
    names = ["\u0635\u0648\u0631\u0629.png", "\u0444\u043e\u0442\u043e.jpg", "r\u00e9sum\u00e9 d\u00e9j\u00e0.txt"]
    number, _ = visitor.receipt(visitor.send(MINIMAL, files=[(name, b"synthetic") for name in names]))
    assert [f.file_name for f in load(site, number).files] == names


@pytest.mark.parametrize(("settings", "files", "message"), [
    ({"TIPLINE_PUBLIC_FORM_MAX_FILES": "2"},
     [("a.png", b"synthetic 1"), ("b.png", b"synthetic 2"), ("c.png", b"synthetic 3")],
     "You chose 3 files. Please send at most 2, and tell us about the others under \u201cWhat happened\u201d."),
    ({"TIPLINE_PUBLIC_FORM_MAX_FILE_BYTES": str(MIB)},
     [("small.png", b"synthetic"), ("holiday.mov", b"v" * (MIB + MIB // 2))],
     ("\u201choliday.mov\u201d is 1.5 MB, more than the 1 MB each file may be. Send a smaller file or a screenshot, "
     "or tell us where the file is.")),
    ({"TIPLINE_PUBLIC_FORM_MAX_FILE_BYTES": str(MIB), "TIPLINE_PUBLIC_FORM_MAX_TOTAL_BYTES": str(2 * MIB)},
     [("one.png", b"1" * MIB), ("two.png", b"2" * MIB), ("three.png", b"3" * (MIB // 2))],
     "Your files add up to 2.5 MB, more than the 2 MB allowed in all. Please send fewer or smaller files."),
    ({}, [("empty.txt", b"")], "\u201cempty.txt\u201d is empty. Choose it again, or leave it out."),
])
def test_limits_on_files_are_explained_and_nothing_is_kept(
    make_site, settings: dict[str, str], files: list[tuple[str, bytes]], message: str  # type: ignore[no-untyped-def]
) -> None:
    site = make_site(**settings)
    visitor = FormClient(site)
    visitor.open()
    before = counts(site.instance)
    response = visitor.send({**MINIMAL, "platform": "Chirp"}, files=files)
    assert response.status_code == 422
    assert summary_links(response.text) == [message]
    page = lxml.html.fromstring(response.text)
    assert page.get_element_by_id("attachments").get("aria-invalid") == "true"
    assert page.get_element_by_id("report-form").fields["platform"] == "Chirp"
    assert counts(site.instance) == before


def test_the_form_accepts_bodies_beyond_the_general_limit_because_report_is_an_upload_path(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(TIPLINE_MAX_BODY_BYTES="65536")
    big = b"synthetic video frame " * 10_000  # 220 KB, over the general 64 KB limit
    assert site.client().post("/login", content=big, headers={"content-type": "text/plain"}).status_code == 413
    visitor = FormClient(site)
    number, _ = visitor.receipt(visitor.send(MINIMAL, files=[("clip.mp4", big)]))
    assert load(site, number).files[0].size == len(big)


def test_a_failure_while_storing_leaves_nothing_behind(site_on_each_backend: Site,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = site_on_each_backend
    visitor = FormClient(site)
    visitor.open()
    before = counts(site.instance)
    real_register = site.instance.files.register
    calls = []

    def failing_register(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("synthetic failure: disk full")
        return real_register(*args, **kwargs)

    monkeypatch.setattr(site.instance.files, "register", failing_register)
    response = visitor.send({**MINIMAL, "platform": "Chirp"},
                            files=[("a.png", b"synthetic first file"), ("b.png", b"synthetic second file")])
    assert response.status_code == 500
    page = lxml.html.fromstring(response.text)
    assert "Something went wrong on our side, and your report was not saved" in page.get_element_by_id(
        "error-summary").text_content()
    assert page.get_element_by_id("report-form").fields["platform"] == "Chirp"
    assert "Traceback" not in response.text and "disk full" not in response.text
    assert counts(site.instance) == before


def test_a_failed_submission_does_not_delete_content_another_report_already_holds(
    site: Site, visitor: FormClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = b"synthetic screenshot shared by two reports"
    first, _ = visitor.receipt(visitor.send(MINIMAL, files=[("shot.png", shared)]))
    before = counts(site.instance)

    def failing_register(*args: Any, **kwargs: Any) -> Any:
        raise OSError("synthetic failure")

    with monkeypatch.context() as patch:
        patch.setattr(site.instance.files, "register", failing_register)
        assert visitor.send(MINIMAL, files=[("same.png", shared), ("new.png", b"synthetic only here")]
                            ).status_code == 500
    assert counts(site.instance) == before  # the new blob is gone, the shared one stays
    with site.instance.db.transaction() as session:
        file_id = load(site, first).files[0].file_id
        with site.instance.files.open_for_system(session, file_id, _system(), "test") as reader:
            assert reader.read() == shared


def test_a_client_that_disconnects_mid_upload_leaves_no_temporary_file(site: Site) -> None:
    boundary = "synthetic-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"clip.mp4\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    messages = [
        {"type": "http.request", "body": head + b"x" * 300_000, "more_body": True},
        {"type": "http.request", "body": b"y" * 300_000, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/report", "headers": [
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode())]}
    reader = FormReader(site.instance.files, FormSettings(), lambda values: True)
    with pytest.raises(ClientDisconnect):
        asyncio.run(reader.read(Request(scope, receive)))
    assert counts(site.instance)["temp_files"] == 0
    assert counts(site.instance)["blob_files"] == 0
