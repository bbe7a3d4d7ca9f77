"""Hash banks in the database: entries with provenance, every process's matcher kept current within a
second, files matched in the pipeline (rotated copies included), known false positives silenced,
and matches feeding triage."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from support import esp_report_with_files

from tipline.domain.audit import Actor, ActorType
from tipline.instance import Instance
from tipline.matching import BankEntry, Classification, FileSignals
from tipline.media import pdq_from_image
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.pipeline.stages.score_priority import rescore
from tipline.store.banks import BankError, MatcherSync
from tipline.store.tables import FileMatchRow, ReportRow

SUPERVISOR = Actor(ActorType.USER, "2", "sam")


def _picture(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((240, 320, 3), dtype="uint8")
    for _ in range(16):
        top, left = rng.integers(0, 200), rng.integers(0, 280)
        pixels[top:top + 40, left:left + 40] = rng.integers(0, 255, 3)
    return Image.fromarray(pixels)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _report_with(instance: Instance, files: dict[str, bytes]) -> int:
    report_id = esp_report_with_files(instance, files)
    assert InProcessWorker(instance).drain(timeout=120)
    return report_id


def test_a_bank_is_created_and_filled_with_provenance(instance: Instance) -> None:
    with instance.db.transaction() as session:
        instance.banks.create(session, "ncmec-hashes", "known_material", SUPERVISOR)
        added = instance.banks.add_entries(session, "ncmec-hashes", [
            BankEntry("ncmec-hashes", "md5", "0" * 31 + "1", source="NCMEC", source_id="n-1", classification="A1"),
            BankEntry("ncmec-hashes", "pdq", "f" * 64, source="NCMEC", source_id="n-2"),
        ], SUPERVISOR)
        assert added == 2
        with pytest.raises(BankError, match="already exists"):
            instance.banks.create(session, "ncmec-hashes", "ignore", SUPERVISOR)
        with pytest.raises(BankError, match="no bank named 'nope'"):
            instance.banks.add_entries(session, "nope", [], SUPERVISOR)
    with instance.db.transaction() as session:
        (summary,) = instance.banks.summaries(session)
        exported = list(instance.banks.entries(session, "ncmec-hashes"))
    assert (summary.bank.name, summary.bank.kind, summary.entries, summary.enabled) == ("ncmec-hashes",
                                                                                         "known_material", 2, 2)
    assert [(e.signal_type.value, e.source_id, e.added_by) for e in exported] == [("md5", "n-1", "sam"),
                                                                                  ("pdq", "n-2", "sam")]


def test_a_change_made_by_one_process_matches_in_another_within_a_second(instance: Instance) -> None:
    here, there = MatcherSync(), MatcherSync()
    with instance.db.transaction() as session:
        instance.banks.create(session, "known", "known_material", SUPERVISOR)
        here.matcher(session), there.matcher(session)
        instance.banks.add_entries(session, "known", [BankEntry("known", "md5", "a" * 32)], SUPERVISOR)
    time.sleep(0.6)
    with instance.db.transaction() as session:
        assert [m.bank.name for m in there.matcher(session).lookup(FileSignals(md5="a" * 32)).hits] == ["known"]
        entry_id = next(iter(there.matcher(session).entries("known"))).entry_id
        instance.banks.set_enabled(session, entry_id, False, SUPERVISOR)
    time.sleep(0.6)
    with instance.db.transaction() as session:
        assert there.matcher(session).lookup(FileSignals(md5="a" * 32)).hits == ()
        assert here.matcher(session).lookup(FileSignals(md5="a" * 32)).hits == ()


def test_lookups_open_a_session_only_when_the_change_log_is_due_a_look(instance: Instance,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """/m/lookup and the benchmark take the matcher through `current`: between looks at the change log a lookup
    opens no session; once a look is due it opens one and finds what another process added; while another
    thread is applying the change log, a lookup goes on with the matcher as it stands instead of waiting."""
    import threading
    from contextlib import contextmanager

    import tipline.store.banks as banks_module

    opened: list[int] = []

    @contextmanager
    def reading():  # type: ignore[no-untyped-def]
        opened.append(1)
        with instance.db.read_session() as session:
            yield session

    sync = MatcherSync()
    with instance.db.transaction() as session:
        instance.banks.create(session, "known", "known_material", SUPERVISOR)
    monkeypatch.setattr(banks_module, "SYNC_INTERVAL", 3600.0)
    loaded = sync.current(reading)
    assert len(opened) == 1  # the first lookup loads the banks
    with instance.db.transaction() as session:
        instance.banks.add_entries(session, "known", [BankEntry("known", "md5", "b" * 32)], SUPERVISOR)
    for _ in range(20):
        assert sync.current(reading) is loaded
    assert len(opened) == 1  # no look due: no session
    monkeypatch.setattr(banks_module, "SYNC_INTERVAL", 0.0)
    assert [m.bank.name for m in sync.current(reading).lookup(FileSignals(md5="b" * 32)).hits] == ["known"]
    assert len(opened) == 2
    with sync._lock:  # as while another thread applies the change log
        answered = []
        other = threading.Thread(target=lambda: answered.append(sync.current(reading)))
        other.start()
        other.join(timeout=5)
        assert answered == [loaded] and len(opened) == 2


def test_another_process_takes_each_change_whatever_its_ids(instance: Instance) -> None:
    """A change's entries are read as one id range when they are nearly contiguous (a fetch's page), where
    another bank's entry or an entry of no change may sit between them, and by their ids otherwise: either
    way the other process holds each entry of the change once, in its bank, with its provenance."""
    from tipline.domain.base import utc_now
    from tipline.store.tables import BankChangeRow, BankEntryRow, BankRow

    there = MatcherSync()
    with instance.db.transaction() as session:
        instance.banks.create(session, "a", "known_material", SUPERVISOR)
        instance.banks.create(session, "b", "known_material", SUPERVISOR)
        there.matcher(session)
        banks = dict(session.execute(select(BankRow.name, BankRow.id)).all())
    now = utc_now()
    placed = {10_010: "a", 10_011: "a", 10_012: "b", 10_013: "a", 10_014: "a", 10_900: "a", 10_950: "a"}
    with instance.db.transaction() as session:
        session.add_all([BankEntryRow(id=i, bank_id=banks[bank], signal_type="md5", value=f"{i:032x}", source="X",
                                      source_id=f"r{i}", classification="a1", added_by="fetch", added_at=now,
                                      enabled=True, changed_at=now) for i, bank in placed.items()])
        session.flush()
        for bank, ids in (("a", [10_013, 10_010, 10_011]), ("b", [10_012]), ("a", [10_900, 10_950])):
            session.add(BankChangeRow(bank_id=banks[bank], action="add", entry_ids={"ids": ids}, at=now))
    with instance.db.read_session() as session:
        matcher = there.matcher(session, fresh=True)
    held = {e.entry_id: e for e in matcher.entries()}
    assert {i: e.bank for i, e in held.items()} == {i: b for i, b in placed.items() if i != 10_014}  # 14: no change
    entry = held[10_013]
    assert (entry.value, entry.source, entry.source_id, entry.classification, entry.added_by, entry.added_at) == (
        f"{10_013:032x}", "X", "r10013", Classification.A1, "fetch", now)
    assert [m.entry.entry_id for m in matcher.lookup(FileSignals(md5=f"{10_950:032x}")).hits] == [10_950]


def test_a_malformed_stored_value_is_left_out_and_the_rest_of_its_change_taken(instance: Instance) -> None:
    """Entries taken from the change log are built as stored ones, their values checked again: a row whose
    value is not a canonical hash of its type (written by hand, or by another version) is left out; the
    entries beside it in the same change match (upper-case hex in its lower-case form)."""
    from tipline.domain.base import utc_now
    from tipline.store.tables import BankChangeRow, BankEntryRow, BankRow

    there = MatcherSync()
    with instance.db.transaction() as session:
        instance.banks.create(session, "a", "known_material", SUPERVISOR)
        there.matcher(session)
        bank_id = session.execute(select(BankRow.id).where(BankRow.name == "a")).scalar_one()
    now = utc_now()
    values = {20_001: ("md5", "c" * 32), 20_002: ("pdq", "zz" * 32), 20_003: ("md5", "D" * 32),
              20_004: ("pdq", "e" * 64), 20_005: ("md5", "f" * 31)}
    with instance.db.transaction() as session:
        session.add_all([BankEntryRow(id=i, bank_id=bank_id, signal_type=kind, value=value, source="X",
                                      source_id=f"r{i}", added_by="fetch", added_at=now, enabled=True,
                                      changed_at=now) for i, (kind, value) in values.items()])
        session.flush()
        session.add(BankChangeRow(bank_id=bank_id, action="add", entry_ids={"ids": list(values)}, at=now))
    with instance.db.read_session() as session:
        matcher = there.matcher(session, fresh=True)
    assert sorted(e.entry_id for e in matcher.entries()) == [20_001, 20_003, 20_004]
    assert matcher.entry(20_003).value == "d" * 32  # type: ignore[union-attr]  # held: asserted just above
    assert [m.entry.entry_id for m in matcher.lookup(FileSignals(pdq=["e" * 64])).hits] == [20_004]


def test_files_are_matched_in_the_pipeline_rotated_copies_too(instance: Instance) -> None:
    picture = _picture(1)
    rotated = picture.rotate(90, expand=True)
    with instance.db.transaction() as session:
        instance.banks.create(session, "series-bank", "identified_series", SUPERVISOR)
        instance.banks.add_entries(session, "series-bank", [
            BankEntry("series-bank", "pdq", pdq_from_image(picture).hex, source="VICS", series="S-17")], SUPERVISOR)
    report_id = _report_with(instance, {"turned.png": _png(rotated), "other.png": _png(_picture(2))})
    with instance.db.transaction() as session:
        matches = session.execute(select(FileMatchRow).where(FileMatchRow.report_id == report_id)).scalars().all()
        row = session.get(ReportRow, report_id)
    assert [(m.bank, m.series, m.signal_type) for m in matches] == [("series-bank", "S-17", "pdq")]
    reasons = {r["code"] for r in row.priority_reasons["reasons"]}
    # the series is not known to be identified: possible ongoing abuse, which is immediate
    assert "unidentified_series_match" in reasons and row.priority == "P1"
    assert "apparently_new_material" in reasons  # other.png matched nothing


def test_an_identified_series_and_a_known_false_positive(instance: Instance) -> None:
    picture = _png(_picture(3))
    digest_pdq = pdq_from_image(Image.open(io.BytesIO(picture))).hex
    import hashlib

    md5 = hashlib.md5(picture).hexdigest()
    with instance.db.transaction() as session:
        instance.banks.create(session, "vics", "identified_series", SUPERVISOR)
        instance.banks.create(session, "benign", "ignore", SUPERVISOR)
        instance.banks.add_entries(session, "vics", [BankEntry("vics", "pdq", digest_pdq, series="S-9")], SUPERVISOR)
        instance.banks.set_series(session, "S-9", True, SUPERVISOR)
    report_id = _report_with(instance, {"a.png": picture})
    with instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        assert "identified_series_match" in {r["code"] for r in row.priority_reasons["reasons"]}
        instance.banks.add_entries(session, "benign", [BankEntry("benign", "md5", md5, source="review")], SUPERVISOR)
    time.sleep(0.6)
    from tipline.pipeline.engine.runner import run_stage_now

    run_stage_now(instance, "match_files", report_id)
    with instance.db.transaction() as session:
        matches = {m.bank: m for m in session.execute(select(FileMatchRow)).scalars()}
        rescore(instance, session, report_id, "test")
        row = session.get(ReportRow, report_id)
    assert matches["vics"].suppressed and matches["vics"].suppressed_by.startswith("benign entry")
    assert "identified_series_match" not in {r["code"] for r in row.priority_reasons["reasons"]}


def test_a_change_committed_after_a_later_one_is_still_applied(tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL two transactions can commit in the opposite order to their change numbers
    (SQLite runs one writer at a time, so there they commit in number order)."""
    from support import build_instance

    instance = build_instance(tmp_path / "pg", "postgresql", request)
    sync = MatcherSync()
    with instance.db.transaction() as session:
        instance.banks.create(session, "known", "known_material", SUPERVISOR)
    with instance.db.transaction() as session:
        sync.matcher(session)
    slow = instance.db.sessions()
    try:  # written like add_entries writes, numbered first, committed last
        from tipline.domain.base import utc_now
        from tipline.store.tables import BankChangeRow, BankEntryRow, BankRow

        bank_id = slow.execute(select(BankRow.id).where(BankRow.name == "known")).scalar_one()
        entry = BankEntryRow(bank_id=bank_id, signal_type="md5", value="1" * 32, added_by="sam", added_at=utc_now(),
                             enabled=True, changed_at=utc_now())
        slow.add(entry)
        slow.flush()
        slow.add(BankChangeRow(bank_id=bank_id, action="add", entry_ids={"ids": [entry.id]}, at=utc_now()))
        slow.flush()
        with instance.db.transaction() as session:
            instance.banks.add_entries(session, "known", [BankEntry("known", "md5", "2" * 32)], SUPERVISOR)
        with instance.db.transaction() as session:
            assert sync.matcher(session, fresh=True).lookup(FileSignals(md5="2" * 32)).hits
        slow.commit()
    finally:
        slow.close()
    with instance.db.transaction() as session:
        assert sync.matcher(session, fresh=True).lookup(FileSignals(md5="1" * 32)).hits
