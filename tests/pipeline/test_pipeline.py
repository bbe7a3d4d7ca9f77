"""The pipeline moves each received report to awaiting review exactly once, retries failures, and
resumes after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import instance_env, sample_content, tipline_command

from tipline.domain.audit import Actor, ActorType
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.pipeline import stages
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.pipeline.engine.jobs import ClaimedJob
from tipline.pipeline.engine.runner import run_claimed, run_next, run_stage_now
from tipline.store.accounts import Principal
from tipline.store.tables import AuditEventRow, IdentifierRow, PipelineJob

ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP, api_account_id=None)


def _submit(instance: Instance, count: int = 1) -> list[int]:
    ids = []
    for _ in range(count):
        with instance.db.transaction() as session:
            row = submit_report(instance, session, ReportContent.model_validate(sample_content()),
                                ReportSource.ESP_JSON, ESP)
            ids.append(row.id)
    return ids


def _state(instance: Instance, report_id: int) -> str:
    with instance.db.transaction() as session:
        return instance.reports.row(session, report_id).state


def _transitions(instance: Instance, report_id: int) -> list[tuple[str, str]]:
    with instance.db.transaction() as session:
        events = instance.audit.events_for_report(session, report_id)
    return [(e.details["from"], e.details["to"]) for e in events if e.action == "report.state_changed"]


def test_a_received_report_reaches_review_with_identifiers_and_links(instance: Instance) -> None:
    first, second = _submit(instance, 2)
    assert InProcessWorker(instance).drain(timeout=60)
    for report_id in (first, second):
        assert _state(instance, report_id) == ReportState.AWAITING_REVIEW
        assert _transitions(instance, report_id) == [("received", "processing"), ("processing", "awaiting_review")]
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(IdentifierRow)).scalar_one() == 10
        assert {other.id for _, other in instance.identifiers.links_of(session, second)} == {first}
        statuses = set(session.execute(select(PipelineJob.status)).scalars())
    assert statuses == {"done"}


def test_running_a_stage_again_changes_nothing(instance: Instance) -> None:
    (report_id,) = _submit(instance)
    assert InProcessWorker(instance).drain(timeout=60)
    with instance.db.transaction() as session:
        before = session.execute(select(func.count()).select_from(IdentifierRow)).scalar_one()
        events_before = session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()
    for stage in stages.PIPELINE:
        run_stage_now(instance, stage.name, report_id)
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(IdentifierRow)).scalar_one() == before
        assert session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one() == events_before
    assert _state(instance, report_id) == ReportState.AWAITING_REVIEW


def test_a_failing_stage_is_retried_and_then_succeeds(instance: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    (report_id,) = _submit(instance)
    calls = {"n": 0}
    original = stages.STAGES["link_reports"]

    def flaky(inst: Instance, session: object, rid: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database went away")
        original.run(inst, session, rid)  # type: ignore[arg-type]

    monkeypatch.setitem(stages.STAGES, "link_reports", stages.Stage("link_reports", "flaky", flaky))
    object.__setattr__(instance.jobs, "retry_seconds", 0.05)
    assert InProcessWorker(instance).drain(timeout=60)
    assert calls["n"] == 2
    assert _state(instance, report_id) == ReportState.AWAITING_REVIEW
    with instance.db.transaction() as session:
        job = session.execute(select(PipelineJob).where(PipelineJob.stage == "link_reports")).scalar_one()
    assert job.status == "done" and job.attempts == 2


def test_a_stage_that_keeps_failing_is_parked_visibly(instance: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    (report_id,) = _submit(instance)

    def broken(inst: Instance, session: object, rid: int) -> None:
        raise ValueError("cannot parse something")

    monkeypatch.setitem(stages.STAGES, "extract_identifiers", stages.Stage("extract_identifiers", "broken", broken))
    object.__setattr__(instance.jobs, "retry_seconds", 0.01)
    object.__setattr__(instance.jobs, "max_attempts", 3)
    assert InProcessWorker(instance).drain(timeout=60)
    assert _state(instance, report_id) == ReportState.PROCESSING
    with instance.db.transaction() as session:
        failed = instance.jobs.failed(session)
    assert [(job.report_id, job.stage, job.attempts) for job in failed] == [(report_id, "extract_identifiers", 3)]
    assert "ValueError: cannot parse something" in (failed[0].last_error or "")
    monkeypatch.undo()
    with instance.db.transaction() as session:
        assert instance.jobs.retry(session, failed[0].id)
    assert InProcessWorker(instance).drain(timeout=60)
    assert _state(instance, report_id) == ReportState.AWAITING_REVIEW


def test_a_job_whose_lease_was_taken_over_does_not_complete_twice(instance: Instance) -> None:
    (report_id,) = _submit(instance)
    with instance.db.transaction() as session:
        claimed = instance.jobs.claim_next(session, "host:1:a")
        assert claimed is not None
        job = session.get(PipelineJob, claimed.id)
        job.lease_owner = "host:2:b"  # another worker took it over after our lease ran out
    assert run_claimed(instance, ClaimedJob(claimed.id, report_id, claimed.stage, 1, "host:1:a")) == "lost"
    assert _state(instance, report_id) == ReportState.RECEIVED
    with instance.db.transaction() as session:
        assert session.get(PipelineJob, claimed.id).status == "running"


def test_a_crashed_worker_is_resumed_and_each_report_is_reviewed_exactly_once(
    instance: Instance, tmp_path: Path
) -> None:
    """Kill the worker process (SIGKILL) while it is inside a stage, start another: every report
    reaches awaiting_review, and each transition happens exactly once."""
    report_ids = _submit(instance, 30)
    env = instance_env(instance)
    marker = tmp_path / "inside-stage"
    crashing = subprocess.Popen([sys.executable, str(Path(__file__).parent / "crashing_worker.py"), str(marker), "5"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and crashing.poll() is None:
        time.sleep(0.01)
    assert marker.exists(), crashing.stderr.read().decode() if crashing.poll() is not None else "no stall"
    os.kill(crashing.pid, signal.SIGKILL)
    crashing.wait()
    stalled_report = int(marker.read_text())
    with instance.db.transaction() as session:
        running = session.execute(select(PipelineJob).where(PipelineJob.status == "running")).scalars().all()
    assert [(job.report_id, job.stage) for job in running] == [(stalled_report, "link_reports")]
    assert _state(instance, stalled_report) == ReportState.PROCESSING

    worker = subprocess.Popen([*tipline_command(), "worker", "--concurrency", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if all(_state(instance, rid) == ReportState.AWAITING_REVIEW for rid in report_ids):
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    for report_id in report_ids:
        assert _state(instance, report_id) == ReportState.AWAITING_REVIEW
        assert _transitions(instance, report_id) == [("received", "processing"), ("processing", "awaiting_review")]
    with instance.db.transaction() as session:
        per_stage = session.execute(
            select(PipelineJob.report_id, PipelineJob.stage, func.count())
            .where(PipelineJob.status == "done")
            .group_by(PipelineJob.report_id, PipelineJob.stage)
        ).all()
        assert all(count == 1 for _, _, count in per_stage)
        assert len(per_stage) == 30 * len(stages.PIPELINE)
        assert instance.audit.verify(session).ok


def test_the_worker_thread_picks_up_work_as_soon_as_it_is_committed(instance: Instance) -> None:
    worker = InProcessWorker(instance, idle_wait=30)
    worker.start()
    try:
        (report_id,) = _submit(instance)
        deadline = time.monotonic() + 20
        while _state(instance, report_id) != ReportState.AWAITING_REVIEW and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert _state(instance, report_id) == ReportState.AWAITING_REVIEW


def test_no_job_means_nothing_to_run(instance: Instance) -> None:
    assert run_next(instance, "host:1:x") is False
