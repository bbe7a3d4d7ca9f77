"""An administrator cannot read reports, and cannot make themselves a reader either: a login with a
role that reads reports (or a change to one) made on the web waits for a second person (another
administrator or a supervisor, never the one who asked nor the one who receives it); the server's
command line grants it at once (host access). Every grant is audited as user.role_granted naming who
asked and who approved, and supervisors see it on their page. On both backends."""

from __future__ import annotations

import re

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from websupport import PASSWORD, Site

from tipline.domain.audit import Actor
from tipline.domain.roles import Role
from tipline.store.tables import AuditEventRow, RoleGrant, User


def token_of(client: TestClient, page: str = "/welcome") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text).group(1)  # type: ignore[union-attr]


def sign_in(site: Site, username: str, password: str) -> int:
    client = site.client()
    token = token_of(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code


def add_second_admin(site: Site) -> None:
    with site.instance.db.transaction() as session:
        site.instance.accounts.add_user(session, "admin2", Role.ADMIN, Actor.system("test"), password=PASSWORD)


def create_on_web(site: Site, admin: TestClient, username: str, role: str) -> str:
    page = admin.post("/admin/users", data={"username": username, "role": role, "csrf_token": token_of(admin)})
    assert page.status_code == 200, page.text
    assert 'id="pending-note"' in page.text
    return re.search(r'<code class="secret">([^<]+)</code>', page.text).group(1)  # type: ignore[union-attr]


def grant_of(site: Site, username: str) -> RoleGrant:
    with site.instance.db.transaction() as session:
        return session.execute(select(RoleGrant).join(User, User.id == RoleGrant.user_id)
                               .where(User.username == username).order_by(RoleGrant.id.desc())).scalars().first()


def events(site: Site, action: str) -> list[dict]:
    """The audit events of this kind, but for the logins the test site was built with."""
    with site.instance.db.transaction() as session:
        found = session.execute(select(AuditEventRow.details, AuditEventRow.actor_name)
                                .where(AuditEventRow.action == action).order_by(AuditEventRow.seq)).all()
    return [details for details, actor in found if actor != "test"]


def test_an_analyst_made_on_the_web_signs_in_only_after_a_second_admin_approves(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    add_second_admin(site)
    admin = site.signed_in("admin")
    password = create_on_web(site, admin, "ana.smith", "analyst")
    assert sign_in(site, "ana.smith", password) == 401
    assert site.client().get("/api/v1/reports", auth=("ana.smith", password)).status_code == 401
    grant = grant_of(site, "ana.smith")
    assert grant.state == "pending" and grant.role == "analyst"
    # the admin who asked cannot approve it
    refused = admin.post(f"/access-grants/{grant.id}/approve", data={"csrf_token": token_of(admin)})
    assert refused.status_code == 409 and "you asked for this grant" in refused.text
    assert grant_of(site, "ana.smith").state == "pending"
    assert sign_in(site, "ana.smith", password) == 401
    assert events(site, "user.role_granted") == []
    # a second admin approves
    second = site.signed_in("admin2")
    approved = second.post(f"/access-grants/{grant.id}/approve", data={"csrf_token": token_of(second)})
    assert approved.status_code == 303 and approved.headers["location"] == "/admin/users?notice=approved"
    assert sign_in(site, "ana.smith", password) == 303
    granted = events(site, "user.role_granted")
    assert len(granted) == 1
    assert {k: granted[0][k] for k in ("username", "role", "requested_by", "approved_by", "via")} == {
        "username": "ana.smith", "role": "analyst", "requested_by": "admin", "approved_by": "admin2", "via": "web"}
    # supervisors see the alert, naming both
    page = site.signed_in("supervisor").get("/supervisor").text
    alert = page[page.index('id="recent-grants"'):]
    assert "ana.smith" in alert and "asked by admin, approved by admin2" in alert
    # and it cannot be approved twice
    again = second.post(f"/access-grants/{grant.id}/approve", data={"csrf_token": token_of(second)})
    assert again.status_code == 409


def test_a_supervisor_sees_and_approves_a_pending_grant(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    admin = site.signed_in("admin")
    password = create_on_web(site, admin, "vic.id", "victim_id")
    supervisor = site.signed_in("supervisor")
    page = supervisor.get("/supervisor").text
    pending = page[page.index('id="pending-grants"'):]
    grant = grant_of(site, "vic.id")
    assert "vic.id" in pending and "asked by admin" in pending and f"/access-grants/{grant.id}/approve" in pending
    assert supervisor.post(f"/access-grants/{grant.id}/approve",
                           data={"csrf_token": token_of(supervisor)}).headers["location"] == "/supervisor?notice=approved"
    assert sign_in(site, "vic.id", password) == 303
    assert events(site, "user.role_granted")[0]["approved_by"] == "supervisor"


def test_a_refused_login_never_signs_in(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    password = create_on_web(site, site.signed_in("admin"), "sam.lee", "supervisor")
    supervisor = site.signed_in("supervisor")
    grant = grant_of(site, "sam.lee")
    assert supervisor.post(f"/access-grants/{grant.id}/refuse",
                           data={"csrf_token": token_of(supervisor)}).status_code == 303
    assert grant_of(site, "sam.lee").state == "refused"
    assert sign_in(site, "sam.lee", password) == 401
    refused = events(site, "user.role_refused")
    assert refused[0]["requested_by"] == "admin" and refused[0]["refused_by"] == "supervisor"


def test_changing_a_role_to_one_that_reads_reports_waits_for_approval_too(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    add_second_admin(site)
    admin = site.signed_in("admin")
    # an admin cannot make themselves (or their agency-user colleague) an analyst alone
    answer = admin.post("/admin/users/admin/role", data={"role": "analyst", "csrf_token": token_of(admin)})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/users?notice=role_requested"
    with site.instance.db.transaction() as session:
        assert site.instance.accounts.user_by_name(session, "admin").role == "admin"
    grant = grant_of(site, "admin")
    assert admin.post(f"/access-grants/{grant.id}/approve", data={"csrf_token": token_of(admin)}).status_code == 409
    # nobody approves a grant to themselves, even if someone else asked for it
    second = site.signed_in("admin2")
    second.post(f"/access-grants/{grant.id}/refuse", data={"csrf_token": token_of(second)})
    second.post("/admin/users/admin2/role", data={"role": "supervisor", "csrf_token": token_of(second)})
    admin = site.signed_in("admin")
    own = grant_of(site, "admin2")
    answer = second.post(f"/access-grants/{own.id}/approve", data={"csrf_token": token_of(second)})
    assert answer.status_code == 409
    approved = admin.post(f"/access-grants/{own.id}/approve", data={"csrf_token": token_of(admin)})
    assert approved.status_code == 303
    with site.instance.db.transaction() as session:
        assert site.instance.accounts.user_by_name(session, "admin2").role == "supervisor"
    # a role that neither reads reports nor approves access to them is given at once
    answer = admin.post("/admin/users/victimid/role", data={"role": "agency", "csrf_token": token_of(admin)})
    assert answer.headers["location"] == "/admin/users?notice=role_changed"
    assert events(site, "user.role_changed")[-1] == {"username": "victimid", "from": "victim_id", "to": "agency"}


def test_an_admin_cannot_make_a_second_admin_to_approve_their_own_request(site_on_each_backend: Site) -> None:
    """Admins approve grants, so a new admin login waits for approval too: otherwise one admin could
    make a second admin, sign in as it and approve the analyst they asked for."""
    site = site_on_each_backend
    admin = site.signed_in("admin")
    create_on_web(site, admin, "ana.smith", "analyst")
    sock_password = create_on_web(site, admin, "admin.b", "admin")
    assert sign_in(site, "admin.b", sock_password) == 401
    answer = admin.post("/admin/users/agency/role", data={"role": "admin", "csrf_token": token_of(admin)})
    assert answer.headers["location"] == "/admin/users?notice=role_requested"
    with site.instance.db.transaction() as session:
        assert site.instance.accounts.user_by_name(session, "agency").role == "agency"


def test_the_command_line_grants_at_once_and_supervisors_are_told(site_on_each_backend: Site) -> None:
    from tipline.cli import main

    site = site_on_each_backend
    settings = site.instance.settings
    env = {"TIPLINE_DATA_DIR": str(settings.data_dir), "TIPLINE_DATABASE_URL": settings.database_url,
           "TIPLINE_ARGON2_TIME_COST": "1", "TIPLINE_ARGON2_MEMORY_KIB": "1024"}
    result = CliRunner().invoke(main, ["users", "add", "--role", "analyst", "kim.cho", "--json"], env=env)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["users", "set-role", "agency", "--role", "victim_id"], env=env)
    assert result.exit_code == 0, result.output
    granted = events(site, "user.role_granted")
    assert [(g["username"], g["role"], g["via"]) for g in granted] == [("kim.cho", "analyst", "cli"),
                                                                        ("agency", "victim_id", "cli")]
    assert granted[0]["requested_by"] == granted[0]["approved_by"] and granted[0]["approved_by"].startswith("cli:")
    page = site.signed_in("supervisor").get("/supervisor").text
    alert = page[page.index('id="recent-grants"'):]
    assert "kim.cho" in alert and "agency" in alert and "command line (host access)" in alert
