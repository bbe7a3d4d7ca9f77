"""A reporter adds to their report later with its number and secret code, and sees whether it has
been read: nothing more, and nobody without the code."""

from __future__ import annotations

import re

import lxml.html
import pytest
from public_form.formsupport import MINIMAL, FormClient, form_token, load
from sqlalchemy import select
from websupport import Site

from tipline.domain.lifecycle import ReportState
from tipline.store.tables import AuditEventRow, ReportCodeRow, TextFindingRow


def receipt_code(html: str) -> str:
    match = re.search(r'id="report-code"[^>]*>([A-Z0-9-]+)<', html)
    assert match is not None, "the receipt shows no secret code"
    return match.group(1)


def open_report(visitor: FormClient, number: int | str, code: str) -> tuple[int, str]:
    page = visitor.http.get("/report/add")
    assert page.status_code == 200
    response = visitor.http.post("/report/add", data={
        "form_token": form_token(page.text), "report_number": str(number), "report_code": code, "step": "check"},
        files=[("attachments", ("", b"", "application/octet-stream"))])
    return response.status_code, response.text


def add(visitor: FormClient, number: int, code: str, text: str,
        files: list[tuple[str, bytes]] | None = None) -> tuple[int, str]:
    status, page = open_report(visitor, number, code)
    assert status == 200, page
    parts = [("attachments", (name, content, "application/octet-stream")) for name, content in (files or [])]
    response = visitor.http.post("/report/add", data={
        "form_token": form_token(page), "report_number": str(number), "report_code": code, "step": "add",
        "addition": text}, files=parts or [("attachments", ("", b"", "application/octet-stream"))])
    return response.status_code, response.text


def status_of(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).get_element_by_id("report-status").text_content().split())


def test_the_receipt_gives_a_code_that_is_stored_only_as_a_keyed_hash(site: Site, visitor: FormClient) -> None:
    number, html = visitor.receipt(visitor.send(MINIMAL))
    code = receipt_code(html)
    assert re.fullmatch(r"([A-HJ-NP-Z2-9]{4}-){3}[A-HJ-NP-Z2-9]{4}", code)
    with site.instance.db.transaction() as session:
        stored = session.get(ReportCodeRow, number)
    assert stored is not None and code not in stored.code_hash and code.replace("-", "") not in stored.code_hash
    # the code is not in the receipt's address (browser history keeps addresses)
    assert code not in visitor.http.get("/report").url.path


def test_with_number_and_code_the_reporter_sees_the_status_and_adds_text_and_a_file(
        site: Site, visitor: FormClient) -> None:
    number, html = visitor.receipt(visitor.send(MINIMAL))
    code = receipt_code(html)
    site.drain()
    status, page = open_report(visitor, number, code.lower().replace("-", " "))  # typed loosely
    assert status == 200
    assert status_of(page) == "We have your report. It is waiting to be read by our team."

    words = "He now uses the name night_owl_88 and says he will come to her school on Friday."
    status, page = add(visitor, number, code, words, files=[("new-chat.png", b"synthetic screenshot bytes")])
    assert status == 200, page
    assert "We have added this to report" in status_of(page)
    site.drain()

    report = load(site, number)
    additions = report.content.public_report.additions
    assert [(a.description, a.files, a.language) for a in additions] == [(words, 1, "en")]
    assert [f.file_name for f in report.files] == ["new-chat.png"]
    assert report.state == ReportState.AWAITING_REVIEW
    with site.instance.db.transaction() as session:
        actions = list(session.execute(select(AuditEventRow.action).where(AuditEventRow.report_id == number))
                       .scalars())
        found = {(row.path, row.kind) for row in session.execute(
            select(TextFindingRow).where(TextFindingRow.report_id == number)).scalars()}
    assert "report.added_to" in actions
    # the addition was read like the first description: a planned meeting at the child's school
    assert any(path.startswith("publicReport.additions[0]") for path, _kind in found), found


def test_a_wrong_code_and_a_missing_report_get_the_same_answer(site: Site, visitor: FormClient) -> None:
    number, html = visitor.receipt(visitor.send(MINIMAL))
    wrong_code = open_report(visitor, number, "ABCD-EFGH-JKLM-NPQR")
    missing = open_report(visitor, number + 1000, receipt_code(html))
    assert wrong_code[0] == missing[0] == 422

    def message(page: str) -> str:
        return " ".join(lxml.html.fromstring(page).get_element_by_id("report_code-error").text_content().split())

    assert message(wrong_code[1]) == message(missing[1])
    assert "do not match" in message(wrong_code[1])
    assert "report-status" not in wrong_code[1]


def test_guessing_codes_is_stopped_per_address(site: Site, visitor: FormClient) -> None:
    number, html = visitor.receipt(visitor.send(MINIMAL))
    for _ in range(10):
        assert open_report(visitor, number, "ABCD-EFGH-JKLM-NPQR")[0] == 422
    assert open_report(visitor, number, receipt_code(html))[0] == 429  # even the right code must wait


def test_a_report_locks_after_many_wrong_codes_from_many_addresses(site: Site) -> None:
    owner = FormClient(site)
    number, html = owner.receipt(owner.send(MINIMAL))
    for n in range(20):
        assert open_report(FormClient(site, address=f"203.0.113.{n}"), number, "ABCD-EFGH-JKLM-NPQR")[0] == 422
    assert open_report(FormClient(site, address="192.0.2.99"), number, receipt_code(html))[0] == 422


@pytest.mark.parametrize(("state", "expected"), [
    (ReportState.IN_REVIEW, "Our team is reading your report now."),
    (ReportState.REFERRED, "Our team has read your report."),
    (ReportState.CLOSED_NO_ACTION, "Our team has read your report."),
])
def test_the_status_says_read_or_not_and_nothing_more(
        site: Site, visitor: FormClient, state: ReportState, expected: str) -> None:
    number, html = visitor.receipt(visitor.send(MINIMAL))
    site.drain()
    with site.instance.db.transaction() as session:
        site.instance.reports.row(session, number).state = state.value
    status, page = open_report(visitor, number, receipt_code(html))
    assert status == 200 and status_of(page) == expected


def test_an_empty_addition_is_refused_and_nothing_changes(site: Site, visitor: FormClient) -> None:
    number, html = visitor.receipt(visitor.send(MINIMAL))
    version = load(site, number).version
    status, page = add(visitor, number, receipt_code(html), "   ")
    assert status == 422 and "Tell us what is new" in page
    assert load(site, number).version == version
