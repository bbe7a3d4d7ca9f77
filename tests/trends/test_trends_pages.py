"""/trends, the reports behind a bar, the CSV downloads, alerts on the supervisor's view and their
acknowledgement (audited), and the charts in a real browser on a phone."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select
from websupport import PASSWORD, LiveServer, Site, launch_chromium, token_of

from tipline.demo.history import RING_HANDLE, HistoryPlan, load_history
from tipline.domain.base import utc_now
from tipline.store.tables import AuditEventRow


@pytest.fixture
def history_site(site: Site) -> Site:
    load_history(site.instance, HistoryPlan(end=utc_now().date(), days=430, per_day=5.0, surge_days=2,
                                            surge_per_day=25))
    return site


def test_a_dimension_over_time_its_reports_and_its_numbers(history_site: Site) -> None:
    supervisor = history_site.signed_in("supervisor")
    page = supervisor.get("/trends?dimension=annotation&period=month")
    assert page.status_code == 200
    assert 'id="chart-trend"' in page.text and "<svg" in page.text
    assert "Sextortion" in page.text or "sextortion" in page.text
    # each bar leads to the reports behind it; the link lists exactly those reports
    link = re.search(r'<a href="(/trends/reports\?dimension=annotation&amp;value=sextortion[^"]*)">', page.text)
    assert link is not None
    behind = supervisor.get(link.group(1).replace("&amp;", "&"))
    assert behind.status_code == 200
    listed = re.findall(r'href="/reports/(\d+)"', behind.text)
    count = int(re.search(r"([\d,]+) reports?", behind.text).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert listed and len(listed) == min(count, 500)
    # the numbers of each chart as CSV: the series adds up to the counts shown
    rows = list(csv.reader(io.StringIO(supervisor.get("/trends/data.csv?table=series&dimension=annotation"
                                                      "&period=month").text)))
    assert rows[0] == ["period_start", "value", "reports"] and len(rows) > 12
    assert supervisor.get("/trends/data.csv?table=yoy&dimension=source").text.startswith("value,last_365_days")
    assert "increase" in supervisor.get("/trends/data.csv?table=movers").text.splitlines()[0]
    figures = supervisor.get("/trends/figures?from=2025-01-01&to=2026-12-31&by=victim_sex&format=json")
    assert figures.status_code == 200 and figures.json()["tables"][0]["dimension"] == "victim_sex"
    assert supervisor.get("/trends?period=fortnight").status_code == 400
    assert supervisor.get("/trends?from=yesterday").status_code == 400
    # an administrator sees the counts but not the way to the reports
    admin_page = history_site.signed_in("admin").get("/trends")
    assert admin_page.status_code == 200 and "/trends/reports?" not in admin_page.text


def test_alerts_show_on_the_supervisor_view_and_deciding_is_audited(history_site: Site) -> None:
    supervisor = history_site.signed_in("supervisor")
    overview = supervisor.get("/supervisor")
    assert "Emerging threats" in overview.text
    assert "Report annotation: sextortion" in overview.text
    assert "cashapp:" + RING_HANDLE in overview.text
    alerts = supervisor.get("/trends/alerts")
    first = int(re.search(r'action="/trends/alerts/(\d+)/decide"', alerts.text).group(1))  # type: ignore[union-attr]
    done = supervisor.post(f"/trends/alerts/{first}/decide",
                           data={"action": "dismiss", "note": "a known campaign", "csrf_token": token_of(alerts.text)})
    assert done.status_code == 303
    assert f'action="/trends/alerts/{first}/decide"' not in supervisor.get("/trends/alerts").text
    assert "a known campaign" in supervisor.get("/trends/alerts?status=dismissed").text
    with history_site.instance.db.transaction() as session:
        event = session.execute(select(AuditEventRow).where(AuditEventRow.action == "trends.alert_dismissed")).scalar_one()
        assert event.actor_name == "supervisor" or "supervisor" in event.actor_name
        assert event.details["alert"] == first and event.details["note"] == "a known campaign"
    # analysts read alerts but cannot decide on them
    analyst = history_site.signed_in("analyst")
    assert "Acknowledge" not in analyst.get("/trends/alerts").text
    assert analyst.post(f"/trends/alerts/{first}/decide", data={"action": "acknowledge"}).status_code == 403


@pytest.mark.browser
def test_the_charts_on_a_phone_with_the_page_csp(history_site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    with LiveServer(history_site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        phone = browser.new_page(viewport={"width": 375, "height": 800})
        refused: list[str] = []
        phone.on("console", lambda message: refused.append(message.text)
                 if "Content Security Policy" in message.text else None)
        phone.goto(server.url + "/trends?dimension=incident_type&period=month")
        phone.get_by_label("Username").fill("supervisor")
        phone.get_by_label("Password").fill(PASSWORD)
        phone.get_by_role("button", name="Sign in").click()
        expect(phone).to_have_title("Trends · tipline")
        chart = phone.get_by_role("img", name=re.compile(r"counts of incident type \(as reported\) by month"))
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and 300 < box["width"] <= 375 and box["height"] > 100
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width} px wide on a 375 px screen"
        movers = phone.get_by_role("img", name=re.compile(r"more reports? in the last 28 days"))
        expect(movers).to_be_visible()
        phone.locator("#chart-trend summary").click()
        expect(phone.locator("#chart-trend table tbody tr").first).to_be_visible()
        phone.locator("#chart-trend a").first.click()
        expect(phone).to_have_title("Reports behind a count · tipline")
        expect(phone.locator("table tbody tr").first).to_be_visible()
        assert refused == []
        browser.close()
