"""Referral on the analysts' side: the report page's referral section (location clues, suggested
agency, confirm or override, refer), and the list of referrals with reminders and outcomes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.errors import TiplineError
from tipline.domain.lifecycle import ReportState
from tipline.domain.roles import Permission, has_permission
from tipline.jurisdiction import CLUE_LABELS, ClueKind
from tipline.jurisdiction.places import country_name
from tipline.referral import service as referral_service
from tipline.referral.locating import ChoiceRefused, choose_agency, resolve_jurisdiction, stored_jurisdiction
from tipline.referral.messages import MAX_MESSAGE, MessageRefused, messages_of, send_message
from tipline.referral.outcomes import OUTCOME_LABELS, Outcome
from tipline.referral.service import (
    ReferralRefused,
    count_overdue_referrals,
    count_referrals,
    latest_outcomes,
    outcome_counts,
    outcomes_of,
    overdue_referrals,
    refer,
    referral_of_report,
    referral_page,
    reminder_hours,
)
from tipline.store.accounts import Principal
from tipline.store.referrals import AgencyRow, ReportJurisdictionRow, agency_by_code, list_agencies
from tipline.web.auth import allow
from tipline.web.charts import Series, horizontal_bars
from tipline.web.pages import render
from tipline.web.params import Id, Version
from tipline.web.refusals import FormRefused
from tipline.web.transaction import InTransaction

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Principal, Depends(allow(Permission.REPORT_REVIEW))]
Reader = Annotated[Principal, Depends(allow(Permission.REPORT_READ))]


def _place(data: dict[str, Any] | None) -> str | None:
    if not data:
        return None
    return ", ".join(p for p in (data.get("city"), data.get("region"), country_name(data.get("country"))) if p)


def referral_context(instance: Any, session: Session, report_id: int, principal: Principal) -> dict[str, Any]:
    """What `_referral_section.html` shows on a report page (pass it as `referral`). Reads only: a
    report the jurisdiction stage has not seen shows as not yet located, with a button to locate it."""
    row = instance.reports.row(session, report_id)
    stored = stored_jurisdiction(session, report_id)
    located = stored is not None
    if stored is None:
        stored = ReportJurisdictionRow(report_id=report_id, resolution={}, suggestion={})
    resolution = stored.resolution or {}
    agencies = list_agencies(session)
    by_id = {a.id: a for a in agencies}
    referral = referral_of_report(session, report_id)
    supervising = has_permission(principal.role, Permission.REPORT_SUPERVISE)
    holder = getattr(row, "assigned_to", None)
    can_refer = (referral is None and row.state == ReportState.IN_REVIEW.value
                 and has_permission(principal.role, Permission.REPORT_REVIEW)
                 and (holder is None or holder == principal.user_id or supervising))
    chosen = by_id.get(stored.chosen_agency_id) if stored.chosen_agency_id else None
    suggested = by_id.get(stored.suggested_agency_id) if stored.suggested_agency_id else None
    clues = []
    for clue in resolution.get("clues", []):
        clues.append({**clue, "label": CLUE_LABELS.get(ClueKind(clue["kind"]), clue["kind"]),
                      "where": _place(clue["place"])})
    unlocated = [{**u, "label": CLUE_LABELS.get(ClueKind(u["kind"]), u["kind"])}
                 for u in resolution.get("unlocated", [])]
    outcomes = outcomes_of(session, referral.id) if referral else []
    messages = messages_of(session, referral.id) if referral else []
    return {
        "report_id": report_id,
        "located": located,
        "version": row.version,
        "best": _place(resolution.get("best")),
        "confidence": resolution.get("confidence", 0),
        "reasoning": resolution.get("reasoning", []),
        "warnings": resolution.get("warnings", []),
        "clues": clues,
        "unlocated": unlocated,
        "suggested": suggested,
        "suggestion_reasoning": (stored.suggestion or {}).get("reasoning", []),
        "chosen": chosen,
        "chosen_by": stored.chosen_by,
        "chosen_at": stored.chosen_at,
        "choice_reason": stored.choice_reason,
        "selected_code": next((a.code for a in (chosen, suggested) if a is not None), ""),
        "agencies": [a for a in agencies if a.active],
        "can_choose": referral is None and has_permission(principal.role, Permission.REPORT_REVIEW),
        "can_refer": can_refer,
        "record": referral,
        "agency": by_id.get(referral.agency_id) if referral else None,
        "outcomes": outcomes,
        "outcome_labels": {o.value: o.label for o in Outcome},
        "messages": messages,
        "can_message": referral is not None and has_permission(principal.role, Permission.REPORT_REVIEW),
    }


def _back(report_id: int) -> RedirectResponse:
    return RedirectResponse(f"/reports/{report_id}#referral", status_code=303)


@router.post("/reports/{report_id}/jurisdiction", response_class=HTMLResponse)
def choose(request: Request, report_id: Id, principal: Reviewer, agency: Annotated[str, Form(max_length=64)],
           reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Confirm the suggested agency, or choose another (with the reason)."""
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            instance.reports.visible_row(session, report_id, principal)
            if referral_of_report(session, report_id) is not None:
                raise ChoiceRefused(f"report {report_id} is already referred")
            row = agency_by_code(session, agency)
            if row is None:
                raise ChoiceRefused(f"no agency with the code {agency!r} is in the directory")
            choose_agency(instance, session, report_id, row, principal, reason)
    except ChoiceRefused as error:
        raise FormRefused("Agency not recorded", str(error), field="agency") from None
    return _back(report_id)


@router.post("/reports/{report_id}/jurisdiction/locate", response_class=HTMLResponse)
def locate_now(request: Request, report_id: Id, principal: Reviewer) -> Response:
    """Locate a report the jurisdiction stage has not seen (processed before the stage existed), at an
    analyst's request: the page itself never writes. Audited as `jurisdiction.resolved` by the analyst."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        instance.reports.visible_row(session, report_id, principal)
        resolve_jurisdiction(instance, session, report_id, actor=principal.actor)
    return _back(report_id)


@router.post("/reports/{report_id}/referral", response_class=HTMLResponse)
def make_referral(request: Request, report_id: Id, principal: Reviewer, agency: Annotated[str, Form(max_length=64)],
                  reason: Annotated[str, Form(max_length=2000)] = "",
                  note: Annotated[str, Form(max_length=5000)] = "",
                  version: Version = None) -> Response:
    """Refer the report: the package is built, signed and encrypted to the agency, and the report
    becomes `referred`, all at once or not at all."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        instance.reports.visible_row(session, report_id, principal)
    try:
        refer(instance, report_id, principal, agency, note=note, reason=reason, expected_version=version)
    except ReferralRefused as error:
        raise FormRefused("Not referred", f"{error}. Nothing was sent and the report is unchanged.") from None
    return _back(report_id)


@router.post("/reports/{report_id}/referral/messages", response_class=HTMLResponse)
def send_hotline_message(report_id: Id, principal: Reviewer, work: InTransaction,
                         body: Annotated[str, Form(max_length=MAX_MESSAGE + 100)] = "") -> Response:
    """A message to the agency about the referral of this report (audited; the agency sees it on its
    referral page)."""
    work.instance.reports.visible_row(work.session, report_id, principal)
    referral = referral_of_report(work.session, report_id)
    if referral is None:
        raise MessageNotSent(f"report {report_id} is not referred: there is no agency to write to")
    try:
        send_message(work.instance.audit, work.session, referral, "hotline", principal, body)
    except MessageRefused as error:
        raise MessageNotSent(str(error)) from None
    return RedirectResponse(f"/reports/{report_id}#referral-messages", status_code=303)


class MessageNotSent(TiplineError):
    """A message on a referral that could not be sent."""

    status, code, title = 400, "message_not_sent", "Message not sent"


@router.get("/referrals", response_class=HTMLResponse)
def list_referrals(request: Request, principal: Reader,
                   before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> HTMLResponse:
    """The referrals, newest first, a page at a time, with agency and latest outcome; reminders for
    those nobody opened in time; the outcomes agencies reported, as a chart."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        page = referral_page(session, before=before)
        agencies = {a.id: a for a in session.execute(
            select(AgencyRow).where(AgencyRow.id.in_({r.agency_id for r, _ in page}))).scalars()}
        latest = latest_outcomes(session, [r.id for r, _ in page])
        items = [{"referral": referral, "agency": agencies[referral.agency_id], "incident_type": row.incident_type,
                  "latest": OUTCOME_LABELS[Outcome(latest[referral.id].outcome)] if referral.id in latest else None}
                 for referral, row in page]
        total = count_referrals(session)
        reminders = reminder_context(instance, session)
        counts = outcome_counts(session)
    older = items[-1]["referral"].id if len(items) == referral_service.REFERRALS_PAGE else None
    return render(request, "referral_list.html", {
        "title": "Referrals", "items": items, "total": total, "older": older, "paged": before is not None,
        "referral_reminders": reminders,
        "outcomes_chart": horizontal_bars(
            "chart-outcomes", [(Series(o.value, o.label, f"outcome-{o.value}"), counts.get(o.value, 0)) for o in Outcome],
            noun=("outcome", "outcomes"), period="reported by agencies", skip_zero_in_summary=True,
            empty="No agency has reported an outcome yet.", headings=("Outcome", "Reported")),
    })


REMINDERS_LISTED = 20  # the oldest overdue referrals named on the page; the count covers them all


def reminder_context(instance: Any, session: Session) -> dict[str, Any]:
    """What `referral_reminders.html` shows (pass it as `referral_reminders`): referrals their agency
    has not opened within TIPLINE_REFERRAL_REMINDER_HOURS."""
    hours = reminder_hours(instance.settings)
    overdue = overdue_referrals(session, hours=hours, limit=REMINDERS_LISTED)
    total = len(overdue) if len(overdue) < REMINDERS_LISTED else count_overdue_referrals(session, hours=hours)
    return {"hours": hours, "overdue": overdue, "total": total}
