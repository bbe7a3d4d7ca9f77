"""Durable pipeline jobs: enqueue, claim with a lease, complete exactly once, retry with back-off."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.domain.numbers import parse_whole_number
from tipline.store.tables import PipelineJob
from tipline.store.types import changed_rows

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PENDING_JOB_IDS = "tipline.pending_job_ids"  # session.info key: jobs to dispatch once committed
_JOBS = cast(Table, PipelineJob.__table__)  # a mapped class\'s table (typed as any FromClause)
# A queued job for (report, stage) unless one is already queued or running: one statement.
_ENQUEUE = insert(_JOBS).from_select(
    ["report_id", "stage", "status", "attempts", "run_after", "created_at", "updated_at"],
    select(
        bindparam("job_report_id", type_=BigInteger()),
        bindparam("job_stage", type_=String()),
        literal(QUEUED, String()),
        literal(0),
        bindparam("job_run_after", type_=_JOBS.c.run_after.type),
        bindparam("job_now", type_=_JOBS.c.created_at.type),
        bindparam("job_now", type_=_JOBS.c.updated_at.type),
    ).where(~exists().where(
        _JOBS.c.report_id == bindparam("job_report_id"),
        _JOBS.c.stage == bindparam("job_stage"),
        or_(_JOBS.c.status == QUEUED, _JOBS.c.status == RUNNING),
    )),
).returning(_JOBS.c.id)


def new_worker_id() -> str:
    """host:pid:random, so a restarted worker can tell its dead predecessors' leases from others'."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    report_id: int
    stage: str
    attempts: int
    owner: str


class JobStore:
    def __init__(self, lease_seconds: int = 60, max_attempts: int = 5, retry_seconds: float = 2.0) -> None:
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds

    def enqueue(self, session: Session, report_id: int, stage: str, *, run_after: datetime | None = None) -> int | None:
        """Queue `stage` for a report unless it is already queued or running (enqueueing is idempotent)."""
        now = utc_now()
        session.flush()
        job_id: int | None = session.connection().execute(_ENQUEUE, {
            "job_report_id": report_id, "job_stage": stage, "job_run_after": run_after or now, "job_now": now,
        }).scalar_one_or_none()
        if job_id is None:
            return None
        session.info.setdefault(PENDING_JOB_IDS, []).append(job_id)
        return job_id

    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        return or_(
            and_(PipelineJob.status == QUEUED, PipelineJob.run_after <= now),
            and_(PipelineJob.status == RUNNING, PipelineJob.lease_expires_at < now),
        )

    def claim_next(self, session: Session, owner: str) -> ClaimedJob | None:
        """Take the oldest job that is due (or whose worker's lease ran out)."""
        now = utc_now()
        statement = select(PipelineJob).where(self._claimable(now)).order_by(PipelineJob.id).limit(1)
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        job = session.execute(statement).scalar_one_or_none()
        return self._take(session, job, owner, now) if job else None

    def claim(self, session: Session, job_id: int, owner: str) -> ClaimedJob | None:
        """Take one given job, if it is due and nobody holds a live lease on it."""
        now = utc_now()
        statement = select(PipelineJob).where(PipelineJob.id == job_id, self._claimable(now))
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        job = session.execute(statement).scalar_one_or_none()
        return self._take(session, job, owner, now) if job else None

    def _take(self, session: Session, job: PipelineJob, owner: str, now: datetime) -> ClaimedJob:
        job.status = RUNNING
        job.lease_owner = owner
        job.lease_expires_at = now + self.lease
        job.attempts += 1
        job.updated_at = now
        session.flush()
        return ClaimedJob(job.id, job.report_id, job.stage, job.attempts, owner)

    def extend_lease(self, session: Session, claimed: ClaimedJob) -> bool:
        """Keep holding a job while its stage is still working; False if the lease was lost."""
        result = session.execute(
            update(PipelineJob)
            .where(PipelineJob.id == claimed.id, PipelineJob.status == RUNNING, PipelineJob.lease_owner == claimed.owner)
            .values(lease_expires_at=utc_now() + self.lease)
        )
        return changed_rows(result) == 1

    def complete(self, session: Session, claimed: ClaimedJob) -> bool:
        """Mark done in the stage's own transaction; False if the lease was lost (then roll back)."""
        now = utc_now()
        result = session.execute(
            update(PipelineJob)
            .where(PipelineJob.id == claimed.id, PipelineJob.status == RUNNING, PipelineJob.lease_owner == claimed.owner)
            .values(status=DONE, finished_at=now, updated_at=now, lease_expires_at=None, last_error=None)
        )
        return changed_rows(result) == 1

    def fail(self, session: Session, claimed: ClaimedJob, error: str) -> str:
        """Record a failure: retry later with back-off, or give up after max_attempts (status failed)."""
        job = session.get(PipelineJob, claimed.id)
        if job is None or job.lease_owner != claimed.owner or job.status != RUNNING:
            return "lost"
        now = utc_now()
        job.last_error = error[:4000]
        job.updated_at = now
        job.lease_expires_at = None
        if job.attempts >= self.max_attempts:
            job.status = FAILED
            job.finished_at = now
            return FAILED
        job.status = QUEUED
        job.run_after = now + timedelta(seconds=min(300.0, self.retry_seconds * 2 ** (job.attempts - 1)))
        return QUEUED

    def release_dead_leases(self, session: Session) -> int:
        """Free leases held by workers on this host whose process is gone (a crash or kill -9), so a
        restarted instance resumes at once instead of waiting for the lease to run out."""
        host = socket.gethostname()
        released = 0
        for job in session.execute(select(PipelineJob).where(PipelineJob.status == RUNNING)).scalars():
            owner_host, _, rest = (job.lease_owner or "").partition(":")
            pid_text = rest.split(":", 1)[0]
            pid = parse_whole_number(pid_text, minimum=1, maximum=2**31 - 1)
            if owner_host != host or pid is None:
                continue
            if not _process_alive(pid):
                job.lease_expires_at = utc_now() - timedelta(seconds=1)
                released += 1
        return released

    def due_job_ids(self, session: Session, limit: int = 1000) -> list[int]:
        now = utc_now()
        return list(
            session.execute(
                select(PipelineJob.id).where(self._claimable(now)).order_by(PipelineJob.id).limit(limit)
            ).scalars()
        )

    def counts(self, session: Session) -> dict[str, int]:
        rows = session.execute(select(PipelineJob.status, func.count()).group_by(PipelineJob.status))
        return {status: count for status, count in rows}

    def failed(self, session: Session, limit: int = 100) -> list[PipelineJob]:
        return list(
            session.execute(
                select(PipelineJob).where(PipelineJob.status == FAILED).order_by(PipelineJob.id.desc()).limit(limit)
            ).scalars()
        )

    def retry(self, session: Session, job_id: int) -> bool:
        job = session.get(PipelineJob, job_id)
        if job is None or job.status != FAILED:
            return False
        now = utc_now()
        job.status, job.attempts, job.run_after, job.updated_at, job.finished_at = QUEUED, 0, now, now, None
        session.info.setdefault(PENDING_JOB_IDS, []).append(job.id)
        return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
