"""Administration and the second factor in a real browser (headless Debian chromium, Playwright): an
admin disables a login, which then cannot sign in; a person sets up a second factor from its page and
signs in with a code."""

from __future__ import annotations

import time

import pyotp
import pytest
from websupport import PASSWORD, LiveServer, Site, launch_chromium

pytestmark = pytest.mark.browser


def _sign_in(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_disables_a_login_that_then_cannot_sign_in(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        admin = browser.new_context().new_page()
        _sign_in(admin, server.url, "admin")
        admin.goto(server.url + "/admin/users")
        admin.get_by_role("button", name="Disable advocate").click()
        expect(admin.get_by_role("status")).to_contain_text("Login disabled")
        expect(admin.get_by_role("button", name="Enable advocate")).to_be_visible()

        person = browser.new_context().new_page()
        _sign_in(person, server.url, "advocate")
        expect(person.get_by_role("alert")).to_contain_text("do not match an active account")
        expect(person).to_have_title("Sign in · tipline")

        admin.get_by_role("button", name="Enable advocate").click()
        expect(admin.get_by_role("status")).to_contain_text("Login enabled")
        _sign_in(person, server.url, "advocate")
        expect(person).not_to_have_title("Sign in · tipline")
        browser.close()


def test_a_person_sets_up_a_second_factor_and_signs_in_with_a_code(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        _sign_in(page, server.url, "analyst")
        page.goto(server.url + "/settings")
        page.get_by_role("link", name="Set up a second factor").click()
        page.get_by_role("button", name="Set up a second factor").click()
        expect(page.locator("figure.qr svg")).to_be_visible()  # the QR code, drawn by the server
        secret = page.locator("#totp-secret").inner_text()
        page.get_by_label("The 6 digits the app shows now").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
        expect(page.locator(".recovery-codes li")).to_have_count(10)

        page.get_by_role("button", name="Sign out").click()
        _sign_in(page, server.url, "analyst")
        expect(page).to_have_title("Second factor · tipline")
        page.get_by_label("Code from your authenticator app").fill("000000" if pyotp.TOTP(secret).now() != "000000"
                                                                    else "111111")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("alert")).to_contain_text("That code is not right")
        page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
        page.get_by_role("button", name="Continue").click()
        expect(page).not_to_have_title("Second factor · tipline")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        browser.close()
