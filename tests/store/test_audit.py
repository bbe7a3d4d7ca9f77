"""The audit chain: intact history verifies; any changed, removed or reordered event is found and named."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from tipline.domain.audit import Actor, ActorType
from tipline.instance import Instance
from tipline.store.audit import AuditLog
from tipline.store.tables import AuditEventRow, AuditHead

ANA = Actor(ActorType.USER, "7", "ana")


@pytest.fixture
def chained(instance: Instance) -> Instance:
    with instance.db.transaction() as session:
        for number in range(1, 7):
            instance.audit.append(session, ANA, "report.read", report_id=number, details={"purpose": f"n{number}"})
    return instance


def _verify(instance: Instance) -> list[tuple[int, str]]:
    with instance.db.transaction() as session:
        result = instance.audit.verify(session)
    return [(p.seq, p.kind) for p in result.problems]


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
