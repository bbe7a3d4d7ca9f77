"""`tipline banks`: banks created and listed, hash lists imported (bad lines reported by number and reason,
the rest imported) and exported (import(export(bank)) is the bank, in every format), single entries
added, disabled and enabled (another process matches the change within a second), series registered,
and processed reports matched again after an import. Expected values come from the files the tests
write and from the formats' documentation, not from the code under test."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from banks_db_support import flip_bits, picture, png, provenance, rand_hex, rows_of, tipline, tipline_json, within
from sqlalchemy import func, select
from websupport import Site, file_report

import tipline.cli.banks as banks_cli
import tipline.store.banks as store_banks
from tipline.domain.audit import Actor
from tipline.instance import Instance
from tipline.matching import BankEntry
from tipline.store.tables import AuditEventRow, FileMatchRow, ReportRow, SeriesRow

SETUP = Actor.system("test-setup")


def _audit_count(instance: Instance, action: str) -> int:
    with instance.db.transaction() as session:
        return session.execute(select(func.count()).select_from(AuditEventRow)
                               .where(AuditEventRow.action == action)).scalar_one()


def _series(instance: Instance) -> dict[str, bool]:
    with instance.db.transaction() as session:
        return {row.name: row.identified for row in session.execute(select(SeriesRow)).scalars()}


# --- create, list, errors -------------------------------------------------------------------------------


def test_banks_are_created_and_listed_with_their_counts(instance: Instance) -> None:
    created = tipline_json(instance, "banks", "create", "ncmec", "--kind", "known_material",
                           "--description", "NCMEC hash list")
    assert created == {"name": "ncmec", "kind": "known_material", "pdq_threshold": 31,
                       "description": "NCMEC hash list"}
    tipline(instance, "banks", "create", "false-positives", "--kind", "ignore", "--threshold", "20")
    ids = [tipline_json(instance, "banks", "add", "ncmec", "md5", rand_hex(32))["entry_id"] for _ in range(3)]
    assert len(set(ids)) == 3
    disabled = tipline_json(instance, "banks", "disable", str(ids[0]))
    assert disabled["entry_id"] == ids[0] and disabled["enabled"] is False and disabled["bank"] == "ncmec"

    assert tipline_json(instance, "banks", "list") == [
        {"name": "false-positives", "kind": "ignore", "pdq_threshold": 20, "entries": 0, "enabled": 0,
         "description": ""},
        {"name": "ncmec", "kind": "known_material", "pdq_threshold": 31, "entries": 3, "enabled": 2,
         "description": "NCMEC hash list"},
    ]
    text = tipline(instance, "banks", "list").stdout
    assert "ncmec" in text and "known_material" in text and "false-positives" in text
    assert _audit_count(instance, "bank.created") == 2
    assert _audit_count(instance, "bank.entries_added") == 3
    assert _audit_count(instance, "bank.entry_disabled") == 1


def test_bank_commands_fail_with_the_reason(sqlite_instance: Instance) -> None:
    instance = sqlite_instance
    tipline(instance, "banks", "create", "known", "--kind", "known_material")
    duplicate = tipline(instance, "banks", "create", "known", "--kind", "ignore", ok=False)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr
    bad_name = tipline(instance, "banks", "create", "no spaces!", "--kind", "ignore", ok=False)
    assert bad_name.exit_code == 1 and "must be 1 to 100 letters" in bad_name.stderr
    bad_kind = tipline(instance, "banks", "create", "x", "--kind", "famous", ok=False)
    assert bad_kind.exit_code == 2 and "famous" in bad_kind.stderr

    short = tipline(instance, "banks", "add", "known", "pdq", "a" * 63, ok=False)
    assert short.exit_code == 1 and "64 hex characters, got 63" in short.stderr
    not_hex = tipline(instance, "banks", "add", "known", "md5", "g" * 32, ok=False)
    assert not_hex.exit_code == 1 and "hex" in not_hex.stderr and "'g'" in not_hex.stderr
    bad_class = tipline(instance, "banks", "add", "known", "md5", "a" * 32, "--classification", "C3", ok=False)
    assert bad_class.exit_code == 1 and "A1, A2, B1, B2" in bad_class.stderr
    bad_type = tipline(instance, "banks", "add", "known", "photodna", "a" * 32, ok=False)
    assert bad_type.exit_code == 1 and "unknown signal type 'photodna'" in bad_type.stderr
    no_bank = tipline(instance, "banks", "add", "nope", "md5", "a" * 32, ok=False)
    assert no_bank.exit_code == 1 and "no bank named 'nope'" in no_bank.stderr
    for command in ("disable", "enable"):
        missing = tipline(instance, "banks", command, "424242", ok=False)
        assert missing.exit_code == 1 and "no bank entry 424242" in missing.stderr
    assert rows_of(instance, "known") == []


def test_series_are_set_identified_or_not(sqlite_instance: Instance) -> None:
    set_ = tipline_json(sqlite_instance, "banks", "series", "set", "Lighthouse", "--identified", "--notes", "case 7")
    assert set_ == {"series": "Lighthouse", "identified": True, "notes": "case 7"}
    unset = tipline_json(sqlite_instance, "banks", "series", "set", "Lighthouse", "--unidentified")
    assert unset == {"series": "Lighthouse", "identified": False, "notes": "case 7"}
    assert _series(sqlite_instance) == {"Lighthouse": False}
    assert _audit_count(sqlite_instance, "series.updated") == 2
    needs_flag = tipline(sqlite_instance, "banks", "series", "set", "X", ok=False)
    assert needs_flag.exit_code == 2


# --- import: each format, bad lines reported, the rest imported -------------------------------------------


def _plain_case() -> tuple[str, str, list[str], list[tuple[Any, ...]], dict[int, list[str]]]:
    a, b = rand_hex(32), rand_hex(32).upper()
    text = "\n".join(["# weekly list", a, "0" * 31, "", "12345678901234567890123456789g12", b]) + "\n"
    return ("list.txt", text, ["--signal-type", "md5", "--source", "Hotline-B"],
            [("md5", a, "Hotline-B", None, None, None), ("md5", b.lower(), "Hotline-B", None, None, None)],
            {3: ["32", "31"], 5: ["hex", "'g'"]})


def _csv_case() -> tuple[str, str, list[str], list[tuple[Any, ...]], dict[int, list[str]]]:
    md5, pdq, sha256 = rand_hex(32), rand_hex(64), rand_hex(64)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["signal_type", "signal_value", "source", "source_id", "classification", "series"])
    writer.writerow(["md5", md5, "NCMEC", "n-1, quoted", "A1", ""])
    writer.writerow(["pdq", pdq, 'Tip "quoted"', "", "B2", "Série-é"])
    writer.writerow(["sha1", "z" * 40, "", "", "", ""])
    writer.writerow(["md5", rand_hex(32), "", "", "Z9", ""])
    writer.writerow(["photodna", rand_hex(32), "", "", "", ""])
    out.write(f"md5,{rand_hex(32)}\n")
    writer.writerow(["sha256", sha256, "lab", "", "", ""])
    return ("list.csv", out.getvalue(), [],
            [("md5", md5, "NCMEC", "n-1, quoted", "A1", None), ("pdq", pdq, 'Tip "quoted"', None, "B2", "Série-é"),
             ("sha256", sha256, "lab", None, None, None)],
            {4: ["hex", "'z'"], 5: ["classification", "Z9"], 6: ["unknown signal type", "photodna"],
             7: ["6 fields", "got 2"]})


def _te_case() -> tuple[str, str, list[str], list[tuple[Any, ...]], dict[int, list[str]]]:
    pdq, md5, video = rand_hex(64), rand_hex(32), rand_hex(32)
    lines = ["signal_type,signal_str,collab,category,tags",
             f"pdq,{pdq},collab-a,POSITIVE_CLASS,A2",
             f"md5,{md5},collab-a,,",
             f"pdq,{rand_hex(62)}a,x,,",
             f"md5,{rand_hex(32)},x,BOGUS,",
             f"md5,{rand_hex(32)},x,NEGATIVE_CLASS,",
             f"video_md5,{video},,,"]
    return ("signals.te.csv", "\n".join(lines) + "\n", [],
            [("pdq", pdq, "collab-a", None, "A2", None), ("md5", md5, "collab-a", None, None, None),
             ("video_md5", video, None, None, None, None)],
            {4: ["64", "63"], 5: ["category", "BOGUS"], 6: ["false positive", "ignore bank"]})


def _vics_case() -> tuple[str, str, list[str], list[tuple[Any, ...]], dict[int, list[str]]]:
    a_md5, a_sha1, e_sha1 = rand_hex(32), rand_hex(40), rand_hex(40)
    media = [
        {"MediaID": 1, "Category": 1, "MD5": a_md5.upper(), "SHA1": a_sha1.upper(), "Series": "Alpha",
         "VictimIdentified": True},
        {"MediaID": 2, "Category": 1, "MD5": rand_hex(30), "Series": "Beta", "VictimIdentified": "false"},
        {"MediaID": 3, "Category": 0, "MD5": rand_hex(32)},
        {"MediaID": 4, "Category": 4, "MD5": rand_hex(32)},
        {"MediaID": 5, "Category": 1, "SHA1": e_sha1, "Series": "Beta", "VictimIdentified": False},
        {"MediaID": 6, "Category": 2, "MD5": rand_hex(32)},
        {"MediaID": 7, "Category": 1},
    ]
    text = ('{"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media", "value": [\n'
            + ",\n".join(json.dumps(m) for m in media) + "\n]}\n")
    return ("vics.json", text, ["--source", "Project VIC"],
            [("md5", a_md5, "Project VIC", "1", None, "Alpha"), ("sha1", a_sha1, "Project VIC", "1", None, "Alpha"),
             ("sha1", e_sha1, "Project VIC", "5", None, "Beta")],
            {3: ["32", "30"], 5: ["Category 4"], 7: ["Category 2"], 8: ["no MD5 or SHA1"]})


CASES = {"plain": _plain_case, "csv": _csv_case, "threatexchange": _te_case, "vics": _vics_case}


@pytest.mark.parametrize("fmt", list(CASES))
def test_import_reports_each_bad_line_and_imports_the_rest(instance: Instance, tmp_path: Path, fmt: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(banks_cli, "IMPORT_COMMIT_EVERY", 2)  # several transactions even for a short file
    name, text, options, expected, bad_lines = CASES[fmt]()
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    tipline(instance, "banks", "create", "known", "--kind", "known_material")

    result = tipline_json(instance, "banks", "import", "known", str(path), *options)
    assert set(result) == {"bank", "file", "format", "imported", "already_in_bank", "skipped", "series"}
    assert result["bank"] == "known" and result["format"] == fmt and result["imported"] == len(expected)
    assert provenance(rows_of(instance, "known")) == sorted(expected)
    assert all(row.enabled and row.added_by.startswith("cli:") for row in rows_of(instance, "known"))

    by_line = {s["line"]: s for s in result["skipped"] if s["line"] is not None}
    assert set(by_line) == set(bad_lines)
    for line, fragments in bad_lines.items():
        for fragment in fragments:
            assert fragment in by_line[line]["reason"], (line, by_line[line])
    unplaced = [s for s in result["skipped"] if s["line"] is None]
    if fmt == "vics":  # JSON is not read by lines: the Category 0 media is named by its MediaID
        assert len(unplaced) == 1 and "MediaID 3" in unplaced[0]["reason"] and "ignore" in unplaced[0]["reason"]
        assert result["series"]["registered"] == ["Alpha", "Beta"]
        assert _series(instance) == {"Alpha": True, "Beta": False}
        assert by_line[3]["item"] == 2
    else:
        assert unplaced == []
    assert _audit_count(instance, "bank.entries_added") == (len(expected) + 1) // 2

    # the same summary for people, line by line
    again = tipline(instance, "banks", "create", "known2", "--kind", "known_material")
    assert again.exit_code == 0
    human = tipline(instance, "banks", "import", "known2", str(path), *options).stdout
    assert f"Imported {len(expected)} entries into bank known2" in human
    for line in bad_lines:
        assert f"  line {line}" in human


def test_a_large_import_goes_in_batches_with_a_progress_bar(instance: Instance, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(banks_cli, "IMPORT_COMMIT_EVERY", 2000)
    monkeypatch.setattr(store_banks, "INSERT_BATCH", 700)
    values = [rand_hex(32) for _ in range(4999)]
    lines = values[:2500] + ["not-a-hash"] + values[2500:]
    path = tmp_path / "big.txt"
    path.write_text("\n".join(lines) + "\n")
    tipline(instance, "banks", "create", "big", "--kind", "known_material")
    result = tipline(instance, "banks", "import", "big", str(path), "--progress", "--json")
    summary = json.loads(result.stdout)
    assert summary["imported"] == 4999
    assert summary["skipped"] == [{"line": 2501, "item": None, "reason": summary["skipped"][0]["reason"]}]
    assert "10-character" in summary["skipped"][0]["reason"]
    assert "importing big.txt" in result.stderr and "100%" in result.stderr
    assert sorted(r.value for r in rows_of(instance, "big")) == sorted(values)
    assert _audit_count(instance, "bank.entries_added") == 3  # 2000 + 2000 + 999 entries, one event each
    quiet = tipline(instance, "banks", "import", "big", str(path), "--no-progress")
    assert quiet.stderr == ""


def test_importing_a_list_again_adds_only_what_is_new(instance: Instance, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A hotline re-imports its partners' lists every week: the bank must not grow by the whole list
    each time, and a matched file must not show the same entry twice."""
    monkeypatch.setattr(banks_cli, "IMPORT_COMMIT_EVERY", 3)  # duplicates across transactions too
    first = [rand_hex(32) for _ in range(7)]
    path = tmp_path / "weekly.txt"
    path.write_text("\n".join(first + [first[0]]) + "\n")  # one value twice in the same file
    tipline(instance, "banks", "create", "known", "--kind", "known_material")
    result = tipline_json(instance, "banks", "import", "known", str(path), "--source", "partner")
    assert (result["imported"], result["already_in_bank"]) == (7, 1)

    newer = [rand_hex(32) for _ in range(2)]
    path.write_text("\n".join(first + newer) + "\n")
    result = tipline_json(instance, "banks", "import", "known", str(path), "--source", "partner")
    assert (result["imported"], result["already_in_bank"]) == (2, 7)
    human = tipline(instance, "banks", "import", "known", str(path), "--source", "partner")
    assert human.exit_code == 0 and "Imported 0 entries" in human.stdout and "9 already in the bank" in human.stdout
    assert sorted(r.value for r in rows_of(instance, "known")) == sorted(first + newer)

    # the same hash from another source is another entry: its provenance is kept
    result = tipline_json(instance, "banks", "import", "known", str(path), "--source", "other hotline")
    assert result["imported"] == 9
    assert len(rows_of(instance, "known")) == 18


def test_import_refuses_an_unknown_bank_and_a_file_with_nothing_good(sqlite_instance: Instance,
                                                                     tmp_path: Path) -> None:
    instance = sqlite_instance
    path = tmp_path / "bad.csv"
    path.write_text("hash,comment\nzz,first\n")
    missing = tipline(instance, "banks", "import", "nope", str(path), ok=False)
    assert missing.exit_code == 1 and "no bank named 'nope'" in missing.stderr
    tipline(instance, "banks", "create", "fp", "--kind", "ignore")
    nothing = tipline(instance, "banks", "import", "fp", str(path), ok=False)
    assert nothing.exit_code == 1 and "line 2" in nothing.stdout
    # a known_material record does not go into an ignore bank, where it would silence matches
    material = tmp_path / "material.csv"
    material.write_text(f"signal_type,signal_value,bank_kind\nmd5,{rand_hex(32)},known_material\n"
                        f"md5,{(benign := rand_hex(32))},ignore\n")
    result = tipline_json(instance, "banks", "import", "fp", str(material))
    assert result["imported"] == 1 and result["skipped"][0]["line"] == 2
    assert "silence matches" in result["skipped"][0]["reason"]
    assert [r.value for r in rows_of(instance, "fp")] == [benign]
    bad_type = tipline(instance, "banks", "import", "fp", str(material), "--signal-type", "crc32", ok=False)
    assert bad_type.exit_code == 1 and "crc32" in bad_type.stderr


def test_a_vics_import_never_unmarks_an_identified_series(sqlite_instance: Instance, tmp_path: Path) -> None:
    instance = sqlite_instance
    tipline(instance, "banks", "create", "pv", "--kind", "identified_series")
    tipline(instance, "banks", "series", "set", "Gamma", "--identified")
    media = [{"MediaID": 1, "Category": 1, "MD5": rand_hex(32), "Series": "Gamma", "VictimIdentified": False},
             {"MediaID": 2, "Category": 1, "MD5": rand_hex(32), "Series": "Delta", "VictimIdentified": True}]
    path = tmp_path / "pv.json"
    path.write_text(json.dumps({"value": media}))
    result = tipline_json(instance, "banks", "import", "pv", str(path))
    assert result["imported"] == 2
    assert result["series"] == {"registered": ["Delta"], "marked_identified": ["Delta"], "kept_identified": ["Gamma"]}
    assert _series(instance) == {"Gamma": True, "Delta": True}


# --- export, and round trips ------------------------------------------------------------------------------


def _vpdq(frames: int) -> str:
    return json.dumps([f"{rand_hex(64)},{80 + i % 20},{i * 1.0:.3f}" for i in range(frames)])


def _bank_content(fmt: str) -> list[dict[str, Any]]:
    """Entries with what the format carries (docs/matching.md's table), different each run."""
    if fmt == "plain":
        return [{"signal_type": "md5", "value": rand_hex(32)} for _ in range(25)]
    if fmt == "vics":
        out = []
        for index, media_id in enumerate(["1001", "1002", "PV-77", "é-8"]):
            series = ["Alpha", None, "Série, \"quoted\"", "Beta"][index]
            out.append({"signal_type": "md5", "value": rand_hex(32), "source_id": media_id, "series": series})
            if index != 1:
                out.append({"signal_type": "sha1", "value": rand_hex(40), "source_id": media_id, "series": series})
        out.append({"signal_type": "sha1", "value": rand_hex(40), "source_id": None, "series": None})
        return out
    if fmt == "threatexchange":
        return [{"signal_type": t, "value": rand_hex(n), "source": s, "classification": c}
                for t, n, s, c in [("pdq", 64, "collab, with comma", "A1"), ("md5", 32, "Zoë", None),
                                   ("video_md5", 32, None, "B2"), ("pdq", 64, 'say "hi"', None),
                                   ("sha256", 64, "x", "A2")]]
    kinds = [("pdq", 64), ("md5", 32), ("sha1", 40), ("sha256", 64), ("video_md5", 32)]
    out = [{"signal_type": t, "value": rand_hex(n), "source": s, "source_id": i, "classification": c, "series": r}
           for (t, n), s, i, c, r in zip(kinds * 2, ["NCMEC", 'Q "uoted"', None, "a,b", "Zoë"] * 2,
                                         ["1", None, "x-2", "3", None] * 2, ["A1", "A2", None, "B1", "B2"] * 2,
                                         [None, "Série", "S,1", None, 'S"2'] * 2)]
    out.append({"signal_type": "vpdq", "value": _vpdq(4), "source": "video lab", "source_id": "v1",
                "classification": "A1", "series": "Motion"})
    return out


@pytest.mark.parametrize("fmt", ["csv", "plain", "vics", "threatexchange"])
def test_export_then_import_into_a_new_bank_gives_the_same_entries(instance: Instance, tmp_path: Path,
                                                                    fmt: str) -> None:
    kind = "identified_series" if fmt == "vics" else "known_material"
    content = _bank_content(fmt)
    with instance.db.transaction() as session:
        instance.banks.create(session, "original", kind, SETUP)
        entries = [BankEntry(bank="original", added_by="setup", added_at=BankEntry.now(), **e) for e in content]
        disabled = BankEntry(bank="original", signal_type=content[0]["signal_type"],
                             value=rand_hex(len(content[0]["value"])) if content[0]["signal_type"] != "vpdq"
                             else _vpdq(2), added_at=BankEntry.now())
        ids: list[int] = []
        instance.banks.add_entries(session, "original", [*entries, disabled], SETUP, ids_out=ids)
        instance.banks.set_enabled(session, max(ids), False, SETUP)

    out = tmp_path / f"export.{fmt}"
    summary = tipline_json(instance, "banks", "export", "original", "--format", fmt, "--output", str(out))
    assert summary == {"bank": "original", "format": fmt, "output": str(out), "written": len(content),
                       "not_carried": {}}
    tipline(instance, "banks", "create", "copy", "--kind", kind)
    imported = tipline_json(instance, "banks", "import", "copy", str(out), "--format", fmt,
                            *(["--signal-type", "md5"] if fmt == "plain" else []))
    assert imported["imported"] == len(content) and imported["skipped"] == []

    def expected(entry: dict[str, Any]) -> tuple[Any, ...]:
        value = json.dumps([f"{p},{q},{float(t):.3f}" for p, q, t in (f.split(",") for f in json.loads(
            entry["value"]))]) if entry["signal_type"] == "vpdq" else entry["value"]
        return (entry["signal_type"], value, entry.get("source"), entry.get("source_id"),
                entry.get("classification"), entry.get("series"))

    assert provenance(rows_of(instance, "copy")) == sorted(expected(e) for e in content)
    if fmt == "vics":  # identified_series is written as VictimIdentified "true" and read back as identified
        assert _series(instance) == {"Alpha": True, "Série, \"quoted\"": True, "Beta": True}
    assert _audit_count(instance, "bank.exported") == 1


def test_export_to_stdout_and_its_refusals(sqlite_instance: Instance, tmp_path: Path) -> None:
    instance = sqlite_instance
    md5, pdq = rand_hex(32), rand_hex(64)
    tipline(instance, "banks", "create", "mixed", "--kind", "known_material")
    tipline(instance, "banks", "add", "mixed", "md5", md5, "--series", "S1", "--source-id", "9")
    tipline(instance, "banks", "add", "mixed", "pdq", pdq, "--classification", "A1")

    listed = list(csv.DictReader(io.StringIO(tipline(instance, "banks", "export", "mixed").stdout)))
    assert [(r["signal_type"], r["signal_value"], r["bank_kind"]) for r in listed] == [
        ("md5", md5, "known_material"), ("pdq", pdq, "known_material")]
    only_md5 = tipline(instance, "banks", "export", "mixed", "--format", "plain", "--signal-type", "md5")
    assert only_md5.stdout == md5 + "\n"
    assert "does not carry" in only_md5.stderr and "series of 1 entry" in only_md5.stderr

    target = tmp_path / "out.txt"
    two_types = tipline(instance, "banks", "export", "mixed", "--format", "plain", "-o", str(target), ok=False)
    assert two_types.exit_code == 1 and "one signal type" in two_types.stderr
    assert not target.exists() and not (tmp_path / "out.txt.partial").exists()  # nothing left behind
    vics = tipline(instance, "banks", "export", "mixed", "--format", "vics", "-o", str(target), ok=False)
    assert vics.exit_code == 1 and "md5 and sha1 only" in vics.stderr and not target.exists()
    no_output = tipline(instance, "banks", "export", "mixed", "--json", ok=False)
    assert no_output.exit_code == 1 and "--output" in no_output.stderr
    unknown = tipline(instance, "banks", "export", "nope", ok=False)
    assert unknown.exit_code == 1 and "no bank named 'nope'" in unknown.stderr


# --- single entries reach a running server within a second ---------------------------------------------------


def test_add_disable_enable_reach_the_running_server_within_a_second(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    instance = site.instance
    esp = site.esp()
    tipline(instance, "banks", "create", "known", "--kind", "known_material")
    value = rand_hex(64)
    near = flip_bits(value, 3, seed=1)

    def answer() -> Any:
        return esp.get("/m/lookup", params={"signal_type": "pdq", "signal": near}).json()

    assert answer() == {}  # the server's matcher is loaded now, before the change
    added = tipline_json(instance, "banks", "add", "known", "pdq", value, "--classification", "A1",
                         "--series", "Lighthouse", "--source", "NCMEC", "--source-id", "77")
    assert added == {"entry_id": added["entry_id"], "bank": "known", "signal_type": "pdq", "value": value,
                     "classification": "A1", "series": "Lighthouse", "source": "NCMEC", "source_id": "77"}
    hit = {"known": [{"bank_content_id": added["entry_id"], "distance": "3"}]}
    assert within(1.0, lambda: answer() == hit) <= 1.0
    tipline(instance, "banks", "disable", str(added["entry_id"]))
    within(1.0, lambda: answer() == {})
    enabled = tipline_json(instance, "banks", "enable", str(added["entry_id"]))
    assert enabled["enabled"] is True
    within(1.0, lambda: answer() == hit)


# --- rematch -------------------------------------------------------------------------------------------------


def test_rematch_finds_a_processed_report_after_its_hash_was_imported(site_on_each_backend: Site,
                                                                      tmp_path: Path) -> None:
    site = site_on_each_backend
    instance = site.instance
    data = png(picture(11))
    report_id = file_report(site, files={"photo.png": data})
    other_id = file_report(site)
    with instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).files_matched_at is not None
        assert "known_material_match" not in json.dumps(session.get(ReportRow, report_id).priority_reasons)

    tipline(instance, "banks", "create", "known", "--kind", "known_material")
    listing = tmp_path / "new.txt"
    listing.write_text(hashlib.md5(data).hexdigest() + "\n" + rand_hex(32) + "\n")
    tipline(instance, "banks", "import", "known", str(listing))

    result = tipline_json(instance, "banks", "rematch")
    assert result == {"reports": 2, "changed": [{"report_id": report_id, "hits_before": 0, "hits": 1,
                                                 "new_hits": 1}]}
    with instance.db.transaction() as session:
        matches = list(session.execute(select(FileMatchRow).where(FileMatchRow.report_id == report_id)).scalars())
        assert [(m.bank, m.signal_type, m.distance, m.suppressed) for m in matches] == [("known", "md5", 0, False)]
        assert "known_material_match" in json.dumps(session.get(ReportRow, report_id).priority_reasons)
        assert session.execute(select(func.count()).select_from(FileMatchRow)
                               .where(FileMatchRow.report_id == other_id)).scalar_one() == 0
    assert tipline_json(instance, "banks", "rematch", "--report", str(report_id)) == {"reports": 1, "changed": []}
    assert "Matched the files of 2 reports again; 0 changed." in tipline(instance, "banks", "rematch").stdout
    missing = tipline(instance, "banks", "rematch", "--report", "999999", ok=False)
    assert missing.exit_code == 1 and "report 999999 does not exist" in missing.stderr
    assert _audit_count(instance, "banks.rematched") == 3
