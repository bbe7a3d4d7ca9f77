"""Running pipeline jobs: one stage per transaction, completed exactly once, with the next stage queued."""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

from tipline.pipeline.jobs import ClaimedJob
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
    in one transaction; on any error all of it rolls back and the job is retried later."""
    stage = STAGES.get(claimed.stage)
    try:
        if stage is None:
            raise LookupError(f"unknown pipeline stage {claimed.stage!r}")
        with instance.db.transaction() as session:
            stage.run(instance, session, claimed.report_id)
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


def run_next(instance: Instance, owner: str) -> bool:
    """Claim and run the next due job; False when there is none."""
    with instance.db.transaction() as session:
        claimed = instance.jobs.claim_next(session, owner)
    if claimed is None:
        return False
    run_claimed(instance, claimed)
    return True


def run_job(instance: Instance, job_id: int, owner: str) -> str:
    """Claim and run one given job (what a procrastinate worker does for each task)."""
    with instance.db.transaction() as session:
        claimed = instance.jobs.claim(session, job_id, owner)
    if claimed is None:
        return "not_due"
    return run_claimed(instance, claimed)
