"""Unfinished reports expire, as the Reporting API documents: 24 hours after the report was opened
or 1 hour after its last change (file upload or file details), whichever is later. An expired
report is retracted (reason "expired") and its files are purged: the file rows at once, their
encrypted contents by the collector once no report has pointed at them for its grace period."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.lifecycle import LifecycleError, ReportState
from tipline.store.tables import ReportRow

if TYPE_CHECKING:
    from tipline.instance import Instance

log = logging.getLogger("tipline.intake")

OPEN_FOR = timedelta(hours=24)
IDLE_FOR = timedelta(hours=1)
GARBAGE_GRACE = timedelta(minutes=10)
EXPIRY_ACTOR = Actor.system("expiry")
EXPIRY_INTERVAL_SECONDS = 60.0


def expires_at(opened_at: datetime, last_change_at: datetime) -> datetime:
    """When an unfinished report expires: the later of opened + 24 h and last change + 1 h."""
    return max(opened_at + OPEN_FOR, last_change_at + IDLE_FOR)


@dataclass
class ExpiryResult:
    expired: list[int] = field(default_factory=list)
    files_removed: int = 0
    blobs_deleted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"expired": self.expired, "files_removed": self.files_removed, "blobs_deleted": self.blobs_deleted}


def expire_open_reports(instance: Instance, now: datetime | None = None, *,
                        grace: timedelta = GARBAGE_GRACE, limit: int = 500) -> ExpiryResult:
    """Retract and purge every open report past its expiry time (one transaction per report, so a
    report finished at the same moment is simply skipped), then collect unreferenced file contents
    older than `grace`."""
    now = now or utc_now()
    result = ExpiryResult()
    with instance.db.transaction() as session:
        # Both conditions must hold: opened 24 h ago AND idle for 1 h.
        candidates = list(session.execute(
            select(ReportRow.id).where(
                ReportRow.state == ReportState.OPEN.value,
                ReportRow.opened_at <= now - OPEN_FOR,
                ReportRow.updated_at <= now - IDLE_FOR,
            ).order_by(ReportRow.id).limit(limit)
        ).scalars())
    for report_id in candidates:
        try:
            with instance.db.transaction() as session:
                row = instance.reports.row(session, report_id, for_update=True)
                if row.state != ReportState.OPEN.value or expires_at(row.opened_at, row.updated_at) > now:
                    continue  # finished or changed since the query
                instance.reports.transition(session, report_id, ReportState.RETRACTED, EXPIRY_ACTOR, reason="expired")
                result.files_removed += instance.files.remove_report_files(session, report_id, EXPIRY_ACTOR)
            result.expired.append(report_id)
        except LifecycleError:
            continue
    with instance.db.transaction() as session:
        result.blobs_deleted = instance.files.collect_garbage(session, grace=grace)
    if result.expired or result.blobs_deleted:
        log.info("expired %d unfinished reports (%d files); deleted %d unreferenced file contents",
                 len(result.expired), result.files_removed, result.blobs_deleted)
    return result


class PeriodicExpiry:
    """Runs the expiry at most once per `interval` seconds; for the embedded worker's loop."""

    def __init__(self, instance: Instance, interval: float = EXPIRY_INTERVAL_SECONDS) -> None:
        self.instance = instance
        self.interval = interval
        self._next = 0.0
        self._lock = threading.Lock()

    def maybe_run(self, monotonic_now: float) -> ExpiryResult | None:
        """Run if the interval has passed and no other thread is running it; never raises."""
        if monotonic_now < self._next or not self._lock.acquire(blocking=False):
            return None
        try:
            self._next = monotonic_now + self.interval
            return expire_open_reports(self.instance)
        except Exception:  # noqa: BLE001 - the database may be briefly unavailable; try again next time
            log.exception("expiring unfinished reports failed; will try again")
            return None
        finally:
            self._lock.release()
