"""A victim-identification specialist in a real browser (headless Debian chromium, Playwright): find
an unidentified series' new appearance in the queue, open the series, see its pictures blurred,
record a victim and mark the series identified by an agency."""

from __future__ import annotations

from pathlib import Path

import pytest
from referralsupport import Portal, report_in_review
from vidsupport import ACTOR, blocks
from websupport import PASSWORD, LiveServer, launch_chromium

from tipline.victims.media import hash_files

pytestmark = pytest.mark.browser


def test_a_specialist_works_a_series_from_the_queue(sqlite_portal: Portal, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    portal = sqlite_portal
    path = tmp_path / "fox.png"
    path.write_bytes(blocks(2))
    with portal.instance.db.transaction() as session:
        row = portal.instance.series.create(session, "Red Fox", ACTOR)
        portal.instance.series.add_media(session, row, hash_files([path]), ACTOR, portal.instance.banks)
    report_id = report_in_review(portal.instance, "analyst", files=[("photo.png", blocks(2))])
    with LiveServer(portal.site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(server.url + "/login")
        page.get_by_label("Username").fill("victimid")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Victim ID").click()
        expect(page).to_have_title("Victim identification · tipline")
        expect(page.get_by_role("link", name=f"Report {report_id}").first).to_be_visible()
        page.get_by_role("link", name="Red Fox").click()
        expect(page).to_have_title("Series Red Fox · tipline")
        preview = page.locator("ul.gallery img").first
        expect(preview).to_have_attribute("alt", f"Blurred greyscale preview of a file of report {report_id}")
        page.wait_for_function("document.querySelector('ul.gallery img').naturalWidth > 0")
        page.get_by_label("Pseudonym").fill("Child A")
        page.get_by_label("Age band").select_option("6-9")
        page.get_by_role("button", name="Record victim").click()
        expect(page.get_by_role("status")).to_contain_text("Victim recorded")
        expect(page.locator("#victims + p + table")).to_contain_text("6 to 9 years")
        page.locator("select[name=status]").first.select_option("identified")
        page.get_by_label("Identifying agency").select_option("us-il-tf")
        page.get_by_label("Case reference").fill("IL-2026-9")
        page.get_by_role("button", name="Change status").click()
        expect(page.get_by_role("status")).to_contain_text("Status changed")
        expect(page.locator("dl.facts")).to_contain_text("Illinois Online Safety Task Force (us-il-tf)")
        page.goto(server.url + "/series?sort=reports")
        expect(page.locator("table.series tbody tr").first).to_contain_text("Identified")
        browser.close()
