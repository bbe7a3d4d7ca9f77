"""Periodic upkeep: waiting reports are scored again as time passes, orphaned blobs are deleted,
each task no more often than its interval."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.pipeline.engine.maintenance import Periodic, Task
from tipline.pipeline.stages.score_priority import rescore_waiting
from tipline.store.accounts import Principal
from tipline.store.tables import BlobRow, ReportRow

ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP)


def test_tasks_run_when_due_and_not_before(sqlite_instance: Instance) -> None:
    calls: list[str] = []
    periodic = Periodic(sqlite_instance, [Task("a", 10, lambda i: calls.append("a") or 1),
                                          Task("b", 100, lambda i: calls.append("b") or 2)])
    assert periodic.maybe_run(1000.0) == {"a": 1, "b": 2}
    assert periodic.maybe_run(1005.0) == {}
    assert periodic.maybe_run(1011.0) == {"a": 1}
    assert calls == ["a", "b", "a"]


def test_a_failing_task_does_not_stop_the_others(sqlite_instance: Instance) -> None:
    def broken(instance: Instance) -> int:
        raise RuntimeError("database away")

    periodic = Periodic(sqlite_instance, [Task("broken", 10, broken), Task("fine", 10, lambda i: 3)])
    assert periodic.maybe_run(0.0) == {"fine": 3}


def test_waiting_reports_gain_priority_as_days_pass(instance: Instance) -> None:
    with instance.db.transaction() as session:
        report_id = submit_report(instance, session, ReportContent.model_validate(sample_content()),
                                  ReportSource.ESP_JSON, ESP, received_at=utc_now() - timedelta(days=3)).id
    assert InProcessWorker(instance).drain(timeout=60)
    with instance.db.transaction() as session:
        before = session.get(ReportRow, report_id).priority_score
        rescored = rescore_waiting(instance, session, now=utc_now() + timedelta(days=2))
        after = session.get(ReportRow, report_id)
    assert rescored == 1
    assert after.priority_score == before + 6  # two more full days at 3 points each (cap 15 not reached)
    assert "waiting" in {r["code"] for r in after.priority_reasons["reasons"]}


def test_blob_garbage_is_collected_after_its_grace(instance: Instance) -> None:
    with instance.db.transaction() as session:
        report_id = submit_report(instance, session, ReportContent.model_validate(sample_content()),
                                  ReportSource.ESP_JSON, ESP, finish=False).id
        address = instance.files.add(session, report_id, b"benign bytes", file_name="x", actor=ESP.actor).blob_address
        instance.files.remove_report_files(session, report_id, ESP.actor)
        session.get(BlobRow, address).unreferenced_since = utc_now() - timedelta(hours=1)
    from tipline.pipeline.engine.maintenance import collect_blob_garbage

    assert collect_blob_garbage(instance) == 1
    assert not instance.files.blobs.exists(address)
    with instance.db.transaction() as session:
        assert session.execute(select(BlobRow)).first() is None
