"""`tipline takedown` as a user runs it (its own instance from the environment, click's runner): the contact directory imported with
precise errors, a report's addresses located (IP addresses in the URLs: no DNS in a test), notices
drafted, marked and re-checked, the overdue ones and the time to removal printed as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from support import CommandRun, build_instance, instance_env, run_tipline
from takedown_support import CONTACTS_CSV, report_with_urls

from tipline.domain.base import utc_now
from tipline.instance import Instance
from tipline.store.takedown import TakedownNoticeRow

HOME, ABROAD = "http://198.51.100.9/share/a1", "http://192.0.2.5/b"


@pytest.fixture
def hotline_on_sqlite(tmp_path: Path, request: pytest.FixtureRequest, takedown_env: dict[str, str]) -> Iterator[Instance]:
    instance = build_instance(tmp_path / "data", "sqlite", request, **takedown_env)
    yield instance
    instance.close()


def test_the_takedown_commands(hotline_on_sqlite: Instance, tmp_path: Path, takedown_env: dict[str, str]) -> None:
    instance = hotline_on_sqlite
    env = {**instance_env(instance), **takedown_env}

    def run(*args: str) -> CommandRun:
        return run_tipline(env, "takedown", *args)

    good, bad = tmp_path / "contacts.csv", tmp_path / "bad.csv"
    good.write_text(CONTACTS_CSV)
    bad.write_text(CONTACTS_CSV.replace("abuse@transit.example", "abuse-at-transit"))
    refused = run("contacts", "import", str(bad), "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["problems"] == [
        {"line": 4, "column": "email", "problem": "'abuse-at-transit' is not an email address"}]
    imported = run("contacts", "import", str(good), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {"ok": True, "added": 3, "updated": 0, "unchanged": 0}
    listed = json.loads(run("contacts", "list", "--json").stdout)
    assert {c["code"]: c["asn"] for c in listed} == {"example-hosting": [64501], "files-desk": [],
                                                     "transit": [64500, 64510]}

    report_id = report_with_urls(instance, [HOME, ABROAD])
    queued = run("locate", str(report_id), "--json")
    assert queued.returncode == 0 and json.loads(queued.stdout) == {"report_id": report_id, "queued": True}
    located = run("locate", str(report_id), "--wait", "--json")
    assert located.returncode == 0, located.stderr
    where = {h["url"]: (h["country"], h["asn"], h["organisation"]) for h in json.loads(located.stdout)}
    assert where == {HOME: ("GB", 64501, "Example Hosting Ltd"), ABROAD: ("AU", 64502, "Example Cloud Pty")}

    abroad = run("draft", str(report_id), ABROAD)
    assert abroad.returncode != 0 and "hosted in AU, not in GB: route it to the partner hotline" in abroad.stderr
    drafted = run("draft", str(report_id), HOME, "--json")
    assert drafted.returncode == 0, drafted.stderr
    notice = json.loads(drafted.stdout)
    assert notice["provider"] == "Example Hosting Ltd" and notice["contact_email"] == "abuse@hosting.example"
    assert notice["state"] == "drafted" and HOME in notice["text"]
    sent = run("mark", str(notice["notice_id"]), "sent", "--json")
    assert sent.returncode == 0 and json.loads(sent.stdout)["sent_by"].startswith("cli:")
    assert json.loads(run("overdue", "--json").stdout) == []
    now = utc_now()
    with instance.db.transaction() as session:  # as if it had been sent 50 hours ago
        session.execute(update(TakedownNoticeRow).where(TakedownNoticeRow.id == notice["notice_id"]).values(
            drafted_at=now - timedelta(hours=51), sent_at=now - timedelta(hours=50)))
    (overdue,) = json.loads(run("overdue", "--json").stdout)
    assert overdue["notice_id"] == notice["notice_id"] and overdue["hours_waiting"] >= 50
    checked = run("check", str(notice["notice_id"]), "removed", "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["state"] == "removed"
    (figure,) = json.loads(run("removal-times", "--json").stdout)
    assert figure["group"] == "GB" and figure["notices"] == 1 and 49.9 <= figure["median_hours"] <= 50.1
    shown = json.loads(run("notices", "--report", str(report_id), "--json").stdout)
    assert [n["state"] for n in shown] == ["removed"]
