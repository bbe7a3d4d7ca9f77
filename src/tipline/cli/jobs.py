"""The `tipline jobs` commands: look at and retry pipeline jobs, expire unfinished API reports."""

from __future__ import annotations

import click

from tipline.cli.common import Failure, emit, json_option, open_instance


@click.group()
def jobs() -> None:
    """Look at and retry pipeline jobs."""


@jobs.command("status")
@json_option
def jobs_status(as_json: bool) -> None:
    """Count jobs by status and list the ones that failed for good."""
    instance = open_instance()
    with instance.db.transaction() as session:
        counts = instance.jobs.counts(session)
        failed = [{"id": j.id, "report_id": j.report_id, "stage": j.stage, "attempts": j.attempts,
                   "error": j.last_error} for j in instance.jobs.failed(session)]
    emit(as_json, {"counts": counts, "failed": failed}, lambda: "\n".join(
        [", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "No jobs."]
        + [f"failed job {f['id']} (report {f['report_id']}, {f['stage']}): {f['error']}" for f in failed]))


@jobs.command("retry")
@click.argument("job_id", type=int)
@json_option
def jobs_retry(job_id: int, as_json: bool) -> None:
    """Queue a failed job again."""
    instance = open_instance()
    with instance.db.transaction() as session:
        retried = instance.jobs.retry(session, job_id)
    if not retried:
        raise Failure(f"job {job_id} does not exist or has not failed")
    emit(as_json, {"id": job_id, "status": "queued"}, f"Job {job_id} queued again.")


@jobs.command("expire-open")
@json_option
def jobs_expire_open(as_json: bool) -> None:
    """Retract and purge unfinished API reports past their expiry (24 h after opening or 1 h after
    the last change, whichever is later); the server runs this periodically by itself."""
    from tipline.intake.cybertipline.expiry import expire_open_reports

    instance = open_instance()
    result = expire_open_reports(instance)
    emit(as_json, result.to_dict(),
         f"Expired {len(result.expired)} unfinished report(s), removed {result.files_removed} file(s), "
         f"deleted {result.blobs_deleted} unreferenced file content(s).")
