"""The agency portal and the analysts' referral pages over HTTP: scoping to one's own agency (every
route, with another agency's ids), audited downloads, outcomes flowing back to the report's timeline."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from referralsupport import CHAT_LOG, Portal, csrf_of, png_bytes, report_in_review
from sqlalchemy import select

from tipline.store.referrals import ReferralOutcomeRow, ReferralRow
from tipline.store.tables import AuditEventRow, ReportFileRow


def audit_actions(portal: Portal, report_id: int) -> list[str]:
    with portal.instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow.action).where(AuditEventRow.report_id == report_id)
                                    .order_by(AuditEventRow.seq)).scalars())


def file_of(portal: Portal, report_id: int) -> str:
    with portal.instance.db.transaction() as session:
        return session.execute(select(ReportFileRow.id).where(ReportFileRow.report_id == report_id)
                               .order_by(ReportFileRow.position)).scalars().first()


def test_an_agency_user_reaches_only_its_own_referrals_on_every_route(portal: Portal) -> None:
    mine_report, mine = portal.referred("us-il-tf", files=[("chat-log.txt", CHAT_LOG)])
    theirs_report, theirs = portal.referred("gb-ncsu", reason="The reported person lives in London.",
                                            files=[("photo.png", png_bytes())])
    my_file, their_file = file_of(portal, mine_report), file_of(portal, theirs_report)
    missing = theirs + 1000
    client = portal.site.signed_in("agency")
    token = csrf_of(client, "/agency/referrals")

    listing = client.get("/agency/referrals")
    assert listing.status_code == 200
    assert f"/agency/referrals/{mine}" in listing.text and f"/agency/referrals/{theirs}" not in listing.text
    assert client.get(f"/agency/referrals/{mine}").status_code == 200
    assert client.get(f"/agency/referrals/{mine}/files/{my_file}").status_code == 200

    before = audit_actions(portal, theirs_report)
    for other, label in ((theirs, "another agency's"), (missing, "a missing")):
        requests = [
            ("GET", f"/agency/referrals/{other}", None),
            ("GET", f"/agency/referrals/{other}/package", None),
            ("GET", f"/agency/referrals/{other}/files/{their_file}", None),
            ("POST", f"/agency/referrals/{other}/outcomes", {"outcome": "received", "csrf_token": token}),
        ]
        for method, path, data in requests:
            response = client.get(path) if method == "GET" else client.post(path, data=data)
            assert response.status_code == 404, (label, path)
            assert f"referral {other} does not exist" in response.text, (label, path)
    # a file of another referral, under one's own referral, is as missing as a file that never existed
    for file_id in (their_file, "0" * 32):
        response = client.get(f"/agency/referrals/{mine}/files/{file_id}")
        assert response.status_code == 404 and f"file {file_id} does not exist" in response.text
    assert audit_actions(portal, theirs_report) == before  # nothing happened to the other agency's referral
    with portal.instance.db.transaction() as session:
        assert session.get(ReferralRow, theirs).opened_at is None
        assert session.execute(select(ReferralOutcomeRow)).scalars().all() == []

    other_agency = portal.site.signed_in("agency2")
    assert f"/agency/referrals/{theirs}" in other_agency.get("/agency/referrals").text
    assert other_agency.get(f"/agency/referrals/{mine}").status_code == 404
    drifter = portal.site.signed_in("drifter")  # an agency user not tied to an agency sees nothing
    assert "not linked to an agency" in drifter.get("/agency/referrals").text
    assert drifter.get(f"/agency/referrals/{mine}").status_code == 404
    assert drifter.get(f"/agency/referrals/{mine}/package").status_code == 404


def test_the_package_download_is_the_stored_package_and_is_audited(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    report_id, referral_id = portal.referred("us-il-tf")
    client = portal.site.signed_in("agency")
    response = client.get(f"/agency/referrals/{referral_id}/package")
    assert response.status_code == 200
    with portal.instance.db.transaction() as session:
        referral = session.get(ReferralRow, referral_id)
        assert hashlib.sha256(response.content).hexdigest() == referral.package_sha256
        assert response.headers["x-package-sha256"] == referral.package_sha256
        assert referral.package_name in response.headers["content-disposition"]
        assert referral.download_count == 1 and referral.opened_by == "agency"
    client.get(f"/agency/referrals/{referral_id}/package")
    actions = audit_actions(portal, report_id)
    assert actions.count("referral.package_downloaded") == 2 and actions.count("referral.opened") == 1
    key = client.get("/agency/signing-key")
    assert key.status_code == 200 and key.text.startswith("ed25519:")


def test_portal_pages_never_show_a_picture(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    report_id, referral_id = portal.referred("us-il-tf", files=[("photo.png", png_bytes())])
    client = portal.site.signed_in("agency")
    pages = [client.get("/agency/referrals"), client.get(f"/agency/referrals/{referral_id}"),
             client.get(f"/agency/referrals/{referral_id}/files/{file_of(portal, report_id)}")]
    for page in pages:
        assert page.status_code == 200
        assert "<img" not in page.text and "<video" not in page.text and "/preview" not in page.text
    assert "No picture or video is shown here" in pages[1].text
    assert "photo.png" in pages[1].text and "Chain of custody" in pages[2].text


def test_outcomes_reported_in_the_portal_appear_on_the_report_timeline(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    report_id, referral_id = portal.referred("us-il-tf")
    client = portal.site.signed_in("agency")
    token = csrf_of(client, f"/agency/referrals/{referral_id}")
    refused = client.post(f"/agency/referrals/{referral_id}/outcomes",
                          data={"outcome": "no_action_possible", "csrf_token": token, "note": "Checked twice"})
    assert refused.status_code == 400 and "say why no action is possible" in refused.text
    # the referral's page again, signed in, the reason at its field and the form as it was filled
    assert "Staff sign in" not in refused.text and "refusal-message" in refused.text
    assert 'id="reason" name="reason" rows="2" maxlength="2000" aria-invalid="true"' in refused.text
    assert '<option value="no_action_possible" selected>' in refused.text and ">Checked twice</textarea>" in refused.text
    forged = client.post(f"/agency/referrals/{referral_id}/outcomes", data={"outcome": "arrest"})
    assert forged.status_code == 403
    for data in ({"outcome": "received"},
                 {"outcome": "investigation_opened", "note": "Case 2026-117"},
                 {"outcome": "no_action_possible", "reason": "The account holder is outside our jurisdiction."}):
        response = client.post(f"/agency/referrals/{referral_id}/outcomes", data={**data, "csrf_token": token})
        assert response.status_code == 303
    detail = client.get(f"/agency/referrals/{referral_id}")
    assert "Outcome recorded" not in detail.text  # the notice shows only after a redirect with it
    assert detail.text.count("by agency") == 3
    analyst = portal.site.signed_in("analyst")
    page = analyst.get(f"/reports/{report_id}")
    assert page.status_code == 200
    history = page.text[page.text.index('id="history"'):]
    assert "Outcome from the agency" in history
    assert "Illinois Online Safety Task Force reported: Investigation opened" in history
    assert "reported: No action possible (The account holder is outside our jurisdiction.)" in history
    section = page.text[page.text.index('id="referral"'):page.text.index('id="identifiers"')]
    assert "Referred to <strong>Illinois Online Safety Task Force</strong>" in section
    assert "Investigation opened" in section and "Case 2026-117" in section


def test_an_analyst_sees_the_clues_confirms_or_overrides_and_refers_from_the_report_page(
        sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    report_id = report_in_review(portal.instance, "analyst", files=[("chat-log.txt", CHAT_LOG)])
    analyst = portal.site.signed_in("analyst")
    page = analyst.get(f"/reports/{report_id}")
    section = page.text[page.text.index('id="referral"'):page.text.index('id="identifiers"')]
    assert "<strong>Springfield, Illinois, United States</strong>" in section
    assert "Suggested: <strong>Illinois Online Safety Task Force</strong>" in section
    assert "disagrees" in section  # the reported person's British phone number
    assert "Victim&#39;s address" in section and "School name" in section
    token = csrf_of(analyst, f"/reports/{report_id}")
    refused = analyst.post(f"/reports/{report_id}/jurisdiction", data={"agency": "gb-ncsu", "csrf_token": token})
    assert refused.status_code == 400 and "say why National Child Safety Unit" in refused.text
    version = re.search(r'name="version" value="(\d+)"', section)
    assert version is not None
    response = analyst.post(f"/reports/{report_id}/referral", data={
        "agency": "us-il-tf", "note": "Meeting planned Saturday.", "version": version.group(1), "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == f"/reports/{report_id}#referral"
    after = analyst.get(f"/reports/{report_id}")
    assert "Referred to <strong>Illinois Online Safety Task Force</strong>" in after.text
    assert 'id="refer-form"' not in after.text
    again = analyst.post(f"/reports/{report_id}/referral", data={"agency": "us-il-tf", "csrf_token": token})
    assert again.status_code == 400 and "was already referred" in again.text
    history = after.text[after.text.index('id="history"'):]
    assert "Referral 1 to Illinois Online Safety Task Force" in history and "Agency confirmed" in history


def test_a_stale_referral_form_is_refused_and_changes_nothing(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    report_id = report_in_review(portal.instance, "analyst", files=[])
    analyst = portal.site.signed_in("analyst")
    token = csrf_of(analyst, f"/reports/{report_id}")
    response = analyst.post(f"/reports/{report_id}/referral",
                            data={"agency": "us-il-tf", "version": "1", "csrf_token": token})
    assert response.status_code == 409 and "changed by someone else" in response.text
    with portal.instance.db.transaction() as session:
        assert session.execute(select(ReferralRow)).scalars().all() == []


def test_the_referral_list_reminds_of_referrals_nobody_opened(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    report_id, referral_id = portal.referred("us-il-tf")
    supervisor = portal.site.signed_in("supervisor")
    assert "No referral has waited more than 72 hours for its agency to open it." in supervisor.get("/referrals").text
    with portal.instance.db.transaction() as session:
        row = session.get(ReferralRow, referral_id)
        row.created_at = row.created_at - timedelta(hours=80, minutes=5)
    page = supervisor.get("/referrals").text
    assert "1 referral not opened by the agency within 72 hours" in page
    assert f"referral {referral_id} to Illinois Online Safety Task Force" in page
    assert "waiting 80 h" in page
    portal.site.signed_in("agency").get(f"/agency/referrals/{referral_id}")
    assert "No referral has waited more than" in supervisor.get("/referrals").text


def test_many_unopened_referrals_are_counted_in_full_and_the_oldest_named(
        portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    import tipline.web.routes.referral_pages as referral_pages

    monkeypatch.setattr(referral_pages, "REMINDERS_LISTED", 2)
    ids = [portal.referred("us-il-tf", files=[])[1] for _ in range(3)]
    with portal.instance.db.transaction() as session:
        for hours, referral_id in zip((90, 100, 110), ids, strict=True):
            row = session.get(ReferralRow, referral_id)
            row.created_at = row.created_at - timedelta(hours=hours)
    page = portal.site.signed_in("supervisor").get("/supervisor").text
    assert "Referrals not opened (3)" in page
    assert "3 referrals not opened by the agency within 72 hours" in page
    assert "The 2 waiting longest are listed" in page
    named = [int(n) for n in re.findall(r"referral (\d+) to ", page)]
    assert named == [ids[2], ids[1]]  # the oldest first; the newest of the three is only counted


def test_the_referral_list_charts_the_outcomes_agencies_reported(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    supervisor = portal.site.signed_in("supervisor")
    _, first = portal.referred("us-il-tf")
    _, second = portal.referred("us-il-tf")
    assert '<p class="chart-empty" id="chart-outcomes">No agency has reported an outcome yet.</p>' in \
        supervisor.get("/referrals").text
    agency = portal.site.signed_in("agency")
    for referral_id, outcomes in ((first, ["received", "investigation_opened"]), (second, ["received"])):
        token = csrf_of(agency, f"/agency/referrals/{referral_id}")
        for outcome in outcomes:
            response = agency.post(f"/agency/referrals/{referral_id}/outcomes",
                                   data={"outcome": outcome, "csrf_token": token})
            assert response.status_code == 303
    page = supervisor.get("/referrals").text
    summary = "3 outcomes reported by agencies: Received 2, Investigation opened 1"
    assert '<svg role="img" aria-labelledby="chart-outcomes-title"' in page
    assert f'<title id="chart-outcomes-title">{summary}</title>' in page
    chart = page[page.index('id="chart-outcomes"'):page.index("</figure>")]
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td></tr>', chart))
    assert rows == {"Received": "2", "Investigation opened": "1", "Child safeguarded": "0", "Child identified": "0",
                    "Arrest": "0", "No action possible": "0", "Referred on to another agency": "0"}
    assert len(re.findall(r'<rect class="bar outcome-', chart)) == 2  # no bar for an outcome nobody reported


def test_referral_lists_come_a_page_at_a_time_newest_first_with_latest_outcomes(
        portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    """An agency with thousands of referrals gets pages, not one endless table; the hotline's list
    pages the same way, and every row still shows its latest outcome."""
    import tipline.referral.service as referral_service

    monkeypatch.setattr(referral_service, "REFERRALS_PAGE", 2)
    ids = [portal.referred("us-il-tf", files=[])[1] for _ in range(3)]
    other = portal.referred("gb-ncsu", reason="The reported person lives in London.", files=[])[1]
    officer = portal.site.signed_in("agency")
    token = csrf_of(officer, f"/agency/referrals/{ids[0]}")
    for outcome in ("received", "investigation_opened"):
        assert officer.post(f"/agency/referrals/{ids[0]}/outcomes",
                            data={"outcome": outcome, "csrf_token": token}).status_code in (200, 303)

    first = officer.get("/agency/referrals").text
    assert "3 referrals, newest first; 2 on this page" in first
    assert [int(n) for n in re.findall(r'href="/agency/referrals/(\d+)"', first)] == [ids[2], ids[1]]
    assert f'href="/agency/referrals?before={ids[1]}"' in first
    second = officer.get(f"/agency/referrals?before={ids[1]}").text
    assert [int(n) for n in re.findall(r'href="/agency/referrals/(\d+)"', second)] == [ids[0]]
    assert "Investigation opened" in second and "?before=" not in second  # the last page
    assert officer.get("/agency/referrals?before=0").status_code == 422  # ids start at 1

    hotline = portal.site.signed_in("supervisor")
    listing = hotline.get("/referrals").text
    assert "All referrals (4)" in listing and f'href="/referrals?before={ids[2]}"' in listing
    rest = hotline.get(f"/referrals?before={ids[2]}").text
    assert f"<td>{ids[0]}</td>" in rest and f"<td>{ids[1]}</td>" in rest and f"<td>{other}</td>" not in rest
    assert "Investigation opened" in rest
