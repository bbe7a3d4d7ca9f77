"""`tipline resources import/list` and `tipline follow-ups due`: the directory is one file's content,
a bad file is refused whole with its lines named, and overdue requests are listed for reminders."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from support import make_settings, sample_content
from test_cli import run

from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.follow_up import FollowUpRequest
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.store import follow_ups
from tipline.store.accounts import PUBLIC, Principal
from tipline.store.tables import AuditEventRow

DIRECTORY = ("country,name,situations,phone,url\n"
             "US,Family Support Line,parent;sextortion,+1 555 0100 300,https://family.example.org\n"
             "*,Take It Down,sextortion;images,,https://takeitdown.ncmec.org/\n")


def test_a_directory_is_imported_listed_and_replaced_only_by_a_good_file(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    good = tmp_path / "directory.csv"
    good.write_text(DIRECTORY, encoding="utf-8")
    imported = json.loads(run(tmp_path, "resources", "import", str(good), "--json").output)
    assert imported == {"imported": 2, "countries": ["*", "US"], "file": str(good)}
    listed = json.loads(run(tmp_path, "resources", "list", "--json").output)
    assert [(r["country"], r["name"], r["situations"], r["phone"]) for r in listed] == [
        ("US", "Family Support Line", ["parent", "sextortion"], "+1 555 0100 300"),
        ("*", "Take It Down", ["sextortion", "images"], None)]
    assert [r["name"] for r in json.loads(run(tmp_path, "resources", "list", "--situation", "parent",
                                              "--json").output)] == ["Family Support Line"]

    bad = tmp_path / "bad.csv"
    bad.write_text("country,name,phone\nUS,New Line,\nUnited States,Other Line,\nUS,Third,call us\n", encoding="utf-8")
    result = run(tmp_path, "resources", "import", str(bad), ok=False)
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert "line 3: country 'United States' is not a two-letter country code" in result.output
    assert "line 4: phone 'call us' is not digits" in result.output
    # the directory is still the good file's
    assert [r["name"] for r in json.loads(run(tmp_path, "resources", "list", "--json").output)] == [
        "Family Support Line", "Take It Down"]


def test_follow_ups_due_lists_the_overdue_without_their_contact_detail(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    assert json.loads(run(tmp_path, "follow-ups", "due", "--json").output) == []
    instance = Instance(make_settings(tmp_path))
    try:
        esp = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP)
        ids = []
        for hours_ago in (30, 2):
            with instance.db.transaction() as session:
                report = submit_report(instance, session, ReportContent.model_validate(sample_content()),
                                       ReportSource.ESP_JSON, esp).id
                ids.append((follow_ups.request(session, instance.audit, FollowUpRequest(
                    report, "phone", "+1 555 0100 201", "evenings", "en", None), PUBLIC.actor,
                    now=utc_now() - timedelta(hours=hours_ago)), report))
    finally:
        instance.close()
    due = json.loads(run(tmp_path, "follow-ups", "due", "--json").output)
    assert [(d["id"], d["report"], d["channel"]) for d in due] == [(ids[0][0], ids[0][1], "phone")]
    assert 5.9 <= due[0]["hoursOverdue"] <= 6.5
    assert "0100" not in run(tmp_path, "follow-ups", "due").output
    instance = Instance(make_settings(tmp_path))
    try:
        with instance.db.transaction() as session:
            assert session.execute(select(AuditEventRow.action).order_by(AuditEventRow.seq.desc())
                                   .limit(1)).scalar_one() == "follow_up.listed"
    finally:
        instance.close()
