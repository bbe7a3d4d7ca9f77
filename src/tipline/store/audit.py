"""The audit trail in the database: writing events, sealing them into the chain in order, and
verifying the whole chain against its sealed head, the reports and the checkpoints kept outside
the database.

Writing an event takes no lock: it is one INSERT in the caller's transaction, with the number the
database gives the row and the event's own content seal (`content_mac`). After the transaction
commits, one sealer at a time (the head row's lock decides which) chains the committed events in
the order of their numbers: each gets its position in the chain, the previous event's seal and its
own chain seal, and the head moves on to the last one with a new head seal. Requests therefore
never wait for one another on the chain, and the chain still has one order without gaps.

Length (a little over 500 lines): writing, sealing and verifying share one seal computation and one
chain order; kept together so that a change to either is read against the other."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tipline.domain.audit import (
    GENESIS_HASH,
    Actor,
    ActorType,
    AuditRecord,
    chain_seal,
    checkpoint_signature,
    content_mac,
    head_seal,
    seal,
)
from tipline.domain.base import utc_now
from tipline.store.tables import AuditEventRow, AuditHead, ReportRow

if TYPE_CHECKING:
    from tipline.store.db import Database

log = logging.getLogger("tipline.audit")

HEAD_ID = 1
CHECKPOINT_FILE = "audit-checkpoints.log"
AUDIT_PENDING = "tipline_audit_pending"  # session.info: this transaction wrote events to seal
SEAL_BATCH = 500
_EVENTS = cast(Table, AuditEventRow.__table__)  # a mapped class\'s table (typed as any FromClause)
_HEAD = cast(Table, AuditHead.__table__)  # a mapped class\'s table (typed as any FromClause)
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.seq)
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
_UNSEALED = select(_EVENTS.c.seq, _EVENTS.c.mac).where(_EVENTS.c.chain_seq.is_(None)).order_by(_EVENTS.c.seq)
_CHAIN_EVENT = (update(_EVENTS).where(_EVENTS.c.seq == bindparam("event_seq"))
                .values(chain_seq=bindparam("chain"), prev_hash=bindparam("prev"), hash=bindparam("digest")))
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == HEAD_ID)


class AuditLog:
    """Writes events (no lock: one INSERT each) and seals them into the chain (`seal_pending`)."""

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
        """Write an event in the session's transaction, sealed with its own content seal; it joins
        the chain after the transaction commits (see `AuditSealer`). Returns the event as stored (a
        copy outside the session). Takes no lock, so it may come anywhere in a transaction."""
        record = AuditRecord(
            seq=0,  # not part of the content seal: the database numbers the row
            at=at or utc_now(),  # microseconds: the precision both databases keep
            actor=actor,
            action=action,
            report_id=report_id,
            details=_plain(details or {}),
        )
        values = {
            "at": record.at,
            "actor_type": actor.type.value,
            "actor_id": actor.id,
            "actor_name": actor.name,
            "action": action,
            "report_id": report_id,
            "details": record.details,
            "mac": content_mac(self._key, record),
        }
        seq = session.connection().execute(_INSERT_EVENT, values).scalar_one()
        session.info[AUDIT_PENDING] = True
        return AuditEventRow(seq=seq, **values)

    # -- sealing ------------------------------------------------------------------------------------

    def seal_pending(self, db: Database, batch: int = SEAL_BATCH) -> int:
        """Chain every committed event not yet sealed, in the order of their numbers, in
        transactions of up to `batch` events. One sealer at a time: the others wait for the head
        row's lock (PostgreSQL) or the write lock (SQLite). Returns how many events were sealed."""
        total = 0
        while True:
            with db.writer_queue(), db.transaction() as session:  # SQLite: queued with the API's writers
                sealed = self._seal_batch(session.connection(), batch)
            total += sealed
            if sealed < batch:
                return total

    def seal_in_transaction(self, session: Session) -> int:
        """Chain every event waiting, in the session's own transaction (SQLite, before commit: its
        writers hold the whole database's lock anyway, so chaining there costs no lock and no
        commit of its own)."""
        total = 0
        while (sealed := self._seal_batch(session.connection(), SEAL_BATCH)) == SEAL_BATCH:
            total += sealed
        return total + sealed

    def _seal_batch(self, connection: Connection, batch: int) -> int:
        head = connection.execute(_LOCK_HEAD).first()
        if head is None:
            create = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            connection.execute(create(_HEAD).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH).on_conflict_do_nothing())
            head = connection.execute(_LOCK_HEAD).one()
        events = connection.execute(_UNSEALED.limit(batch)).all()
        if not events:
            return 0
        position, prev_hash = head.seq, head.hash
        chained: list[dict[str, Any]] = []
        for event in events:
            position += 1
            # Only events written before 0016 lack a content seal, and those were all chained: one
            # without it was put there by hand. It is chained all the same (so it cannot stop the
            # sealer), and verification names it as changed.
            digest = chain_seal(self._key, prev_hash, position, event.seq, event.mac or "")
            chained.append({"event_seq": event.seq, "chain": position, "prev": prev_hash, "digest": digest})
            prev_hash = digest
        connection.execute(_CHAIN_EVENT, chained)
        connection.execute(_MOVE_HEAD, {"seq": position, "hash": prev_hash,
                                        "seal": head_seal(self._key, position, prev_hash)})
        return len(events)

    def checkpoint_line(self, session: Session, at: datetime | None = None) -> dict[str, Any] | None:
        """A signed checkpoint of the chain's head as it is now (None before the first event is
        sealed): when, the head's position and seal, and the newest report's number."""
        head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).first()
        if head is None or head.seq == 0:
            return None
        reports = session.execute(select(func.max(ReportRow.id))).scalar_one() or 0
        body = {"at": (at or utc_now()).isoformat(timespec="seconds"), "seq": head.seq, "hash": head.hash,
                "reports": reports}
        return {**body, "signature": checkpoint_signature(self._key, body)}

    # -- verifying ----------------------------------------------------------------------------------

    def verify(
        self,
        session: Session,
        *,
        checkpoints: CheckpointFile | None = None,
        expect_head: str | None = None,
        batch: int = 5000,
    ) -> AuditVerification:
        """Walk the chain in order and say exactly which events were changed, removed or reordered;
        check the head's seal, that the chain reaches the head, that every report has its events,
        that each unsealed event still matches its content seal, and, when given, that the chain
        agrees with each checkpoint kept outside the database and contains `expect_head`.

        The head is read first and the chain must reach the event it records with the same seal.
        Events sealed while the walk runs (the system does not stop for it) are checked too, but are
        not mistaken for a chain that no longer ends where its head said."""
        result = AuditVerification()
        head = session.execute(
            select(AuditHead.seq, AuditHead.hash, AuditHead.seal).where(AuditHead.id == HEAD_ID)).first()
        wanted = {c.seq: c for c in checkpoints.checkpoints} if checkpoints else {}
        if checkpoints:
            result.problems.extend(checkpoints.problems)
            result.checkpoints = len(checkpoints.checkpoints)
        hash_at_head: str | None = None
        head_is_legacy = False
        expect_found = False
        expected_seq, prev_hash = 1, GENESIS_HASH
        for row in _walk(session, batch):
            position, sealed_hash = row.chain_seq, row.hash
            assert position is not None and sealed_hash is not None, "the walk reads chained events only"
            result.checked += 1
            if position != expected_seq:
                missing = f"{expected_seq}" if position == expected_seq + 1 else f"{expected_seq}-{position - 1}"
                result.problems.append(
                    AuditProblem(position, "removed", f"events {missing} are missing before event {position}")
                )
            if not self._seal_matches(row):
                result.problems.append(
                    AuditProblem(position, "changed", f"event {position} ({row.action}) does not match its seal")
                )
            if row.prev_hash != prev_hash:
                result.problems.append(
                    AuditProblem(
                        position,
                        "broken_link",
                        f"event {position} does not follow the event before it "
                        "(an event before it was removed, changed or moved)",
                    )
                )
            checkpoint = wanted.pop(position, None)
            if checkpoint is not None and checkpoint.hash != row.hash:
                result.problems.append(AuditProblem(position, "checkpoint_mismatch", (
                    f"event {position} is not the event the checkpoint of {checkpoint.at} recorded "
                    "(the chain was rewritten from there on)")))
            if expect_head is not None and row.hash == expect_head:
                expect_found = True
            expected_seq, prev_hash = position + 1, sealed_hash
            if head is not None and position == head.seq:
                hash_at_head = row.hash
                head_is_legacy = row.mac is None
        result.head_seq = head.seq if head else 0
        result.head_hash = head.hash if head else GENESIS_HASH
        last = expected_seq - 1
        if head is None and result.checked:
            result.problems.append(AuditProblem(last, "head_missing", (
                f"the chain's head record is missing (the chain ends at event {last})")))
        if head is not None and head.seq > 0:
            if hash_at_head != head.hash:
                result.problems.append(
                    AuditProblem(
                        head.seq,
                        "truncated",
                        f"the chain ends at event {last} but its head records event {head.seq}: "
                        "events at the end were removed",
                    )
                )
            elif head.seal != head_seal(self._key, head.seq, head.hash) and not (head.seal is None and head_is_legacy):
                result.problems.append(AuditProblem(head.seq, "head_forged", (
                    f"the chain's head (event {head.seq}) does not carry the audit key's seal: "
                    "it was set by someone without the key (events at the end may have been removed)")))
        for checkpoint in sorted(wanted.values(), key=lambda c: c.seq):
            if checkpoint.seq > last:
                result.problems.append(AuditProblem(checkpoint.seq, "truncated", (
                    f"the checkpoint of {checkpoint.at} records event {checkpoint.seq} but the chain ends "
                    f"at event {last}: events at the end were removed")))
            else:
                result.problems.append(AuditProblem(checkpoint.seq, "checkpoint_mismatch", (
                    f"event {checkpoint.seq}, recorded by the checkpoint of {checkpoint.at}, is missing")))
        self._check_unsealed(session, result)
        self._check_reports(session, result, checkpoints)
        if expect_head is not None and not expect_found:
            result.problems.append(AuditProblem(result.head_seq, "expected_head", (
                f"the chain does not contain the expected head {expect_head} "
                f"(its head is event {result.head_seq}, {result.head_hash})")))
        return result

    def _seal_matches(self, row: AuditEventRow) -> bool:
        record = _record(row)
        if row.mac is None:  # written before 0016: one seal over content and place
            return row.chain_seq == row.seq and seal(self._key, row.prev_hash or "", record) == row.hash
        return (content_mac(self._key, record) == row.mac
                and chain_seal(self._key, row.prev_hash or "", row.chain_seq or 0, row.seq, row.mac) == row.hash)

    def _check_unsealed(self, session: Session, result: AuditVerification) -> None:
        rows = session.execute(
            select(AuditEventRow).where(AuditEventRow.chain_seq.is_(None)).order_by(AuditEventRow.seq)
        ).scalars()
        for row in rows:
            result.unsealed += 1
            if result.oldest_unsealed_at is None:
                result.oldest_unsealed_at = row.at
            if row.mac is None or content_mac(self._key, _record(row)) != row.mac:
                result.problems.append(AuditProblem(0, "changed", (
                    f"unsealed event number {row.seq} ({row.action}) does not match its content seal")))
        session.expunge_all()

    @staticmethod
    def _check_reports(session: Session, result: AuditVerification, checkpoints: CheckpointFile | None) -> None:
        """Every report has events (its submission at least), in the same transaction as the report:
        reports without any were stripped of them. The newest report a checkpoint saw still exists."""
        has_events = select(AuditEventRow.seq).where(AuditEventRow.report_id == ReportRow.id).exists()
        unaudited = session.execute(
            select(ReportRow.id).where(~has_events).order_by(ReportRow.id.desc()).limit(5)).scalars().all()
        if unaudited:
            count = session.execute(select(func.count()).select_from(ReportRow).where(~has_events)).scalar_one()
            named = ", ".join(str(n) for n in sorted(unaudited))
            result.problems.append(AuditProblem(0, "report_events_removed", (
                f"{count} report(s) have no audit events (newest: {named}): their events were removed"
                + (" and the chain is empty" if result.checked == 0 and result.unsealed == 0 else ""))))
        newest = session.execute(select(func.max(ReportRow.id))).scalar_one() or 0
        recorded = max((c.reports for c in checkpoints.checkpoints), default=0) if checkpoints else 0
        if recorded > newest:
            result.problems.append(AuditProblem(0, "reports_removed", (
                f"a checkpoint recorded report {recorded} but the newest report is {newest}: reports were removed")))

    def events_for_report(self, session: Session, report_id: int) -> list[AuditEventRow]:
        return list(
            session.execute(
                select(AuditEventRow).where(AuditEventRow.report_id == report_id).order_by(AuditEventRow.seq)
            ).scalars()
        )

    def count(self, session: Session) -> int:
        return session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()

    # -- checkpoints --------------------------------------------------------------------------------

    def read_checkpoints(self, path: Path) -> CheckpointFile:
        """The checkpoints in a file (none if it does not exist); a line that is not a checkpoint
        signed with the audit key is a problem named by its line number."""
        found = CheckpointFile(path)
        if not path.exists():
            return found
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    body = {name: entry[name] for name in ("at", "seq", "hash", "reports")}
                    good = (isinstance(body["seq"], int) and isinstance(body["reports"], int)
                            and entry.get("signature") == checkpoint_signature(self._key, body))
                except (ValueError, KeyError, TypeError):
                    good = False
                if not good:
                    found.problems.append(AuditProblem(0, "checkpoint_altered", (
                        f"line {number} of {path} is not a checkpoint signed with the audit key "
                        "(it was altered or forged)")))
                    continue
                found.checkpoints.append(Checkpoint(at=body["at"], seq=body["seq"], hash=body["hash"],
                                                    reports=body["reports"]))
        return found


@dataclass(frozen=True)
class Checkpoint:
    at: str
    seq: int
    hash: str
    reports: int


@dataclass
class CheckpointFile:
    path: Path
    checkpoints: list[Checkpoint] = field(default_factory=list)
    problems: list[AuditProblem] = field(default_factory=list)


def write_checkpoint(audit: AuditLog, db: Database, path: Path) -> dict[str, Any] | None:
    """Append a signed checkpoint of the head to `path` (created 0600) and to the log, unless the
    head has not moved since the file's last line. Returns the checkpoint written, if any."""
    with db.read_session() as session:
        line = audit.checkpoint_line(session)
    if line is None:
        return None
    last = _last_line(path)
    if last is not None and last.get("seq") == line["seq"] and last.get("hash") == line["hash"]:
        return None
    text = json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, text.encode())  # one write with O_APPEND: lines of several writers never mix
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    log.info("audit checkpoint: %s", text.strip())
    return line


def _last_line(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 4096))
            tail = file.read().splitlines()
    except FileNotFoundError:
        return None
    try:
        return json.loads(tail[-1]) if tail else None
    except ValueError:
        return None


class AuditSealer:
    """Seals each process's committed events promptly. Inline (the default: commands, tests), the
    committing thread seals right after its commit; in the background (`start`, as the web server
    does), one thread per process seals whatever is committed, woken by each audited commit (it
    then waits `linger` seconds, so that one sealing chains the events of many commits) and at
    least every `poll` seconds, so a request never waits for the chain. A sealing that
    fails (the database briefly away) is only logged: the events stay committed and unsealed, and
    the next sealing (here, in another process or in the periodic maintenance) chains them."""

    def __init__(self, audit: AuditLog, db: Database, poll: float = 1.0, linger: float = 0.05) -> None:
        self.audit = audit
        self.db = db
        self.poll = poll
        # Once woken, wait this long for more commits: one sealing chains them all. 50 ms: at 100
        # reports/s over two server processes, 0.4 sealing transactions per report instead of 0.7
        # at 20 ms (each one a commit and six round trips), events unsealed for at most ~50 ms longer.
        self.linger = linger
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """An audited transaction committed: seal its events now or wake the sealing thread."""
        if self._thread is not None:
            self._wake.set()
        else:
            self.seal()

    def seal(self) -> int:
        try:
            return self.audit.seal_pending(self.db)
        except Exception:  # noqa: BLE001 - nothing is lost: the next sealing chains these events
            log.exception("could not seal audit events; they stay unsealed until the next sealing")
            return 0

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="tipline-audit-sealer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and seal what is left."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout)
            self.seal()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._wake.wait(self.poll) and not self._stop.is_set():
                self._stop.wait(self.linger)
            self._wake.clear()
            self.seal()


@dataclass
class AuditProblem:
    seq: int
    kind: str  # changed, removed, broken_link, truncated, head_missing, head_forged, checkpoint_mismatch,
    # checkpoint_altered, report_events_removed, reports_removed, expected_head
    message: str


@dataclass
class AuditVerification:
    checked: int = 0
    problems: list[AuditProblem] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    unsealed: int = 0
    oldest_unsealed_at: datetime | None = None
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "unsealed": self.unsealed,
            "oldest_unsealed_at": self.oldest_unsealed_at.isoformat() if self.oldest_unsealed_at else None,
            "checkpoints_checked": self.checkpoints,
            "problems": [{"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems],
        }


def _walk(session: Session, batch: int) -> Iterator[AuditEventRow]:
    """The sealed events in chain order."""
    last = 0
    while True:
        rows = list(
            session.execute(
                select(AuditEventRow).where(AuditEventRow.chain_seq > last).order_by(AuditEventRow.chain_seq)
                .limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].chain_seq or 0
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
    plain: dict[str, Any] = json.loads(json.dumps(details, default=str))
    return plain
