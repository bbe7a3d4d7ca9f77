"""The audit trail in the database: appending sealed events and verifying the whole chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tipline.domain.audit import GENESIS_HASH, Actor, ActorType, AuditRecord, seal
from tipline.domain.base import utc_now
from tipline.store.db import forget_loaded
from tipline.store.tables import AuditEventRow, AuditHead

HEAD_ID = 1
_EVENTS = AuditEventRow.__table__
_HEAD = AuditHead.__table__
_EVENT_COLUMNS = ("seq", "at", "actor_type", "actor_id", "actor_name", "action", "report_id", "details", "prev_hash",
                  "hash")
# Locks the head row until commit and reads it in one statement: the new sequence number and the
# hash of the event before it (the hash column is not changed by this statement).
_ADVANCE_HEAD = (update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=_HEAD.c.seq + 1)
                 .returning(_HEAD.c.seq, _HEAD.c.hash))
_INSERT_EVENT = insert(_EVENTS).values({name: bindparam(f"event_{name}") for name in _EVENT_COLUMNS})
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(hash=bindparam("event_hash"))
# PostgreSQL: the event and the head's new hash in one statement (one round trip).
_INSERT_EVENT_SET_HEAD_HASH = _SET_HEAD_HASH.add_cte(_INSERT_EVENT.cte("event"))


class AuditLog:
    """Appends events to the chain. Appends serialise on the head row, so the chain has one order.

    An append is two statements on PostgreSQL (three on SQLite), written as Core statements: advance
    the head (which locks it until commit and returns the new sequence number and the previous
    hash), then insert the sealed event and store its hash in the head."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def append(
        self,
        session: Session,
        actor: Actor,
        action: str,
        *,
        report_id: int | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEventRow:
        """Seal an event into the chain in the session's transaction. Returns the event as stored (a
        copy outside the session). The chain's head stays locked until the transaction ends, so call
        this as the last step of a transaction."""
        session.flush()  # the caller's pending changes first: the head's lock is then held only to commit
        connection = session.connection()
        seq, prev_hash = self._advance_head(connection)
        record = AuditRecord(
            seq=seq,
            at=at or utc_now(),  # microseconds: the precision both databases keep
            actor=actor,
            action=action,
            report_id=report_id,
            details=_plain(details or {}),
        )
        values = {
            "seq": seq,
            "at": record.at,
            "actor_type": actor.type.value,
            "actor_id": actor.id,
            "actor_name": actor.name,
            "action": action,
            "report_id": report_id,
            "details": record.details,
            "prev_hash": prev_hash,
            "hash": seal(self._key, prev_hash, record),
        }
        params = {f"event_{name}": value for name, value in values.items()}
        if connection.dialect.name == "postgresql":
            connection.execute(_INSERT_EVENT_SET_HEAD_HASH, params)
        else:
            connection.execute(_INSERT_EVENT, params)
            connection.execute(_SET_HEAD_HASH, params)
        forget_loaded(session, AuditHead, HEAD_ID)
        return AuditEventRow(**values)

    @staticmethod
    def _advance_head(connection: Connection) -> tuple[int, str]:
        """Lock the chain's head until commit and move it on by one: (new seq, previous hash). The
        head is created on first use, safely under concurrency."""
        head = connection.execute(_ADVANCE_HEAD).first()
        if head is None:
            create = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            connection.execute(create(_HEAD).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH).on_conflict_do_nothing())
            head = connection.execute(_ADVANCE_HEAD).one()
        return head.seq, head.hash

    def verify(self, session: Session, batch: int = 5000) -> AuditVerification:
        """Walk the chain in order and say exactly which events were changed, removed or reordered.

        The head is read first, and the chain must reach the event it records with the same seal.
        Events appended while the walk runs (the system does not stop for it) are checked too, but
        are not mistaken for a chain that no longer ends where its head said."""
        result = AuditVerification()
        head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).first()
        hash_at_head: str | None = None
        expected_seq, prev_hash = 1, GENESIS_HASH
        for row in _walk(session, batch):
            result.checked += 1
            if row.seq != expected_seq:
                missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}-{row.seq - 1}"
                result.problems.append(
                    AuditProblem(row.seq, "removed", f"events {missing} are missing before event {row.seq}")
                )
            record = _record(row)
            recomputed = seal(self._key, row.prev_hash, record)
            if recomputed != row.hash:
                result.problems.append(
                    AuditProblem(row.seq, "changed", f"event {row.seq} ({row.action}) does not match its seal")
                )
            if row.prev_hash != prev_hash:
                result.problems.append(
                    AuditProblem(
                        row.seq,
                        "broken_link",
                        f"event {row.seq} does not follow the event before it "
                        "(an event before it was removed, changed or moved)",
                    )
                )
            expected_seq, prev_hash = row.seq + 1, row.hash
            if head is not None and row.seq == head.seq:
                hash_at_head = row.hash
        result.head_seq = head.seq if head else 0
        result.head_hash = head.hash if head else GENESIS_HASH
        if head is not None and head.seq > 0 and hash_at_head != head.hash:
            result.problems.append(
                AuditProblem(
                    head.seq,
                    "truncated",
                    f"the chain ends at event {expected_seq - 1} but its head records event {head.seq}: "
                    "events at the end were removed",
                )
            )
        return result

    def events_for_report(self, session: Session, report_id: int) -> list[AuditEventRow]:
        return list(
            session.execute(
                select(AuditEventRow).where(AuditEventRow.report_id == report_id).order_by(AuditEventRow.seq)
            ).scalars()
        )

    def count(self, session: Session) -> int:
        return session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()


@dataclass
class AuditProblem:
    seq: int
    kind: str  # changed, removed, broken_link, truncated
    message: str


@dataclass
class AuditVerification:
    checked: int = 0
    problems: list[AuditProblem] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problems": [{"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems],
        }


def _walk(session: Session, batch: int) -> Iterator[AuditEventRow]:
    last = 0
    while True:
        rows = list(
            session.execute(
                select(AuditEventRow).where(AuditEventRow.seq > last).order_by(AuditEventRow.seq).limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def _record(row: AuditEventRow) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        at=row.at,
        actor=Actor(ActorType(row.actor_type), row.actor_id, row.actor_name),
        action=row.action,
        report_id=row.report_id,
        details=row.details,
    )


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    """Details must survive a JSON round trip unchanged (no floats' rounding, no objects)."""
    return json.loads(json.dumps(details, default=str))
