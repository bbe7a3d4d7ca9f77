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


def test_an_agency_user_reads_the_referral_in_the_browser_with_its_key_and_writes_to_the_hotline(
        sqlite_portal: Portal) -> None:
    from playwright.sync_api import expect, sync_playwright

    portal = sqlite_portal
    report_id, referral_id = portal.referred("us-il-tf", files=[("chat-log.txt", CHAT_LOG), ("photo.png", png_bytes())])
    with LiveServer(portal.site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(server.url + "/login")
        page.get_by_label("Username").fill("agency")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name=f"Referral {referral_id}").click()
        page.get_by_role("link", name="Read it here").first.click()
        expect(page.get_by_role("heading", name="Open it with your agency's key")).to_be_visible()
        page.get_by_label("Your agency's key file").set_input_files(str(portal.directory.key_files["us-il-tf"]))
        page.get_by_role("button", name="Open the referral").click()

        expect(page.locator("#verified")).to_contain_text("Checked: signed by the hotline")
        expect(page.locator("#reported")).to_contain_text("NightOwl77")
        expect(page.locator("#identifiers")).to_contain_text("night.owl@example.com")
        preview = page.get_by_alt_text("Blurred greyscale preview of photo.png")
        expect(preview).to_be_visible()
        preview.scroll_into_view_if_needed()  # it loads lazily, as the reader scrolls to it
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        page.get_by_role("button", name="Reveal photo.png (recorded in the audit trail)").click()
        revealed = page.get_by_alt_text("Revealed picture photo.png")
        expect(revealed).to_be_visible()
        revealed.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=revealed.element_handle())

        page.get_by_role("link", name=f"Back to referral {referral_id}").click()
        page.get_by_label("Message to the hotline").fill("Please send the provider's account creation date.")
        page.get_by_role("button", name="Send message").click()
        expect(page.get_by_role("status")).to_contain_text("Message sent")
        expect(page.locator("#messages")).to_contain_text("Please send the provider's account creation date.")

        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("Username").fill("analyst")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{server.url}/reports/{report_id}")
        expect(page.locator("#referral")).to_contain_text("Please send the provider's account creation date.")
        page.get_by_label("Message to Illinois Online Safety Task Force").fill("Created 2026-03-02.")
        page.get_by_role("button", name="Send message").click()
        expect(page.locator("#referral")).to_contain_text("Created 2026-03-02.")
        browser.close()
