"""The forwarding job, run by a pipeline worker: submit the report's XML, upload each file streamed
from the encrypted store, send each file's details, finish. Every step commits what it learnt before
the next one starts, so a worker killed at any point resumes where it stopped:

- the remote report id is committed as soon as /submit answers, before any file is sent (and the
  submit carries an Idempotency-Key, so a tipline destination answers a repeated submit with the
  same report);
- before a file is uploaded, that it is being uploaded is committed; its remote id after. A resumed
  forwarding that finds an upload without its answer cannot know whether the destination holds the
  file (the protocol has no idempotent upload): it retracts that remote report and starts a new one,
  so no finished remote report ever holds a file twice;
- /finish answered "already finished" (5102) counts as finished.

Timeouts, connection and TLS failures, 5xx, garbage and the retryable codes are retried with
back-off (doubling from TIPLINE_FORWARD_RETRY_SECONDS, at most 6 hours) until TIPLINE_FORWARD_RETRY_DAYS
after the request; then, or at once on a refusal a person must fix (credentials, validation), the
forwarding is parked as "needs attention" and an open remote report that can no longer be finished
is retracted. Each step is an audit event on the report."""

from __future__ import annotations

import logging
import random
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tipline.cybertipline import codes
from tipline.cybertipline.export import export_report
from tipline.cybertipline.xmlmap import file_details_to_xml
from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.forwarding.client import IspwsClient, RemoteFailure
from tipline.forwarding.credentials import CredentialError
from tipline.forwarding.destinations import client_for
from tipline.pipeline.engine.lease import LeaseKeeper
from tipline.store.forwarding import ForwardDestinationRow, ForwardingRow
from tipline.store.reports import file_to_domain
from tipline.store.tables import ReportFileRow

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.orm import Session

    from tipline.domain.files import FileDetails
    from tipline.instance import Instance
    from tipline.pipeline.engine.jobs import ClaimedJob

log = logging.getLogger("tipline.forwarding")

STAGE_PREFIX = "forward:"
QUEUED, SENDING, WAITING, FINISHED, NEEDS_ATTENTION, CANCELLED = (
    "queued", "sending", "waiting", "finished", "needs_attention", "cancelled")
ACTIVE_STATES = frozenset({QUEUED, SENDING, WAITING})
STATE_LABELS = {QUEUED: "Queued", SENDING: "Sending", WAITING: "Will try again", FINISHED: "Forwarded",
                NEEDS_ATTENTION: "Needs attention", CANCELLED: "Cancelled"}
MAX_DELAY = timedelta(hours=6)
RETRACT_WHEN_PARKED = frozenset({codes.INVALID_REQUEST, codes.VALIDATION_FAILED, codes.MALFORMED_XML,
                                 codes.MALFORMED_FILE})
REMOTE_REPORT_GONE = frozenset({codes.REPORT_DOES_NOT_EXIST, codes.REPORT_ALREADY_RETRACTED})
ACTOR = Actor.system("forwarding")

# Tests replace this to reach a destination through an in-memory transport.
transport_for_tests: httpx.BaseTransport | None = None


def stage_name(forwarding_id: int) -> str:
    return f"{STAGE_PREFIX}{forwarding_id}"


def is_forwarding_stage(stage: str) -> bool:
    return stage.startswith(STAGE_PREFIX)


@dataclass(frozen=True)
class Outcome:
    state: str
    retry_at: datetime | None = None


@dataclass(frozen=True)
class FileToSend:
    id: str
    name: str
    md5: str | None
    sha256: str | None
    details: FileDetails | None


class Restart(Exception):
    """The open remote report cannot be finished as it is; `retract` says whether it is still there."""

    def __init__(self, reason: str, *, retract: bool = True) -> None:
        super().__init__(reason)
        self.retract = retract


def run_forwarding_job(instance: Instance, claimed: ClaimedJob) -> str:
    """What a worker does with a `forward:ID` job: one attempt, then the job is done and, if the
    forwarding must try again, a new job waits for the time of the next attempt."""

    forwarding_id = int(claimed.stage[len(STAGE_PREFIX):])
    try:
        with LeaseKeeper(instance, claimed):
            outcome = forward(instance, forwarding_id)
    except Exception as error:  # noqa: BLE001 - a fault of this instance (database, bug): the job backs off
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error("forwarding %s failed: %s", forwarding_id, detail)
        with instance.db.transaction() as session:
            return instance.jobs.fail(session, claimed, detail)
    with instance.db.transaction() as session:
        if not instance.jobs.complete(session, claimed):
            return "lost"
        if outcome.retry_at is not None:
            instance.jobs.enqueue(session, claimed.report_id, claimed.stage, run_after=outcome.retry_at)
    return "done"


def forward(instance: Instance, forwarding_id: int, *, transport: httpx.BaseTransport | None = None) -> Outcome:
    """One attempt at a forwarding: from wherever it stopped to finished, or to the next retry."""
    with instance.db.transaction() as session:
        row = session.get(ForwardingRow, forwarding_id)
        if row is None or row.state not in ACTIVE_STATES:
            return Outcome(row.state if row else CANCELLED)
        now = utc_now()
        if row.state == WAITING and row.next_attempt_at is not None and row.next_attempt_at > now:
            return Outcome(WAITING, row.next_attempt_at)  # a duplicate job came early
        destination = session.get(ForwardDestinationRow, row.destination_id)
        assert destination is not None  # a foreign key
        row.state, row.attempts, row.updated_at = SENDING, row.attempts + 1, now
        instance.audit.append(session, ACTOR, "forwarding.attempt", report_id=row.report_id, details={
            "forwarding_id": row.id, "destination": destination.name, "attempt": row.attempts,
            "remote_report_id": row.remote_report_id})
        if not destination.active:
            return _park(instance, session, row, f"the destination {destination.name} is switched off")
        try:
            client = client_for(instance, destination, transport=transport or transport_for_tests)
        except CredentialError as error:
            return _park(instance, session, row, str(error))
        report_xml = export_report(instance, session, row.report_id, ACTOR).report_xml
        files = _files(session, row.report_id)
        name = destination.name
    attempt = _Attempt(instance, forwarding_id, client, name, report_xml, files)
    try:
        return attempt.run()
    finally:
        client.close()


def _files(session: Session, report_id: int) -> list[FileToSend]:
    rows = session.execute(select(ReportFileRow).where(
        ReportFileRow.report_id == report_id, ReportFileRow.parent_file_id.is_(None)).order_by(
        ReportFileRow.position)).scalars()
    return [FileToSend(row.id, row.file_name or f"file-{row.position + 1}", row.md5, row.sha256,
                       file_to_domain(row).details) for row in rows]


def _park(instance: Instance, session: Session, row: ForwardingRow, reason: str) -> Outcome:
    row.state, row.last_error, row.next_attempt_at, row.updated_at = NEEDS_ATTENTION, reason[:4000], None, utc_now()
    instance.audit.append(session, ACTOR, "forwarding.needs_attention", report_id=row.report_id, details={
        "forwarding_id": row.id, "reason": reason[:1000], "remote_report_id": row.remote_report_id})
    return Outcome(NEEDS_ATTENTION)


class _Attempt:
    """The steps of one attempt, each committing what it learnt."""

    def __init__(self, instance: Instance, forwarding_id: int, client: IspwsClient, destination: str,
                 report_xml: bytes, files: list[FileToSend]) -> None:
        self.instance = instance
        self.id = forwarding_id
        self.client = client
        self.destination = destination
        self.report_xml = report_xml
        self.files = files

    # --- state ------------------------------------------------------------------------------------

    def _row(self, session: Session) -> ForwardingRow:
        row = session.get(ForwardingRow, self.id)
        assert row is not None
        return row

    def _update(self, action: str | None = None, details: dict[str, Any] | None = None, **values: Any) -> None:
        with self.instance.db.transaction() as session:
            row = self._row(session)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utc_now()
            if action:
                self.instance.audit.append(session, ACTOR, action, report_id=row.report_id, details={
                    "forwarding_id": row.id, "destination": self.destination, **(details or {})})

    def _snapshot(self) -> tuple[str | None, dict[str, Any], dict[str, Any], int]:
        with self.instance.db.transaction() as session:
            row = self._row(session)
            return row.remote_report_id, dict(row.progress or {}), dict(row.retracted_remote_ids or {}), row.generation

    def _set_progress(self, file_id: str, entry: dict[str, Any], action: str | None = None,
                      details: dict[str, Any] | None = None) -> None:
        with self.instance.db.transaction() as session:
            row = self._row(session)
            progress = dict(row.progress or {})
            progress[file_id] = entry
            row.progress = progress
            row.updated_at = utc_now()
            if action:
                self.instance.audit.append(session, ACTOR, action, report_id=row.report_id, details={
                    "forwarding_id": row.id, "destination": self.destination, **(details or {})})

    # --- the attempt ------------------------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            for _ in range(3):
                try:
                    self._retract_pending()
                    return self._steps()
                except Restart as restart:
                    self._restart(str(restart), retract=restart.retract)
            raise RemoteFailure("the remote report had to be started again three times in one attempt",
                                retryable=True)
        except RemoteFailure as failure:
            return self._failed(failure)

    def _steps(self) -> Outcome:
        remote, progress, _retracted, generation = self._snapshot()
        if remote is None:
            remote = self.client.submit(self.report_xml, f"tipline-forward-{self.id}-{generation}")
            self._update("forwarding.submitted", {"remote_report_id": remote}, remote_report_id=remote)
        try:
            for position, item in enumerate(self.files, start=1):
                entry = dict(progress.get(item.id) or {})
                if not entry.get("remote_file_id"):
                    entry = self._upload(remote, position, item, entry)
                if item.details is not None and not entry.get("details_sent"):
                    self._file_info(remote, position, item, entry)
            try:
                self.client.finish(remote)
            except RemoteFailure as failure:
                if failure.code != codes.REPORT_ALREADY_FINISHED:
                    raise
        except RemoteFailure as failure:
            if failure.code in REMOTE_REPORT_GONE:
                raise Restart(f"the destination no longer has remote report {remote} open ({failure})",
                              retract=False) from None
            raise
        self._update("forwarding.finished", {"remote_report_id": remote, "files": len(self.files)},
                     state=FINISHED, finished_at=utc_now(), next_attempt_at=None, last_error=None)
        return Outcome(FINISHED)

    def _upload(self, remote: str, position: int, item: FileToSend, entry: dict[str, Any]) -> dict[str, Any]:
        if entry.get("uploading"):
            raise Restart(f"the upload of file {position} was interrupted without an answer: the destination may "
                          "hold it already, and a report must not carry a file twice")
        self._set_progress(item.id, {"uploading": True})
        with self.instance.db.transaction() as session:  # the read is audited
            reader = self.instance.files.open_for_system(session, item.id, ACTOR, f"forward to {self.destination}")
        try:
            answer = self.client.upload(remote, item.name, reader)
        except RemoteFailure as failure:
            # A documented refusal stored nothing; after a timeout, a broken connection, garbage or an
            # unknown code, whether the destination kept the file is unknown (the flag stays).
            if failure.code in codes.DESCRIPTIONS and failure.code != codes.SUCCESS:
                self._set_progress(item.id, {})
            raise
        finally:
            reader.close()
        if answer.md5 and item.md5 and answer.md5.lower() != item.md5.lower():
            raise Restart(f"the destination received file {position} altered (its MD5 is {answer.md5}, "
                          f"the file's is {item.md5})")
        entry = {"remote_file_id": answer.file_id}
        self._set_progress(item.id, entry, "forwarding.file_sent", {
            "file_id": item.id, "remote_file_id": answer.file_id, "sha256": item.sha256, "position": position})
        return entry

    def _file_info(self, remote: str, position: int, item: FileToSend, entry: dict[str, Any]) -> None:
        uncertain = bool(entry.get("details_sending"))
        self._set_progress(item.id, {**entry, "details_sending": True})
        document = file_details_to_xml(int(remote), str(entry["remote_file_id"]), item.details)
        try:
            self.client.file_info(document)
        except RemoteFailure as failure:
            # Sent before, answer lost: the destination refuses details sent twice (tipline: 4000).
            if not (uncertain and failure.code == codes.INVALID_REQUEST):
                if failure.code is not None:
                    self._set_progress(item.id, entry)
                raise
        self._set_progress(item.id, {**entry, "details_sent": True}, "forwarding.file_details_sent", {
            "file_id": item.id, "remote_file_id": entry["remote_file_id"], "position": position})

    # --- starting again, retracting, failing ------------------------------------------------------

    def _retract_pending(self) -> None:
        """Finish retractions a crash or an unreachable destination interrupted."""
        _, _, retracted, _ = self._snapshot()
        for remote, status in retracted.items():
            if status == "pending":
                self._retract(remote)

    def _retract(self, remote: str) -> None:
        try:
            self.client.retract(remote)
            status = "retracted"
        except RemoteFailure as failure:
            if failure.code in REMOTE_REPORT_GONE:
                status = "gone"
            elif failure.code == codes.REPORT_ALREADY_FINISHED:
                status = "finished before the retraction"
            else:
                raise
        with self.instance.db.transaction() as session:
            row = self._row(session)
            retracted = dict(row.retracted_remote_ids or {})
            retracted[remote] = status
            row.retracted_remote_ids = retracted
            self.instance.audit.append(session, ACTOR, "forwarding.retracted", report_id=row.report_id, details={
                "forwarding_id": row.id, "destination": self.destination, "remote_report_id": remote,
                "result": status})

    def _restart(self, reason: str, *, retract: bool) -> None:
        """Give up the open remote report (retracting it) and start a new one on the next step."""
        remote, _, retracted, generation = self._snapshot()
        if remote is not None:
            retracted[remote] = "pending" if retract else "gone"
        self._update("forwarding.restarted", {"reason": reason[:1000], "remote_report_id": remote},
                     remote_report_id=None, progress={}, retracted_remote_ids=retracted, generation=generation + 1)
        if remote is not None and retract:
            self._retract(remote)

    def _failed(self, failure: RemoteFailure) -> Outcome:
        with self.instance.db.transaction() as session:
            row = self._row(session)
            now = utc_now()
            settings = self.instance.settings
            if failure.retryable and now < row.give_up_at:
                base = settings.forward_retry_seconds * 2 ** min(max(row.attempts - 1, 0), 20)
                delay = min(timedelta(seconds=base * random.uniform(0.8, 1.2)), MAX_DELAY)
                retry_at = min(now + delay, max(row.give_up_at, now))
                row.state, row.next_attempt_at, row.last_error, row.updated_at = WAITING, retry_at, str(failure), now
                self.instance.audit.append(session, ACTOR, "forwarding.retry_scheduled", report_id=row.report_id,
                                           details={"forwarding_id": row.id, "destination": self.destination,
                                                    "error": str(failure)[:1000], "retry_at": retry_at.isoformat()})
                return Outcome(WAITING, retry_at)
            reason = str(failure) if not failure.retryable else (
                f"still failing after {settings.forward_retry_days:g} days of retries: {failure}")
            outcome = _park(self.instance, session, row, reason)
            remote = row.remote_report_id
        if remote is not None and (failure.retryable or failure.code in RETRACT_WHEN_PARKED):
            try:
                self._restart(f"parked for a person: {reason}", retract=True)
            except RemoteFailure as error:
                log.warning("forwarding %s: could not retract remote report %s: %s", self.id, remote, error)
        return outcome
