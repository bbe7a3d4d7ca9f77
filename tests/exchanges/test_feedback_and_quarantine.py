"""Analysts' feedback on shared entries (recorded, a rejected entry stops matching, NCMEC is sent its
vote through the client), and the flood quarantine (an entry matching far too much, or benign
material, is held: its matches kept, not acted on, until a person releases it)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from click.testing import CliRunner
from exchange_support import ACTOR, add_ncmec_exchange, exchange_entries, image, md5_of
from fake_ncmec import FakeNcmec
from sqlalchemy import select
from support import esp_report_with_files, gradient_png, instance_env

from tipline.cli import main
from tipline.exchanges.fetch import fetch_exchange
from tipline.instance import Instance
from tipline.matching import BankEntry, FileSignals
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.store.tables import FileMatchRow, ReportRow


def tipline(instance: Instance, *args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(main, list(args), env=instance_env(instance), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def matches(instance: Instance, md5: str) -> int:
    with instance.db.transaction() as session:
        return len(instance.matching.matcher(session, fresh=True).lookup(FileSignals(md5=md5)).matches)


def test_rejection_stops_matching_and_both_votes_reach_ncmec(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeNcmec() as fake:
        fake.add(image("img1", start))
        fake.add(image("img2", start + 1))
        add_ncmec_exchange(instance, fake)
        assert fetch_exchange(instance, "NCMEC").error is None
        rows = {(e.remote_id, e.signal_type): e for e in exchange_entries(instance)}
        bad, good = rows[("42-img1", "md5")], rows[("42-img2", "pdq")]
        assert matches(instance, md5_of("img1")) == 1

        rejected = json.loads(tipline(instance, "exchanges", "reject", str(bad.id), "--reason", "a cartoon",
                                      "--json").stdout)
        assert (rejected["feedback"], rejected["feedback_sent"]) == ("rejected", "pending")
        assert matches(instance, md5_of("img1")) == 0, "a rejected entry stops matching at once"
        # confirming by the bank entry's id works too
        tipline(instance, "exchanges", "confirm", str(good.bank_entry_id))

        fake.fail_next(500, 5)  # the downvote fails (its reasons cannot be read, after the retries)
        sent = tipline(instance, "exchanges", "send-feedback", "NCMEC", "--json", ok=False)
        assert sent.exit_code == 1 and json.loads(sent.stdout) == {"sent": 1, "failed": 1}
        assert json.loads(tipline(instance, "exchanges", "send-feedback", "NCMEC", "--json").stdout) == {
            "sent": 1, "failed": 0}
        votes = {(f["esp"], f["id"], f["type"]): f["body"] for f in fake.feedback}
        assert set(votes) == {("42", "img1", "MD5"), ("42", "img2", "PDQ")}
        assert "negative" in votes[("42", "img1", "MD5")] and "0000-1111" in votes[("42", "img1", "MD5")]
        assert "affirmative" in votes[("42", "img2", "PDQ")]

        entries = json.loads(tipline(instance, "exchanges", "entries", "NCMEC", "--state", "rejected", "--json").stdout)
        assert [(e["remote_id"], e["feedback_sent"], e["feedback_reason"]) for e in entries] == [
            ("42-img1", "sent", "a cartoon")]
        # the exchange sends the entry again: it stays rejected here
        fake.add(image("img1", int(time.time()) - 5))
        time.sleep(1.1)
        fetch_exchange(instance, "NCMEC")
        assert matches(instance, md5_of("img1")) == 0


def _file_exchange(instance: Instance, tmp_path: Any, md5: str, **flood: str) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(md5 + "\n")
    tipline(instance, "banks", "create", "partner", "--kind", "known_material")
    options = [item for key, value in flood.items() for item in (f"--{key.replace('_', '-')}", value)]
    tipline(instance, "exchanges", "add", "P", "--api", "file", "--bank", "partner", "--path", str(listing),
            "--signal-type", "md5", *options)
    assert fetch_exchange(instance, "P").error is None


def _report(instance: Instance, picture: bytes) -> int:
    report_id = esp_report_with_files(instance, {"photo.png": picture})
    assert InProcessWorker(instance).drain(timeout=120)
    return report_id


def _acted_on(instance: Instance, report_id: int) -> bool:
    with instance.db.transaction() as session:
        return "known_material_match" in json.dumps(session.get(ReportRow, report_id).priority_reasons)


def test_an_entry_matching_too_many_reports_is_held_until_released(instance: Instance, tmp_path: Any) -> None:
    picture = gradient_png(33)
    _file_exchange(instance, tmp_path, hashlib.md5(picture).hexdigest(), flood_reports="2")
    first, second = _report(instance, picture), _report(instance, picture)
    assert _acted_on(instance, first) and _acted_on(instance, second)
    third = _report(instance, picture)  # the third report within the day: more than 2
    assert not _acted_on(instance, third)
    (entry,) = exchange_entries(instance)
    assert entry.hold == "held" and "3 reports" in entry.hold_reason
    with instance.db.transaction() as session:
        kept = list(session.execute(select(FileMatchRow).where(FileMatchRow.entry_id == entry.bank_entry_id)).scalars())
        assert len(kept) == 3, "the matches are kept"
        assert all(m.suppressed and m.suppressed_by.startswith("held: ") for m in kept)
    status = json.loads(tipline(instance, "exchanges", "status", "P", "--json").stdout)
    assert [h["id"] for h in status["held"]] == [entry.id]
    fourth = _report(instance, picture)  # still held: not acted on
    assert not _acted_on(instance, fourth)

    released = json.loads(tipline(instance, "exchanges", "release", str(entry.id), "--json").stdout)
    assert released["hold"] == "released"
    assert all(_acted_on(instance, r) for r in (first, second, third, fourth)), "released: its matches count again"
    assert _acted_on(instance, _report(instance, picture)), "a released entry is not held again"


def test_an_entry_matching_benign_material_is_held(instance: Instance, tmp_path: Any) -> None:
    picture = gradient_png(34)
    md5 = hashlib.md5(picture).hexdigest()
    _file_exchange(instance, tmp_path, md5)
    with instance.db.transaction() as session:
        instance.banks.create(session, "benign", "ignore", ACTOR)
        instance.banks.add_entries(session, "benign", [BankEntry("benign", "md5", md5)], ACTOR)
    report_id = _report(instance, picture)
    assert not _acted_on(instance, report_id)
    (entry,) = exchange_entries(instance)
    assert entry.hold == "held" and "benign" in entry.hold_reason
    disabled = json.loads(tipline(instance, "exchanges", "disable-entry", str(entry.id), "--json").stdout)
    assert disabled["hold"] == "disabled"
    assert matches(instance, md5) == 1  # the ignore bank's entry only
