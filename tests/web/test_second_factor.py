"""The TOTP second factor: set up from a QR code or the key in text, asked after the password at sign-in,
recovery codes that work once, codes that cannot be replayed, roles that must have one, and the
secret kept sealed in the database."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from websupport import PASSWORD, Site

from tipline.domain.roles import Role
from tipline.store.second_factors import UserSecondFactorRow
from tipline.store.tables import AuditEventRow, User
from tipline.store.totp import required_roles


def token_on(client: Any, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None, path
    return match.group(1)


def enrol(site: Site, username: str) -> tuple[Any, str, list[str]]:
    """`username` signs in and turns on a second factor: (their client, the secret, the recovery codes)."""
    client = site.signed_in(username)
    token = token_on(client, "/settings/second-factor")
    assert client.post("/settings/second-factor/start", data={"csrf_token": token}).status_code == 303
    page = client.get("/settings/second-factor")
    assert "<svg" in page.text and "QR code for your authenticator app" in page.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text).group(1)  # type: ignore[union-attr]
    wrong = client.post("/settings/second-factor/confirm", data={"csrf_token": token, "code": "000000"
                                                                  if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 400 and "does not match" in wrong.text
    done = client.post("/settings/second-factor/confirm", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "shown <strong>only now</strong>" in done.text
    codes = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>", done.text)
    assert len(codes) == 10
    return client, secret, codes


def password_step(site: Site, username: str) -> Any:
    client = site.client()
    token = token_on(client, "/login")
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 200 and "Code from your authenticator app" in answer.text
    assert "tipline_session" not in client.cookies  # not signed in on the password alone
    return client


def next_code(secret: str) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30)


def code_step(client: Any, code: str) -> Any:
    """The code page's form carries the sign-in form token the page set as a cookie."""
    return client.post("/login/code", data={"code": code, "csrf_token": client.cookies.get("tipline_login_csrf")})


def test_a_second_factor_is_set_up_and_then_asked_at_every_sign_in(site: Site) -> None:
    _client, secret, codes = enrol(site, "analyst")
    with site.instance.db.transaction() as session:
        row = session.execute(select(UserSecondFactorRow)).scalar_one()
        assert secret not in (row.sealed_secret or "") and row.confirmed_at is not None
        assert not any(code in str(row.recovery_hashes) for code in codes)  # hashed

    client = password_step(site, "analyst")
    wrong = code_step(client, "12345")
    assert wrong.status_code == 401 and "That code is not right" in wrong.text
    # the code enrolment used cannot be used again; the app's next one (30 seconds on) is accepted early
    assert code_step(client, pyotp.TOTP(secret).now()).status_code == 401
    good = code_step(client, next_code(secret))
    assert good.status_code == 303 and client.get("/reports").status_code == 200

    replay = password_step(site, "analyst")  # the same code again: refused
    assert code_step(replay, next_code(secret)).status_code == 401

    spare = password_step(site, "analyst")
    assert code_step(spare, codes[0].upper()).status_code == 303  # a recovery code, as typed
    again = password_step(site, "analyst")
    assert code_step(again, codes[0]).status_code == 401  # spent

    with site.instance.db.transaction() as session:
        actions = list(session.execute(select(AuditEventRow.action).where(AuditEventRow.action.like("user.%"))
                                       .order_by(AuditEventRow.seq)).scalars())
        logins = [row.details for row in session.execute(
            select(AuditEventRow).where(AuditEventRow.action == "user.login")).scalars()]
    for action in ("user.second_factor_started", "user.second_factor_enrolled", "user.second_factor_failed",
                   "user.recovery_code_used"):
        assert action in actions, action
    assert [d.get("second_factor") for d in logins][-2:] == ["totp", "recovery code"]


def test_the_code_step_needs_the_password_step_of_the_same_browser(site: Site) -> None:
    _client, secret, _codes = enrol(site, "analyst")
    stranger = site.client()
    token_on(stranger, "/login")
    answer = stranger.post("/login/code", data={"code": pyotp.TOTP(secret).now(),
                                                "csrf_token": stranger.cookies.get("tipline_login_csrf")})
    assert answer.status_code == 401 and "Please sign in again" in answer.text
    forged = site.client()
    token_on(forged, "/login")
    forged.cookies.set("tipline_login_pending", "2.9999999999.00", path="/login")
    answer = forged.post("/login/code", data={"code": pyotp.TOTP(secret).now(),
                                              "csrf_token": forged.cookies.get("tipline_login_csrf")})
    assert answer.status_code == 401 and "tipline_session" not in forged.cookies


def test_http_basic_is_refused_for_a_login_with_a_second_factor(site: Site) -> None:
    client = site.client()
    assert client.get("/api/v1/reports", auth=("analyst", PASSWORD)).status_code == 200
    enrol(site, "analyst")
    refused = site.client().get("/api/v1/reports", auth=("analyst", PASSWORD))
    assert refused.status_code == 401 and "second factor" in refused.json()["message"]


def test_a_role_that_requires_a_second_factor_can_only_set_it_up_until_it_has_one(site: Site) -> None:
    site.instance.second_factors.required = frozenset({Role.ADMIN})
    client = site.client()
    token = token_on(client, "/login")
    signed = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 303 and signed.headers["location"] == "/settings/second-factor"
    blocked = client.get("/admin/users")
    assert blocked.status_code == 303 and blocked.headers["location"] == "/settings/second-factor"
    assert client.get("/settings").status_code == 303
    assert "Your role requires a second factor" in client.get("/settings/second-factor").text
    assert site.client().get("/api/v1/reports", auth=("admin", PASSWORD)).status_code == 401
    assert site.signed_in("analyst").get("/reports").status_code == 200  # other roles are not held up

    token = token_on(client, "/settings/second-factor")
    client.post("/settings/second-factor/start", data={"csrf_token": token})
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>',  # type: ignore[union-attr]
                       client.get("/settings/second-factor").text).group(1)
    client.post("/settings/second-factor/confirm", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert client.get("/admin/users").status_code == 200
    remove = client.post("/settings/second-factor/remove", data={"csrf_token": token, "password": PASSWORD})
    assert remove.status_code == 400 and "Your role requires a second factor: set up a new one" in remove.text
    with site.instance.db.transaction() as session:
        admin = session.execute(select(User).where(User.username == "admin")).scalar_one()
        assert site.instance.second_factors.enrolled(session, admin.id) is not None


def test_a_person_whose_role_does_not_require_it_may_turn_it_off_with_their_password(site: Site) -> None:
    client, _secret, _codes = enrol(site, "analyst")
    token = token_on(client, "/settings/second-factor")
    refused = client.post("/settings/second-factor/remove", data={"csrf_token": token, "password": "not it at all"})
    assert refused.status_code == 400 and "password is not right" in refused.text
    done = client.post("/settings/second-factor/remove", data={"csrf_token": token, "password": PASSWORD})
    assert done.status_code == 303
    fresh = site.client()
    token = token_on(fresh, "/login")
    assert fresh.post("/login", data={"username": "analyst", "password": PASSWORD,
                                      "csrf_token": token}).status_code == 303


def test_the_required_roles_setting_names_roles() -> None:
    assert required_roles("admin, supervisor") == {Role.ADMIN, Role.SUPERVISOR}
    assert required_roles("") == frozenset()
    with pytest.raises(ValueError, match="'root', which is not a role"):
        required_roles("admin,root")


def test_an_operator_removes_a_lost_second_factor_from_the_server(site: Site) -> None:
    import json

    from click.testing import CliRunner

    from tipline.cli.main import main

    client, _secret, _codes = enrol(site, "analyst")
    settings = site.instance.settings
    env = {"TIPLINE_DATA_DIR": str(settings.data_dir), "TIPLINE_DATABASE_URL": settings.database_url,
           "TIPLINE_KEY_DIR": str(settings.key_dir)}
    result = CliRunner().invoke(main, ["users", "reset-second-factor", "analyst", "--json"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"username": "analyst", "removed": True}
    assert client.get("/reports").status_code == 303  # their sessions ended
    fresh = site.client()
    token = token_on(fresh, "/login")
    assert fresh.post("/login", data={"username": "analyst", "password": PASSWORD,
                                      "csrf_token": token}).status_code == 303  # the password alone again
    with site.instance.db.transaction() as session:
        assert session.execute(select(AuditEventRow.details).where(
            AuditEventRow.action == "user.second_factor_removed")).scalar_one()["by_operator"] is True
