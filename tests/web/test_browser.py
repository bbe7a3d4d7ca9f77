"""The workspace in a real browser (headless Debian chromium driven by Playwright)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support import sample_content
from websupport import PASSWORD, LiveServer, Site, launch_chromium

from tipline.domain.report import ReportContent, ReportSource
from tipline.intake.submission import submit_report
from tipline.store.accounts import api_principal
from tipline.store.tables import ApiAccount

pytestmark = pytest.mark.browser


def _load(site: Site) -> tuple[int, int]:
    ids = []
    with site.instance.db.transaction() as session:
        account = session.execute(select(ApiAccount).where(ApiAccount.username == "chirp")).scalar_one()
        for days in (3, 0):
            data = sample_content()
            if days == 0:
                data["incidentSummary"]["escalateToHighPriority"] = "Meeting planned for tonight."
            row = submit_report(site.instance, session, ReportContent.model_validate(data), ReportSource.ESP_JSON,
                                api_principal(account), received_at=datetime.now(UTC) - timedelta(days=days, hours=1))
            ids.append(row.id)
    site.drain()
    return ids[0], ids[1]


def test_an_analyst_signs_in_sees_the_newest_report_first_and_opens_it(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    older, newer = _load(site)
    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(server.url + "/reports")
        expect(page).to_have_title("Sign in · tipline")
        # keyboard only: the username field has focus, Tab moves to the password, Enter submits
        page.keyboard.type("analyst")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page).to_have_title("Reports · tipline")
        first_row_link = page.locator("table.reports tbody tr").first.locator("a").first
        expect(first_row_link).to_have_text(f"#{newer}")
        expect(page.locator("table.reports tbody tr")).to_have_count(2)
        first_row_link.click()
        expect(page).to_have_title(f"Report #{newer} · tipline")
        expect(page.get_by_role("alert").first).to_contain_text("Meeting planned for tonight.")
        expect(page.get_by_role("heading", name="Identifiers (5)")).to_be_visible()
        page.get_by_role("link", name=f"Report #{older}", exact=True).click()
        expect(page).to_have_title(f"Report #{older} · tipline")
        history = page.locator("#history")
        expect(history).to_contain_text("Submitted")
        expect(history.locator("ol")).not_to_contain_text("Report opened")  # reads are hidden by default
        history.get_by_role("link", name=re.compile(r"Show everything, with the \d+ reads")).click()
        expect(page.locator("#history ol")).to_contain_text("Report opened")  # and shown on request
        # a supervisor on a phone: the charts fit the screen, are named for a screen reader, and the
        # page's CSP blocks nothing they need (no script, no inline style)
        phone = browser.new_page(viewport={"width": 375, "height": 800})
        refused: list[str] = []
        phone.on("console", lambda message: refused.append(message.text)
                 if "Content Security Policy" in message.text else None)
        phone.goto(server.url + "/supervisor")
        phone.get_by_label("Username").fill("supervisor")
        phone.get_by_label("Password").fill(PASSWORD)
        phone.get_by_role("button", name="Sign in").click()
        expect(phone).to_have_title("Supervisor · tipline")
        received = phone.get_by_role("img", name=re.compile(r"^2 reports received in the last 30 days \("))
        expect(received).to_be_visible()
        box = received.bounding_box()
        assert box is not None and 300 < box["width"] <= 375 and box["height"] > 100
        expect(phone.get_by_role("img", name=re.compile(r"^2 reports waiting for review: P1 "))).to_be_visible()
        phone.locator("#chart-received summary").click()
        expect(phone.locator("#chart-received table tbody tr")).to_have_count(30)
        assert refused == []
        browser.close()


def test_api_docs_render_and_the_skip_link_is_the_first_keyboard_stop(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(server.url + "/docs")
        expect(page.locator(".swagger-ui")).to_be_visible(timeout=15000)
        expect(page.get_by_text("/api/v1/reports").first).to_be_visible(timeout=15000)
        page.goto(server.url + "/welcome")
        page.keyboard.press("Tab")
        expect(page.locator(".skip-link")).to_be_focused()
        browser.close()
