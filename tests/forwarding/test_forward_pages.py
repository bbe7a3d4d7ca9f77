"""The report page's forwarding section and its "Forward to…" action: an analyst forwards in a real
browser, the worker sends, the page shows the destination's report ID; roles without review rights
can neither see the action nor use it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from forwarding_support import add_destination, remote_reports, remote_tipline, report_with_files
from websupport import PASSWORD, LiveServer, Site, launch_chromium


@pytest.mark.browser
def test_an_analyst_forwards_a_report_and_sees_their_report_id(site: Site, tmp_path: Path,
                                                               request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect, sync_playwright

    report_id = report_with_files(site.instance)
    site.drain()
    with remote_tipline(tmp_path, request) as remote:
        add_destination(site.instance, remote, name="partner-hotline")
        with LiveServer(site.app) as server, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(f"{server.url}/reports/{report_id}")
            page.get_by_label("Username").fill("analyst")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_title(f"Report #{report_id} · tipline")
            section = page.locator("#forwarding")
            expect(section).to_contain_text("Not forwarded.")
            section.get_by_label("Forward to…").select_option("partner-hotline")
            section.get_by_role("button", name="Forward").click()
            expect(section.locator(".forwarding-status")).to_have_text("Queued")
            assert remote_reports(remote.instance) == []  # the web request only queued the work
            site.drain()  # the worker forwards
            page.reload()
            (arrived,) = remote_reports(remote.instance)
            expect(section.locator(".forwarding-status")).to_have_text("Forwarded")
            expect(section.locator(".remote-report-id")).to_have_text(str(arrived.id))
            expect(section).to_contain_text("Test service")
            expect(page.locator("#history")).to_contain_text(f"has the report as their report {arrived.id}, with 2 file(s)")
            browser.close()


def test_only_reviewers_may_forward(site: Site, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    report_id = report_with_files(site.instance)
    with remote_tipline(tmp_path, request) as remote:
        add_destination(site.instance, remote)
        viewer = site.signed_in("victimid")
        page = viewer.get(f"/reports/{report_id}")
        assert page.status_code == 200 and 'action="/reports/%d/forward"' % report_id not in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        refused = viewer.post(f"/reports/{report_id}/forward", data={"destination": "partner", "csrf_token": token})
        assert refused.status_code == 403
        analyst = site.signed_in("analyst")
        page = analyst.get(f"/reports/{report_id}")
        assert 'action="/reports/%d/forward"' % report_id in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        unknown = analyst.post(f"/reports/{report_id}/forward", data={"destination": "nowhere", "csrf_token": token})
        assert unknown.status_code == 400 and "no destination named" in unknown.text
        queued = analyst.post(f"/reports/{report_id}/forward", data={"destination": "partner", "csrf_token": token})
        assert queued.status_code == 303
        assert remote_reports(remote.instance) == []
