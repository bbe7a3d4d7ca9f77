"""Administrators' tools: agency membership in the user form, a new secret for a service provider (the
old one ends at once), and the read-only banks page."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from sqlalchemy import select
from websupport import Site

from tipline.domain.audit import Actor
from tipline.matching.banks import BankEntry, SignalType
from tipline.referral.directory import import_directory
from tipline.referral.keys import create_agency_key
from tipline.store.tables import AuditEventRow, User


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]


def _directory(site: Site, tmp_path: Path) -> None:
    keys = {code: base64.b64encode(create_agency_key(tmp_path / f"{code}.key")).decode() for code in ("us-tf", "gb-u")}
    csv = ("code,name,type,country,region,city,contact_name,contact_email,contact_phone,public_key,active\n"
           f"us-tf,Example Task Force,state_task_force,US,IL,,,,,{keys['us-tf']},yes\n"
           f"gb-u,Example Unit,national_police,GB,,,,,,{keys['gb-u']},yes\n")
    with site.instance.db.transaction() as session:
        import_directory(site.instance, session, csv, Actor.system("test"))


def _agency_of(site: Site, username: str) -> int | None:
    with site.instance.db.transaction() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return getattr(user, "agency_id", None)


def test_an_agency_user_is_tied_to_its_agency_in_the_user_form(site: Site, tmp_path: Path) -> None:
    _directory(site, tmp_path)
    admin = site.signed_in("admin")
    token = _token(admin, "/admin/users")
    form = admin.get("/admin/users").text
    assert '<option value="us-tf">Example Task Force</option>' in form
    missing = admin.post("/admin/users", data={"csrf_token": token, "username": "officer", "role": "agency"})
    assert missing.status_code == 400 and "choose the agency of an agency user" in missing.text
    stray = admin.post("/admin/users", data={"csrf_token": token, "username": "ana2", "role": "advocate",
                                             "agency": "us-tf"})
    assert stray.status_code == 400
    made = admin.post("/admin/users", data={"csrf_token": token, "username": "officer", "role": "agency",
                                            "agency": "us-tf"})
    assert made.status_code == 200 and "Created <strong>officer</strong>" in made.text
    first = _agency_of(site, "officer")
    assert first is not None
    moved = admin.post("/admin/users/officer/agency", data={"csrf_token": token, "agency": "gb-u"})
    assert moved.status_code == 303 and _agency_of(site, "officer") not in (None, first)
    refused = admin.post("/admin/users/analyst/agency", data={"csrf_token": token, "agency": "gb-u"})
    assert refused.status_code == 400 and "only agency users belong to an agency" in refused.text
    with site.instance.db.transaction() as session:
        assigned = list(session.execute(select(AuditEventRow.details).where(
            AuditEventRow.action == "user.agency_assigned")).scalars())
    assert [d["agency"] for d in assigned] == ["us-tf", "gb-u"]


def test_a_new_provider_secret_is_shown_once_and_the_old_one_ends_at_once(site: Site) -> None:
    probe = "/api/v1/reports/999999"  # a provider signed in is told it does not exist; anyone else must sign in
    old = site.esp("chirp")
    assert old.get(probe).status_code == 404
    admin = site.signed_in("admin")
    page = admin.post("/admin/api-accounts/chirp/secret", data={"csrf_token": _token(admin, "/admin/api-accounts")})
    assert page.status_code == 200 and "the old one no longer works" in page.text
    secret = re.search(r'<code class="secret">([^<]+)</code>', page.text).group(1)  # type: ignore[union-attr]
    assert old.get(probe).status_code == 401
    new = site.client()
    new.auth = ("chirp", secret)
    assert new.get(probe).status_code == 404
    assert secret not in admin.get("/admin/api-accounts").text  # shown once
    with site.instance.db.transaction() as session:
        assert session.execute(select(AuditEventRow).where(
            AuditEventRow.action == "api_account.secret_rotated")).scalar_one().details == {"username": "chirp"}


def test_the_banks_page_lists_each_bank_with_counts_sources_and_last_change(site: Site) -> None:
    instance = site.instance
    with instance.db.transaction() as session:
        instance.banks.create(session, "known-test", "known_material", Actor.system("test"))
        instance.banks.add_entries(session, "known-test", [
            BankEntry("known-test", SignalType.MD5, f"{n:032x}", source="Example list") for n in range(3)
        ] + [BankEntry("known-test", SignalType.MD5, "f" * 32, source="Partner hotline")], Actor.system("test"))
    page = site.signed_in("admin").get("/admin/banks")
    assert page.status_code == 200
    row = re.search(r"<tr><td>known-test.*?</tr>", page.text, re.S).group(0)  # type: ignore[union-attr]
    assert "Known material" in row and "<td>4</td><td>4</td>" in row
    assert "Example list (3), Partner hotline (1)" in row
    assert site.signed_in("analyst").get("/admin/banks").status_code == 403
