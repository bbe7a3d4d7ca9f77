"""A destination that fails — garbage, 5xx, an unexpected code, a refusal, a TLS failure, a slow
answer — leaves a clear state on the forwarding and a retry (or a person's attention), never a
second filed report; the password never appears in logs, errors or the audit trail."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from forwarding_support import ADMIN, add_destination, file_digests, remote_reports, remote_tipline, report_with_files
from sqlalchemy import select, update
from support import build_instance

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.forwarding import job
from tipline.forwarding.job import forward
from tipline.forwarding.service import of_report, request_forwarding
from tipline.instance import Instance
from tipline.store.forwarding import ForwardingRow
from tipline.store.tables import AuditEventRow


class Faults:
    """Wraps the destination: the first calls of an endpoint get the answers queued for it.
    An answer is (status, body) or ("sleep", seconds) before the real answer."""

    def __init__(self, **queued: list[Any]) -> None:
        self.queued = {f"/ispws/{name}": list(answers) for name, answers in queued.items()}
        self.calls: list[str] = []

    def __call__(self, app: Any) -> Any:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.calls.append(scope["path"])
                answers = self.queued.get(scope["path"])
                if answers:
                    status, body = answers.pop(0)
                    if status == "sleep":
                        await asyncio.sleep(body)
                    else:
                        while (await receive()).get("more_body"):
                            pass
                        await send({"type": "http.response.start", "status": status,
                                    "headers": [(b"content-type", b"text/html"), (b"request-id", b"req-123")]})
                        await send({"type": "http.response.body", "body": body})
                        return
            await app(scope, receive, send)

        return wrapped


@pytest.fixture
def source(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    built = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_FORWARD_TIMEOUT_SECONDS="2")
    yield built
    built.close()


def start(instance: Instance, report_id: int) -> int:
    with instance.db.transaction() as session:
        forwarding, _ = request_forwarding(instance, session, report_id, "partner", Actor.system("analyst"))
    return forwarding.id


def row(instance: Instance, forwarding_id: int) -> ForwardingRow:
    with instance.db.transaction() as session:
        found = session.get(ForwardingRow, forwarding_id)
        assert found is not None
        session.expunge(found)
        return found


def due_now(instance: Instance, forwarding_id: int) -> None:
    with instance.db.transaction() as session:
        session.execute(update(ForwardingRow).where(ForwardingRow.id == forwarding_id).values(
            next_attempt_at=utc_now() - timedelta(seconds=1)))


GARBAGE = (200, b"<html><body>Service temporarily unavailable</body></html>")
UNAVAILABLE = (503, b"<html>503 Service Unavailable</html>")
UNKNOWN_CODE = (200, b"<reportResponse><responseCode>7777</responseCode>"
                     b"<responseDescription>Maintenance</responseDescription></reportResponse>")


@pytest.mark.parametrize(("endpoint", "answer", "words"), [
    ("submit", UNAVAILABLE, "HTTP 503"),
    ("submit", GARBAGE, "not a CyberTipline response"),
    ("fileinfo", UNKNOWN_CODE, "code 7777"),
    ("finish", GARBAGE, "not a CyberTipline response"),
    ("finish", UNAVAILABLE, "HTTP 503"),
])
def test_a_failing_answer_is_retried_and_files_once(source: Instance, tmp_path: Path, request: pytest.FixtureRequest,
                                                    endpoint: str, answer: tuple[int, bytes], words: str) -> None:
    report_id = report_with_files(source)
    faults = Faults(**{endpoint: [answer]})
    with remote_tipline(tmp_path, request, app_wrapper=faults) as remote:
        add_destination(source, remote)
        forwarding_id = start(source, report_id)
        outcome = forward(source, forwarding_id)
        waiting = row(source, forwarding_id)
        assert outcome.state == job.WAITING == waiting.state
        assert waiting.last_error and words in waiting.last_error and "req-123" in waiting.last_error
        assert waiting.next_attempt_at is not None and waiting.next_attempt_at > utc_now() + timedelta(seconds=30)
        assert forward(source, forwarding_id).state == job.WAITING  # not before its time
        due_now(source, forwarding_id)
        assert forward(source, forwarding_id).state == job.FINISHED
        filed = [r for r in remote_reports(remote.instance) if r.state != "retracted"]
        assert len(filed) == 1 and filed[0].state == "received"
        assert row(source, forwarding_id).remote_report_id == str(filed[0].id)
        assert file_digests(remote.instance, filed[0].id) == file_digests(source, report_id)


def test_an_unknown_answer_to_an_upload_retracts_rather_than_filing_a_file_twice(
        source: Instance, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    report_id = report_with_files(source)
    faults = Faults(upload=[(502, b"<html>bad gateway</html>")])
    with remote_tipline(tmp_path, request, app_wrapper=faults) as remote:
        add_destination(source, remote)
        forwarding_id = start(source, report_id)
        assert forward(source, forwarding_id).state == job.WAITING
        due_now(source, forwarding_id)
        assert forward(source, forwarding_id).state == job.FINISHED
        reports = remote_reports(remote.instance)
        assert [r.state for r in reports] == ["retracted", "received"]
        assert row(source, forwarding_id).retracted_remote_ids == {str(reports[0].id): "retracted"}
        assert file_digests(remote.instance, reports[1].id) == file_digests(source, report_id)


def test_a_slow_destination_times_out_and_is_retried(source: Instance, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    report_id = report_with_files(source)
    faults = Faults(submit=[("sleep", 5)])
    with remote_tipline(tmp_path, request, app_wrapper=faults) as remote:
        add_destination(source, remote)
        forwarding_id = start(source, report_id)
        assert forward(source, forwarding_id).state == job.WAITING
        assert "did not answer in time" in (row(source, forwarding_id).last_error or "")
        due_now(source, forwarding_id)
        assert forward(source, forwarding_id).state == job.FINISHED
        # the slow submit did reach the destination in the end: the Idempotency-Key gave the same report
        assert [r.state for r in remote_reports(remote.instance)] == ["received"]


def test_a_refusal_a_person_must_fix_is_parked_not_retried(source: Instance, tmp_path: Path,
                                                           request: pytest.FixtureRequest,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    report_id = report_with_files(source)
    with remote_tipline(tmp_path, request) as remote:
        remote.password = "not-the-password-" + remote.password[:4]
        add_destination(source, remote)
        forwarding_id = start(source, report_id)
        with caplog.at_level(logging.DEBUG):
            assert forward(source, forwarding_id).state == job.NEEDS_ATTENTION
        parked = row(source, forwarding_id)
        assert parked.next_attempt_at is None and "code 2000" in (parked.last_error or "")
        assert remote_reports(remote.instance) == []
        with source.db.transaction() as session:
            audit = json.dumps([e.details for e in session.execute(select(AuditEventRow)).scalars()])
            (view,) = of_report(session, report_id)
        for text in (caplog.text, audit, parked.last_error or "", repr(view)):
            assert remote.password not in text
        assert view.state_label == "Needs attention"


def test_a_tls_failure_is_named_and_retried(source: Instance, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    report_id = report_with_files(source)
    with remote_tipline(tmp_path, request) as remote:
        add_destination(source, remote, url=remote.url.replace("http://", "https://"))  # plain HTTP behind https
        forwarding_id = start(source, report_id)
        assert forward(source, forwarding_id).state == job.WAITING
        assert "TLS failure" in (row(source, forwarding_id).last_error or "")
        assert remote_reports(remote.instance) == []


def test_after_the_retry_period_the_open_remote_report_is_retracted_and_a_person_told(
        source: Instance, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    report_id = report_with_files(source)
    faults = Faults(finish=[UNAVAILABLE, UNAVAILABLE])
    with remote_tipline(tmp_path, request, app_wrapper=faults) as remote:
        add_destination(source, remote)
        forwarding_id = start(source, report_id)
        assert forward(source, forwarding_id).state == job.WAITING
        with source.db.transaction() as session:  # thirty days later
            session.execute(update(ForwardingRow).values(give_up_at=utc_now() - timedelta(seconds=1),
                                                         next_attempt_at=utc_now() - timedelta(seconds=1)))
        assert forward(source, forwarding_id).state == job.NEEDS_ATTENTION
        parked = row(source, forwarding_id)
        assert "still failing after 30 days" in (parked.last_error or "")
        (retracted,) = remote_reports(remote.instance)
        assert retracted.state == "retracted"
        assert parked.retracted_remote_ids == {str(retracted.id): "retracted"}

        with source.db.transaction() as session:  # a person asks again: a fresh remote report
            request_forwarding(source, session, report_id, "partner", ADMIN)
        assert forward(source, forwarding_id).state == job.FINISHED
        assert [r.state for r in remote_reports(remote.instance)] == ["retracted", "received"]
