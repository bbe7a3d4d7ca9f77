"""An agency user in a real browser (headless Debian chromium, Playwright): sign in, find the referral,
download the package, report an outcome; the hotline then sees it on the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from referralsupport import CHAT_LOG, Portal, png_bytes
from websupport import PASSWORD, LiveServer, launch_chromium

from tipline.referral.keys import signing_key
from tipline.referral.package import verify_package

pytestmark = pytest.mark.browser


def test_an_agency_user_signs_in_downloads_the_package_and_reports_an_outcome(
        sqlite_portal: Portal, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    portal = sqlite_portal
    report_id, referral_id = portal.referred("us-il-tf", files=[("chat-log.txt", CHAT_LOG), ("photo.png", png_bytes())])
    _other_report, other_referral = portal.referred("gb-ncsu", reason="The reported person lives in London.")
    with LiveServer(portal.site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(accept_downloads=True)
        page.goto(server.url + "/login")
        expect(page).to_have_title("Sign in · tipline")
        page.get_by_label("Username").fill("agency")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_title("Referrals · tipline")
        expect(page.get_by_role("heading", level=1)).to_have_text("Referrals to Illinois Online Safety Task Force")
        expect(page.get_by_role("link", name=f"Referral {other_referral}")).to_have_count(0)
        page.get_by_role("link", name=f"Referral {referral_id}").click()
        expect(page).to_have_title(f"Referral {referral_id} · tipline")
        expect(page.locator("img")).to_have_count(0)  # no picture, blurred or not
        expect(page.locator("#evidence")).to_contain_text("photo.png")

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download the package").click()
        download = download_info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert saved.name == f"referral-{referral_id}-report-{report_id}.tlref"
        hotline = signing_key(portal.instance.settings.key_dir).public_key()
        assert verify_package(saved, hotline, portal.directory.keys["us-il-tf"]).ok

        page.get_by_label("What happened").select_option("child_safeguarded")
        page.get_by_label("Note for the hotline").fill("Family contacted; the child is safe.")
        page.get_by_role("button", name="Report outcome").click()
        expect(page.get_by_role("status")).to_contain_text("Outcome recorded")
        expect(page.locator("#outcomes")).to_contain_text("Child safeguarded")
        page.get_by_role("link", name="All referrals").click()
        expect(page.locator("table.referrals tbody tr").first).to_contain_text("Child safeguarded")

        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("Username").fill("analyst")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{server.url}/reports/{report_id}")
        expect(page.locator("#referral")).to_contain_text("Child safeguarded")
        expect(page.locator("#history")).to_contain_text(
            "Illinois Online Safety Task Force reported: Child safeguarded")
        expect(page.locator("#history")).to_contain_text("package downloaded")
        browser.close()
