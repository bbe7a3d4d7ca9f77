"""Periodic upkeep that no report triggers: waiting reports scored again as time passes (waiting
counts toward priority), encrypted blobs no report holds any more deleted after their grace,
expired idempotency keys forgotten, SQLite's query statistics refreshed, referral packages whose
build never finished removed, audit events left unsealed (a process stopped between a commit and its
sealing) chained, and a signed checkpoint of the audit chain's head written outside the database
(the data directory's audit-checkpoints.log and the log). In worker processes only (OUTBOUND_TASKS):
hash-list exchanges fetched on their intervals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tipline.exchanges.periodic import fetch_due_exchanges
from tipline.pipeline.stages.score_priority import rescore_waiting as rescore_waiting_reports
from tipline.store import held_uploads
from tipline.store.idempotency import delete_expired
from tipline.trends.periodic import run_trends_upkeep

if TYPE_CHECKING:
    from tipline.instance import Instance

log = logging.getLogger("tipline.maintenance")
AUDIT_CHECKPOINT_SECONDS = 5 * 60


def rescore_waiting(instance: Instance) -> int:
    with instance.db.transaction() as session:
        return rescore_waiting_reports(instance, session)


def collect_blob_garbage(instance: Instance) -> int:
    with instance.db.transaction() as session:
        return instance.files.collect_garbage(session)


def expire_held_uploads(instance: Instance) -> int:
    """Let go of files held across a refused public-form submission that was never sent again."""
    with instance.db.transaction() as session:
        return held_uploads.expire(session, instance.files)


def discard_abandoned_referrals(instance: Instance) -> int:
    """Referrals whose build never finished (the process died while writing the package): their
    reservation and any package file no completed referral names, after an hour."""
    from tipline.referral.service import discard_abandoned_referrals as discard

    return discard(instance)


def expire_idempotency_keys(instance: Instance) -> int:
    """Idempotency keys (and the answers kept with them) whose TIPLINE_IDEMPOTENCY_HOURS passed."""
    with instance.db.transaction() as session:
        return delete_expired(session)


def seal_audit_events(instance: Instance) -> int:
    return instance.audit.seal_pending(instance.db)


def write_audit_checkpoint(instance: Instance) -> int:
    """Seal what waits, then append a signed checkpoint of the head if it moved since the last one."""
    from tipline.store.audit import write_checkpoint

    instance.audit.seal_pending(instance.db)
    return 1 if write_checkpoint(instance.audit, instance.db, instance.audit_checkpoints_path) else 0


@dataclass(frozen=True)
class Task:
    name: str
    every_seconds: float
    run: Callable[[Instance], int]


def refresh_sqlite_statistics(instance: Instance) -> int:
    """SQLite plans its queries from statistics it only gathers when asked (PRAGMA optimize)."""
    if instance.db.dialect != "sqlite":
        return 0
    with instance.db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA optimize")
    return 1


TASKS = [
    Task("rescore_waiting", 15 * 60, rescore_waiting),
    Task("collect_blob_garbage", 10 * 60, collect_blob_garbage),
    Task("expire_idempotency_keys", 10 * 60, expire_idempotency_keys),
    Task("expire_held_uploads", 10 * 60, expire_held_uploads),
    Task("refresh_sqlite_statistics", 60 * 60, refresh_sqlite_statistics),
    Task("discard_abandoned_referrals", 15 * 60, discard_abandoned_referrals),
    Task("seal_audit_events", 10, seal_audit_events),
    Task("audit_checkpoint", AUDIT_CHECKPOINT_SECONDS, write_audit_checkpoint),
    Task("trends_upkeep", 60 * 60, run_trends_upkeep),  # recount decided reports, judge yesterday and today
]

OUTBOUND_TASKS = [
    Task("fetch_exchanges", 60, fetch_due_exchanges),  # each exchange on its own interval (exchanges/periodic.py)
]
"""Work that makes requests to the outside: only in worker processes (`tipline worker`), never in the web
process, and on a Periodic of its own (a fetch may take minutes; the upkeep above does not wait for it)."""


class Periodic:
    """Runs each task at most once per its interval, on whichever worker thread gets there first."""

    def __init__(self, instance: Instance, tasks: list[Task] | None = None) -> None:
        self.instance = instance
        self.tasks = tasks if tasks is not None else TASKS
        self._next = {task.name: 0.0 for task in self.tasks}
        self._lock = threading.Lock()

    def maybe_run(self, monotonic_now: float) -> dict[str, int]:
        """Run what is due; never raises (the database may be briefly away: try next time)."""
        done: dict[str, int] = {}
        if not self._lock.acquire(blocking=False):
            return done
        try:
            for task in self.tasks:
                if monotonic_now < self._next[task.name]:
                    continue
                self._next[task.name] = monotonic_now + task.every_seconds
                try:
                    done[task.name] = task.run(self.instance)
                except Exception:  # noqa: BLE001
                    log.exception("maintenance task %s failed; will try again", task.name)
        finally:
            self._lock.release()
        return done
