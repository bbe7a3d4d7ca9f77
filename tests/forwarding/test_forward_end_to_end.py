"""A report forwarded to a second tipline over real HTTP arrives with the same facts and files, and
a forwarding interrupted between steps resumes without filing twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from forwarding_support import (
    add_destination,
    facts,
    file_details,
    file_digests,
    remote_reports,
    remote_tipline,
    report_with_files,
)
from sqlalchemy import select, update

from tipline.domain.audit import Actor
from tipline.forwarding import job
from tipline.forwarding.service import of_report, request_forwarding
from tipline.instance import Instance
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.store.tables import AuditEventRow, PipelineJob

ANALYST = Actor.system("test-analyst")


def _request(instance: Instance, report_id: int, name: str = "partner") -> int:
    with instance.db.transaction() as session:
        forwarding, created = request_forwarding(instance, session, report_id, name, ANALYST)
    assert created
    return forwarding.id


def _only_forwarding(instance: Instance, report_id: int):  # type: ignore[no-untyped-def]
    with instance.db.transaction() as session:
        (forwarding,) = of_report(session, report_id)
    return forwarding


def test_forwarded_report_arrives_with_same_facts_and_files(instance: Instance, tmp_path: Path,
                                                           request: pytest.FixtureRequest) -> None:
    report_id = report_with_files(instance)
    with remote_tipline(tmp_path, request) as remote:
        add_destination(instance, remote)
        _request(instance, report_id)
        assert InProcessWorker(instance).drain(timeout=120)  # the worker does the forwarding

        forwarding = _only_forwarding(instance, report_id)
        assert forwarding.state == job.FINISHED, forwarding.last_error
        (arrived,) = remote_reports(remote.instance)
        assert forwarding.remote_report_id == str(arrived.id)
        assert arrived.state == "received"
        assert facts(remote.instance, arrived.id) == facts(instance, report_id)
        assert file_digests(remote.instance, arrived.id) == file_digests(instance, report_id)
        assert len(file_digests(instance, report_id)) == 2
        sent, received = file_details(instance, report_id), file_details(remote.instance, arrived.id)
        assert received[0] is not None and received[0] == sent[0]
        assert received[1] is None

    with instance.db.transaction() as session:
        actions = [event.action for event in session.execute(select(AuditEventRow).where(
            AuditEventRow.report_id == report_id).order_by(AuditEventRow.seq)).scalars()]
    steps = [action for action in actions if action.startswith("forwarding.")]
    assert steps == ["forwarding.requested", "forwarding.attempt", "forwarding.submitted", "forwarding.file_sent",
                     "forwarding.file_details_sent", "forwarding.file_sent", "forwarding.finished"]
    assert actions.count("file.read") >= 2  # each file read for the forwarding is audited


class Crash(BaseException):
    """A worker killed between two steps (nothing after this point runs, nothing is rolled back)."""


def test_crash_between_steps_resumes_without_a_second_remote_report(
        sqlite_instance: Instance, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    instance = sqlite_instance
    report_id = report_with_files(instance)
    with remote_tipline(tmp_path, request) as remote:
        add_destination(instance, remote)
        _request(instance, report_id)
        original = job._Attempt._upload
        calls = []

        def crash_before_second_file(self, remote_id, position, item, entry):  # type: ignore[no-untyped-def]
            calls.append(position)
            if position == 2 and calls.count(2) == 1:
                raise Crash()
            return original(self, remote_id, position, item, entry)

        monkeypatch.setattr(job._Attempt, "_upload", crash_before_second_file)
        worker = InProcessWorker(instance)
        with pytest.raises(Crash):
            worker.drain(timeout=60)
        # The remote report is open with the first file; the job is left running by the "dead" worker.
        (open_report,) = remote_reports(remote.instance)
        assert open_report.state == "open"
        assert _only_forwarding(instance, report_id).remote_report_id == str(open_report.id)
        with instance.db.transaction() as session:  # the restart: the dead worker's lease has run out
            session.execute(update(PipelineJob).where(PipelineJob.status == "running").values(
                lease_expires_at=PipelineJob.created_at))
        assert InProcessWorker(instance).drain(timeout=60)

        forwarding = _only_forwarding(instance, report_id)
        assert forwarding.state == job.FINISHED, forwarding.last_error
        (arrived,) = remote_reports(remote.instance)  # exactly one remote report
        assert arrived.id == open_report.id and arrived.state == "received"
        assert file_digests(remote.instance, arrived.id) == file_digests(instance, report_id)
        assert calls == [1, 2, 2]  # on resuming, the first file (already answered) is not uploaded again
