"""Supervisors' figures per analyst, read from narrow rows only: the reports each holds, their decisions
(`review_decisions`) and the times they revealed media (`file.revealed` audit events: who and when).
Nothing here reads a report's content, so reading these figures is not a read of any report."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline.domain.audit import ActorType
from tipline.domain.lifecycle import ReportState
from tipline.domain.roles import Permission, Role, has_permission
from tipline.store.review_decisions import decision_tally
from tipline.store.tables import AuditEventRow, ReportRow, User, UserSession
from tipline.triage.exposure import (
    Exposure,
    ExposureTargets,
    SessionExposure,
    exposure,
    session_exposure,
    week_start,
)
from tipline.triage.workload import Analyst, Throughput, throughput

REVEALED = "file.revealed"


def reviewers(session: Session) -> list[Analyst]:
    """The people who review reports now (active, approved, with a role that reviews)."""
    users = session.execute(select(User).order_by(User.username)).scalars()
    return [Analyst(u.id, u.username, u.display_name) for u in users
            if u.active and not u.pending_approval and has_permission(Role(u.role), Permission.REPORT_REVIEW)]


def held_by_user(session: Session) -> dict[int, int]:
    # from the people to their reports, as ReviewStore.workload reads them (by the index on assigned_to)
    rows = session.execute(
        select(User.id, func.count(ReportRow.id))
        .join(ReportRow, ReportRow.assigned_to == User.id)
        .where(ReportRow.state == ReportState.IN_REVIEW.value)
        .group_by(User.id)
    ).all()
    return {int(user_id): int(count) for user_id, count in rows}


def throughput_figures(session: Session, now: datetime, people: Iterable[Analyst] | None = None) -> list[Throughput]:
    """Per reviewer: held now, decided in the last 7 and 30 days, the median time from claim to decision."""
    return throughput(reviewers(session) if people is None else people, held_by_user(session),
                      decision_tally(session, now), now)


def reveal_times(session: Session, since: datetime, user_id: int | None = None) -> dict[int, list[datetime]]:
    """When each person revealed media from `since` on (by the index on the events' kind and time)."""
    query = select(AuditEventRow.actor_id, AuditEventRow.at).where(
        AuditEventRow.action == REVEALED, AuditEventRow.at >= since,
        AuditEventRow.actor_type == ActorType.USER.value)
    if user_id is not None:
        query = query.where(AuditEventRow.actor_id == str(user_id))
    times: dict[int, list[datetime]] = {}
    for actor_id, at in session.execute(query):
        if actor_id is not None and actor_id.isdigit():
            times.setdefault(int(actor_id), []).append(at)
    return times


def exposure_figures(session: Session, now: datetime, targets: ExposureTargets,
                     people: Iterable[Analyst] | None = None) -> list[tuple[Analyst, Exposure]]:
    """Per reviewer, and anyone else who revealed media in the last 7 days: today's and the week's reveals,
    the longest run today without a break; most revealed today first."""
    times = reveal_times(session, week_start(now))
    listed = list(reviewers(session) if people is None else people)
    known = {a.user_id for a in listed}
    others = [u for u in times if u not in known]
    if others:
        for user in session.execute(select(User).where(User.id.in_(others)).order_by(User.username)).scalars():
            listed.append(Analyst(user.id, user.username, user.display_name))
    rows = [(a, exposure(times.get(a.user_id, []), now, targets)) for a in listed]
    rows.sort(key=lambda r: (-r[1].today, -r[1].week, r[0].name.casefold(), r[0].username))
    return rows


def own_exposure(session: Session, user_id: int, now: datetime, targets: ExposureTargets) -> Exposure:
    """One person's own figures (what /settings shows them)."""
    return exposure(reveal_times(session, week_start(now), user_id).get(user_id, []), now, targets)


def sign_in_exposure(session: Session, user_id: int, session_id: int, now: datetime, targets: ExposureTargets,
                     reveal_lasts: timedelta) -> SessionExposure | None:
    """What this person revealed since this sign-in began (their `file.revealed` events since the session's
    start: the file ids in them, not what the files hold); None for a session that is not theirs."""
    signed_in = session.get(UserSession, session_id)
    if signed_in is None or signed_in.user_id != user_id:
        return None
    rows = session.execute(select(AuditEventRow.at, AuditEventRow.details).where(
        AuditEventRow.action == REVEALED, AuditEventRow.at >= signed_in.created_at,
        AuditEventRow.actor_type == ActorType.USER.value, AuditEventRow.actor_id == str(user_id)))
    reveals = [(at, str((details or {}).get("file_id", ""))) for at, details in rows]
    return session_exposure(reveals, now, targets, reveal_lasts)
