"""Accepting a report from any source: source rules, storage, acknowledgement and the pipeline's first job."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tipline.domain.errors import TiplineError
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.intake.cybertipline.batched import describe, report_problems
from tipline.pipeline.engine.runner import start_pipeline
from tipline.store.accounts import Principal
from tipline.store.reports import ReportNotFound
from tipline.store.tables import ReportRow

if TYPE_CHECKING:
    from tipline.instance import Instance

ESP_SOURCES = (ReportSource.ESP_XML, ReportSource.ESP_JSON, ReportSource.BULK)


class SubmissionRejected(TiplineError, ValueError):
    """A report that is well-formed but breaks a rule of its source; nothing was stored."""

    status, code, title, always_json = 422, "validation_failed", "Please check the report", True
    field: str  # always named: the report's field that breaks the rule

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def problem_details(self) -> dict[str, Any]:
        return {"problems": [{"field": self.field, "problem": self.message, "type": "rule"}]}


def check_source_rules(content: ReportContent, source: ReportSource) -> None:
    if source in ESP_SOURCES:
        if content.reporter is None:
            raise SubmissionRejected("reporter", "service providers must identify the reporting person")
        if content.public_report is not None:
            raise SubmissionRejected("publicReport", "only the public report form may send publicReport")
        batch_problems = report_problems(content)  # Appendix E: the same rules for XML and JSON
        if batch_problems:
            raise SubmissionRejected(batch_problems[0][0], describe(batch_problems))
    elif source == ReportSource.PUBLIC_FORM and content.public_report is None:
        raise SubmissionRejected("publicReport", "a public report needs a description of what happened")


def submit_report(
    instance: Instance,
    session: Session,
    content: ReportContent,
    source: ReportSource,
    principal: Principal,
    *,
    finish: bool = True,
    received_at: datetime | None = None,
) -> ReportRow:
    """Store a report. Finished reports are `received` and their pipeline job is queued in the same
    transaction, so once the caller's commit returns the report cannot be lost."""
    check_source_rules(content, source)
    row = instance.reports.create(
        session,
        content,
        source,
        principal.actor,
        api_account_id=principal.api_account_id,
        state=ReportState.RECEIVED if finish else ReportState.OPEN,
        at=received_at,
    )
    if finish:
        start_pipeline(instance, session, row.id)
    return row


def own_report(session: Session, report_id: int, principal: Principal) -> ReportRow:
    """A report the service provider filed itself (others' reports do not exist for it)."""
    row = session.get(ReportRow, report_id)
    if row is None or principal.role != Role.ESP or row.api_account_id != principal.api_account_id:
        raise ReportNotFound(report_id)
    return row


def finish_report(instance: Instance, session: Session, report_id: int, principal: Principal, *,
                  locked_row: ReportRow | None = None) -> ReportRow:
    """Move an open report to `received` and queue its pipeline in the same transaction. The job
    row is written first, so the audited state change is the transaction's last step (the audit
    chain's lock is held until commit). `locked_row`: the report's row if the caller already read
    it FOR UPDATE in this transaction."""
    own_report(session, report_id, principal)
    start_pipeline(instance, session, report_id)
    return instance.reports.transition(session, report_id, ReportState.RECEIVED, principal.actor,
                                       locked_row=locked_row)


def retract_report(instance: Instance, session: Session, report_id: int, principal: Principal,
                   reason: str = "retracted by the reporter", *, locked_row: ReportRow | None = None) -> ReportRow:
    own_report(session, report_id, principal)
    return instance.reports.transition(session, report_id, ReportState.RETRACTED, principal.actor, reason=reason,
                                       locked_row=locked_row)

