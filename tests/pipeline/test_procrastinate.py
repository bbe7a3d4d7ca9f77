"""The scale-out backend: procrastinate workers on PostgreSQL run the pipeline, and jobs whose
hand-over was lost are swept up."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from support import build_instance, instance_env, sample_content, tipline_command

from tipline.domain.audit import Actor, ActorType
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.pipeline.engine.procrastinate_backend import ensure_schema
from tipline.store.accounts import Principal

pytestmark = pytest.mark.postgres
ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP)


def _procrastinate_instance(tmp_path: Path, request: pytest.FixtureRequest, backend: str) -> Instance:
    instance = build_instance(tmp_path / "data", "postgresql", request, TIPLINE_JOB_BACKEND=backend)
    ensure_schema(instance.db)
    with instance.db.engine.begin() as connection:
        connection.execute(text("TRUNCATE procrastinate_jobs, procrastinate_periodic_defers CASCADE"))
    return instance


def _submit(instance: Instance, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        with instance.db.transaction() as session:
            ids.append(submit_report(instance, session, ReportContent.model_validate(sample_content()),
                                     ReportSource.ESP_JSON, ESP).id)
    return ids


NO_SWEEP_WORKER = [sys.executable, str(Path(__file__).with_name("procrastinate_worker.py"))]


def _run_worker_until_reviewed(instance: Instance, report_ids: list[int], command: list[str] | None = None,
                               submit: int = 0) -> str:
    """Run a worker until the reports (and `submit` more, filed once the worker is up) await review;
    returns the worker's log."""
    env = instance_env(instance) | {"TIPLINE_JOB_BACKEND": "procrastinate"}
    worker = subprocess.Popen(command or [*tipline_command(), "worker", "--concurrency", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if submit:
            _wait_until_registered(instance, worker)
            report_ids = report_ids + _submit(instance, submit)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with instance.db.transaction() as session:
                states = {instance.reports.row(session, rid).state for rid in report_ids}
            if states == {ReportState.AWAITING_REVIEW} or worker.poll() is not None:
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            _, errors = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            _, errors = worker.communicate()
    assert states == {ReportState.AWAITING_REVIEW}, errors.decode()[-3000:]
    return errors.decode()


def _wait_until_registered(instance: Instance, worker: subprocess.Popen[bytes]) -> None:
    """Wait until the worker has opened its app (procrastinate registers each running worker)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        with instance.db.engine.connect() as connection:
            if connection.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one():
                return
        time.sleep(0.2)
    raise AssertionError("the worker did not start")


def test_procrastinate_workers_move_reports_to_review_exactly_once(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    instance = _procrastinate_instance(tmp_path, request, "procrastinate")
    report_ids = _submit(instance, 6)
    with instance.db.engine.connect() as connection:
        handed_over = connection.execute(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'tipline.run_pipeline_job'")).scalar_one()
    assert handed_over == 6  # one per report's first stage, deferred after each commit
    _run_worker_until_reviewed(instance, report_ids)
    with instance.db.transaction() as session:
        for report_id in report_ids:
            changes = [(e.details["from"], e.details["to"]) for e in instance.audit.events_for_report(session, report_id)
                       if e.action == "report.state_changed"]
            assert changes == [("received", "processing"), ("processing", "awaiting_review")]
    with instance.db.engine.connect() as connection:
        succeeded = connection.execute(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'tipline.run_pipeline_job' "
            "AND status = 'succeeded'")).scalar_one()
    assert succeeded >= 6 * 4


def test_jobs_whose_hand_over_was_lost_are_swept_up(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # Filed by a process that never handed its jobs to procrastinate (as after a crash right after commit).
    instance = _procrastinate_instance(tmp_path, request, "inprocess")
    report_ids = _submit(instance, 3)
    with instance.db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one() == 0
    _run_worker_until_reviewed(instance, report_ids)


def test_a_worker_hands_over_the_jobs_due_when_it_starts_without_waiting_for_the_sweep(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Due before the worker starts and never handed over; the periodic sweep is out of reach, so only
    # the worker's start-up sweep can hand them over (it used to fail with AppNotOpen for each job).
    instance = _procrastinate_instance(tmp_path, request, "inprocess")
    report_ids = _submit(instance, 2)
    log = _run_worker_until_reviewed(instance, report_ids, NO_SWEEP_WORKER)
    assert "could not hand job" not in log
    assert "AppNotOpen" not in log


def test_each_stage_a_worker_finishes_hands_the_next_over_directly(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Filed while the worker runs: every later stage is queued by the worker itself as a stage
    # finishes; with the periodic sweep out of reach, a single failed hand-off would stall a report.
    instance = _procrastinate_instance(tmp_path, request, "procrastinate")
    log = _run_worker_until_reviewed(instance, [], NO_SWEEP_WORKER, submit=3)
    assert "could not hand job" not in log
    assert "AppNotOpen" not in log
