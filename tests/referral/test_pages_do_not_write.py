"""A GET never writes (both backends): the report page of a report the jurisdiction stage has not seen
shows it as not yet located and leaves the database as it was, apart from the audit event of the read;
locating it is an explicit, audited POST."""

from __future__ import annotations

from typing import Any

from referralsupport import Portal, report_in_review
from sqlalchemy import delete, select

from tipline.store.metadata import Base
from tipline.store.referrals import ReportJurisdictionRow
from tipline.store.tables import AuditEventRow

AUDIT_TABLES = {"audit_events", "audit_head"}
# Sign-in bookkeeping, on any request whatever its method (throttled: at most once a minute per
# session, once in 5 minutes per API account): when a session or an API account was last used.
SIGN_IN_BOOKKEEPING = {("user_sessions", "last_seen_at"), ("api_accounts", "last_used_at")}


def snapshot(portal: Portal) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit trail's, in primary-key order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with portal.instance.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in AUDIT_TABLES:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in SIGN_IN_BOOKKEEPING]
            statement = select(*columns).order_by(*table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in session.execute(statement)]
    return tables


def audit_since(portal: Portal, seq: int) -> list[AuditEventRow]:
    with portal.instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow).where(AuditEventRow.seq > seq)
                                    .order_by(AuditEventRow.seq)).scalars())


def last_seq(portal: Portal) -> int:
    with portal.instance.db.transaction() as session:
        return max(session.execute(select(AuditEventRow.seq)).scalars(), default=0)


def test_the_report_page_of_an_unlocated_report_writes_nothing_but_its_read_event(portal: Portal) -> None:
    instance = portal.instance
    report_id = report_in_review(instance, "analyst")
    with instance.db.transaction() as session:  # as for a report processed before the stage existed
        session.execute(delete(ReportJurisdictionRow).where(ReportJurisdictionRow.report_id == report_id))
    analyst = portal.site.signed_in("analyst")
    before, seq = snapshot(portal), last_seq(portal)

    page = analyst.get(f"/reports/{report_id}")

    assert page.status_code == 200
    assert snapshot(portal) == before
    assert "Not yet located" in page.text and "Locate now" in page.text
    read_events = {(e.action, e.actor_name) for e in audit_since(portal, seq)}
    assert read_events == {("report.read", "analyst"), ("file.read", "analyst")}  # the report and its chat log

    # the explicit action locates it, attributed to the analyst who asked
    token = portal_csrf(page.text)
    answer = analyst.post(f"/reports/{report_id}/jurisdiction/locate", data={"csrf_token": token})
    assert answer.status_code == 303
    with instance.db.transaction() as session:
        stored = session.get(ReportJurisdictionRow, report_id)
        assert stored is not None and stored.suggestion["agency"] == "us-il-tf"
    resolved = [e for e in audit_since(portal, seq) if e.action == "jurisdiction.resolved"]
    assert [(e.actor_name, e.report_id) for e in resolved] == [("analyst", report_id)]
    page = analyst.get(f"/reports/{report_id}")
    assert "Not yet located" not in page.text and "Springfield" in page.text


def portal_csrf(html: str) -> str:
    import re

    match = re.search(r'action="/reports/\d+/jurisdiction/locate">\s*<input type="hidden" name="csrf_token" '
                      r'value="([^"]+)"', html)
    assert match, "no Locate now form"
    return match.group(1)


def changed_tables(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_no_get_writes_anything_but_audit_events(portal: Portal) -> None:
    """Every page and API read, as each role, leaves every table as it was but the audit trail."""
    instance = portal.instance
    report_id, referral_id = portal.referred("us-il-tf")
    unlocated = report_in_review(instance, "analyst")
    with instance.db.transaction() as session:
        from tipline.store.tables import ReportFileRow

        session.execute(delete(ReportJurisdictionRow).where(ReportJurisdictionRow.report_id == unlocated))

        file_id = session.execute(select(ReportFileRow.id).where(ReportFileRow.report_id == report_id)).scalars().first()
    pages = {
        "analyst": ["/", "/queue", "/reports", f"/reports/{report_id}", "/referrals", "/search?q=Springfield",
                    "/identifiers", "/settings", "/welcome", f"/files/{file_id}/preview", f"/reports/{unlocated}",
                    f"/api/v1/reports/{unlocated}"],
        "supervisor": ["/supervisor", "/supervisor/triage", "/referrals", f"/reports/{report_id}",
                       f"/reports/{unlocated}"],
        "admin": ["/admin/users", "/admin/audit", "/admin/api-accounts", "/status"],
        "agency": ["/agency/referrals", "/agency/signing-key"],
    }
    clients = {role: portal.site.signed_in(role) for role in pages}
    clients["chirp"] = portal.site.esp("chirp")
    pages["analyst"] += [f"/api/v1/reports/{report_id}", "/api/v1/reports", f"/api/v1/reports/{report_id}/identifiers"]
    pages["chirp"] = [f"/api/v1/reports/{report_id}", "/api/v1/reports", "/ispws/status"]
    for role, paths in pages.items():
        for path in paths:
            before = snapshot(portal)
            answer = clients[role].get(path)
            assert answer.status_code < 500, (role, path)
            assert changed_tables(before, snapshot(portal)) == set(), (role, path, answer.status_code)

    # The one exception, by design: the agency's first opening and each download of a referral are
    # recorded on the referral (opened_at, download_count: its read receipts, which the supervisors'
    # reminders of unopened referrals are built on) as well as in the audit trail.
    agency = clients["agency"]
    for path in (f"/agency/referrals/{referral_id}", f"/agency/referrals/{referral_id}/package"):
        before = snapshot(portal)
        assert agency.get(path).status_code == 200
        assert changed_tables(before, snapshot(portal)) == {"referrals"}, path
