"""The expiry runs by itself in both pipeline backends: the embedded worker's loop and a
procrastinate periodic task."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from intake_documents import DOC_EXAMPLE
from support import build_instance

from tipline.cybertipline.xmlmap import parse_report
from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.instance import Instance
from tipline.intake.cybertipline import service
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.store.accounts import api_principal
from tipline.store.tables import ReportRow


def _stale_open_report(instance: Instance) -> int:
    """An open report opened 25 hours ago and untouched since (times set directly)."""
    with instance.db.transaction() as session:
        account, _ = instance.accounts.add_api_account(session, "chirp", Actor.system("test"))
        principal = api_principal(account)
    report_id = service.submit(instance, principal, parse_report(DOC_EXAMPLE))
    with instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        row.opened_at = row.updated_at = utc_now() - timedelta(hours=25)
    return report_id


def _state(instance: Instance, report_id: int) -> str:
    with instance.db.transaction() as session:
        return session.get(ReportRow, report_id).state


def test_the_embedded_worker_expires_stale_reports(sqlite_instance: Instance) -> None:
    report_id = _stale_open_report(sqlite_instance)
    worker = InProcessWorker(sqlite_instance)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while _state(sqlite_instance, report_id) == "open" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert _state(sqlite_instance, report_id) == "retracted"


@pytest.mark.postgres
def test_procrastinate_has_a_periodic_expiry_task(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from tipline.pipeline.engine.procrastinate_backend import EXPIRE_TASK_NAME, ProcrastinateDispatcher, ensure_schema

    instance = build_instance(tmp_path / "data", "postgresql", request, TIPLINE_JOB_BACKEND="procrastinate")
    try:
        ensure_schema(instance.db)
        dispatcher = instance.dispatcher
        assert isinstance(dispatcher, ProcrastinateDispatcher)
        assert EXPIRE_TASK_NAME in dispatcher.app.tasks
        periodic = [p for p in dispatcher.app.periodic_registry.periodic_tasks.values()
                    if p.task.name == EXPIRE_TASK_NAME]
        assert len(periodic) == 1
        report_id = _stale_open_report(instance)
        assert dispatcher.app.tasks[EXPIRE_TASK_NAME](timestamp=0) == 1  # the task body, as a worker runs it
        assert _state(instance, report_id) == "retracted"
    finally:
        instance.close()
