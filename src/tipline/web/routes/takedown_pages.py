"""Notice and takedown on the analysts' side: the report page's takedown section (where each web
address is hosted, its provider's abuse contact, the notices and their states), its actions, and the
supervisors' list of notices by state with the overdue ones and the time to removal.

Looking up where an address is hosted only queues the work: a worker resolves it
(tipline.takedown.service), never the web request."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.domain.lifecycle import ReportState
from tipline.domain.roles import Permission, has_permission
from tipline.jurisdiction.places import country_name
from tipline.referral.service import referral_of_report
from tipline.store.accounts import Principal
from tipline.takedown import service
from tipline.takedown.figures import removal_times
from tipline.takedown.mail import mail_settings
from tipline.takedown.notices import (
    MOVES,
    NOTICE_STATE_LABELS,
    OPEN_STATES,
    CheckResult,
    NoticeRefused,
    NoticeState,
    notice_settings,
    reference_of,
)
from tipline.web.auth import allow
from tipline.web.errors import page_error
from tipline.web.pages import render
from tipline.web.params import Id
from tipline.web.transaction import InTransaction

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Principal, Depends(allow(Permission.REPORT_REVIEW))]
Supervisor = Annotated[Principal, Depends(allow(Permission.REPORT_SUPERVISE))]
REMINDERS_LISTED = 20
LISTED = 200
# The words of each move a person makes on a notice (the state it moves to).
MOVE_BUTTONS = {NoticeState.SENT: "Mark sent", NoticeState.ACKNOWLEDGED: "Provider acknowledged",
                NoticeState.REMOVED: "Removed", NoticeState.REFUSED: "Provider refused",
                NoticeState.UNREACHABLE: "Provider unreachable"}


def _place(code: str | None) -> str:
    return country_name(code) if code else "not known"


def takedown_context(instance: Any, session: Session, report_id: int, principal: Principal) -> dict[str, Any]:
    """What `_takedown_section.html` shows on a report page (pass it as `takedown`). Reads only."""
    settings = notice_settings(instance.settings.extra)
    mail = mail_settings(instance.settings.extra) is not None
    row = instance.reports.row(session, report_id)
    urls = service.urls_of(session, report_id)
    lookups = service.lookups_of(session, report_id)
    notices = service.notices_of(session, report_id)
    overdue_before = utc_now() - timedelta(hours=settings.reminder_hours)
    can_act = has_permission(principal.role, Permission.REPORT_REVIEW)
    may_refer = (referral_of_report(session, report_id) is None and row.state == ReportState.IN_REVIEW.value)
    items = []
    find_contact = service.contact_finder(session)
    for url in urls:
        lookup = lookups.get(url)
        mine = [n for n in notices if n.url == url]
        abroad = lookup is not None and service.is_abroad(settings, lookup.country)
        contact, match = find_contact(lookup.host, lookup.asn) if lookup and lookup.addresses else (None, None)
        partners = service.partner_hotlines(session, lookup.country) if abroad and lookup and lookup.country else []
        items.append({
            "url": url, "lookup": lookup, "country": _place(lookup.country) if lookup else None,
            "abroad": abroad, "partners": partners, "contact": contact, "match": match.reason if match else None,
            "notices": [{
                "row": n, "reference": reference_of(n.id), "label": NOTICE_STATE_LABELS[NoticeState(n.state)],
                "overdue": n.state == NoticeState.SENT.value and n.sent_at is not None and n.sent_at <= overdue_before,
                "moves": [(s.value, MOVE_BUTTONS[s]) for s in NoticeState if s in MOVES[NoticeState(n.state)]],
                "open": n.state in OPEN_STATES,
                "hours_to_removal": service.hours_to_removal(n),
                "mail_to": n.contact_email if (mail and can_act and NoticeState.SENT in MOVES[NoticeState(n.state)])
                else None,
                "mail_pending": service.mail_pending(session, n),
            } for n in mine],
            "can_draft": (can_act and lookup is not None and bool(lookup.addresses) and not abroad
                          and not any(n.state in OPEN_STATES for n in mine)),
        })
    return {
        "report_id": report_id, "version": row.version, "urls": items, "can_act": can_act,
        "pending": service.lookup_pending(session, report_id),
        "home_country": _place(settings.home_country) if settings.home_country else None,
        "may_refer": may_refer and can_act, "reminder_hours": settings.reminder_hours,
        "check_labels": [(c.value, c.label) for c in CheckResult],
    }


def _back(report_id: int) -> RedirectResponse:
    return RedirectResponse(f"/reports/{report_id}#takedown", status_code=303)


def _refused(request: Request, title: str, error: Exception) -> HTMLResponse:
    status = 404 if isinstance(error, service.NoticeNotFound) else 400
    return page_error(request, status, title, f"{error}. Nothing was changed.")


@router.post("/reports/{report_id}/takedown/locate", response_class=HTMLResponse)
def locate(request: Request, report_id: Id, principal: Reviewer, work: InTransaction) -> Response:
    """Ask where the report's web addresses are hosted: queues a lookup the worker does (audited as
    `takedown.locate_requested` by the analyst)."""
    work.instance.reports.visible_row(work.session, report_id, principal)
    try:
        service.request_locate(work.instance, work.session, report_id, work.actor)
    except service.TakedownError as error:
        return _refused(request, "Not looked up", error)
    return _back(report_id)


@router.post("/reports/{report_id}/takedown/notices", response_class=HTMLResponse)
def draft(request: Request, report_id: Id, principal: Reviewer, work: InTransaction,
          url: Annotated[str, Form(min_length=1, max_length=1024)]) -> Response:
    """Draft a notice to the hosting provider of one of the report's web addresses."""
    work.instance.reports.visible_row(work.session, report_id, principal)
    try:
        service.draft_notice(work.instance, work.session, report_id, url, work.actor)
    except service.TakedownError as error:
        return _refused(request, "No notice drafted", error)
    return _back(report_id)


@router.post("/takedown/notices/{notice_id}/state", response_class=HTMLResponse)
def move(request: Request, notice_id: Id, principal: Reviewer, work: InTransaction,
         state: Annotated[str, Form(max_length=20)],
         note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Record that a notice was sent, acknowledged, refused, acted on, or could not reach its provider."""
    try:
        row = service.notice(work.session, notice_id)
        work.instance.reports.visible_row(work.session, row.report_id, principal)
        wanted = NoticeState(state) if state in {s.value for s in NoticeState} else None
        if wanted is None or wanted == NoticeState.DRAFTED:
            raise service.TakedownError(f"{state!r} is not a state a notice can be moved to")
        service.move_notice(work.instance, work.session, notice_id, wanted, work.actor, note=note.strip() or None)
    except (service.TakedownError, NoticeRefused) as error:
        return _refused(request, "Notice unchanged", error)
    return _back(row.report_id)


@router.post("/takedown/notices/{notice_id}/mail", response_class=HTMLResponse)
def mail(request: Request, notice_id: Id, principal: Reviewer, work: InTransaction) -> Response:
    """Send a notice by mail to its contact (only with TIPLINE_SMTP_HOST): queues it for the worker,
    which marks the notice sent once the mail server took it."""
    try:
        row = service.notice(work.session, notice_id)
        work.instance.reports.visible_row(work.session, row.report_id, principal)
        service.request_mail(work.instance, work.session, notice_id, work.actor)
    except (service.TakedownError, NoticeRefused) as error:
        return _refused(request, "Not sent", error)
    return _back(row.report_id)


@router.post("/takedown/notices/{notice_id}/check", response_class=HTMLResponse)
def check(request: Request, notice_id: Id, principal: Reviewer, work: InTransaction,
          result: Annotated[str, Form(max_length=20)]) -> Response:
    """Record a re-check of the web address: still online, or removed."""
    try:
        row = service.notice(work.session, notice_id)
        work.instance.reports.visible_row(work.session, row.report_id, principal)
        if result not in {c.value for c in CheckResult}:
            raise service.TakedownError(f"{result!r} is not a re-check result: still_online or removed")
        service.record_check(work.instance, work.session, notice_id, CheckResult(result), work.actor)
    except (service.TakedownError, NoticeRefused) as error:
        return _refused(request, "Re-check not recorded", error)
    return _back(row.report_id)


def reminders_context(instance: Any, session: Session) -> dict[str, Any]:
    """What `_takedown_reminders.html` shows on the supervisor's view (pass it as `takedown_reminders`)."""
    hours = notice_settings(instance.settings.extra).reminder_hours
    overdue = service.overdue_notices(session, hours)
    now = utc_now()
    return {"hours": hours, "total": len(overdue), "overdue": [
        {"row": n, "reference": reference_of(n.id), "hours": int((now - n.sent_at).total_seconds() // 3600)}
        for n in overdue[:REMINDERS_LISTED] if n.sent_at is not None]}


@router.get("/takedown", response_class=HTMLResponse)
def notices_page(request: Request, principal: Supervisor, work: InTransaction,
                 state: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """Notices by state, the overdue ones, and the median time to removal by country and provider.
    Hosts are report content: the listing is audited (`takedown.notices_listed`)."""
    chosen = NoticeState(state) if state in {s.value for s in NoticeState} else None
    rows = service.notices_in_state(work.session, chosen, limit=LISTED)
    counts = service.state_counts(work.session)
    work.instance.audit.append(work.session, work.actor, "takedown.notices_listed", details={
        "state": chosen.value if chosen else None, "notices": [n.id for n in rows]})
    since = utc_now() - timedelta(days=365)
    return render(request, "takedown.html", {
        "title": "Takedown",
        "states": [(s.value, s.label, counts.get(s.value, 0)) for s in NoticeState],
        "chosen": chosen, "total": sum(counts.values()),
        "notices": [{"row": n, "reference": reference_of(n.id), "label": NOTICE_STATE_LABELS[NoticeState(n.state)],
                     "country": _place(n.hosting_country), "hours_to_removal": service.hours_to_removal(n)}
                    for n in rows],
        "listed": LISTED,
        "takedown_reminders": reminders_context(work.instance, work.session),
        "by_country": [(_place(f.group) if len(f.group) == 2 else f.group, f)
                       for f in removal_times(work.session, "country", since=since)],
        "by_provider": removal_times(work.session, "provider", since=since),
    })

