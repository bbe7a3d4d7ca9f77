"""A supervisor, in a real browser (Debian's chromium), reads each analyst's throughput and exposure on
/supervisor, is told who passed the daily exposure level, and previews, saves and sees the history of a
triage weight change."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from support import build_instance
from websupport import PASSWORD, LiveServer, build_site, file_report, launch_chromium, picture, token_of

from tipline.domain.audit import Actor, ActorType
from tipline.domain.lifecycle import ReportState
from tipline.domain.roles import Role
from tipline.store.accounts import Principal

pytestmark = pytest.mark.browser


def test_a_supervisor_reads_throughput_and_exposure_and_previews_a_weight_change(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect, sync_playwright

    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_EXPOSURE_DAILY_LIMIT="1")
    try:
        site = build_site(instance)
        with_pictures = file_report(site, files={"a.png": picture(1), "b.png": picture(2)})
        decided, held = file_report(site), file_report(site)
        analyst = site.signed_in("analyst")
        report_page = analyst.get(f"/reports/{with_pictures}").text
        token = token_of(report_page)
        files = lxml.html.fromstring(report_page).xpath("//form[contains(@action, '/reveal')]/@action")
        assert len(files) == 2
        for action in files:  # two deliberate, audited reveals
            assert analyst.post(action, data={"csrf_token": token}).status_code == 303
        with instance.db.transaction() as session:
            user = instance.accounts.user_by_name(session, "analyst")
            assert user is not None
            person = Principal(Actor(ActorType.USER, str(user.id), user.username), Role.ANALYST, user_id=user.id)
            for report_id in (decided, held):
                instance.review.claim(session, report_id, person)
            instance.review.close(session, decided, person, ReportState.INFORMATIONAL, "kept for information")

        with LiveServer(site.app) as server, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            refused: list[str] = []
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(server.url + "/supervisor")
            page.get_by_label("Username").fill("supervisor")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_title("Supervisor · tipline")

            alert = page.locator("#exposure-alert")
            expect(alert).to_be_visible()
            expect(alert).to_contain_text("revealed 2 pictures or video frames today")
            expect(alert).to_contain_text("above the daily level of 1")
            row = page.locator("#exposure tbody tr", has_text="(analyst)")
            expect(row.locator("td").nth(0)).to_have_text(re.compile(r"^\s*2\s+above the daily level\s*$"))
            expect(row.locator("td").nth(1)).to_have_text("2")
            expect(row.locator("td").nth(2)).to_contain_text("2 reveals")

            chart = page.get_by_role("img", name=re.compile(r"^1 report decided in the last 30 days: "))
            expect(chart).to_be_visible()
            page.locator("#chart-decided summary").click()
            expect(page.locator("#chart-decided table tbody tr", has_text="analyst")).to_contain_text("1")
            numbers = page.locator("#throughput tbody tr", has_text="(analyst)").locator("td")
            expect(numbers.nth(0)).to_have_text("1")  # holding now
            expect(numbers.nth(1)).to_have_text("1")  # decided in 7 days
            expect(numbers.nth(2)).to_have_text("1")  # decided in 30 days
            expect(numbers.nth(3)).to_have_text(re.compile(r"under a minute|\d+ min"))

            page.get_by_role("link", name="Triage weights").first.click()
            expect(page).to_have_title("Triage weights · tipline")
            page.get_by_role("textbox", name="The youngest victim is 13 to 15").fill("90")
            page.get_by_role("button", name="Preview", exact=True).click()
            preview = page.locator("#preview")
            expect(preview).to_contain_text("This would move 1 report to P1 and 0 out of P1")
            expect(page.get_by_role("textbox", name="The youngest victim is 13 to 15")).to_have_value("90")
            page.get_by_role("button", name="Save weights").click()
            expect(page.locator("#saved")).to_contain_text("Saved; 2 waiting reports were scored again.")
            expect(page.locator("#weights-history")).to_contain_text("The youngest victim is 13 to 15: 15 → 90")
            assert refused == []
            browser.close()
    finally:
        instance.close()
