"""/c/exchanges and /c/exchange/{name} as HMA serves them (with tipline's additions), an analyst's
feedback over HTTP, and the supervisor's page showing held entries with Release and Disable."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from exchange_support import add_ncmec_exchange, exchange_entries, image
from fake_ncmec import FakeNcmec
from websupport import Site, file_report, picture, token_of

from tipline.exchanges.fetch import fetch_exchange


def csrf(client: Any) -> dict[str, str]:
    return {"X-CSRF-Token": token_of(client.get("/settings").text)}


def test_exchanges_as_hma_serves_them_and_feedback(site: Site) -> None:
    instance = site.instance
    with FakeNcmec(password="never-in-an-answer-9") as fake:
        fake.add(image("img1", int(time.time()) - 600))
        fake.add(image("bad", int(time.time()) - 599, md5="123"))
        add_ncmec_exchange(instance, fake)
        fetch_exchange(instance, "NCMEC")
    analyst = site.signed_in("analyst")
    assert analyst.get("/c/exchanges").json() == ["NCMEC"]
    assert analyst.get("/c/exchanges/apis").json() == ["file", "ncmec", "stopncii", "threatexchange"]
    shown = analyst.get("/c/exchange/NCMEC")
    assert shown.status_code == 200
    data = shown.json()
    assert (data["name"], data["api"], data["enabled"], data["bank"]) == ("NCMEC", "ncmec", True, "ncmec")
    assert data["entries"]["live"] == 3 and data["status"]["success"] is True
    assert data["status"]["checkpoint_time"] > 0 and data["status"]["problems"] == {"bad_value": 1}
    assert [(p["kind"], p["remote_id"]) for p in data["problems"]] == [("bad_value", "42-bad")]
    assert "never-in-an-answer-9" not in shown.text
    status = analyst.get("/c/exchange/NCMEC/status").json()
    assert set(status) >= {"last_fetch_time", "checkpoint_time", "success"}
    missing = analyst.get("/c/exchange/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.json()["message"]

    entry = next(e for e in exchange_entries(instance) if e.signal_type == "md5" and e.remote_id == "42-img1")
    path = f"/c/exchange/NCMEC/entry/{entry.id}/feedback"
    assert analyst.post(path, json={"confirmed": False, "reason": "a cartoon"}).status_code == 403  # no CSRF token
    answered = analyst.post(path, json={"confirmed": False, "reason": "a cartoon"}, headers=csrf(analyst))
    assert answered.status_code == 200, answered.text
    assert (answered.json()["feedback"], answered.json()["feedback_sent"]) == ("rejected", "pending")
    rejected = [e for e in analyst.get("/c/exchange/NCMEC").json()["feedback"] if e["feedback"] == "rejected"]
    assert [e["id"] for e in rejected] == [entry.id]

    assert site.client().get("/c/exchanges").status_code == 401
    assert site.signed_in("admin").get("/c/exchanges").status_code == 403
    assert site.esp().get("/c/exchanges").status_code == 403
    victim_id = site.signed_in("victimid")
    assert victim_id.post(path, json={"confirmed": True}, headers=csrf(victim_id)).status_code == 403
    assert "/c/exchange/{exchange_name}" in site.client().get("/openapi.json").json()["paths"]


def test_the_supervisor_sees_held_entries_and_releases_one(site: Site, tmp_path: Any) -> None:
    from click.testing import CliRunner
    from support import instance_env

    from tipline.cli import main

    instance = site.instance
    data = picture(41)
    listing = tmp_path / "list.txt"
    listing.write_text(hashlib.md5(data).hexdigest() + "\n")
    env = instance_env(instance)
    for args in (["banks", "create", "partner", "--kind", "known_material"],
                 ["exchanges", "add", "P", "--api", "file", "--bank", "partner", "--path", str(listing),
                  "--signal-type", "md5", "--flood-reports", "1"],
                 ["exchanges", "fetch", "P"]):
        assert CliRunner().invoke(main, args, env=env).exit_code == 0
    reports = [file_report(site, files={"photo.png": data}) for _ in range(2)]
    (entry,) = exchange_entries(instance)
    assert entry.hold == "held"

    supervisor = site.signed_in("supervisor")
    page = supervisor.get("/supervisor").text
    assert "Shared hashes held (1)" in page
    assert "matched 2 files in 2 reports within 24 hours" in page
    token = token_of(page)
    assert site.signed_in("analyst").post(f"/supervisor/exchange-entries/{entry.id}/release",
                                          data={"csrf_token": token}).status_code == 403
    released = supervisor.post(f"/supervisor/exchange-entries/{entry.id}/release", data={"csrf_token": token})
    assert released.status_code == 303 and "exchange-released" in released.headers["location"]
    assert "Released: the shared hash" in supervisor.get("/supervisor?notice=exchange-released").text
    (entry,) = exchange_entries(instance)
    assert entry.hold == "released"
    from tipline.store.tables import ReportRow

    with instance.db.transaction() as session:
        for report_id in reports:
            assert "known_material_match" in str(session.get(ReportRow, report_id).priority_reasons)
