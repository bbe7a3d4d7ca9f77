"""The report page's takedown section and the supervisors' list of notices: an analyst asks where a
report's web addresses are hosted (the worker looks them up), drafts a notice, marks it sent and
records a re-check in a real browser; a URL hosted abroad offers the referral to that country's
partner hotline; roles without review rights can neither see the actions nor use them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import build_instance
from takedown_support import CONTACTS_CSV, URLS, FakeResolver, report_with_urls
from websupport import PASSWORD, LiveServer, Site, build_site, launch_chromium, token_of

from tipline.domain.audit import Actor
from tipline.referral.directory import import_directory
from tipline.referral.keys import create_agency_key
from tipline.takedown import service

ADMIN = Actor.system("test-admin")


@pytest.fixture
def takedown_site(tmp_path: Path, request: pytest.FixtureRequest, takedown_env: dict[str, str],
                  resolver: FakeResolver) -> Iterator[Site]:
    """A hotline in the United Kingdom with both databases, the abuse contacts, and a partner hotline
    in Australia (an agency of type `hotline` with a package key)."""
    instance = build_instance(tmp_path / "data", "sqlite", request, **takedown_env)
    key = base64.b64encode(create_agency_key(tmp_path / "au-partner.key")).decode()
    with instance.db.transaction() as session:
        service.import_contacts(instance, session, CONTACTS_CSV.encode(), ADMIN)
        import_directory(instance, session,
                         "code,name,type,country,public_key\n"
                         f"au-partner,Example Partner Hotline Australia,hotline,AU,{key}\n", ADMIN)
    yield build_site(instance)
    instance.close()


def _claimed_report(site: Site, username: str = "analyst") -> int:
    report_id = report_with_urls(site.instance)
    client = site.signed_in(username)
    page = client.get(f"/reports/{report_id}")
    assert client.post(f"/reports/{report_id}/claim", data={"csrf_token": token_of(page.text)}).status_code == 303
    return report_id


@pytest.mark.browser
def test_an_analyst_follows_a_takedown_in_the_browser(takedown_site: Site, resolver: FakeResolver) -> None:
    from playwright.sync_api import expect, sync_playwright

    site = takedown_site
    report_id = _claimed_report(site)
    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(f"{server.url}/reports/{report_id}")
        page.get_by_label("Username").fill("analyst")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_title(f"Report #{report_id} · tipline")
        section = page.locator("#takedown")
        expect(section.locator(".takedown-address")).to_have_text(URLS)
        expect(section).to_contain_text("Where it is hosted has not been looked up.")
        section.get_by_role("button", name="Find where they are hosted").click()
        expect(section.locator("#takedown-pending")).to_be_visible()
        assert resolver.asked == []  # the web request only queued the lookup
        site.drain()  # the worker looks the hosts up
        page.reload()
        first = section.locator("article").nth(0)
        expect(first.locator(".takedown-hosting")).to_contain_text("Hosted in United Kingdom by Example Hosting Ltd")
        expect(first).to_contain_text("Abuse contact: Files Example abuse desk")
        abroad = section.locator("article").nth(1)
        expect(abroad.locator(".takedown-abroad")).to_contain_text("route it to the partner hotline of Australia")
        expect(abroad.get_by_role("button", name="Draft a notice")).to_have_count(0)
        expect(section.locator("article").nth(2)).to_contain_text("could not be resolved")

        first.get_by_role("button", name="Draft a notice").click()
        expect(first.locator(".notice-state")).to_have_text("Drafted, not sent")
        first.get_by_text("Text of the notice").click()
        expect(first.locator(".notice-text")).to_contain_text(URLS[0])
        first.get_by_role("button", name="Mark sent").click()
        expect(first.locator(".notice-state")).to_have_text("Sent, waiting for the provider")
        first.get_by_role("button", name="Still online").click()
        expect(first.locator(".takedown-dates")).to_contain_text("still online")
        first.get_by_role("button", name="Removed").first.click()
        expect(first.locator(".notice-state")).to_have_text("Removed")
        expect(page.locator("#history")).to_contain_text("Material removed")

        abroad.get_by_role("button", name="Refer to Example Partner Hotline Australia").click()
        expect(page.locator("#referral")).to_contain_text("Referred to Example Partner Hotline Australia")
        browser.close()


def test_only_reviewers_act_and_only_supervisors_list(takedown_site: Site, resolver: FakeResolver) -> None:
    site = takedown_site
    report_id = report_with_urls(site.instance)
    viewer = site.signed_in("victimid")  # reads reports, reviews none
    page = viewer.get(f"/reports/{report_id}")
    assert page.status_code == 200 and 'id="takedown"' in page.text
    assert f'action="/reports/{report_id}/takedown/locate"' not in page.text
    token = token_of(page.text)
    assert viewer.post(f"/reports/{report_id}/takedown/locate", data={"csrf_token": token}).status_code == 403
    assert viewer.get("/takedown").status_code == 403

    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    assert analyst.post(f"/reports/{report_id}/takedown/locate", data={"csrf_token": token}).status_code == 303
    assert resolver.asked == []
    site.drain()
    refused = analyst.post(f"/reports/{report_id}/takedown/notices", data={"csrf_token": token, "url": URLS[1]})
    assert refused.status_code == 400 and "partner hotline" in refused.text and "Nothing was changed" in refused.text
    assert analyst.post(f"/reports/{report_id}/takedown/notices",
                        data={"csrf_token": token, "url": URLS[0]}).status_code == 303
    with site.instance.db.transaction() as session:
        (notice,) = service.notices_of(session, report_id)
    bad = analyst.post(f"/takedown/notices/{notice.id}/state", data={"csrf_token": token, "state": "removed!"})
    assert bad.status_code == 400 and "is not a state" in bad.text
    assert analyst.post(f"/takedown/notices/{notice.id}/state",
                        data={"csrf_token": token, "state": "sent"}).status_code == 303
    assert analyst.get("/takedown").status_code == 403

    supervisor = site.signed_in("supervisor")
    listing = supervisor.get("/takedown?state=sent")
    assert listing.status_code == 200 and f"TD-{notice.id:06d}" in listing.text and "files.example" in listing.text
    assert "Sent, waiting for the provider (1)" in listing.text
    overview = supervisor.get("/supervisor")
    assert "Takedown notices without an answer (0)" in overview.text
    assert analyst.post(f"/takedown/notices/{notice.id}/check", data={"csrf_token": token, "result": "removed"}
                        ).status_code == 303
    listing = supervisor.get("/takedown")
    assert "Time to removal" in listing.text and "United Kingdom" in listing.text
    trends = supervisor.get("/trends")
    assert trends.status_code == 200
    removal = trends.text[trends.text.index('id="h-removal"'):]
    assert "<th scope=\"row\">United Kingdom</th><td>1</td>" in removal[:removal.index("</section>")]
