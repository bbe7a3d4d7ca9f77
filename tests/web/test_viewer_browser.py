"""The evidence viewer in a real browser (Debian's chromium): an analyst opens a file large from the report
page by keyboard, takes the blur away step by step (each step audited), zooms by keys, moves to the next
file (blurred again), watches the exposure counter rise and is reminded to pause at a low configured level."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from support import build_instance
from websupport import PASSWORD, LiveServer, build_site, file_report, launch_chromium, picture

from tipline.store.tables import AuditEventRow, ReportFileRow

pytestmark = pytest.mark.browser


def test_an_analyst_steps_the_blur_zooms_by_key_moves_on_and_is_reminded_to_pause(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect, sync_playwright

    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_EXPOSURE_SESSION_FILES="2")
    try:
        site = build_site(instance)
        report_id = file_report(site, files={"one.png": picture(1), "two.png": picture(2), "three.png": picture(3)})
        with instance.db.transaction() as session:
            one, two, three = session.execute(select(ReportFileRow.id).where(ReportFileRow.report_id == report_id)
                                          .order_by(ReportFileRow.position)).scalars().all()

        with LiveServer(site.app) as server, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            refused: list[str] = []
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(server.url + "/login")
            page.fill("#username", "analyst")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_title("Review queue · tipline")
            page.goto(server.url + f"/reports/{report_id}")
            page.keyboard.press("j")  # the first file, as on every report page
            page.keyboard.press("v")  # ... viewed large
            expect(page).to_have_title("Viewer: one.png · tipline")

            media = page.locator("#viewer .viewer-media")
            look = page.locator("[data-look-words]")
            counter = page.locator("[data-exposure-files]")
            reminder = page.locator("#break-reminder")
            expect(media).to_have_attribute("src", f"/files/{one}/preview?size=large")  # blurred and grey by default
            expect(look).to_have_text("Strong blur, greyscale")
            expect(counter).to_have_text("0")
            expect(reminder).to_be_hidden()

            page.get_by_role("button", name=re.compile("Less blur: light blur")).click()  # one audited step
            expect(look).to_have_text("Light blur, greyscale")
            expect(media).to_have_attribute("src", re.compile(r"look=light-grey&clear="))
            expect(counter).to_have_text("1")
            page.keyboard.press("u")  # the next step, by key
            expect(look).to_have_text("No blur, greyscale")
            page.keyboard.press("g")  # colour is a step too
            expect(look).to_have_text("No blur, colour")
            expect(counter).to_have_text("1")  # still the one file

            page.keyboard.press("+")
            page.keyboard.press("+")
            expect(media).to_have_class(re.compile(r"\bzoom-200\b"))
            page.keyboard.press("-")
            expect(media).to_have_class(re.compile(r"\bzoom-150\b"))
            expect(page.locator("[data-zoom-words]")).to_have_text("150")
            page.keyboard.press("0")
            expect(media).to_have_class(re.compile(r"\bzoom-100\b"))

            page.keyboard.press("j")  # the next file opens blurred and grey again
            expect(page).to_have_title("Viewer: two.png · tipline")
            expect(media).to_have_attribute("src", f"/files/{two}/preview?size=large")
            expect(look).to_have_text("Strong blur, greyscale")
            expect(reminder).to_be_hidden()
            page.keyboard.press("u")
            expect(look).to_have_text("Light blur, greyscale")
            expect(counter).to_have_text("2")
            expect(reminder).to_be_visible()  # the level of this test's hotline: 2 files
            expect(reminder).to_contain_text("Time for a break")

            page.evaluate("window.dispatchEvent(new Event('blur'))")  # the analyst looks away
            expect(look).to_have_text("Strong blur, greyscale")
            expect(media).to_have_attribute("src", f"/files/{two}/preview?size=large")
            page.keyboard.press("k")
            expect(page).to_have_title("Viewer: one.png · tipline")
            expect(look).to_have_text("Strong blur, greyscale")
            page.keyboard.press("Escape")
            expect(page).to_have_title(f"Report #{report_id} · tipline")
            expect(counter).to_have_text("2")  # the report page shows the same counter ...
            for _ in range(3):
                page.keyboard.press("j")
            page.keyboard.press("r")  # ... and counts a reveal of its own thumbnail in place
            expect(counter).to_have_text("3")
            expect(reminder).to_be_visible()
            browser.close()
        assert refused == []

        with instance.db.transaction() as session:
            revealed = session.execute(select(AuditEventRow).where(AuditEventRow.action == "file.revealed")
                                       .order_by(AuditEventRow.seq)).scalars().all()
        assert [(e.actor_name, e.details["file_id"], e.details["look"]) for e in revealed] == [
            ("analyst", one, "light-grey"), ("analyst", one, "none-grey"), ("analyst", one, "none-colour"),
            ("analyst", two, "light-grey"), ("analyst", three, "none-colour")]
    finally:
        instance.close()
