"""Follow-up requests and what advocates did about them; the hotline's directory of support services.

Nothing here reads a report's content: a request holds the reporter's chosen channel, contact detail
and safe times, with the report's number, the situation they reported and their language. Every
change is audited by the caller's actor in the same transaction; reads are audited by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.follow_up import CLOSED, OPEN, FollowUpRequest, first_due
from tipline.domain.support_resources import SupportResource
from tipline.store.audit import AuditLog
from tipline.store.tables import FollowUpActionRow, FollowUpRow, ReportRow, SupportResourceRow


class FollowUpError(Exception):
    """A change that cannot be made (a closed request, an unknown one)."""


@dataclass(frozen=True)
class Action:
    at: datetime
    kind: str
    outcome: str | None
    service: str | None
    note: str | None
    actor_name: str


@dataclass(frozen=True)
class FollowUp:
    id: int
    report_id: int
    requested_at: datetime
    channel: str
    contact: str
    safe_times: str
    language: str
    situation: str | None
    state: str
    due_at: datetime
    closed_at: datetime | None
    overdue: bool
    actions: list[Action] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "report": self.report_id, "requestedAt": self.requested_at.isoformat(),
                "channel": self.channel, "contact": self.contact, "safeTimes": self.safe_times,
                "language": self.language, "situation": self.situation, "state": self.state,
                "dueAt": self.due_at.isoformat(), "overdue": self.overdue}


def _view(row: FollowUpRow, now: datetime, actions: list[Action] | None = None) -> FollowUp:
    return FollowUp(row.id, row.report_id, row.requested_at, row.channel, row.contact, row.safe_times,
                    row.language, row.situation, row.state, row.due_at, row.closed_at,
                    overdue=row.state == OPEN and row.due_at <= now, actions=actions or [])


def request(session: Session, audit: AuditLog, wanted: FollowUpRequest, actor: Actor,
            now: datetime | None = None) -> int | None:
    """Record a reporter's request (or change their open one: one open request per report). None when
    the report does not exist (a decoy receipt): nothing is stored."""
    now = now or utc_now()
    if session.get(ReportRow, wanted.report_id) is None:
        return None
    row = session.execute(select(FollowUpRow).where(FollowUpRow.report_id == wanted.report_id,
                                                    FollowUpRow.state == OPEN).with_for_update()).scalars().first()
    kind = "changed" if row is not None else "requested"
    if row is None:
        row = FollowUpRow(report_id=wanted.report_id, requested_at=now, state=OPEN, due_at=first_due(now))
        session.add(row)
    row.channel, row.contact, row.safe_times = wanted.channel, wanted.contact, wanted.safe_times
    row.language, row.situation = wanted.language, wanted.situation or row.situation
    session.flush()
    session.add(FollowUpActionRow(follow_up_id=row.id, at=now, kind=kind, actor_name=actor.name))
    audit.append(session, actor, f"follow_up.{kind}", report_id=wanted.report_id,
                 details={"follow_up": row.id, "channel": wanted.channel, "language": wanted.language})
    return row.id


def list_requests(session: Session, now: datetime | None = None, *, closed: bool = False) -> list[FollowUp]:
    """Open requests by due date (overdue ones come first, being due earliest); with `closed`, the
    closed ones after them, the latest first."""
    now = now or utc_now()
    query = select(FollowUpRow)
    if not closed:
        query = query.where(FollowUpRow.state == OPEN)
    query = query.order_by(case((FollowUpRow.state == OPEN, 0), else_=1), FollowUpRow.due_at, FollowUpRow.id)
    return [_view(row, now) for row in session.execute(query.limit(1000)).scalars()]


def due(session: Session, now: datetime | None = None) -> list[FollowUp]:
    """Open requests whose due date has passed, the longest overdue first."""
    now = now or utc_now()
    rows = session.execute(select(FollowUpRow).where(FollowUpRow.state == OPEN, FollowUpRow.due_at <= now)
                           .order_by(FollowUpRow.due_at, FollowUpRow.id)).scalars()
    return [_view(row, now) for row in rows]


def get(session: Session, follow_up_id: int, now: datetime | None = None) -> FollowUp | None:
    row = session.get(FollowUpRow, follow_up_id)
    if row is None:
        return None
    actions = [Action(a.at, a.kind, a.outcome, a.service, a.note, a.actor_name) for a in session.execute(
        select(FollowUpActionRow).where(FollowUpActionRow.follow_up_id == follow_up_id)
        .order_by(FollowUpActionRow.at, FollowUpActionRow.id)).scalars()]
    return _view(row, now or utc_now(), actions)


def record(session: Session, audit: AuditLog, follow_up_id: int, actor: Actor, *, kind: str,
           outcome: str | None = None, service: str | None = None, note: str | None = None,
           next_due: datetime | None = None, close: bool = False, now: datetime | None = None) -> None:
    """An advocate's contact, referral or note; optionally the next due date, or closing the request."""
    now = now or utc_now()
    row = session.get(FollowUpRow, follow_up_id, with_for_update=True)
    if row is None:
        raise FollowUpError("there is no such follow-up request")
    if row.state != OPEN:
        raise FollowUpError("this request is closed")
    session.add(FollowUpActionRow(follow_up_id=row.id, at=now, kind=kind, outcome=outcome, service=service,
                                  note=note, actor_name=actor.name))
    details: dict[str, object] = {"follow_up": row.id, "kind": kind}
    if outcome:
        details["outcome"] = outcome
    if service:
        details["service"] = service
    if next_due is not None and not close:
        row.due_at = next_due
        details["next_due"] = next_due.isoformat()
    audit.append(session, actor, f"follow_up.{kind}", report_id=row.report_id, details=details)
    if close:
        row.state, row.closed_at = CLOSED, now
        session.add(FollowUpActionRow(follow_up_id=row.id, at=now, kind="closed", actor_name=actor.name))
        audit.append(session, actor, "follow_up.closed", report_id=row.report_id, details={"follow_up": row.id})


# --- the resource directory ----------------------------------------------------------------------

def replace_resources(session: Session, audit: AuditLog, resources: list[SupportResource], actor: Actor,
                      source: str, now: datetime | None = None) -> int:
    """The directory becomes exactly these services (in the caller's transaction: all or nothing)."""
    now = now or utc_now()
    removed = session.execute(select(func.count()).select_from(SupportResourceRow)).scalar_one()
    session.execute(delete(SupportResourceRow))
    for r in resources:
        session.add(SupportResourceRow(country=r.country, situations=" ".join(r.situations), name=r.name,
                                       phone=r.phone, url=r.url, email=r.email, hours=r.hours,
                                       languages=r.languages, description=r.description, imported_at=now))
    audit.append(session, actor, "resources.imported",
                 details={"source": source, "services": len(resources), "replaced": removed})
    return len(resources)


def list_resources(session: Session, country: str | None = None, situation: str | None = None) -> list[SupportResource]:
    """The directory (or the services for a country and situation: the country's own, then those for
    every country), by country and name."""
    rows = session.execute(select(SupportResourceRow).order_by(
        case((SupportResourceRow.country == "*", 1), else_=0), SupportResourceRow.country,
        SupportResourceRow.name, SupportResourceRow.id)).scalars()
    resources = [SupportResource(country=r.country, name=r.name, situations=tuple(r.situations.split()),
                                 phone=r.phone, url=r.url, email=r.email, hours=r.hours, languages=r.languages,
                                 description=r.description) for r in rows]
    return [r for r in resources if r.fits(country, situation)]
