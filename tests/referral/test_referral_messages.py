"""Messages between an agency and the hotline on a referral (both sides write and read them, audited,
on the agency's referral page, the report page and its timeline), and the filters of the agency's list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from referralsupport import Portal, csrf_of
from sqlalchemy import select

from tipline.referral.outcomes import Outcome
from tipline.store.referrals import ReferralRow
from tipline.store.tables import AuditEventRow, ReportRow


def test_agency_and_hotline_write_to_each_other_on_the_referral(portal: Portal) -> None:
    report_id, referral_id = portal.referred("us-il-tf")
    _other_report, other_referral = portal.referred("gb-ncsu", reason="The reported person lives in London.")
    agency = portal.site.signed_in("agency")
    token = csrf_of(agency, f"/agency/referrals/{referral_id}")
    empty = agency.post(f"/agency/referrals/{referral_id}/messages", data={"csrf_token": token, "body": "   "})
    assert empty.status_code == 400 and "Write a message first" in empty.text
    sent = agency.post(f"/agency/referrals/{referral_id}/messages",
                       data={"csrf_token": token, "body": "Can you send the account's creation date?"})
    assert sent.status_code == 303
    assert "Can you send the account&#39;s creation date?" in agency.get(f"/agency/referrals/{referral_id}").text
    # another agency's referral answers as a missing one, and nothing is written to it
    assert agency.post(f"/agency/referrals/{other_referral}/messages",
                       data={"csrf_token": token, "body": "hello"}).status_code == 404

    analyst = portal.site.signed_in("analyst")
    report_page = analyst.get(f"/reports/{report_id}")
    assert "Can you send the account&#39;s creation date?" in report_page.text
    token = csrf_of(analyst, f"/reports/{report_id}")
    reply = analyst.post(f"/reports/{report_id}/referral/messages",
                         data={"csrf_token": token, "body": "Created 2026-03-02, per the provider."})
    assert reply.status_code == 303
    page = agency.get(f"/agency/referrals/{referral_id}").text
    assert page.index("creation date?") < page.index("Created 2026-03-02")  # in order, both sides
    assert "The hotline" in page
    not_referred = analyst.post("/reports/999999/referral/messages", data={"csrf_token": token, "body": "x"})
    assert not_referred.status_code == 404

    with portal.instance.db.transaction() as session:
        sent_events = [e.details for e in session.execute(select(AuditEventRow).where(
            AuditEventRow.action == "referral.message_sent", AuditEventRow.report_id == report_id)).scalars()]
    assert [(d["side"], d["referral_id"]) for d in sent_events] == [("agency", referral_id), ("hotline", referral_id)]
    assert "Message on the referral" in analyst.get(f"/reports/{report_id}?history=all").text


def test_the_agency_filters_its_referrals(portal: Portal) -> None:
    ids = [portal.referred("us-il-tf")[1] for _ in range(3)]
    with portal.instance.db.transaction() as session:
        old = session.get(ReferralRow, ids[0])
        old.created_at = datetime(2026, 1, 10, 12, tzinfo=UTC)
        old.note = "Urgent: the meeting is planned for Saturday."
        session.get(ReferralRow, ids[1]).opened_at = datetime.now(UTC) - timedelta(hours=1)
        session.get(ReportRow, session.get(ReferralRow, ids[2]).report_id).priority = "P3"
    client = portal.site.signed_in("agency")
    token = csrf_of(client, f"/agency/referrals/{ids[1]}")
    client.post(f"/agency/referrals/{ids[1]}/outcomes", data={"outcome": Outcome.ARREST.value, "csrf_token": token})

    def listed(query: str) -> set[int]:
        page = client.get(f"/agency/referrals?{query}")
        assert page.status_code == 200
        return {i for i in ids if f'href="/agency/referrals/{i}"' in page.text}

    assert listed("") == set(ids)
    assert listed("status=arrest") == {ids[1]}
    assert listed("status=new") == {ids[0], ids[2]}
    assert listed("priority=P3") == {ids[2]}
    assert listed("until=2026-01-31") == {ids[0]}
    assert listed("since=2026-01-11") == {ids[1], ids[2]}
    assert listed("q=saturday") == {ids[0]}
    assert listed(f"q=%23{ids[2]}") == {ids[2]}
    assert listed("q=no+such+words") == set()
    assert "No referral matches these filters (of 3)" in client.get("/agency/referrals?q=no+such+words").text
    refused = client.get("/agency/referrals?since=yesterday&priority=P9")
    assert refused.status_code == 200 and "is not a date" in refused.text and "is not P1, P2, P3 or P4" in refused.text
