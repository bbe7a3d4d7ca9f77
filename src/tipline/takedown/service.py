"""Notice and takedown stored: asking for a hosting lookup (a worker does it), storing what it found,
the abuse-contact directory, drafting notices and moving them through their states, re-checks,
overdue notices. Every change appends an audit event on the report (or, for the directory, none is
about a report: `takedown.contacts_imported` is appended without one)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.identifiers import IdentifierKind
from tipline.jurisdiction.directory import AgencyType
from tipline.jurisdiction.geoip import GeoIPDatabaseError, open_configured
from tipline.pipeline.engine.jobs import QUEUED, RUNNING
from tipline.pipeline.engine.lease import LeaseKeeper
from tipline.store.referrals import AgencyRow
from tipline.store.tables import IdentifierRow, PipelineJob
from tipline.store.takedown import AbuseContactRow, HostingLookupRow, TakedownNoticeRow
from tipline.takedown import hosting
from tipline.takedown.contacts import AbuseContact, ContactIndex, ContactMatch, parse_contacts_csv
from tipline.takedown.notices import (
    MOVES,
    OPEN_STATES,
    CheckResult,
    NoticeSettings,
    NoticeState,
    check_move,
    draft_text,
    notice_settings,
    reference_of,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tipline.instance import Instance
    from tipline.pipeline.engine.jobs import ClaimedJob

log = logging.getLogger("tipline.takedown")

LOCATE_STAGE = "takedown.locate"
MAIL_STAGE_PREFIX = "takedown.mail:"
ACTOR = Actor.system("takedown")
URL_KINDS = (IdentifierKind.URL.value, IdentifierKind.PROFILE_URL.value)
MAX_URLS = 200  # of one report looked up at once


class TakedownError(ValueError):
    """Something about takedown that cannot be done; the message says why."""


class NoticeNotFound(TakedownError):
    """No notice has this number."""


# --- the URLs of a report, and where they are hosted ------------------------------------------------


def urls_of(session: Session, report_id: int) -> list[str]:
    """The report's web addresses (pages and profiles), each once, in the order they were found, as the
    reporter wrote them (the normalised identifier makes http and https one; a notice cites what was seen)."""
    first = select(func.min(IdentifierRow.id)).where(
        IdentifierRow.report_id == report_id, IdentifierRow.kind.in_(URL_KINDS)).group_by(IdentifierRow.value)
    rows = session.execute(select(IdentifierRow.raw).where(IdentifierRow.id.in_(first)).order_by(
        IdentifierRow.id).limit(MAX_URLS)).scalars()
    seen: list[str] = []
    for raw in rows:
        url = raw.strip()[:1024]
        if url and url not in seen:
            seen.append(url)
    return seen


def lookup_pending(session: Session, report_id: int) -> bool:
    return session.execute(select(PipelineJob.id).where(
        PipelineJob.report_id == report_id, PipelineJob.stage == LOCATE_STAGE,
        PipelineJob.status.in_((QUEUED, RUNNING))).limit(1)).first() is not None


def request_locate(instance: Instance, session: Session, report_id: int, actor: Actor, *,
                   automatic: bool = False) -> bool:
    """Queue the lookup of where the report's URLs are hosted (a worker resolves them); whether a new
    lookup was queued (False: one is already waiting)."""
    instance.reports.row(session, report_id)  # ReportNotFound
    urls = urls_of(session, report_id)
    if not urls:
        raise TakedownError(f"report {report_id} holds no web address to look up")
    queued = instance.jobs.enqueue(session, report_id, LOCATE_STAGE) is not None
    if queued:
        instance.audit.append(session, actor, "takedown.locate_requested", report_id=report_id,
                              details={"urls": len(urls), "automatic": automatic})
    return queued


def find_hosting(instance: Instance, report_id: int, *, progress: Callable[[int, int], None] | None = None
                 ) -> tuple[list[hosting.Hosting], list[str]]:
    """Resolve and place every URL of a report (outside any transaction: DNS can be slow); the
    hostings and the warnings about missing or unusable databases."""
    with instance.db.transaction() as session:
        urls = urls_of(session, report_id)
    warnings: list[str] = []
    countries = networks = None
    try:
        countries = open_configured(instance.settings.extra)
        if countries is None:
            warnings.append("no country database is configured (TIPLINE_GEOIP_DATABASE): countries are not known")
    except GeoIPDatabaseError as error:
        warnings.append(str(error))
    try:
        networks = hosting.open_networks(instance.settings.extra)
        if networks is None:
            warnings.append("no network database is configured (TIPLINE_ASN_DATABASE): networks are not known")
    except GeoIPDatabaseError as error:
        warnings.append(str(error))
    resolver = hosting.configured_resolver()
    found = []
    for done, url in enumerate(urls, start=1):
        found.append(hosting.locate(url, resolver, countries, networks))
        if progress is not None:
            progress(done, len(urls))
    return found, warnings


def store_hosting(instance: Instance, session: Session, report_id: int, found: list[hosting.Hosting],
                  warnings: list[str]) -> None:
    """Keep what a lookup found (replacing the previous lookup of each URL), audited."""
    now = utc_now()
    existing = {row.url: row for row in session.execute(
        select(HostingLookupRow).where(HostingLookupRow.report_id == report_id)).scalars()}
    for item in found:
        row = existing.get(item.url)
        if row is None:
            row = HostingLookupRow(report_id=report_id, url=item.url)
            session.add(row)
        row.host = item.host
        row.addresses = [a.as_dict() for a in item.addresses]
        row.country, row.asn = item.country, item.asn
        row.organisation = (item.organisation or "")[:200] or None
        row.error = item.error
        row.looked_up_at, row.requested_by = now, ACTOR.name
    instance.audit.append(session, ACTOR, "takedown.located", report_id=report_id, details={
        "urls": len(found), "countries": sorted({h.country for h in found if h.country}),
        "unresolved": sum(1 for h in found if h.error), "warnings": warnings})


def locate_now(instance: Instance, report_id: int, *, progress: Callable[[int, int], None] | None = None
               ) -> list[hosting.Hosting]:
    """Look up and store at once, in this process (`tipline takedown locate --wait`)."""
    found, warnings = find_hosting(instance, report_id, progress=progress)
    with instance.db.transaction() as session:
        store_hosting(instance, session, report_id, found, warnings)
    return found


def run_locate_job(instance: Instance, claimed: ClaimedJob) -> str:
    """What a worker does with a `takedown.locate` job: the lookups outside the transaction, then what
    they found stored with the job's completion in one transaction."""
    try:
        with LeaseKeeper(instance, claimed):
            found, warnings = find_hosting(instance, claimed.report_id)
        with instance.db.transaction() as session:
            store_hosting(instance, session, claimed.report_id, found, warnings)
            if not instance.jobs.complete(session, claimed):
                raise RuntimeError(f"job {claimed.id} was taken over by another worker")
        return "done"
    except Exception as error:  # noqa: BLE001 - recorded and retried with back-off like any stage
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error("hosting lookup failed for report %s: %s", claimed.report_id, detail)
        with instance.db.transaction() as session:
            return instance.jobs.fail(session, claimed, detail)


def lookups_of(session: Session, report_id: int) -> dict[str, HostingLookupRow]:
    return {row.url: row for row in session.execute(
        select(HostingLookupRow).where(HostingLookupRow.report_id == report_id)).scalars()}


# --- the abuse-contact directory --------------------------------------------------------------------


def contact_record(row: AbuseContactRow) -> AbuseContact:
    return AbuseContact(code=row.code, name=row.name, asns=tuple(row.asns or ()),
                        domain_suffixes=tuple(row.domain_suffixes or ()), email=row.email, web_form=row.web_form,
                        country=row.country, language=row.language, active=row.active)


def list_contacts(session: Session) -> list[AbuseContactRow]:
    return list(session.execute(select(AbuseContactRow).order_by(AbuseContactRow.name, AbuseContactRow.code)).scalars())


def import_contacts(instance: Instance, session: Session, data: bytes, actor: Actor) -> dict[str, int]:
    """Add or update contacts from CSV (every row checked first: ContactImportError names each bad
    cell and nothing is imported); counts of added, updated and unchanged. Audited."""
    records = parse_contacts_csv(data)
    existing = {row.code: row for row in list_contacts(session)}
    now = utc_now()
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for record in records:
        row = existing.get(record.code)
        values = {"name": record.name, "asns": list(record.asns), "domain_suffixes": list(record.domain_suffixes),
                  "email": record.email, "web_form": record.web_form, "country": record.country,
                  "language": record.language, "active": record.active}
        if row is None:
            session.add(AbuseContactRow(code=record.code, created_at=now, updated_at=now, **values))
            counts["added"] += 1
        elif contact_record(row) == record:
            counts["unchanged"] += 1
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            counts["updated"] += 1
    session.flush()
    instance.audit.append(session, actor, "takedown.contacts_imported", details={
        **counts, "codes": [r.code for r in records][:200]})
    return counts


ContactFinder = Callable[[str | None, int | None], tuple[AbuseContactRow | None, ContactMatch | None]]


def contact_finder(session: Session) -> ContactFinder:
    """Finds the abuse desk of hosts: the directory is read once, for every address of a page."""
    active = [r for r in list_contacts(session) if r.active]
    index = ContactIndex([contact_record(r) for r in active])
    by_code = {r.code: r for r in active}

    def find(host: str | None, asn: int | None) -> tuple[AbuseContactRow | None, ContactMatch | None]:
        match = index.find(host, asn)
        return (None, None) if match is None else (by_code[match.contact.code], match)

    return find


def contact_for(session: Session, host: str | None, asn: int | None) -> tuple[AbuseContactRow | None, ContactMatch | None]:
    """The abuse desk for a host, and why it is that one."""
    return contact_finder(session)(host, asn)


# --- abroad: the partner hotline of the hosting country ---------------------------------------------


def partner_hotlines(session: Session, country: str) -> list[AgencyRow]:
    """The active partner hotlines (agencies of type `hotline`) of a country."""
    return list(session.execute(select(AgencyRow).where(
        AgencyRow.agency_type == AgencyType.HOTLINE.value, AgencyRow.country == country,
        AgencyRow.active.is_(True)).order_by(AgencyRow.name)).scalars())


def is_abroad(settings: NoticeSettings, country: str | None) -> bool:
    return bool(settings.home_country and country and country != settings.home_country)


# --- notices ----------------------------------------------------------------------------------------


def _notice(session: Session, notice_id: int, *, for_update: bool = False) -> TakedownNoticeRow:
    statement = select(TakedownNoticeRow).where(TakedownNoticeRow.id == notice_id)
    if for_update:
        statement = statement.with_for_update()
    row = session.execute(statement).scalar_one_or_none()
    if row is None:
        raise NoticeNotFound(f"there is no takedown notice {notice_id}")
    return row


def notice(session: Session, notice_id: int) -> TakedownNoticeRow:
    return _notice(session, notice_id)


def notices_of(session: Session, report_id: int) -> list[TakedownNoticeRow]:
    return list(session.execute(select(TakedownNoticeRow).where(TakedownNoticeRow.report_id == report_id).order_by(
        TakedownNoticeRow.id)).scalars())


def _details(row: TakedownNoticeRow, **more: Any) -> dict[str, Any]:
    return {"notice_id": row.id, "reference": reference_of(row.id), "url": row.url, **more}


def draft_notice(instance: Instance, session: Session, report_id: int, url: str, actor: Actor) -> TakedownNoticeRow:
    """Draft a notice for one URL of a report to its hosting provider. Refused when where it is hosted
    is not known yet, when it is hosted abroad (the partner hotline of that country takes it), or when
    an open notice for it exists."""
    settings = notice_settings(instance.settings.extra)
    report = instance.reports.row(session, report_id)  # ReportNotFound
    if url not in urls_of(session, report_id):
        raise TakedownError(f"report {report_id} holds no web address {url!r}")
    lookup = lookups_of(session, report_id).get(url)
    if lookup is None or not lookup.addresses:
        why = f" ({lookup.error})" if lookup is not None and lookup.error else ""
        raise TakedownError(f"where {url} is hosted is not known{why}: look it up first")
    if is_abroad(settings, lookup.country):
        raise TakedownError(f"{url} is hosted in {lookup.country}, not in {settings.home_country}: route it to the "
                            "partner hotline of that country instead of sending a notice")
    for other in notices_of(session, report_id):
        if other.url == url and other.state in OPEN_STATES:
            raise TakedownError(f"notice {reference_of(other.id)} for {url} is already {other.state}")
    contact, _match = contact_for(session, lookup.host, lookup.asn)
    found = report.received_at or report.opened_at  # when the hotline received the report naming it
    provider = contact.name if contact else lookup.organisation
    now = utc_now()
    row = TakedownNoticeRow(
        report_id=report_id, url=url, host=lookup.host, hosting_country=lookup.country, asn=lookup.asn,
        provider=(provider or "")[:200] or None, contact_id=contact.id if contact else None,
        contact_email=contact.email if contact else None, contact_web_form=contact.web_form if contact else None,
        state=NoticeState.DRAFTED.value, text="", legal_basis=settings.legal_basis, found_at=found,
        drafted_at=now, drafted_by=actor.name, state_changed_at=now, state_changed_by=actor.name, checks=[])
    session.add(row)
    session.flush()
    address = next((a["address"] for a in lookup.addresses if a.get("public")), None)
    row.text = draft_text(settings, url=url, found=found, reference=reference_of(row.id),
                          provider=provider, address=address, today=now)
    instance.audit.append(session, actor, "takedown.notice_drafted", report_id=report_id, details=_details(
        row, provider=row.provider, contact=contact.code if contact else None, country=row.hosting_country,
        asn=row.asn))
    return row


STATE_DATE = {NoticeState.SENT: "sent_at", NoticeState.ACKNOWLEDGED: "acknowledged_at",
              NoticeState.REMOVED: "removed_at", NoticeState.REFUSED: "refused_at",
              NoticeState.UNREACHABLE: "unreachable_at"}


def _when(row: TakedownNoticeRow, at: datetime | None) -> datetime:
    now = utc_now()
    if at is None:
        return now
    if at.tzinfo is None:
        raise TakedownError("give the date with its time zone (UTC: ...Z)")
    if at > now + timedelta(minutes=5):
        raise TakedownError("that date is in the future")
    if at < row.drafted_at - timedelta(minutes=5):
        raise TakedownError("that date is before the notice was drafted")
    return at


def move_notice(instance: Instance, session: Session, notice_id: int, state: NoticeState, actor: Actor, *,
                at: datetime | None = None, note: str | None = None) -> TakedownNoticeRow:
    """Record that a notice was sent, acknowledged, acted on, refused, or could not reach its
    provider (when: now, or the date the person gives), by whom. Audited."""
    row = _notice(session, notice_id, for_update=True)
    check_move(row.state, state)
    when = _when(row, at)
    previous = row.state
    row.state = state.value
    setattr(row, STATE_DATE[state], when)
    if state == NoticeState.SENT:
        row.sent_by = actor.name
    row.state_changed_at, row.state_changed_by = when, actor.name
    if note:
        row.note = note[:2000]
    details = _details(row, **{"from": previous, "to": state.value, "at": when.isoformat()})
    if note:
        details["note"] = note[:500]
    instance.audit.append(session, actor, f"takedown.notice_{state.value}", report_id=row.report_id, details=details)
    return row


def record_check(instance: Instance, session: Session, notice_id: int, result: CheckResult, actor: Actor, *,
                 at: datetime | None = None) -> TakedownNoticeRow:
    """A person looked at the URL again: still online, or removed (which moves the notice to removed)."""
    row = _notice(session, notice_id, for_update=True)
    when = _when(row, at)
    if result == CheckResult.REMOVED and row.state != NoticeState.REMOVED.value:
        check_move(row.state, NoticeState.REMOVED)
    row.checks = [*(row.checks or []), {"at": when.isoformat(), "result": result.value, "by": actor.name}]
    row.last_checked_at = when
    instance.audit.append(session, actor, "takedown.notice_checked", report_id=row.report_id,
                          details=_details(row, result=result.value, at=when.isoformat()))
    if result == CheckResult.REMOVED and row.state != NoticeState.REMOVED.value:
        move_notice(instance, session, notice_id, NoticeState.REMOVED, actor, at=when, note="seen removed on a re-check")
    return row


def overdue_notices(session: Session, hours: int, *, limit: int | None = None) -> list[TakedownNoticeRow]:
    """Notices sent more than `hours` ago that the provider has not answered, oldest first."""
    cutoff = utc_now() - timedelta(hours=hours)
    statement = select(TakedownNoticeRow).where(TakedownNoticeRow.state == NoticeState.SENT.value,
                                                TakedownNoticeRow.sent_at <= cutoff).order_by(TakedownNoticeRow.sent_at)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars())


def notices_in_state(session: Session, state: NoticeState | None, *, limit: int = 200) -> list[TakedownNoticeRow]:
    statement = select(TakedownNoticeRow).order_by(TakedownNoticeRow.state_changed_at.desc()).limit(limit)
    if state is not None:
        statement = statement.where(TakedownNoticeRow.state == state.value)
    return list(session.execute(statement).scalars())


def state_counts(session: Session) -> dict[str, int]:
    return {state: count for state, count in session.execute(
        select(TakedownNoticeRow.state, func.count()).group_by(TakedownNoticeRow.state)).all()}


@dataclass(frozen=True)
class NoticeView:
    row: TakedownNoticeRow

    def as_json(self) -> dict[str, Any]:
        r = self.row
        return {"notice_id": r.id, "reference": reference_of(r.id), "report_id": r.report_id, "url": r.url,
                "host": r.host, "hosting_country": r.hosting_country, "asn": r.asn, "provider": r.provider,
                "contact_email": r.contact_email, "contact_web_form": r.contact_web_form, "state": r.state,
                "found_at": r.found_at, "drafted_at": r.drafted_at, "drafted_by": r.drafted_by,
                "sent_at": r.sent_at, "sent_by": r.sent_by, "acknowledged_at": r.acknowledged_at,
                "removed_at": r.removed_at, "refused_at": r.refused_at, "unreachable_at": r.unreachable_at,
                "state_changed_at": r.state_changed_at, "state_changed_by": r.state_changed_by,
                "checks": list(r.checks or []), "hours_to_removal": hours_to_removal(r)}


def hours_to_removal(row: TakedownNoticeRow) -> float | None:
    """Hours from sending the notice to the material's removal (None until both are known)."""
    if row.sent_at is None or row.removed_at is None:
        return None
    return round(max((row.removed_at - row.sent_at).total_seconds(), 0) / 3600, 2)


# --- sending a notice by mail (when SMTP is configured) -----------------------------------------


def mail_stage(notice_id: int) -> str:
    return f"{MAIL_STAGE_PREFIX}{notice_id}"


def request_mail(instance: Instance, session: Session, notice_id: int, actor: Actor) -> bool:
    """Queue the sending of a notice by mail to its contact's address (a worker sends it and marks the
    notice sent); whether it was newly queued."""
    from tipline.takedown.mail import mail_settings

    row = _notice(session, notice_id)
    if mail_settings(instance.settings.extra) is None:
        raise TakedownError("no mail server is configured (TIPLINE_SMTP_HOST): send the notice yourself and mark it sent")
    if not row.contact_email:
        raise TakedownError(f"notice {reference_of(row.id)} has no email address to send to")
    check_move(row.state, NoticeState.SENT)
    queued = instance.jobs.enqueue(session, row.report_id, mail_stage(row.id)) is not None
    if queued:
        row.mail_requested_by = actor.name
        instance.audit.append(session, actor, "takedown.mail_requested", report_id=row.report_id,
                              details=_details(row, to=row.contact_email))
    return queued


def mail_pending(session: Session, row: TakedownNoticeRow) -> bool:
    return session.execute(select(PipelineJob.id).where(
        PipelineJob.report_id == row.report_id, PipelineJob.stage == mail_stage(row.id),
        PipelineJob.status.in_((QUEUED, RUNNING))).limit(1)).first() is not None


def run_mail_job(instance: Instance, claimed: ClaimedJob) -> str:
    """What a worker does with a `takedown.mail:ID` job: send the notice, then mark it sent by the
    person who asked, with the job's completion. A failure is retried with back-off like any job."""
    from tipline.takedown.mail import compose, mail_settings, send

    notice_id = int(claimed.stage[len(MAIL_STAGE_PREFIX):])
    try:
        with instance.db.transaction() as session:
            row = _notice(session, notice_id)
            settings = mail_settings(instance.settings.extra)
            ready = row.state != NoticeState.SENT.value and NoticeState.SENT in MOVES[NoticeState(row.state)]
            to, text, reference = row.contact_email, row.text, reference_of(row.id)
        if ready and settings is not None and to:
            with LeaseKeeper(instance, claimed):
                send(settings, compose(text, settings.sender, to, reference))
        with instance.db.transaction() as session:
            if ready and settings is not None and to:
                asked_by = _notice(session, notice_id).mail_requested_by or ACTOR.name
                moved = move_notice(instance, session, notice_id, NoticeState.SENT,
                                    Actor.system(f"mail (asked by {asked_by})"), note=f"sent by mail to {to}")
                moved.sent_by = asked_by
            if not instance.jobs.complete(session, claimed):
                raise RuntimeError(f"job {claimed.id} was taken over by another worker")
        return "done"
    except Exception as error:  # noqa: BLE001 - retried with back-off, then parked for a person
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error("mailing takedown notice %s failed: %s", notice_id, detail)
        with instance.db.transaction() as session:
            instance.audit.append(session, ACTOR, "takedown.mail_failed", report_id=claimed.report_id,
                                  details={"notice_id": notice_id, "reference": reference_of(notice_id),
                                           "error": detail[:500]})
            return instance.jobs.fail(session, claimed, detail)
