"""Reports in the database: creating them, moving them through the lifecycle, reading them (audited)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, desc, func, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import STORED, utc_now
from tipline.domain.errors import TiplineError
from tipline.domain.files import ReportFile
from tipline.domain.incident import IncidentType
from tipline.domain.lifecycle import REVIEWED_STATES, ReportState, check_transition
from tipline.domain.public import PublicAddition
from tipline.domain.report import Report, ReportContent, ReportSource
from tipline.domain.roles import Permission, Role, has_permission
from tipline.store.accounts import Principal
from tipline.store.audit import AuditLog
from tipline.store.review_decisions import record_decision
from tipline.store.tables import ApiAccount, IdentifierRow, ReportFileRow, ReportRow


class ReportNotFound(TiplineError, LookupError):
    """No such report, or none the asker may see (the two are deliberately indistinguishable)."""

    status, code, title = 404, "not_found", "Report not found"

    def __init__(self, report_id: int) -> None:
        super().__init__(f"report {report_id} does not exist")
        self.report_id = report_id


class StaleReport(TiplineError, RuntimeError):
    """Someone else changed the report since the asker loaded it."""

    status, code, title = 409, "stale", "Changed by someone else"
    shows_changes = True

    def __init__(self, report_id: int, expected: int, actual: int) -> None:
        super().__init__(
            f"report {report_id} was changed by someone else (version {actual}, you had {expected}); "
            "reload it and try again"
        )

    def on_page(self) -> str:
        return ("nothing was saved: this report was changed by someone else since you opened the page (what "
                "changed is listed under Review). The page is up to date now; check your decision and send it again")


@dataclass(frozen=True)
class ReportFilter:
    states: Sequence[ReportState] = ()
    incident_type: IncidentType | None = None
    source: ReportSource | None = None
    identifier: tuple[str, str] | None = None  # (kind, normalised value)
    api_account_id: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


class ReportStore:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    # --- writing ------------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        content: ReportContent,
        source: ReportSource,
        actor: Actor,
        *,
        api_account_id: int | None = None,
        state: ReportState = ReportState.RECEIVED,
        at: datetime | None = None,
    ) -> ReportRow:
        """Store a new report as `open` (files to follow) or `received` (complete). `at` backdates
        receipt, for loading historical or demo data."""
        if state not in (ReportState.OPEN, ReportState.RECEIVED):
            raise ValueError("a new report is either open or received")
        now = at or utc_now()
        summary = content.incident_summary
        row = ReportRow(
            state=state.value,
            source=source.value,
            api_account_id=api_account_id,
            incident_type=summary.incident_type.value,
            incident_at=summary.incident_date_time,
            platform=summary.platform,
            escalated=bool(summary.escalate_to_high_priority and summary.escalate_to_high_priority.strip()),
            opened_at=now,
            received_at=now if state == ReportState.RECEIVED else None,
            updated_at=now,
            version=1,
            content=content.to_wire(),
        )
        session.add(row)
        session.flush()
        self.audit.append(
            session,
            actor,
            "report.submitted",
            report_id=row.id,
            details={"source": source.value, "state": state.value, "incident_type": summary.incident_type.value},
        )
        return row

    def transition(
        self,
        session: Session,
        report_id: int,
        target: ReportState,
        actor: Actor,
        *,
        reason: str | None = None,
        expected_version: int | None = None,
        locked_row: ReportRow | None = None,
    ) -> ReportRow:
        """Move a report to `target` if the lifecycle allows it: the one place state changes happen.
        `locked_row`: the report's row if the caller already read it FOR UPDATE in this transaction
        (it is not read again)."""
        if locked_row is not None and locked_row.id != report_id:
            raise ValueError(f"the locked row is report {locked_row.id}, not {report_id}")
        row = locked_row or self.row(session, report_id, for_update=True)
        if expected_version is not None and row.version != expected_version:
            raise StaleReport(report_id, expected_version, row.version)
        current = ReportState(row.state)
        check_transition(current, target)
        now = utc_now()
        if current == ReportState.IN_REVIEW and target in REVIEWED_STATES:  # for throughput per analyst
            record_decision(session, row, target.value, now, actor)
        row.state = target.value
        row.version += 1
        row.updated_at = now
        if target == ReportState.RECEIVED:
            row.received_at = now
        details: dict[str, Any] = {"from": current.value, "to": target.value}
        if reason:
            details["reason"] = reason
        self.audit.append(session, actor, "report.state_changed", report_id=report_id, details=details)
        session.flush()
        return row

    def append_public_addition(self, session: Session, report_id: int, addition: PublicAddition,
                               actor: Actor) -> ReportRow:
        """Add what a public reporter sent later to their report (its content keeps every earlier word)."""
        row = self.row(session, report_id, for_update=True)
        content = ReportContent.model_validate(row.content, context=STORED)
        if content.public_report is None:
            raise ValueError("only a public report can be added to by its reporter")
        public = content.public_report.model_copy(update={"additions": [*content.public_report.additions, addition]})
        row.content = content.model_copy(update={"public_report": public}).to_wire()
        row.version += 1
        row.updated_at = utc_now()
        self.audit.append(session, actor, "report.added_to", report_id=report_id,
                          details={"characters": len(addition.description or ""), "files": addition.files})
        return row

    def touch(self, session: Session, row: ReportRow) -> None:
        """Record a change that is not a state change (a file, file details, a correction)."""
        row.updated_at = utc_now()
        row.version += 1

    # --- reading ------------------------------------------------------------------------------

    def row(self, session: Session, report_id: int, *, for_update: bool = False) -> ReportRow:
        statement = select(ReportRow).where(ReportRow.id == report_id)
        if for_update:
            statement = statement.with_for_update()
        row = session.execute(statement).scalar_one_or_none()
        if row is None:
            raise ReportNotFound(report_id)
        return row

    def load(self, session: Session, report_id: int) -> Report:
        """The whole report, for the system's own use (pipeline stages); not audited."""
        return self._to_domain(session, self.row(session, report_id))

    def visible_row(self, session: Session, report_id: int, principal: Principal) -> ReportRow:
        """The report if `principal` may see it, else ReportNotFound (never a hint that it exists)."""
        row = session.get(ReportRow, report_id)
        if row is None or not self.may_see(principal, row):
            raise ReportNotFound(report_id)
        return row

    def read(self, session: Session, report_id: int, principal: Principal, purpose: str = "view") -> Report:
        """The whole report for a person or account; every such read is an audit event."""
        row = self.visible_row(session, report_id, principal)
        self.audit.append(
            session, principal.actor, "report.read", report_id=report_id, details={"purpose": purpose}
        )
        return self._to_domain(session, row)

    @staticmethod
    def may_see(principal: Principal, row: ReportRow) -> bool:
        if has_permission(principal.role, Permission.REPORT_READ):
            return True
        if principal.role == Role.ESP:
            return principal.api_account_id is not None and row.api_account_id == principal.api_account_id
        return False

    def list(
        self, session: Session, filters: ReportFilter, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[ReportRow], int]:
        """Reports newest first (by receipt, then id), with the total that match."""
        statement = self._filtered(select(ReportRow), filters)
        total = session.execute(
            self._filtered(select(func.count()).select_from(ReportRow), filters)
        ).scalar_one()
        rows = session.execute(
            statement.order_by(desc(func.coalesce(ReportRow.received_at, ReportRow.opened_at)), desc(ReportRow.id))
            .limit(limit)
            .offset(offset)
        ).scalars()
        return list(rows), total

    def _filtered(self, statement: Select[Any], filters: ReportFilter) -> Select[Any]:
        conditions: list[ColumnElement[bool]] = []
        if filters.states:
            conditions.append(ReportRow.state.in_([s.value for s in filters.states]))
        if filters.incident_type is not None:
            conditions.append(ReportRow.incident_type == filters.incident_type.value)
        if filters.source is not None:
            conditions.append(ReportRow.source == filters.source.value)
        if filters.api_account_id is not None:
            conditions.append(ReportRow.api_account_id == filters.api_account_id)
        if filters.received_from is not None:
            conditions.append(ReportRow.received_at >= filters.received_from)
        if filters.received_to is not None:
            conditions.append(ReportRow.received_at < filters.received_to)
        if filters.identifier is not None:
            kind, value = filters.identifier
            conditions.append(
                ReportRow.id.in_(
                    select(IdentifierRow.report_id).where(
                        and_(IdentifierRow.kind == kind, IdentifierRow.value == value)
                    )
                )
            )
        return statement.where(*conditions) if conditions else statement

    def counts_by_state(self, session: Session) -> dict[str, int]:
        rows = session.execute(select(ReportRow.state, func.count()).group_by(ReportRow.state))
        return {state: count for state, count in rows}

    def files(self, session: Session, report_id: int) -> builtins.list[ReportFile]:  # `list` is a method here
        rows = session.execute(
            select(ReportFileRow).where(ReportFileRow.report_id == report_id).order_by(ReportFileRow.position)
        ).scalars()
        return [file_to_domain(row) for row in rows]

    def _to_domain(self, session: Session, row: ReportRow) -> Report:
        account = session.get(ApiAccount, row.api_account_id) if row.api_account_id else None
        return Report(
            id=row.id,
            state=ReportState(row.state),
            source=ReportSource(row.source),
            submitted_by=account.display_name if account else None,
            opened_at=row.opened_at,
            received_at=row.received_at,
            updated_at=row.updated_at,
            version=row.version,
            content=ReportContent.model_validate(row.content, context=STORED),
            files=self.files(session, row.id),
        )


def file_to_domain(row: ReportFileRow) -> ReportFile:
    problems = row.media_problems or {}
    # stored values read back as they were taken in (STORED: no intake-only rules)
    return ReportFile.model_validate(dict(
        media_kind=row.media_kind,
        declared_type=row.declared_type,
        width=row.width,
        height=row.height,
        pdq=row.pdq,
        pdq_quality=row.pdq_quality,
        hashed_at=row.hashed_at,
        problems=[
            dict(severity=severity, code=item["code"], message=item["message"])
            for severity, key in (("error", "errors"), ("warning", "warnings"))
            for item in problems.get(key, [])
        ],
        file_id=row.id,
        file_name=row.file_name,
        size=row.size,
        media_type=row.media_type,
        md5=row.md5,
        sha1=row.sha1,
        sha256=row.sha256,
        uploaded_at=row.uploaded_at,
        details=row.details or None,
        extracted_from=row.parent_file_id,
        archive_path=row.archive_path,
    ), context=STORED)

