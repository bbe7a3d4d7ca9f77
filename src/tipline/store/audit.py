"""The audit trail in the database: appending sealed events and verifying the whole chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tipline.domain.audit import GENESIS_HASH, Actor, ActorType, AuditRecord, seal
from tipline.domain.base import utc_now
from tipline.store.tables import AuditEventRow, AuditHead

HEAD_ID = 1


class AuditLog:
    """Appends events to the chain. Appends serialise on the head row, so the chain has one order."""

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
        head = self._locked_head(session)
        record = AuditRecord(
            seq=head.seq + 1,
            at=at or utc_now(),  # microseconds: the precision both databases keep
            actor=actor,
            action=action,
            report_id=report_id,
            details=_plain(details or {}),
        )
        digest = seal(self._key, head.hash, record)
        row = AuditEventRow(
            seq=record.seq,
            at=record.at,
            actor_type=actor.type.value,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            report_id=report_id,
            details=record.details,
            prev_hash=head.hash,
            hash=digest,
        )
        session.add(row)
        head.seq, head.hash = record.seq, digest
        session.flush()
        return row

    @staticmethod
    def _locked_head(session: Session) -> AuditHead:
        """The chain's head row, locked until commit (created on first use, safely under concurrency)."""
        statement = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
        head = session.execute(statement).scalar_one_or_none()
        if head is None:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            session.execute(
                insert(AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH).on_conflict_do_nothing()
            )
            head = session.execute(statement).scalar_one()
        return head

    def verify(self, session: Session, batch: int = 5000) -> AuditVerification:
        """Walk the chain in order and say exactly which events were changed, removed or reordered."""
        result = AuditVerification()
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
        head = session.get(AuditHead, HEAD_ID)
        result.head_seq = head.seq if head else 0
        result.head_hash = head.hash if head else GENESIS_HASH
        if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
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
