"""Password guessing is slowed in a way an attacker cannot turn against the person guessed at:
failures count per (name, address) and per address with a progressive delay, addresses a person
signed in from before are never held back, and guessing spread over many addresses meets a
per-name ceiling that slows (never locks) and raises an alert. The sign-in form and HTTP Basic on
/api/ and the HMA paths share it, on both backends."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from websupport import PASSWORD, Site

from tipline.store.tables import AuditEventRow, LoginFailureRow
from tipline.web.auth import LoginThrottle

ATTACKERS = [f"198.51.100.{n}" for n in range(1, 6)]  # documentation addresses
HOME = "192.0.2.10"


def client_at(site: Site, address: str) -> TestClient:
    return TestClient(site.app, base_url="http://testserver", follow_redirects=False, client=(address, 40000))


def age_failures(site: Site, seconds: int) -> None:
    """Let time pass for the throttle: every recorded failure happened `seconds` earlier."""
    with site.instance.db.transaction() as session:
        for row in session.execute(select(LoginFailureRow)).scalars():
            row.at -= timedelta(seconds=seconds)


def form_sign_in(client: TestClient, username: str, password: str) -> int:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code


def test_five_addresses_guessing_do_not_lock_out_the_real_person(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    assert form_sign_in(client_at(site, HOME), "supervisor", PASSWORD) == 303  # their usual address
    for address in ATTACKERS:
        assert form_sign_in(client_at(site, address), "supervisor", "guess") == 401
        assert client_at(site, address).get("/api/v1/reports", auth=("supervisor", "guess")).status_code == 401
    home = client_at(site, HOME)
    assert form_sign_in(home, "supervisor", PASSWORD) == 303
    assert home.get("/api/v1/reports", auth=("supervisor", PASSWORD)).status_code == 200
    # even from an address they never used, ten failures spread over five addresses hold nobody back
    assert form_sign_in(client_at(site, "192.0.2.99"), "supervisor", PASSWORD) == 303


def test_one_address_guessing_is_refused_with_a_growing_wait(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    attacker = client_at(site, ATTACKERS[0])
    statuses = [form_sign_in(attacker, "supervisor", f"guess{n}") for n in range(6)]
    assert statuses == [401] * 5 + [429]
    refused = attacker.get("/api/v1/reports", auth=("supervisor", PASSWORD))  # the right password is not checked
    assert refused.status_code == 429 and 25 <= int(refused.headers["retry-after"]) <= 30
    # once the wait has passed, one more failure doubles it
    age_failures(site, 31)
    assert attacker.get("/api/v1/reports", auth=("supervisor", "guess6")).status_code == 401
    refused = attacker.get("/api/v1/reports", auth=("supervisor", "guess7"))
    assert refused.status_code == 429 and 55 <= int(refused.headers["retry-after"]) <= 60
    # the person at home is not affected
    assert form_sign_in(client_at(site, HOME), "supervisor", PASSWORD) == 303


def test_one_address_spraying_many_names_is_refused(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    attacker = client_at(site, ATTACKERS[0])
    statuses = [attacker.get("/api/v1/reports", auth=(f"name{n}", "guess")).status_code for n in range(21)]
    assert statuses == [401] * 20 + [429]
    assert attacker.get("/api/v1/reports", auth=("analyst", PASSWORD)).status_code == 429
    assert client_at(site, HOME).get("/api/v1/reports", auth=("analyst", PASSWORD)).status_code == 200


def test_guessing_over_many_addresses_is_slowed_above_the_ceiling_except_from_known_addresses(
        site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    site.app.state.login_throttle = LoginThrottle(site.instance.db, site.instance.audit, name_ceiling=10,
                                                  ceiling_interval=60)
    assert form_sign_in(client_at(site, HOME), "supervisor", PASSWORD) == 303
    for n in range(10):
        assert client_at(site, f"198.51.100.{n + 1}").get(
            "/api/v1/reports", auth=("supervisor", "guess")).status_code == 401
    slowed = client_at(site, "203.0.113.50").get("/api/v1/reports", auth=("supervisor", PASSWORD))
    assert slowed.status_code == 429 and 55 <= int(slowed.headers["retry-after"]) <= 60  # slowed, not locked
    assert form_sign_in(client_at(site, "203.0.113.50"), "supervisor", PASSWORD) == 429
    assert form_sign_in(client_at(site, HOME), "supervisor", PASSWORD) == 303  # known: never slowed
    assert client_at(site, HOME).get("/api/v1/reports", auth=("supervisor", PASSWORD)).status_code == 200
    with site.instance.db.transaction() as session:
        alerts = session.execute(select(AuditEventRow.details).where(
            AuditEventRow.action == "user.login_ceiling")).scalars().all()
    assert len(alerts) == 1 and alerts[0]["username"] == "supervisor" and alerts[0]["failures"] == 10
    # the ceiling slows: once its interval has passed, an attempt from a new address is checked again
    age_failures(site, 61)
    assert client_at(site, "203.0.113.50").get("/api/v1/reports", auth=("supervisor", PASSWORD)).status_code == 200


def test_signing_in_with_ones_own_account_does_not_reset_the_addresss_count(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    attacker = client_at(site, ATTACKERS[0])
    for n in range(19):
        assert attacker.get("/api/v1/reports", auth=(f"name{n}", "guess")).status_code == 401
    assert attacker.get("/api/v1/reports", auth=("analyst", PASSWORD)).status_code == 200  # their own login
    assert attacker.get("/api/v1/reports", auth=("name19", "guess")).status_code == 401
    assert attacker.get("/api/v1/reports", auth=("name20", "guess")).status_code == 429
