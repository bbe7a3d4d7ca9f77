"""`tipline series` and `tipline clusters` as a separate command runs them, with --json: the issue's
shapes, refusals that name the problem and change nothing; clusters of unmatched material across
reports, ranked, promoted into a series (its reports matched again) or dismissed with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from referralsupport import Portal, report_in_review
from support import instance_env
from vidsupport import blocks

from tipline.cli import main


def tipline(portal: Portal, *args: str, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, list(args), env=instance_env(portal.instance), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, (result.output, result.stderr)
    return result


def as_json(portal: Portal, *args: str) -> Any:
    return json.loads(tipline(portal, *args, "--json").stdout)


def test_the_series_commands_give_the_issues_json_and_refuse_bad_input(portal: Portal, tmp_path: Path) -> None:
    picture, notes = tmp_path / "kite.png", tmp_path / "notes.txt"
    picture.write_bytes(blocks(1))
    notes.write_text("not a picture")
    created = as_json(portal, "series", "create", "Blue Kite")
    assert created == {"id": created["id"], "name": "Blue Kite", "status": "unidentified"}
    refused = tipline(portal, "series", "add-media", "Blue Kite", str(picture), str(notes), ok=False)
    assert refused.exit_code == 1 and "notes.txt is not a picture or a video" in refused.stderr
    assert as_json(portal, "series", "show", "Blue Kite")["media"] == []  # nothing was added
    added = as_json(portal, "series", "add-media", "Blue Kite", str(picture))
    assert added["entries_added"] == 4 and added["bank"] == "victim-series"
    for args, message in ((["--agency", "zz-none"], "there is no agency with code 'zz-none'"),
                          ([], "needs the agency that identified its victim")):
        failed = tipline(portal, "series", "identify", "Blue Kite", *args, ok=False)
        assert failed.exit_code == 1 and message in failed.stderr
    itself = tipline(portal, "series", "merge", "Blue Kite", "Blue Kite", ok=False)
    assert itself.exit_code == 1 and "cannot merge series 'Blue Kite' into itself" in itself.stderr
    identified = as_json(portal, "series", "identify", "Blue Kite", "--agency", "us-il-tf", "--case", "IL-1")
    assert identified["status"] == "identified" and identified["identified_by"] == "us-il-tf"
    report_id = report_in_review(portal.instance, "analyst", files=[("photo.png", blocks(1, shift=2))])
    shown = as_json(portal, "series", "show", "Blue Kite")
    assert shown["status"] == "identified" and shown["identified_by"] == "us-il-tf"
    assert shown["reports"] == [report_id]
    assert shown["notifications"] == [{"agency": "us-il-tf", "report_id": report_id}]
    renamed = as_json(portal, "series", "rename", "Blue Kite", "Kite")
    assert renamed["name"] == "Kite" and renamed["aliases"] == ["Blue Kite"]
    assert [s["name"] for s in as_json(portal, "series", "list")] == ["Kite"]


def test_new_material_seen_in_several_reports_forms_a_cluster_that_becomes_a_series(
        portal: Portal, tmp_path: Path) -> None:
    instance = portal.instance
    first = report_in_review(instance, "analyst", files=[("a.png", blocks(5))])
    second = report_in_review(instance, "analyst", files=[("b.png", blocks(5, shift=3))], provider="pixelgram")
    third = report_in_review(instance, "analyst", files=[("c.png", blocks(5))])
    report_in_review(instance, "analyst", files=[("d.png", blocks(6))])  # seen once: no cluster
    pair = [report_in_review(instance, "analyst", files=[("e.png", blocks(7))]) for _ in range(2)]
    clusters = as_json(portal, "clusters", "list")
    assert [c["reports"] for c in clusters] == [[first, second, third], pair]  # the wider one ranks first
    top = clusters[0]
    assert {"id", "files", "reports", "providers", "first_seen", "last_seen"} <= set(top)
    assert top["files"] == 3 and top["providers"] == ["chirp", "pixelgram"]
    shown = as_json(portal, "clusters", "show", str(top["id"]))
    assert {m["basis"] for m in shown["members"]} <= {"sha256", "md5", "pdq"}
    unnamed = tipline(portal, "clusters", "promote", str(top["id"]), ok=False)
    assert unnamed.exit_code == 1 and "give either --new-series NAME or --series NAME" in unnamed.stderr
    promoted = as_json(portal, "clusters", "promote", str(top["id"]), "--new-series", "Green Owl")
    assert promoted["reports"] == [first, second, third] and promoted["entries_added"] > 0
    series = as_json(portal, "series", "show", "Green Owl")
    assert series["reports"] == [first, second, third]  # matched again against the new entries
    assert all(m["source"] == f"cluster {top['id']}" for m in series["media"])
    # the promotion was made by the command's own instance: this process's matcher learns new bank entries
    # within a second (SYNC_INTERVAL); the test does not wait for that second to pass
    with instance.db.transaction() as session:
        instance.matching.matcher(session, fresh=True)
    again = report_in_review(instance, "analyst", files=[("f.png", blocks(5, shift=1))])
    assert {q["report_id"] for q in as_json(portal, "series", "queue") if q["series"] == "Green Owl"} == {
        first, second, third, again}
    assert [c["reports"] for c in as_json(portal, "clusters", "list")] == [pair]  # matched now, not clustered
    no_reason = tipline(portal, "clusters", "dismiss", str(clusters[1]["id"]), "--reason", " ", ok=False)
    assert no_reason.exit_code == 1 and "say why" in no_reason.stderr
    dismissed = as_json(portal, "clusters", "dismiss", str(clusters[1]["id"]), "--reason", "a public meme")
    assert dismissed["status"] == "dismissed" and dismissed["reason"] == "a public meme"
    assert as_json(portal, "clusters", "list") == []


def test_a_series_added_after_a_report_finds_it_when_reports_are_matched_again(
        sqlite_portal: Portal, tmp_path: Path) -> None:
    portal = sqlite_portal
    earlier = report_in_review(portal.instance, "analyst", files=[("a.png", blocks(8))])
    picture = tmp_path / "owl.png"
    picture.write_bytes(blocks(8, shift=2))
    as_json(portal, "series", "create", "Grey Owl")
    as_json(portal, "series", "add-media", "Grey Owl", str(picture))
    assert as_json(portal, "series", "queue") == []  # not matched yet
    tipline(portal, "banks", "rematch", "--json")
    assert [(q["series"], q["report_id"]) for q in as_json(portal, "series", "queue")] == [("Grey Owl", earlier)]
    assert as_json(portal, "series", "show", "Grey Owl")["reports"] == [earlier]
