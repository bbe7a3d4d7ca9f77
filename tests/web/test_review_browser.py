"""An analyst's whole review in a real browser: queue, the top report, one audited reveal, a
classification, closing; pictures blurred by default and blurred again on leaving."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from support import sample_content
from websupport import (
    PASSWORD,
    SEXTORTION,
    LiveServer,
    Site,
    file_report,
    launch_chromium,
    picture,
)

from tipline.store.tables import AuditEventRow, ReportFileRow, ReportRow

pytestmark = pytest.mark.browser


def test_log_in_queue_open_top_reveal_classify_close(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    file_report(site)  # a calm report first
    urgent = file_report(site, sample_content(internetDetails=[{"chatImIncident": {"chatClient": "Chirp",
                                                                                   "content": SEXTORTION}}]),
                         files={"photo.png": picture()})
    with site.instance.db.transaction() as session:
        file_id = session.execute(select(ReportFileRow.id).where(ReportFileRow.report_id == urgent)).scalar_one()

    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(server.url + "/login")
        page.fill("#username", "analyst")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_title("Review queue · tipline")
        top = page.locator("table.queue tbody tr").first
        expect(top.locator(".badge").first).to_have_text("P1")
        top.get_by_role("link").first.click()
        expect(page).to_have_title(f"Report #{urgent} · tipline")

        image = page.locator(f"#file-{file_id} figure.preview img")
        expect(image).to_have_attribute("src", f"/files/{file_id}/preview")  # blurred by default
        expect(page.locator("video")).to_have_count(0)  # nothing plays by itself

        page.get_by_role("button", name="Claim this report").click()
        expect(page.get_by_role("status")).to_contain_text("You hold this report now.")
        reveal = page.get_by_role("button", name="Reveal photo.png (recorded in the audit trail)")
        reveal.click()
        # a locator assertion, not wait_for_function: the page's CSP forbids the eval that one needs
        expect(image).to_have_attribute("src", re.compile(r"clear="))
        page.evaluate("window.dispatchEvent(new Event('blur'))")  # the analyst looks away
        expect(image).to_have_attribute("src", f"/files/{file_id}/preview")

        page.select_option(f"#c-{file_id}", "B2")
        page.get_by_role("button", name="Classify", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("File classification recorded.")

        page.get_by_label("Closed, no action").check()
        page.fill("#d-close-reason", "Reviewed; referred to the platform's own team")
        page.get_by_role("button", name="Close", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Report closed.")
        browser.close()

    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, urgent).state == "closed_no_action"
        assert session.get(ReportFileRow, file_id).reviewed_classification == "B2"
        revealed = session.execute(select(AuditEventRow).where(AuditEventRow.action == "file.revealed")).scalars().all()
    assert [(e.actor_name, e.details["file_id"]) for e in revealed] == [("analyst", file_id)]
