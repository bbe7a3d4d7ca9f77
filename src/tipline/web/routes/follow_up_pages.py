"""The advocate's pages: follow-up requests from public reporters (`/follow-ups`, `/follow-ups/{id}`).

Advocates hold `Permission.FOLLOW_UP` only: they see what the reporter asked for (the report's
number, the situation they chose, their language, channel, contact detail and safe times) and what
was done about it, never the report's content or files. Every read and change is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tipline.domain.base import utc_now
from tipline.domain.errors import TiplineError
from tipline.domain.follow_up import ACTION_KINDS, CHANNEL_LABELS, CONTACT_OUTCOMES, NOTE_LIMIT
from tipline.domain.roles import Permission
from tipline.store import follow_ups
from tipline.store.accounts import Principal
from tipline.web.auth import allow
from tipline.web.errors import page_error
from tipline.web.pages import render
from tipline.web.params import Id
from tipline.web.public_form.pages import hotline
from tipline.web.public_form.questions import WHAT
from tipline.web.transaction import InTransaction

router = APIRouter(include_in_schema=False)
Advocate = Annotated[Principal, Depends(allow(Permission.FOLLOW_UP))]

SITUATION_LABELS = {choice.value: choice.label for choice in WHAT} | {
    "child": "The young person it is about asked (they reported about themself)",
    "parent": "A parent or carer",
}
LANGUAGE_LABELS = {"en": "English", "es": "Spanish", "ar": "Arabic"}
REFERRAL_SITUATION = {"sextortion": "sextortion", "enticement": "enticement", "images": "images", "child": "child"}
LATEST_DUE = timedelta(days=366)


class NothingRecorded(TiplineError):
    """An advocate's action that cannot be recorded as given: the request's page is shown again with the
    reason at the field and what was typed kept (tipline.web.refusals)."""

    status, code, title = 422, "invalid_action", "Nothing was recorded"


class NotRecordedNow(NothingRecorded):
    """An action the request's state refuses (it was closed meanwhile)."""

    status = 409


def _labels() -> dict[str, Any]:
    return {"situation_labels": SITUATION_LABELS, "language_labels": LANGUAGE_LABELS,
            "channel_labels": CHANNEL_LABELS, "outcomes": CONTACT_OUTCOMES, "kinds": ACTION_KINDS}


@router.get("/follow-ups", response_class=HTMLResponse)
def follow_up_list(request: Request, principal: Advocate, work: InTransaction,
                   closed: Annotated[bool, Query(description="Also list closed requests")] = False) -> HTMLResponse:
    now = utc_now()
    requests = follow_ups.list_requests(work.session, now, closed=closed)
    work.instance.audit.append(work.session, work.actor, "follow_up.listed",
                               details={"shown": len(requests), "closed_included": closed})
    overdue = [r for r in requests if r.overdue]
    return render(request, "follow_ups.html", {
        "title": "Follow-up requests", "requests": requests, "overdue": len(overdue),
        "open": sum(1 for r in requests if r.state == "open"), "closed": closed, "now": now, **_labels()})


@router.get("/follow-ups/{follow_up_id}", response_class=HTMLResponse)
def follow_up_detail(request: Request, follow_up_id: Id, principal: Advocate, work: InTransaction,
                     country: Annotated[str | None, Query(max_length=2)] = None) -> HTMLResponse:
    now = utc_now()
    found = follow_ups.get(work.session, follow_up_id, now)
    if found is None:
        return page_error(request, 404, "No such follow-up request", "There is no follow-up request with this number.")
    work.instance.audit.append(work.session, work.actor, "follow_up.viewed", report_id=found.report_id,
                               details={"follow_up": found.id})
    home = (country or hotline(request).home_country or "").upper() or None
    services = follow_ups.list_resources(work.session, home, REFERRAL_SITUATION.get(found.situation or ""))
    next_due = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return render(request, "follow_up.html", {
        "title": f"Follow-up request {found.id}", "fu": found, "services": services, "country": home,
        "next_due": next_due, "problem": request.query_params.get("problem"), **_labels()})


@router.post("/follow-ups/{follow_up_id}")
def follow_up_action(request: Request, follow_up_id: Id, principal: Advocate, work: InTransaction,
                     kind: Annotated[str, Form(max_length=20)],
                     outcome: Annotated[str, Form(max_length=30)] = "",
                     service: Annotated[str, Form(max_length=200)] = "",
                     note: Annotated[str, Form(max_length=NOTE_LIMIT)] = "",
                     next_due: Annotated[str, Form(max_length=30)] = "",
                     close: Annotated[str, Form(max_length=10)] = "") -> Response:
    session = work.session
    now = utc_now()
    note_text = note.replace("\r\n", "\n").strip() or None
    problem: tuple[str, str] | None = None  # (field, what to do)
    due_at = None
    if kind not in ("contact", "referral", "note"):
        problem = "kind", "Choose what you did: a contact, a referral or a note."
    elif kind == "contact" and outcome not in CONTACT_OUTCOMES:
        problem = "outcome", "Say how the contact went."
    elif kind == "referral" and not service.strip():
        problem = "service", "Choose the support service you referred them to."
    elif kind == "note" and not note_text and not close:
        problem = "note", "Write the note."
    if problem is None and next_due.strip() and not close:
        try:
            due_at = datetime.strptime(next_due.strip(), "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
        except ValueError:
            problem = "next_due", "Give the next due date as a date and time (UTC)."
        else:
            if not now - timedelta(minutes=5) < due_at <= now + LATEST_DUE:
                problem = "next_due", "The next due date must be in the future, and within a year."
    if problem is None and kind == "referral":
        known = {r.name for r in follow_ups.list_resources(session)}
        if service.strip() not in known:
            problem = "service", "Choose a support service from the hotline's directory."
    if problem is not None:
        if follow_ups.get(session, follow_up_id, now) is None:
            return page_error(request, 404, "No such follow-up request", "There is no follow-up request with this number.")
        raise NothingRecorded(problem[1]).at_field(problem[0])
    try:
        follow_ups.record(session, work.instance.audit, follow_up_id, work.actor, kind=kind,
                          outcome=outcome if kind == "contact" else None,
                          service=service.strip() if kind == "referral" else None, note=note_text,
                          next_due=due_at, close=bool(close), now=now)
    except follow_ups.FollowUpError as error:
        if follow_ups.get(session, follow_up_id, now) is None:
            return page_error(request, 404, "Nothing was recorded", str(error).capitalize() + ".")
        raise NotRecordedNow(str(error).capitalize() + ".") from None
    return RedirectResponse(f"/follow-ups/{follow_up_id}", status_code=303)
