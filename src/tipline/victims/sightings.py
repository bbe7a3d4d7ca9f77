"""When a series comes back: the pipeline's find_series stage (after match_files) tells the agency that
identified a series, once per report and series, and puts a report showing an unidentified series in
the victim-identification queue. Also: what an agency may read of its notifications, the queue, and
the "child identified" confirmations that an agency's outcome opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.victims import SeriesStatus
from tipline.store.referrals import AgencyRow, ReferralRow, ReportJurisdictionRow
from tipline.store.series import resolve_names
from tipline.store.tables import ApiAccount, FileMatchRow, ReportRow, SeriesRow
from tipline.store.victim_tables import SeriesConfirmationRow, SeriesNotificationRow, VictimIdQueueRow

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.store.audit import AuditLog
    from tipline.store.series import SeriesStore


class SightingsContext(Protocol):
    """What recording a report's series sightings reads and writes: the registry and the audit trail."""

    @property
    def series(self) -> SeriesStore: ...

    @property
    def audit(self) -> AuditLog: ...

SIGHTING_ACTOR = Actor.system("pipeline:series")
QUEUE_PAGE = 100


class NotificationNotFound(LookupError):
    def __init__(self, notification_id: int) -> None:
        super().__init__(f"notification {notification_id} does not exist")


def record_series_sightings(instance: SightingsContext, session: Session, report_id: int) -> None:
    """For each series the report's files matched (by name or alias, no known false positive silencing
    them): notify the identifying agency of an identified series, queue an unidentified one."""
    names = session.execute(
        select(FileMatchRow.series).where(FileMatchRow.report_id == report_id, FileMatchRow.suppressed.is_(False),
                                          FileMatchRow.bank_kind != "ignore", FileMatchRow.series.is_not(None))
        .distinct()
    ).scalars()
    series = {row.id: row for row in resolve_names(session, names).values()}
    now = utc_now()
    for row in sorted(series.values(), key=lambda s: s.id):
        instance.series.refresh_counts(session, row)
        if row.status == SeriesStatus.IDENTIFIED and row.identified_by_agency_id is not None:
            if _absent(session, SeriesNotificationRow, row.id, report_id):
                session.add(SeriesNotificationRow(series_id=row.id, agency_id=row.identified_by_agency_id,
                                                  report_id=report_id, created_at=now))
                instance.audit.append(session, SIGHTING_ACTOR, "series.agency_notified", report_id=report_id,
                                      details={"series": row.name, "series_id": row.id,
                                               "agency_id": row.identified_by_agency_id})
        elif row.status != SeriesStatus.IDENTIFIED and _absent(session, VictimIdQueueRow, row.id, report_id):
            session.add(VictimIdQueueRow(series_id=row.id, report_id=report_id, created_at=now))
            instance.audit.append(session, SIGHTING_ACTOR, "series.queued_for_victim_id", report_id=report_id,
                                  details={"series": row.name, "series_id": row.id})
    session.flush()


def _absent(session: Session, table: Any, series_id: int, report_id: int) -> bool:
    return session.execute(select(table.id).where(table.series_id == series_id, table.report_id == report_id)
                           ).scalar_one_or_none() is None


# --- an agency's notifications ---------------------------------------------------------------------


@dataclass(frozen=True)
class SharedSighting:
    """What an agency is told when its series comes back: never the media."""

    notification: SeriesNotificationRow
    series: str
    case_reference: str | None
    received_at: datetime | None
    provider: str | None
    referred_to: str | None
    country: str | None


def _shared(session: Session, rows: list[tuple[SeriesNotificationRow, SeriesRow]]) -> list[SharedSighting]:
    report_ids = [n.report_id for n, _ in rows]
    if not report_ids:
        return []
    facts = {rid: (received, provider, source, resolution, agency) for rid, received, provider, source, resolution, agency
             in session.execute(
                 select(ReportRow.id, ReportRow.received_at, ApiAccount.display_name, ReportRow.source,
                        ReportJurisdictionRow.resolution, AgencyRow.name)
                 .outerjoin(ApiAccount, ApiAccount.id == ReportRow.api_account_id)
                 .outerjoin(ReportJurisdictionRow, ReportJurisdictionRow.report_id == ReportRow.id)
                 .outerjoin(ReferralRow, (ReferralRow.report_id == ReportRow.id) & ReferralRow.built_at.is_not(None))
                 .outerjoin(AgencyRow, AgencyRow.id == ReferralRow.agency_id)
                 .where(ReportRow.id.in_(report_ids))).all()}
    out = []
    for notification, series in rows:
        received, provider, source, resolution, agency = facts.get(notification.report_id, (None,) * 5)
        best = (resolution or {}).get("best") or {}
        out.append(SharedSighting(notification, series.name, series.case_reference, received,
                                  provider or ("public form" if source == "public_form" else None), agency,
                                  best.get("country")))
    return out


def notifications_for_agency(session: Session, agency: AgencyRow | None, limit: int = 200) -> list[SharedSighting]:
    if agency is None:
        return []
    rows = session.execute(
        select(SeriesNotificationRow, SeriesRow).join(SeriesRow, SeriesRow.id == SeriesNotificationRow.series_id)
        .where(SeriesNotificationRow.agency_id == agency.id).order_by(SeriesNotificationRow.id.desc()).limit(limit)
    ).all()
    return _shared(session, [(n, s) for n, s in rows])


def notification_for_agency(session: Session, notification_id: int, agency: AgencyRow | None) -> SharedSighting:
    """One notification of this agency; another agency's answers exactly like one that does not exist."""
    row = session.execute(
        select(SeriesNotificationRow, SeriesRow).join(SeriesRow, SeriesRow.id == SeriesNotificationRow.series_id)
        .where(SeriesNotificationRow.id == notification_id)
    ).first()
    if row is None or agency is None or row[0].agency_id != agency.id:
        raise NotificationNotFound(notification_id)
    return _shared(session, [(row[0], row[1])])[0]


def unread_count(session: Session, agency: AgencyRow | None) -> int:
    if agency is None:
        return 0
    return int(session.execute(select(func.count()).select_from(SeriesNotificationRow).where(
        SeriesNotificationRow.agency_id == agency.id, SeriesNotificationRow.read_at.is_(None))).scalar_one())


# --- the victim-identification queue ---------------------------------------------------------------


def victim_id_queue(session: Session, *, include_reviewed: bool = False,
                    limit: int = QUEUE_PAGE) -> list[tuple[VictimIdQueueRow, SeriesRow, ReportRow]]:
    """New appearances of unidentified series, oldest waiting first."""
    statement = (select(VictimIdQueueRow, SeriesRow, ReportRow)
                 .join(SeriesRow, SeriesRow.id == VictimIdQueueRow.series_id)
                 .join(ReportRow, ReportRow.id == VictimIdQueueRow.report_id))
    if not include_reviewed:
        statement = statement.where(VictimIdQueueRow.reviewed_at.is_(None))
    return [(q, s, r) for q, s, r in session.execute(
        statement.order_by(VictimIdQueueRow.reviewed_at.is_not(None), VictimIdQueueRow.created_at,
                           VictimIdQueueRow.id).limit(limit)).all()]


def mark_reviewed(instance: Instance, session: Session, queue_id: int, actor: Actor) -> VictimIdQueueRow:
    row = session.get(VictimIdQueueRow, queue_id)
    if row is None:
        raise LookupError(f"queue entry {queue_id} does not exist")
    if row.reviewed_at is None:
        row.reviewed_at, row.reviewed_by = utc_now(), actor.name
        instance.audit.append(session, actor, "series.sighting_reviewed", report_id=row.report_id,
                              details={"series_id": row.series_id, "queue_id": row.id})
    return row


# --- "child identified" ----------------------------------------------------------------------------


def open_confirmations(instance: Instance, session: Session, referral: ReferralRow, series_names: list[str],
                       actor: Actor) -> list[SeriesConfirmationRow]:
    """An agency reported "child identified" on a referral whose report matched these series: each
    not yet identified gets a confirmation for a specialist (once per series and referral)."""
    opened = []
    for row in {s.id: s for s in resolve_names(session, series_names).values()}.values():
        if row.status == SeriesStatus.IDENTIFIED:
            continue
        if session.execute(select(SeriesConfirmationRow.id).where(
                SeriesConfirmationRow.series_id == row.id, SeriesConfirmationRow.referral_id == referral.id)
        ).scalar_one_or_none() is not None:
            continue
        confirmation = SeriesConfirmationRow(series_id=row.id, agency_id=referral.agency_id, referral_id=referral.id,
                                             report_id=referral.report_id, created_at=utc_now())
        session.add(confirmation)
        opened.append(confirmation)
        instance.audit.append(session, actor, "series.identification_to_confirm", report_id=referral.report_id,
                              details={"series": row.name, "series_id": row.id, "referral_id": referral.id})
    session.flush()
    return opened


def decide_confirmation(instance: Instance, session: Session, confirmation_id: int, confirm: bool,
                        actor: Actor) -> SeriesConfirmationRow:
    """Confirm (the series is marked identified by the agency that reported it) or decline."""
    row = session.get(SeriesConfirmationRow, confirmation_id)
    if row is None or row.decision is not None:
        raise LookupError(f"confirmation {confirmation_id} does not exist or was already decided")
    row.decision, row.decided_at, row.decided_by = ("confirmed" if confirm else "declined"), utc_now(), actor.name
    series = instance.series.get(session, row.series_id)
    if confirm:
        agency = session.get(AgencyRow, row.agency_id)
        assert agency is not None
        instance.series.identify(session, series, agency.code, actor, case_reference=f"referral {row.referral_id}")
    else:
        instance.audit.append(session, actor, "series.identification_declined", report_id=row.report_id,
                              details={"series": series.name, "series_id": series.id, "referral_id": row.referral_id})
    return row
