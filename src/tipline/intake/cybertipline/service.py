"""The report transaction of the Reporting API (submit, upload, fileinfo, finish, retract) on top
of the shared intake path. Each operation is one database transaction; each refusal is an
IspwsError with the documented code, raised before anything is stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.orm import Session

from tipline.cybertipline.codes import (
    FILE_DOES_NOT_EXIST,
    INVALID_REQUEST,
    REPORT_ALREADY_FINISHED,
    REPORT_ALREADY_RETRACTED,
    REPORT_DOES_NOT_EXIST,
    UPLOAD_FAILED,
    VALIDATION_FAILED,
    IspwsError,
)
from tipline.domain.base import utc_now
from tipline.domain.files import FileDetails
from tipline.domain.lifecycle import LifecycleError, ReportState
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.intake.cybertipline import batched
from tipline.intake.submission import SubmissionRejected, finish_report, retract_report, submit_report
from tipline.media.blobstore import BlobWriter, StoredBlob
from tipline.store.accounts import Principal
from tipline.store.db import forget_loaded
from tipline.store.files import BlobVanished, DetailsAlreadySet, FileNotFound
from tipline.store.idempotency import Idempotency, KeyBusy, KeyReused, Outcome, run_once
from tipline.store.tables import BlobRow, ReportFileRow, ReportRow

if TYPE_CHECKING:
    from tipline.instance import Instance


_REPORTS = cast(Table, ReportRow.__table__)  # a mapped class\'s table (typed as any FromClause)
_FILES = cast(Table, ReportFileRow.__table__)  # a mapped class\'s table (typed as any FromClause)
_STATE_OF = select(_REPORTS.c.api_account_id, _REPORTS.c.state).where(_REPORTS.c.id == bindparam("report_id"))
# The caller's own open report, locked until commit, with a change recorded (version and last-change
# time): one statement. No row back means a refusal, told apart by reading the report again.
_TOUCH_OWN_OPEN = (
    update(_REPORTS)
    .where(_REPORTS.c.id == bindparam("report_id"), _REPORTS.c.api_account_id == bindparam("account_id"),
           _REPORTS.c.state == ReportState.OPEN.value)
    .values(updated_at=bindparam("now"), version=_REPORTS.c.version + 1)
)
_TOUCH_RETURNING_ID = _TOUCH_OWN_OPEN.returning(_REPORTS.c.id)
_TOUCH_RETURNING_CONTENT = _TOUCH_OWN_OPEN.returning(_REPORTS.c.content)
_FILE_IDS = (select(_FILES.c.id).where(_FILES.c.report_id == bindparam("report_id"))
             .order_by(_FILES.c.position))


@contextmanager
def transaction(instance: Instance) -> Iterator[Session]:
    """`instance.db.transaction()`, queued on an in-process lock on SQLite. SQLite allows one
    writer and makes the others sleep and retry (1 to 100 ms at a time) while it is busy; waiting on
    a lock here instead hands the database over as soon as it is free (SQLite serves from one
    process, so the lock covers every API writer)."""
    if not instance.settings.is_sqlite:
        with instance.db.transaction() as session:
            yield session
        return
    with instance.db.writer_queue(), instance.db.transaction() as session:
        yield session


@dataclass(frozen=True)
class UploadResult:
    report_id: int
    file_id: str
    md5: str


def parse_report_id(raw: str | None) -> int:
    """The `id` form field: a report number."""
    if raw is None or not raw.strip():
        raise IspwsError(INVALID_REQUEST, "the form field 'id' (the report ID from /submit) is missing")
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise IspwsError(INVALID_REQUEST, f"the form field 'id' must be a report ID (digits); got {value[:40]!r}")
    return int(value)


def refusal(report_id: int, found: Row[*tuple[Any, ...]] | ReportRow | None, principal: Principal) -> IspwsError | None:
    """The documented refusal for a report that is not the principal's own open report (None if it
    is). Another provider's report answers exactly as a report that does not exist."""
    if found is None or principal.role != Role.ESP or found.api_account_id != principal.api_account_id:
        return IspwsError(REPORT_DOES_NOT_EXIST, f"there is no report {report_id} of yours")
    state = ReportState(found.state)
    if state == ReportState.RETRACTED:
        return IspwsError(REPORT_ALREADY_RETRACTED, f"report {report_id} was retracted (by you, or because it expired)")
    if state != ReportState.OPEN:
        return IspwsError(REPORT_ALREADY_FINISHED, f"report {report_id} is finished; it can no longer be changed")
    return None


def own_open_report(session: Session, report_id: int, principal: Principal, *, lock: bool = True) -> ReportRow:
    """The principal's own report, locked, if it is still open; else the documented refusal."""
    statement = select(ReportRow).where(ReportRow.id == report_id)
    if lock:
        statement = statement.with_for_update()
    row = session.execute(statement).scalar_one_or_none()
    error = refusal(report_id, row, principal)
    if error is not None:
        raise error
    assert row is not None
    return row


def touch_own_open_report(session: Session, report_id: int, principal: Principal, *,
                          content: bool = False) -> dict[str, Any] | None:
    """Lock the principal's own open report until commit and record a change on it (as
    `ReportStore.touch` does), in one statement; returns its stored content if asked. Else the
    documented refusal (the transaction must then be rolled back)."""
    if principal.role == Role.ESP and principal.api_account_id is not None:
        found = session.connection().execute(
            _TOUCH_RETURNING_CONTENT if content else _TOUCH_RETURNING_ID,
            {"report_id": report_id, "account_id": principal.api_account_id, "now": utc_now()},
        ).first()
        if found is not None:
            forget_loaded(session, ReportRow, report_id)
            return found[0] if content else None
    current = session.connection().execute(_STATE_OF, {"report_id": report_id}).first()
    error = refusal(report_id, current, principal)
    raise error or IspwsError(REPORT_DOES_NOT_EXIST, f"there is no report {report_id} of yours")


def submit(instance: Instance, principal: Principal, content: ReportContent) -> int:
    """Open a report (state `open`) and return its ID."""
    return submit_once(instance, principal, content, None).report_id


def submit_once(instance: Instance, principal: Principal, content: ReportContent,
                once: Idempotency | None) -> Outcome:
    """Open a report, or with an Idempotency-Key already used for the same document, answer the
    report that request opened (`replayed`) without opening another."""

    def open_report(session: Session) -> tuple[int, int, dict[str, Any]]:
        try:
            row = submit_report(instance, session, content, ReportSource.ESP_XML, principal, finish=False)
        except SubmissionRejected as error:
            message = error.message if error.message.startswith(error.field) else f"{error.field}: {error.message}"
            raise IspwsError(VALIDATION_FAILED, message) from None
        return 200, row.id, {"reportId": row.id}

    with transaction(instance) as session:
        try:
            return run_once(session, once, open_report)
        except KeyReused as error:
            raise IspwsError(INVALID_REQUEST, str(error), status=422) from None
        except KeyBusy as error:
            raise IspwsError(INVALID_REQUEST, str(error), status=409) from None


def check_open(instance: Instance, principal: Principal, report_id: int) -> None:
    """Refuse an upload to a report that is not the principal's open report before its bytes are
    stored (the registration re-checks under the row lock). One read, outside any write transaction."""
    with instance.db.reading() as connection:
        found = connection.execute(_STATE_OF, {"report_id": report_id}).first()
    error = refusal(report_id, found, principal)
    if error is not None:
        raise error


def upload(instance: Instance, principal: Principal, report_id: int, writer: BlobWriter,
           file_name: str | None) -> UploadResult:
    """Attach a streamed file to an open report (already checked with `check_open`). The ciphertext
    is put in place first (outside the database lock), then the report is checked again and the file
    registered in one transaction; if the report was finished or retracted in between, the content
    is recorded as unreferenced, so the collector removes it."""
    stored = writer.commit()
    try:
        with transaction(instance) as session:
            touch_own_open_report(session, report_id, principal)  # first: the audited step holds the chain's lock
            file_row = instance.files.register(session, report_id, stored, file_name=file_name, actor=principal.actor)
            return UploadResult(report_id, file_row.id, stored.md5)
    except BlobVanished as error:  # identical content was collected while this upload ran: send it again
        _forget_unattached(instance, stored)
        raise IspwsError(UPLOAD_FAILED, str(error)) from None
    except BaseException:
        _forget_unattached(instance, stored)
        raise


def _forget_unattached(instance: Instance, stored: StoredBlob) -> None:
    with transaction(instance) as session:
        exists = session.execute(select(BlobRow.address).where(BlobRow.address == stored.address)).first()
        if exists is None:
            now = utc_now()
            session.add(BlobRow(address=stored.address, size=stored.size, refs=0, created_at=now,
                                unreferenced_since=now))


def file_info(instance: Instance, principal: Principal, report_id: int, file_id: str, details: FileDetails) -> None:
    """Keep the reporter's details of one uploaded file (once per file)."""
    with transaction(instance) as session:
        content = touch_own_open_report(session, report_id, principal, content=True)
        try:
            instance.files.set_details(session, file_id, details, principal.actor, report_id=report_id, once=True)
        except FileNotFound:
            raise IspwsError(FILE_DOES_NOT_EXIST, f"report {report_id} has no file {file_id}") from None
        except DetailsAlreadySet:
            raise IspwsError(INVALID_REQUEST,
                             f"file details for file {file_id} were already submitted; they may be sent once per file"
                             ) from None
        # Checked after the file's own checks, as documented; a refusal rolls the whole transaction back.
        problems = batched.file_details_problems(content or {}, details)
        if problems:
            raise IspwsError(VALIDATION_FAILED, batched.describe(problems))


def finish(instance: Instance, principal: Principal, report_id: int) -> list[str]:
    """Finish an open report: it becomes `received` and goes to the pipeline. Returns its file IDs."""
    with transaction(instance) as session:
        row = own_open_report(session, report_id, principal)
        file_ids = list(session.connection().execute(_FILE_IDS, {"report_id": report_id}).scalars())
        problems = batched.finish_problems(row.content, len(file_ids))
        if problems:
            raise IspwsError(VALIDATION_FAILED, batched.describe(problems))
        try:
            finish_report(instance, session, report_id, principal, locked_row=row)
        except LifecycleError as error:  # cannot happen under the row lock; answered precisely all the same
            raise IspwsError(REPORT_ALREADY_FINISHED, str(error)) from None
        return file_ids


def retract(instance: Instance, principal: Principal, report_id: int) -> None:
    with transaction(instance) as session:
        row = own_open_report(session, report_id, principal)
        retract_report(instance, session, report_id, principal, locked_row=row)

