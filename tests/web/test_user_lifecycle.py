"""An administrator disables a login (it cannot sign in, its sessions end), enables it again, and gives
a new password to a login that does not read reports; a reader's password is not the admin's to know."""

from __future__ import annotations

import re

import lxml.html
from websupport import PASSWORD, Site


def _token(client, path: str) -> str:  # noqa: ANN001 - a TestClient
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


def _sign_in(site: Site, username: str, password: str = PASSWORD) -> int:
    client = site.client()
    token = _token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code


def test_a_disabled_login_cannot_sign_in_and_its_sessions_end(site: Site) -> None:
    analyst = site.signed_in("analyst")
    assert analyst.get("/reports").status_code == 200
    admin = site.signed_in("admin")
    done = admin.post("/admin/users/analyst/active", data={"active": "no", "csrf_token": _token(admin, "/admin/users")})
    assert done.status_code == 303 and "notice=disabled" in done.headers["location"]
    assert analyst.get("/reports", follow_redirects=False).status_code == 303  # back to the sign-in page
    assert _sign_in(site, "analyst") != 303
    admin.post("/admin/users/analyst/active", data={"active": "yes", "csrf_token": _token(admin, "/admin/users")})
    assert _sign_in(site, "analyst") == 303


def test_an_admin_cannot_disable_themself(site: Site) -> None:
    admin = site.signed_in("admin")
    refused = admin.post("/admin/users/admin/active", data={"active": "no", "csrf_token": _token(admin, "/admin/users")})
    assert refused.status_code == 400 and "your own login" in refused.text


def test_a_new_password_is_shown_once_but_not_for_a_login_that_reads_reports(site: Site) -> None:
    admin = site.signed_in("admin")
    page = admin.post("/admin/users/agency/password", data={"csrf_token": _token(admin, "/admin/users")})
    assert page.status_code == 200
    password = lxml.html.fromstring(page.text).xpath("//code[@class='secret']")[0].text_content()
    assert _sign_in(site, "agency", PASSWORD) != 303 and _sign_in(site, "agency", password) == 303
    refused = admin.post("/admin/users/analyst/password", data={"csrf_token": _token(admin, "/admin/users")})
    assert refused.status_code == 400 and "tipline users reset-password" in refused.text
    assert _sign_in(site, "analyst") == 303  # unchanged


def test_a_person_changes_their_own_password_and_their_other_sessions_end(site: Site) -> None:
    here, elsewhere = site.signed_in("analyst"), site.signed_in("analyst")
    new = "a different long passphrase"
    wrong = here.post("/settings/password", data={"current": "not it", "new": new, "again": new,
                                                  "csrf_token": _token(here, "/settings")})
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    short = here.post("/settings/password", data={"current": PASSWORD, "new": "short", "again": "short",
                                                  "csrf_token": _token(here, "/settings")})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    done = here.post("/settings/password", data={"current": PASSWORD, "new": new, "again": new,
                                                 "csrf_token": _token(here, "/settings")})
    assert done.status_code == 303
    assert here.get("/reports").status_code == 200  # this session stays
    assert elsewhere.get("/reports", follow_redirects=False).status_code == 303  # the other one ended
    assert _sign_in(site, "analyst", PASSWORD) != 303 and _sign_in(site, "analyst", new) == 303
