"""Asking for a forwarding, trying a parked one again, and what a report's forwardings look like.
Asking only queues a job: the work is a worker's (tipline.forwarding.job), never a web request's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.lifecycle import ReportState
from tipline.forwarding.destinations import ENVIRONMENT_LABELS, DestinationError, find
from tipline.forwarding.job import (
    ACTIVE_STATES,
    FINISHED,
    NEEDS_ATTENTION,
    QUEUED,
    STATE_LABELS,
    stage_name,
)
from tipline.store.forwarding import ForwardDestinationRow, ForwardingRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tipline.instance import Instance

NOT_FORWARDABLE = frozenset({ReportState.OPEN.value, ReportState.RETRACTED.value})


class ForwardingError(ValueError):
    """A forwarding that cannot be asked for; the message says why."""


@dataclass(frozen=True)
class ForwardingView:
    id: int
    report_id: int
    destination: str
    environment: str
    state: str
    remote_report_id: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    requested_by: str
    created_at: datetime
    finished_at: datetime | None
    retracted: dict[str, str]

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def environment_label(self) -> str:
        return ENVIRONMENT_LABELS.get(self.environment, self.environment)

    def as_json(self) -> dict[str, object]:
        return {"destination": self.destination, "remote_report_id": self.remote_report_id, "status": self.state,
                "environment": self.environment, "attempts": self.attempts, "error": self.last_error,
                "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
                "report_id": self.report_id, "forwarding_id": self.id}


def _view(row: ForwardingRow, destination: ForwardDestinationRow) -> ForwardingView:
    return ForwardingView(row.id, row.report_id, destination.name, destination.environment, row.state,
                          row.remote_report_id, row.attempts, row.next_attempt_at, row.last_error, row.requested_by,
                          row.created_at, row.finished_at, dict(row.retracted_remote_ids or {}))


def view_of(session: Session, forwarding_id: int) -> ForwardingView:
    row = session.get(ForwardingRow, forwarding_id)
    if row is None:
        raise ForwardingError(f"there is no forwarding {forwarding_id}")
    destination = session.get(ForwardDestinationRow, row.destination_id)
    assert destination is not None
    return _view(row, destination)


def of_report(session: Session, report_id: int) -> list[ForwardingView]:
    rows = session.execute(
        select(ForwardingRow, ForwardDestinationRow).join(
            ForwardDestinationRow, ForwardDestinationRow.id == ForwardingRow.destination_id).where(
            ForwardingRow.report_id == report_id).order_by(ForwardingRow.id)).all()
    return [_view(row, destination) for row, destination in rows]


def request_forwarding(instance: Instance, session: Session, report_id: int, destination_name: str,
                       actor: Actor) -> tuple[ForwardingView, bool]:
    """Queue the forwarding of a report to a destination; (the forwarding, whether it was newly queued).
    Asking again while one is under way returns that one; a parked one is tried again; a report
    already forwarded there is refused (the destination would hold it twice)."""
    report = instance.reports.row(session, report_id)  # ReportNotFound
    if report.state in NOT_FORWARDABLE:
        raise ForwardingError(f"report {report_id} is {report.state.replace('_', ' ')}: only a received report "
                              "can be forwarded")
    try:
        destination = find(session, destination_name)
    except DestinationError as error:
        raise ForwardingError(str(error)) from None
    if not destination.active:
        raise ForwardingError(f"the destination {destination.name} is switched off")
    existing = session.execute(select(ForwardingRow).where(
        ForwardingRow.report_id == report_id, ForwardingRow.destination_id == destination.id).order_by(
        ForwardingRow.id.desc())).scalars().first()
    now = utc_now()
    if existing is not None and existing.state in ACTIVE_STATES:
        return _view(existing, destination), False
    if existing is not None and existing.state == FINISHED:
        raise ForwardingError(f"report {report_id} was already forwarded to {destination.name} "
                              f"(their report {existing.remote_report_id})")
    give_up_at = now + timedelta(days=instance.settings.forward_retry_days)
    if existing is not None and existing.state == NEEDS_ATTENTION:
        row = existing
        row.state, row.next_attempt_at, row.give_up_at, row.updated_at = QUEUED, None, give_up_at, now
        action = "forwarding.retried"
    else:
        row = ForwardingRow(report_id=report_id, destination_id=destination.id, state=QUEUED, generation=1,
                            progress={}, retracted_remote_ids={}, attempts=0, give_up_at=give_up_at,
                            requested_by=actor.name, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        action = "forwarding.requested"
    instance.audit.append(session, actor, action, report_id=report_id, details={
        "forwarding_id": row.id, "destination": destination.name, "environment": destination.environment})
    instance.jobs.enqueue(session, report_id, stage_name(row.id))
    return _view(row, destination), True


def active_destinations(session: Session) -> list[ForwardDestinationRow]:
    return list(session.execute(select(ForwardDestinationRow).where(ForwardDestinationRow.active.is_(True)).order_by(
        ForwardDestinationRow.name)).scalars())
