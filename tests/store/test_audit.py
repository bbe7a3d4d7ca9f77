"""The audit chain: intact history verifies; any changed, removed or reordered event is found and
named, and so is a chain cut short (its head moved back, emptied while reports exist, or behind a
checkpoint kept outside the database)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from support import sample_content

from tipline.domain.audit import Actor, ActorType, checkpoint_signature
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.keyfiles import load_or_create_key
from tipline.pipeline.engine.maintenance import Periodic, Task, write_audit_checkpoint
from tipline.store.accounts import Principal
from tipline.store.audit import AUDIT_PENDING, AuditLog, AuditVerification, write_checkpoint
from tipline.store.tables import AuditEventRow, AuditHead

ANA = Actor(ActorType.USER, "7", "ana")
ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP)


@pytest.fixture
def chained(instance: Instance) -> Instance:
    with instance.db.transaction() as session:
        for number in range(1, 7):
            instance.audit.append(session, ANA, "report.read", report_id=number, details={"purpose": f"n{number}"})
    return instance


def _verify(instance: Instance, **options: Any) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in _verification(instance, **options).problems]


def _verification(instance: Instance, **options: Any) -> AuditVerification:
    with instance.db.read_session() as session:
        return instance.audit.verify(session, **options)


def _checkpoints(instance: Instance) -> dict[str, Any]:
    return {"checkpoints": instance.audit.read_checkpoints(instance.audit_checkpoints_path)}


def _read(instance: Instance, count: int) -> None:
    with instance.db.transaction() as session:
        for number in range(count):
            instance.audit.append(session, ANA, "report.read", report_id=100 + number)


def _head_row(instance: Instance) -> dict[str, Any]:
    """A copy of the head row as anyone who can read the database can take (and keep)."""
    with instance.db.transaction() as session:
        head = session.get(AuditHead, 1)
        return {"seq": head.seq, "hash": head.hash, "seal": head.seal}


def _cut_back_to(instance: Instance, head: dict[str, Any]) -> None:
    """What someone with write access to the database only can do: delete the newest events and
    put back a head row they copied when the chain ended there."""
    with instance.db.transaction() as session:
        session.execute(delete(AuditEventRow).where(AuditEventRow.chain_seq > head["seq"]))
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(**head))


def _submit(instance: Instance) -> int:
    with instance.db.transaction() as session:
        return submit_report(instance, session, ReportContent.model_validate(sample_content()),
                             ReportSource.ESP_JSON, ESP).id


def test_an_untouched_chain_verifies(chained: Instance) -> None:
    with chained.db.transaction() as session:
        result = chained.audit.verify(session)
    assert result.ok and result.checked == 6 and result.head_seq == 6


def test_a_changed_event_is_named(chained: Instance) -> None:
    with chained.db.transaction() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == 3).values(actor_name="mallory"))
    assert _verify(chained) == [(3, "changed")]


def test_changed_details_are_found(chained: Instance) -> None:
    with chained.db.transaction() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == 4).values(details={"purpose": "other"}))
    assert _verify(chained) == [(4, "changed")]


def test_a_removed_event_is_named(chained: Instance) -> None:
    with chained.db.transaction() as session:
        session.execute(delete(AuditEventRow).where(AuditEventRow.seq == 2))
    problems = _verify(chained)
    assert (3, "removed") in problems and (3, "broken_link") in problems


def test_reordered_events_are_found(chained: Instance) -> None:
    with chained.db.transaction() as session:
        rows = {row.seq: row for row in session.execute(select(AuditEventRow)).scalars()}
        two, five = rows[2], rows[5]
        fields = ("at", "actor_type", "actor_id", "actor_name", "action", "report_id", "details", "prev_hash", "hash")
        saved = {name: getattr(two, name) for name in fields}
        for name in fields:
            setattr(two, name, getattr(five, name))
            setattr(five, name, saved[name])
    problems = _verify(chained)
    assert {seq for seq, _ in problems} >= {2, 5}
    assert all(kind in {"changed", "broken_link"} for _, kind in problems)


def test_removing_the_last_events_is_found_through_the_head(chained: Instance) -> None:
    with chained.db.transaction() as session:
        session.execute(delete(AuditEventRow).where(AuditEventRow.seq >= 5))
    assert _verify(chained) == [(6, "truncated")]


def test_a_rewritten_chain_without_the_key_does_not_verify(chained: Instance, tmp_path: Path) -> None:
    """Someone with the database but not the key file cannot forge a consistent history."""
    forger = AuditLog(b"k" * 32)
    with chained.db.transaction() as session:
        session.execute(delete(AuditEventRow))
        session.execute(delete(AuditHead))
        for number in range(1, 4):
            forger.append(session, ANA, "report.read", report_id=number)
    assert _verify(chained) == [(1, "changed"), (2, "changed"), (3, "changed")]


def test_concurrent_appends_keep_one_order(instance: Instance) -> None:
    import threading

    def append_many() -> None:
        for _ in range(15):
            with instance.db.transaction() as session:
                instance.audit.append(session, ANA, "report.read")

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with instance.db.transaction() as session:
        result = instance.audit.verify(session)
    assert result.ok and result.checked == 60


def test_events_appended_while_the_chain_is_walked_are_not_taken_for_tampering(
        chained: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    """The system does not stop for a verification: events sealed during the walk are checked too,
    and the chain is judged against the head as it was when the walk began."""
    import tipline.store.audit as audit_module

    walk = audit_module._walk

    def walk_while_others_write(session, batch):  # type: ignore[no-untyped-def]
        for number, row in enumerate(walk(session, batch)):
            if number == 2:  # mid-walk, another request seals three events and commits
                with chained.db.transaction() as other:
                    for extra in range(3):
                        chained.audit.append(other, ANA, "report.read", report_id=10 + extra)
            yield row

    monkeypatch.setattr(audit_module, "_walk", walk_while_others_write)
    with chained.db.read_session() as session:
        result = chained.audit.verify(session)
    assert result.ok, result.problems
    assert result.head_seq == 6 and result.checked in (6, 9)  # the new events, when this walk still sees them
    monkeypatch.undo()
    with chained.db.read_session() as session:
        after = chained.audit.verify(session)
    assert after.ok and after.checked == 9 and after.head_seq == 9


# --- a chain cut short ------------------------------------------------------------------------------


def test_deleting_the_newest_events_and_moving_the_head_back_is_found(chained: Instance) -> None:
    """The head set to the last event left, as someone with only the database would: it lacks the
    audit key's seal."""
    with chained.db.transaction() as session:
        fourth = session.execute(select(AuditEventRow).where(AuditEventRow.chain_seq == 4)).scalar_one()
        session.execute(delete(AuditEventRow).where(AuditEventRow.chain_seq >= 5))
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=4, hash=fourth.hash))
    assert _verify(chained) == [(4, "head_forged")]


def test_putting_back_an_earlier_head_is_found_through_the_reports_it_leaves_without_events(
        instance: Instance) -> None:
    """A head row copied earlier carries a valid seal; the reports submitted since then still exist
    and their events are gone."""
    _read(instance, 2)
    earlier = _head_row(instance)
    report_id = _submit(instance)
    _read(instance, 1)
    _cut_back_to(instance, earlier)
    result = _verification(instance)
    assert [(p.seq, p.kind) for p in result.problems] == [(0, "report_events_removed")]
    assert f"newest: {report_id}" in result.problems[0].message


def test_an_emptied_audit_trail_is_found_while_reports_exist(instance: Instance) -> None:
    first, second = _submit(instance), _submit(instance)
    with instance.db.transaction() as session:
        session.execute(delete(AuditEventRow))
        session.execute(delete(AuditHead))
    result = _verification(instance)
    assert [(p.seq, p.kind) for p in result.problems] == [(0, "report_events_removed")]
    assert f"2 report(s) have no audit events (newest: {first}, {second})" in result.problems[0].message
    assert "the chain is empty" in result.problems[0].message


def test_a_checkpoint_beyond_the_chains_end_names_the_truncation(instance: Instance) -> None:
    _read(instance, 4)
    earlier = _head_row(instance)
    _read(instance, 2)
    assert write_checkpoint(instance.audit, instance.db, instance.audit_checkpoints_path)["seq"] == 6
    _cut_back_to(instance, earlier)
    assert _verify(instance) == []  # the head row put back is one the key sealed: only the checkpoint knows
    assert _verify(instance, **_checkpoints(instance)) == [(6, "truncated")]


def test_a_chain_rewritten_after_a_checkpoint_is_named_at_the_checkpointed_event(instance: Instance) -> None:
    """The database put back from an older copy, then written to: the chain is consistent and
    sealed, but its events 5 and 6 are not the ones the checkpoint saw."""
    _read(instance, 4)
    earlier = _head_row(instance)
    _read(instance, 2)
    write_checkpoint(instance.audit, instance.db, instance.audit_checkpoints_path)
    _cut_back_to(instance, earlier)
    _read(instance, 3)
    assert _verify(instance) == []
    problems = _verification(instance, **_checkpoints(instance)).problems
    assert [(p.seq, p.kind) for p in problems] == [(6, "checkpoint_mismatch")]
    assert "event 6 is not the event the checkpoint of" in problems[0].message


def test_an_altered_checkpoint_line_is_named(instance: Instance) -> None:
    _read(instance, 3)
    path = instance.audit_checkpoints_path
    write_checkpoint(instance.audit, instance.db, path)
    line = json.loads(path.read_text())
    path.write_text(json.dumps({**line, "seq": 2}) + "\n")
    problems = _verification(instance, **_checkpoints(instance)).problems
    assert [(p.kind, p.message) for p in problems] == [
        ("checkpoint_altered", f"line 1 of {path} is not a checkpoint signed with the audit key "
                               "(it was altered or forged)")]


def test_a_checkpoint_whose_hash_disagrees_with_the_chain_is_named(instance: Instance) -> None:
    audit_key = load_or_create_key(instance.settings.key_dir / "audit.key")
    _read(instance, 3)
    body = {"at": "2026-12-01T00:00:00+00:00", "seq": 2, "hash": "ab" * 32, "reports": 0}
    instance.audit_checkpoints_path.write_text(
        json.dumps({**body, "signature": checkpoint_signature(audit_key, body)}) + "\n")
    assert _verify(instance, **_checkpoints(instance)) == [(2, "checkpoint_mismatch")]


def test_a_checkpoint_of_reports_that_no_longer_exist_is_named(instance: Instance) -> None:
    from tipline.store.tables import ReportRow

    report_id = _submit(instance)
    write_checkpoint(instance.audit, instance.db, instance.audit_checkpoints_path)
    with instance.db.transaction() as session:
        session.execute(delete(ReportRow).where(ReportRow.id == report_id))
    assert (0, "reports_removed") in _verify(instance, **_checkpoints(instance))


def test_checkpoints_are_written_by_the_periodic_maintenance_to_a_private_file_and_the_log(
        instance: Instance, caplog: pytest.LogCaptureFixture) -> None:
    _read(instance, 2)
    periodic = Periodic(instance, [Task("audit_checkpoint", 60, write_audit_checkpoint)])
    with caplog.at_level(logging.INFO, logger="tipline.audit"):
        assert periodic.maybe_run(0.0) == {"audit_checkpoint": 1}
        _read(instance, 1)
        assert periodic.maybe_run(30.0) == {}  # not due yet
        assert periodic.maybe_run(61.0) == {"audit_checkpoint": 1}
        assert periodic.maybe_run(200.0) == {"audit_checkpoint": 0}  # the head has not moved
    path = instance.audit_checkpoints_path
    assert path.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [2, 3]
    assert sum("audit checkpoint" in record.getMessage() for record in caplog.records) == 2
    assert _verify(instance, **_checkpoints(instance)) == []


def test_expect_head_names_a_head_the_chain_does_not_contain(chained: Instance) -> None:
    with chained.db.transaction() as session:
        third = session.execute(select(AuditEventRow.hash).where(AuditEventRow.chain_seq == 3)).scalar_one()
    assert _verify(chained, expect_head=third) == []  # the chain grew past it: still contains it
    result = _verification(chained, expect_head="cd" * 32)
    assert [(p.seq, p.kind) for p in result.problems] == [(6, "expected_head")]
    assert f"does not contain the expected head {'cd' * 32}" in result.problems[0].message


# --- sealing -----------------------------------------------------------------------------------------


def test_an_unsealed_event_is_shown_and_its_content_is_still_sealed(chained: Instance) -> None:
    with chained.db.transaction() as session:
        written = chained.audit.append(session, ANA, "report.read", report_id=42)
        session.info.pop(AUDIT_PENDING)  # as if the process stopped between its commit and the sealing
    result = _verification(chained)
    assert result.ok and result.unsealed == 1 and result.checked == 6
    with chained.db.transaction() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == written.seq).values(report_id=43))
    assert [p.kind for p in _verification(chained).problems] == ["changed"]
    with chained.db.transaction() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == written.seq).values(report_id=42))
    assert chained.audit.seal_pending(chained.db) == 1  # the periodic maintenance does this
    after = _verification(chained)
    assert after.ok and after.unsealed == 0 and after.checked == 7 and after.head_seq == 7


def test_the_background_sealer_chains_every_event_of_concurrent_writers(instance: Instance) -> None:
    instance.audit_sealer.start()

    def append_many() -> None:
        for _ in range(10):
            with instance.db.transaction() as session:
                instance.audit.append(session, ANA, "report.read")
                instance.audit.append(session, ANA, "file.read")

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    instance.audit_sealer.stop()  # seals what is left
    result = _verification(instance)
    assert result.ok and result.unsealed == 0 and result.checked == 80 and result.head_seq == 80
    with instance.db.transaction() as session:
        rows = session.execute(select(AuditEventRow.seq, AuditEventRow.chain_seq)
                               .order_by(AuditEventRow.chain_seq)).all()
    # every event chained once, without gaps (a transaction that commits after later-numbered
    # events were chained is chained after them: the chain's order is the order of commits seen)
    assert [row.chain_seq for row in rows] == list(range(1, 81))
    assert len({row.seq for row in rows}) == 80


def test_a_chain_written_before_0016_still_verifies_and_new_events_follow_it(tmp_path: Path, backend: str) -> None:
    import secrets
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, insert, text
    from support import POSTGRES_ADMIN_URL, make_settings, require_postgres

    from tipline.domain.audit import GENESIS_HASH, AuditRecord, seal
    from tipline.store.schema import upgrade

    url, admin, name = None, None, f"tipline_audit_{secrets.token_hex(4)}"
    if backend == "postgresql":
        require_postgres()
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    instance = Instance(make_settings(tmp_path / "old", url))
    try:
        upgrade(instance.db, "0014")
        key = load_or_create_key(instance.settings.key_dir / "audit.key")
        prev = GENESIS_HASH
        with instance.db.engine.begin() as connection:  # sealed as the code before 0016 did
            for seq in (1, 2, 3):
                record = AuditRecord(seq=seq, at=datetime(2026, 11, 1, 9, seq, tzinfo=UTC), actor=ANA,
                                     action="report.read", report_id=None, details={"n": seq})
                digest = seal(key, prev, record)
                connection.execute(insert(AuditEventRow.__table__), {  # the columns 0014 has
                    "seq": seq, "at": record.at, "actor_type": "user", "actor_id": "7", "actor_name": "ana",
                    "action": "report.read", "report_id": None, "details": {"n": seq}, "prev_hash": prev,
                    "hash": digest})
                prev = digest
            connection.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, :hash)"), {"hash": prev})
        upgrade(instance.db)
        before = _verification(instance)
        assert before.ok and before.checked == 3 and before.head_seq == 3, before.to_dict()
        _read(instance, 2)
        after = _verification(instance)
        assert after.ok and after.checked == 5 and after.head_seq == 5, after.to_dict()
        with instance.db.transaction() as session:
            session.execute(update(AuditEventRow).where(AuditEventRow.seq == 2).values(actor_name="mallory"))
        assert _verify(instance) == [(2, "changed")]
    finally:
        instance.close()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_an_event_inserted_without_the_key_is_named_and_does_not_stop_the_sealer(chained: Instance) -> None:
    from sqlalchemy import insert

    from tipline.domain.base import utc_now

    with chained.db.transaction() as session:  # someone with only the database adds an event
        session.execute(insert(AuditEventRow).values(at=utc_now(), actor_type="user", actor_id="7", actor_name="ana",
                                                     action="report.read", report_id=None, details={}))
    _read(chained, 1)
    result = _verification(chained)
    assert [(p.seq, p.kind) for p in result.problems] == [(7, "changed")]
    assert result.unsealed == 0 and result.checked == 8
