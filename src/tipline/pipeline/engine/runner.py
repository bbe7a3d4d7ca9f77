"""Running pipeline jobs: one stage per transaction, completed exactly once, with the next stage queued."""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

from tipline.pipeline.engine.jobs import ClaimedJob
from tipline.pipeline.engine.lease import LeaseKeeper
from tipline.pipeline.stages import FIRST_STAGE, STAGES, stage_after

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tipline.instance import Instance

log = logging.getLogger("tipline.pipeline")


class LeaseLost(RuntimeError):
    pass


def start_pipeline(instance: Instance, session: Session, report_id: int) -> None:
    """Queue a received report's first stage, in the caller's transaction (so acknowledgement and
    the queued work commit together: an acknowledged report is never without its job)."""
    instance.jobs.enqueue(session, report_id, FIRST_STAGE)


def run_claimed(instance: Instance, claimed: ClaimedJob) -> str:
    """Run one claimed job. Its stage's writes, the job's completion and the next stage's job commit
    in one transaction; on any error all of it rolls back and the job is retried later. A forwarding
    job (`forward:ID`) commits step by step instead (tipline.forwarding.job); a hosting lookup
    (`takedown.locate`) resolves outside the transaction that stores it (tipline.takedown.service)."""
    from tipline.forwarding.job import is_forwarding_stage, run_forwarding_job
    from tipline.takedown.service import LOCATE_STAGE, MAIL_STAGE_PREFIX, run_locate_job, run_mail_job

    if is_forwarding_stage(claimed.stage):
        return run_forwarding_job(instance, claimed)
    if claimed.stage == LOCATE_STAGE:
        return run_locate_job(instance, claimed)
    if claimed.stage.startswith(MAIL_STAGE_PREFIX):
        return run_mail_job(instance, claimed)
    stage = STAGES.get(claimed.stage)
    try:
        if stage is None:
            raise LookupError(f"unknown pipeline stage {claimed.stage!r}")
        with LeaseKeeper(instance, claimed):
            prepared = stage.prepare(instance, claimed.report_id) if stage.prepare else None
        with instance.db.transaction() as session:
            stage.execute(instance, session, claimed.report_id, prepared)
            if not instance.jobs.complete(session, claimed):
                raise LeaseLost(f"job {claimed.id} was taken over by another worker")
            following = stage_after(claimed.stage)
            if following is not None:
                instance.jobs.enqueue(session, claimed.report_id, following)
        return "done"
    except LeaseLost as error:
        log.warning("%s", error)
        return "lost"
    except Exception as error:  # noqa: BLE001 - any stage failure is recorded and retried
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error("stage %s failed for report %s (attempt %s): %s", claimed.stage, claimed.report_id,
                  claimed.attempts, detail)
        with instance.db.transaction() as session:
            return instance.jobs.fail(session, claimed, detail)


def run_stage_now(instance: Instance, stage_name: str, report_id: int) -> None:
    """Run one stage for one report outside the job queue (re-processing, tests)."""
    stage = STAGES[stage_name]
    prepared = stage.prepare(instance, report_id) if stage.prepare else None
    with instance.db.transaction() as session:
        stage.execute(instance, session, report_id, prepared)


def run_next(instance: Instance, owner: str) -> bool:
    """Claim and run the next due job; False when there is none."""
    with instance.db.transaction() as session:
        claimed = instance.jobs.claim_next(session, owner)
    if claimed is None:
        return False
    run_claimed(instance, claimed)
    return True


def run_next_of_stage(instance: Instance, owner: str, report_id: int, stage: str) -> str:
    """Claim and run the due job of one stage for one report (`tipline forward --wait`); "none" if
    there is none, "not_due" if it waits for later or another worker holds it."""
    from sqlalchemy import select

    from tipline.pipeline.engine.jobs import QUEUED, RUNNING
    from tipline.store.tables import PipelineJob

    with instance.db.transaction() as session:
        job_id = session.execute(select(PipelineJob.id).where(
            PipelineJob.report_id == report_id, PipelineJob.stage == stage,
            PipelineJob.status.in_((QUEUED, RUNNING))).order_by(PipelineJob.id)).scalars().first()
    if job_id is None:
        return "none"
    return run_job(instance, job_id, owner)


def run_job(instance: Instance, job_id: int, owner: str) -> str:
    """Claim and run one given job (what a procrastinate worker does for each task)."""
    with instance.db.transaction() as session:
        claimed = instance.jobs.claim(session, job_id, owner)
    if claimed is None:
        return "not_due"
    return run_claimed(instance, claimed)
