"""A partner's hash list as an exchange: a Project VIC (VICS JSON) export at a path or served over HTTP,
read with tipline's hash-list readers; each fetch is a snapshot (what left the list is deleted), a
changed list is read again, an unchanged one is not; reports already processed are matched again."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from exchange_support import exchange_entries, live_signals, md5_of, sha1_of
from sqlalchemy import select
from support import esp_report_with_files, gradient_png, instance_env

from tipline.cli import main
from tipline.exchanges import apis
from tipline.exchanges.fetch import fetch_exchange
from tipline.instance import Instance
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.store.tables import FileMatchRow, ReportRow


def vics(media: list[dict[str, Any]]) -> str:
    return json.dumps({"odata.metadata": "http://example.invalid/$metadata#Media", "value": media})


def medium(media_id: int, md5: str, category: int = 1, series: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"MediaID": media_id, "MD5": md5, "SHA1": sha1_of(md5), "Category": category}
    if series:
        item["Series"] = series
    return item


def tipline(instance: Instance, *args: str, ok: bool = True) -> Any:
    result = CliRunner().invoke(main, list(args), env=instance_env(instance), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_a_vics_export_at_a_path_is_fetched_as_snapshots(instance: Instance, tmp_path: Path) -> None:
    listing = tmp_path / "projectvic.json"
    listing.write_text(vics([medium(1, md5_of("a"), series="Lighthouse"), medium(2, md5_of("b")),
                             medium(3, md5_of("benign"), category=0), medium(4, "not-a-hash")]))
    tipline(instance, "banks", "create", "vic", "--kind", "known_material")
    added = json.loads(tipline(instance, "exchanges", "add", "PVIC", "--api", "file", "--bank", "vic",
                               "--path", str(listing), "--json").stdout)
    assert added["api"] == "file" and added["bank"] == "vic"
    result = json.loads(tipline(instance, "exchanges", "fetch", "PVIC", "--json").stdout)[0]
    assert result["added"] == 5 and result["error"] is None  # media 4's SHA1 is good, its MD5 not
    assert result["problems"] == {"bad_record": 1, "wrong_bank_kind": 1}  # the bad MD5; Category 0 is benign
    signals = live_signals(instance)
    assert ("1", "md5", md5_of("a")) in signals and ("1", "sha1", sha1_of(md5_of("a"))) in signals
    assert not {s for s in signals if s[0] == "3"}

    again = json.loads(tipline(instance, "exchanges", "fetch", "PVIC", "--json").stdout)[0]
    assert again["pages"] == 0, "an unchanged list is not read again"

    listing.write_text(vics([medium(1, md5_of("a"), series="Lighthouse"), medium(5, md5_of("c"))]))
    changed = json.loads(tipline(instance, "exchanges", "fetch", "PVIC", "--json").stdout)[0]
    assert (changed["added"], changed["deleted"], changed["unchanged"]) == (2, 3, 2)
    signals = live_signals(instance)
    assert ("5", "md5", md5_of("c")) in signals
    assert not {s for s in signals if s[0] == "2"}, "what left the list is deleted"
    rows = {(e.remote_id, e.signal_type): e for e in exchange_entries(instance)}
    assert rows[("2", "md5")].deleted_at is not None and rows[("1", "md5")].deleted_at is None

    status = json.loads(tipline(instance, "exchanges", "status", "PVIC", "--json").stdout)
    assert status["entries"]["live"] == 4 and status["entries"]["deleted"] == 3
    assert {p["kind"] for p in status["problems"]} == {"bad_record", "wrong_bank_kind"}


def test_a_list_served_over_http_and_reports_already_processed_are_matched_again(
        instance: Instance, tmp_path: Path) -> None:
    picture = gradient_png(21)
    report_id = esp_report_with_files(instance, {"photo.png": picture})
    assert InProcessWorker(instance).drain(timeout=120)
    with instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).files_matched_at is not None
        assert "known_material_match" not in json.dumps(session.get(ReportRow, report_id).priority_reasons)

    served = tmp_path / "served"
    served.mkdir()
    (served / "list.txt").write_text(hashlib.md5(picture).hexdigest() + "\n" + md5_of("other") + "\n")

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tipline(instance, "banks", "create", "partner", "--kind", "known_material")
        url = f"http://127.0.0.1:{server.server_address[1]}/list.txt"
        tipline(instance, "exchanges", "add", "PARTNER", "--api", "file", "--bank", "partner", "--url", url,
                "--signal-type", "md5")
        outcome = fetch_exchange(instance, "PARTNER")
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.error is None and outcome.result.added == 2
    assert outcome.rematched == [report_id]
    with instance.db.transaction() as session:
        matches = list(session.execute(select(FileMatchRow).where(FileMatchRow.report_id == report_id)).scalars())
        assert [(m.bank, m.source, m.suppressed) for m in matches] == [("partner", "PARTNER", False)]
        assert "known_material_match" in json.dumps(session.get(ReportRow, report_id).priority_reasons)


def test_a_long_list_resumes_where_a_crash_stopped_it(instance: Instance, tmp_path: Path,
                                                     monkeypatch: Any) -> None:
    monkeypatch.setattr(apis, "FILE_PAGE", 10)
    listing = tmp_path / "list.txt"
    listing.write_text("".join(md5_of(str(i)) + "\n" for i in range(55)))
    tipline(instance, "banks", "create", "partner", "--kind", "known_material")
    tipline(instance, "exchanges", "add", "P", "--api", "file", "--bank", "partner", "--path", str(listing),
            "--signal-type", "md5")

    class Crash(BaseException):
        pass

    def crash(page: Any, result: Any) -> None:
        if len(exchange_entries(instance)) >= 30:
            raise Crash

    try:
        fetch_exchange(instance, "P", on_page=crash)
    except Crash:
        pass
    assert len(exchange_entries(instance)) == 30
    outcome = fetch_exchange(instance, "P")
    assert (outcome.pages, outcome.result.added, outcome.result.deleted) == (3, 25, 0)
    assert len(exchange_entries(instance)) == 55 == len(live_signals(instance))
