"""The advocate's pages: follow-up requests by due date, what was done about each, and nothing of the
report itself; every read and change audited."""

from __future__ import annotations

import re
from datetime import timedelta

import lxml.html
from sqlalchemy import select
from support import sample_content
from websupport import Site

from tipline.domain.base import utc_now
from tipline.domain.follow_up import FollowUpRequest
from tipline.domain.support_resources import SupportResource
from tipline.store import follow_ups
from tipline.store.accounts import PUBLIC
from tipline.store.tables import AuditEventRow, FollowUpActionRow, FollowUpRow

REPORTED = ("are your parents home?", "NightOwl77", "Robin")  # in the report: an advocate must not see it


def _request(site: Site, hours_ago: float, contact: str, situation: str = "sextortion") -> tuple[int, int]:
    chirp = site.esp("chirp")
    report = chirp.post("/api/v1/reports", json=sample_content()).json()["reportId"]
    with site.instance.db.transaction() as session:
        follow_up = follow_ups.request(session, site.instance.audit, FollowUpRequest(
            report, "phone", contact, "weekdays after 4pm", "es", situation), PUBLIC.actor,
            now=utc_now() - timedelta(hours=hours_ago))
    assert follow_up is not None
    return follow_up, report


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _texts(html: str, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in lxml.html.fromstring(html).xpath(xpath)]


def _actions(site: Site, actor: str) -> list[str]:
    with site.instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow.action).where(AuditEventRow.actor_name == actor)
                                    .order_by(AuditEventRow.seq)).scalars())


def test_the_advocate_sees_requests_by_due_date_with_the_overdue_counted_and_first(site: Site) -> None:
    fresh, _ = _request(site, 2, "+1 555 0100 203")
    oldest, _ = _request(site, 60, "+1 555 0100 201")
    late, _ = _request(site, 30, "+1 555 0100 202")
    advocate = site.signed_in("advocate")
    assert advocate.get("/").headers["location"] == "/follow-ups"
    page = advocate.get("/follow-ups")
    assert page.status_code == 200
    assert _texts(page.text, '//*[@id="overdue-count"]') == ["2 requests past their due date: listed first."]
    rows = _texts(page.text, "//table//tbody/tr")
    assert [re.search(r"Request (\d+)", row).group(1) for row in rows] == [str(oldest), str(late), str(fresh)]  # type: ignore[union-attr]
    assert ["Overdue" in row for row in rows] == [True, True, False]
    assert "+1 555 0100 201" in rows[0] and "weekdays after 4pm" in rows[0] and "Spanish" in rows[0]
    assert not any(words in page.text for words in REPORTED)
    assert ("/follow-ups", "Follow-up requests") in [(a.get("href"), a.text) for a in
                                                     lxml.html.fromstring(page.text).xpath("//nav//a")]
    assert _actions(site, "advocate")[-1] == "follow_up.listed"


def test_the_advocate_records_a_contact_a_referral_and_closes_the_request(site: Site) -> None:
    follow_up, report = _request(site, 30, "+1 555 0100 201")
    with site.instance.db.transaction() as session:
        follow_ups.replace_resources(session, site.instance.audit, [
            SupportResource("*", "Family Support Line", ("sextortion",), phone="+1 555 0100 300"),
            SupportResource("*", "Parents' Circle", ("parent",))], PUBLIC.actor, source="test.csv")
    advocate = site.signed_in("advocate")
    page = advocate.get(f"/follow-ups/{follow_up}")
    assert page.status_code == 200
    assert _texts(page.text, '//*[@id="fu-contact"]') == ["+1 555 0100 201"]
    assert _texts(page.text, '//*[@id="fu-safe-times"]') == ["weekdays after 4pm"]
    assert _texts(page.text, '//select[@id="service"]/option')[1:] == ["Family Support Line · +1 555 0100 300"]
    assert not any(words in page.text for words in REPORTED)
    token = _csrf(page.text)
    next_due = (utc_now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = advocate.post(f"/follow-ups/{follow_up}", data={
        "csrf_token": token, "kind": "contact", "outcome": "no_answer", "note": "No answer; left no message.",
        "next_due": next_due})
    assert response.status_code == 303
    refused = advocate.post(f"/follow-ups/{follow_up}", data={
        "csrf_token": token, "kind": "referral", "service": "A service not in the directory"})
    assert refused.status_code == 422
    assert "Staff sign in" not in refused.text and 'aria-invalid="true"' in refused.text  # its page, at the field
    assert 'value="A service not in the directory" selected' in refused.text  # the choice kept
    unsigned = advocate.post(f"/follow-ups/{follow_up}", data={"kind": "note", "note": "no token"})
    assert unsigned.status_code == 403
    response = advocate.post(f"/follow-ups/{follow_up}", data={
        "csrf_token": token, "kind": "referral", "service": "Family Support Line", "close": "yes"})
    assert response.status_code == 303

    with site.instance.db.transaction() as session:
        row = session.get(FollowUpRow, follow_up)
        assert row is not None and row.state == "closed"
        assert row.due_at.strftime("%Y-%m-%dT%H:%M") == next_due
        done = [(a.kind, a.outcome, a.service, a.actor_name) for a in session.execute(
            select(FollowUpActionRow).where(FollowUpActionRow.follow_up_id == follow_up)
            .order_by(FollowUpActionRow.id)).scalars()]
    assert done == [("requested", None, None, "public"), ("contact", "no_answer", None, "advocate"),
                    ("referral", None, "Family Support Line", "advocate"), ("closed", None, None, "advocate")]
    # the two refused forms each showed the request's page again: viewed (and audited) twice more
    assert _actions(site, "advocate") == ["user.login", "follow_up.viewed", "follow_up.contact", "follow_up.viewed",
                                          "follow_up.viewed", "follow_up.referral", "follow_up.closed"]
    with site.instance.db.transaction() as session:
        viewed = session.execute(select(AuditEventRow).where(AuditEventRow.action == "follow_up.viewed")).scalars()
        assert {event.report_id for event in viewed} == {report}
    history = _texts(advocate.get(f"/follow-ups/{follow_up}").text, '//*[@id="fu-history"]/li')
    assert any("Contact: No answer" in line and "No answer; left no message." in line for line in history)
    assert advocate.post(f"/follow-ups/{follow_up}", data={
        "csrf_token": token, "kind": "note", "note": "after closing"}).status_code == 409


def test_staff_who_read_reports_do_not_see_follow_up_requests(site: Site) -> None:
    follow_up, _ = _request(site, 1, "+1 555 0100 201")
    for role in ("analyst", "supervisor", "victimid", "admin", "agency"):
        client = site.signed_in(role)
        assert client.get("/follow-ups").status_code == 403, role
        assert client.get(f"/follow-ups/{follow_up}").status_code == 403, role
        assert "/follow-ups" not in client.get("/settings").text, role
