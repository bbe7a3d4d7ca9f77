"""The workspace pages: signing in, the list newest first, everything a report holds, links, admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from support import sample_content
from websupport import PASSWORD, Site

from tipline.domain.report import ReportContent, ReportSource
from tipline.intake.submission import submit_report
from tipline.store.accounts import api_principal
from tipline.store.tables import ApiAccount, AuditEventRow


def _login_token(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_signing_in_with_a_wrong_password_says_so_and_is_audited(site: Site) -> None:
    client = site.client()
    response = client.post("/login", data={"username": "analyst", "password": "nope", "csrf_token": _login_token(client)})
    assert response.status_code == 401
    assert "do not match an active account" in response.text
    assert 'value="analyst"' in response.text  # what the person typed is kept
    with site.instance.db.transaction() as session:
        actions = list(session.execute(select(AuditEventRow.action)).scalars())
    assert "user.login_failed" in actions


def test_signing_in_takes_you_where_you_were_going_but_never_off_site(site: Site) -> None:
    client = site.client()
    assert client.get("/reports").headers["location"] == "/login?next=/reports"
    response = client.post("/login", data={"username": "analyst", "password": PASSWORD, "next": "/reports",
                                           "csrf_token": _login_token(client)})
    assert response.headers["location"] == "/reports"
    client = site.client()
    response = client.post("/login", data={"username": "analyst", "password": PASSWORD,
                                           "next": "//evil.example/", "csrf_token": _login_token(client)})
    assert response.headers["location"] == "/queue"  # an analyst's start page, never the other site


def test_the_sign_in_form_needs_its_own_token(site: Site) -> None:
    response = site.client().post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 400 and "expired" in response.text


def test_repeated_failures_are_throttled(site: Site) -> None:
    client = site.client()
    statuses = []
    for _ in range(6):
        statuses.append(client.post("/login", data={"username": "supervisor", "password": "guess",
                                                    "csrf_token": _login_token(client)}).status_code)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    correct = client.post("/login", data={"username": "supervisor", "password": PASSWORD,
                                          "csrf_token": _login_token(client)})
    assert correct.status_code == 429


def test_the_limit_holds_across_server_processes_and_restarts(site: Site) -> None:
    """Failures are counted in the database: a second server process (or the same one restarted)
    refuses the sixth guess as the first would."""
    from fastapi.testclient import TestClient

    from tipline.web.app import create_app

    first = site.client()
    for n in range(5):
        assert first.get("/api/v1/reports", auth=("supervisor", f"guess{n}")).status_code == 401
    other = TestClient(create_app(site.instance, run_worker=False), base_url="http://testserver",
                       follow_redirects=False)
    assert other.get("/api/v1/reports", auth=("supervisor", PASSWORD)).status_code == 429
    page = other.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    refused = other.post("/login", data={"username": "supervisor", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 429


def test_password_guessing_over_http_basic_is_throttled_and_audited_too(site: Site) -> None:
    """Scripts may use a person's own login by HTTP Basic on /api/ and the HMA paths: guessing there
    meets the same limit as the sign-in form, and a correct password is not checked while blocked."""
    client = site.client()
    statuses = [client.get("/api/v1/reports", auth=("supervisor", f"guess{n}")).status_code for n in range(5)]
    assert statuses == [401] * 5
    blocked = client.get("/c/banks", auth=("supervisor", PASSWORD))
    assert blocked.status_code == 429 and 25 <= int(blocked.headers["retry-after"]) <= 30  # progressive: 30 s first
    assert "Too many failed sign-in attempts" in blocked.json()["message"]
    assert client.get("/api/v1/reports", auth=("supervisor", PASSWORD)).status_code == 429
    with site.instance.db.transaction() as session:
        failed = session.execute(select(AuditEventRow.details).where(AuditEventRow.action == "user.login_failed"))
        assert [d["via"] for d in failed.scalars()] == ["http_basic"] * 5


def test_a_correct_password_over_http_basic_clears_earlier_failures(site: Site) -> None:
    client = site.client()
    for n in range(4):
        assert client.get("/api/v1/reports", auth=("analyst", f"guess{n}")).status_code == 401
    assert client.get("/api/v1/reports", auth=("analyst", PASSWORD)).status_code == 200
    for n in range(4):
        assert client.get("/api/v1/reports", auth=("analyst", f"again{n}")).status_code == 401
    assert client.get("/api/v1/reports", auth=("analyst", PASSWORD)).status_code == 200


def _submit_at(site: Site, when: datetime, **overrides: object) -> int:
    with site.instance.db.transaction() as session:
        account = session.execute(select(ApiAccount).where(ApiAccount.username == "chirp")).scalar_one()
        row = submit_report(site.instance, session, ReportContent.model_validate(sample_content(**overrides)),
                            ReportSource.ESP_JSON, api_principal(account), received_at=when)
        return row.id


def test_the_report_list_shows_the_newest_first(site: Site) -> None:
    now = datetime.now(UTC)
    older = _submit_at(site, now - timedelta(days=2))
    newer = _submit_at(site, now - timedelta(hours=1))
    site.drain()
    page = site.signed_in("analyst").get("/reports").text
    assert page.index(f'href="/reports/{newer}"') < page.index(f'href="/reports/{older}"')
    assert "2 reports, newest first." in page


def test_a_report_page_shows_everything_the_report_holds(site: Site) -> None:
    data = sample_content(
        lawEnforcement={"agencyName": "Springfield Police Department", "caseNumber": "2026-1234"},
        intendedRecipient=[{"screenName": "KidGamer", "espService": "Chirp"}],
        additionalInfo="The account was disabled after review.",
    )
    data["incidentSummary"]["escalateToHighPriority"] = "The user arranged to meet the child tonight."
    report_id = _submit_at(site, datetime.now(UTC), **data)
    site.drain()
    page = site.signed_in("analyst").get(f"/reports/{report_id}").text
    for expected in ["Online Enticement of Children for Sexual Acts", "Escalated by the reporter",
                     "The user arranged to meet the child tonight.", "Sextortion", "@NightOwl77",
                     "Night.Owl@Example.com", "night.owl@example.com", "+12025550143", "203.0.113.7",
                     "Springfield Police Department", "2026-1234", "KidGamer", "Robin", "The account was disabled",
                     "are your parents home?", "Trust", "Submitted through the service provider (json api)",
                     "Received → Processing", "Processing → Awaiting review"]:
        assert expected in page, expected


def test_a_report_page_links_reports_that_share_identifiers(site: Site) -> None:
    first = _submit_at(site, datetime.now(UTC) - timedelta(days=1))
    second = _submit_at(site, datetime.now(UTC))
    site.drain()
    analyst = site.signed_in("analyst")
    page = analyst.get(f"/reports/{second}").text
    assert f'href="/reports/{first}"' in page
    assert "1 other report" in page
    sharing = analyst.get("/identifiers?kind=email&value=night.owl@example.com").text
    assert f'href="/reports/{first}"' in sharing and f'href="/reports/{second}"' in sharing


def test_an_unknown_report_is_a_clear_404_page(site: Site) -> None:
    response = site.signed_in("analyst").get("/reports/424242")
    assert response.status_code == 404
    assert "report 424242 does not exist" in response.text


def test_an_admin_adds_a_user_and_sees_the_password_once(site: Site, tmp_path: Path) -> None:
    import base64

    from tipline.domain.audit import Actor
    from tipline.referral.directory import import_directory
    from tipline.referral.keys import create_agency_key

    key = base64.b64encode(create_agency_key(tmp_path / "agency.key")).decode()
    with site.instance.db.transaction() as session:
        import_directory(site.instance, session, "code,name,type,country,region,city,contact_name,contact_email,"
                         f"contact_phone,public_key,active\nus-x,Example Agency,national_agency,US,,,,,,{key},yes\n",
                         Actor.system("test"))
    admin = site.signed_in("admin")
    page = admin.get("/admin/users").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    # an agency user reads no reports, so needs nobody's approval (roles that do: tests/web/test_role_grants.py)
    response = admin.post("/admin/users", data={"username": "newagent", "role": "agency", "agency": "us-x",
                                                "csrf_token": token})
    password = re.search(r'<code class="secret">([^<]+)</code>', response.text).group(1)  # type: ignore[union-attr]
    assert password not in admin.get("/admin/users").text
    fresh = site.client()
    signed_in = fresh.post("/login", data={"username": "newagent", "password": password,
                                           "csrf_token": _login_token(fresh)})
    assert signed_in.status_code == 303
    duplicate = admin.post("/admin/users", data={"username": "newagent", "role": "analyst", "csrf_token": token})
    assert duplicate.status_code == 400 and "already exists" in duplicate.text


def test_the_audit_page_verifies_the_chain(site: Site) -> None:
    supervisor = site.signed_in("supervisor")
    page = supervisor.get("/admin/audit").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    result = supervisor.post("/admin/audit/verify", data={"csrf_token": token})
    assert "The chain is intact" in result.text


def test_pages_carry_security_headers(site: Site) -> None:
    response = site.client().get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert len(response.headers["request-id"]) == 16


def test_upload_limits_apply_to_whole_path_segments_only() -> None:
    from tipline.web.middleware import BodyLimitMiddleware

    limits = BodyLimitMiddleware(app=None, default_limit=10, upload_limit=1000, upload_paths=("/report", "/ispws/upload"))
    assert limits.limit_for("/report") == 1000
    assert limits.limit_for("/ispws/upload") == 1000
    assert limits.limit_for("/reports/5/notes") == 10
    assert limits.limit_for("/reportx") == 10


def test_the_public_start_page_is_the_report_form(site: Site) -> None:
    assert site.client().get("/").headers["location"] == "/report"
    assert site.signed_in("analyst").get("/").headers["location"] == "/queue"


def test_an_oversized_cybertipline_request_is_answered_in_the_apis_own_xml(site: Site) -> None:
    limit = site.instance.settings.max_upload_bytes
    response = site.esp().post("/ispws/upload", content=b"x", headers={
        "Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(limit + 1)})
    assert response.status_code == 413
    assert "<responseCode>1111</responseCode>" in response.text
