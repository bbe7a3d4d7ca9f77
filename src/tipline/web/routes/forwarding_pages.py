"""Forwarding on the analysts' side: the report page's forwarding section (each forwarding's
destination, their report ID and status) and the "Forward to…" action, which only queues the work:
a worker forwards (tipline.forwarding.job), never the web request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tipline.domain.roles import Permission, has_permission
from tipline.forwarding.destinations import ENVIRONMENT_LABELS
from tipline.forwarding.job import NEEDS_ATTENTION
from tipline.forwarding.service import (
    NOT_FORWARDABLE,
    ForwardingError,
    active_destinations,
    of_report,
    request_forwarding,
)
from tipline.store.accounts import Principal
from tipline.web.auth import allow
from tipline.web.params import Id
from tipline.web.refusals import FormRefused

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Principal, Depends(allow(Permission.REPORT_REVIEW))]


def forwarding_context(instance: Any, session: Session, report_id: int, principal: Principal) -> dict[str, Any]:
    """What `_forwarding_section.html` shows on a report page (pass it as `forwarding`)."""
    row = instance.reports.row(session, report_id)
    forwardings = of_report(session, report_id)
    destinations = active_destinations(session)
    can_forward = has_permission(principal.role, Permission.REPORT_REVIEW) and row.state not in NOT_FORWARDABLE
    return {
        "report_id": report_id,
        "forwardings": forwardings,
        "destinations": [{"name": d.name, "environment": ENVIRONMENT_LABELS.get(d.environment, d.environment)}
                         for d in destinations],
        "can_forward": can_forward and bool(destinations),
        "needs_attention": NEEDS_ATTENTION,
    }


@router.post("/reports/{report_id}/forward", response_class=HTMLResponse)
def forward_report(request: Request, report_id: Id, principal: Reviewer,
                   destination: Annotated[str, Form(min_length=1, max_length=64)]) -> Response:
    """Queue the report's forwarding to a destination (or try a parked one again); audited as
    `forwarding.requested` by the analyst."""
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            instance.reports.visible_row(session, report_id, principal)
            request_forwarding(instance, session, report_id, destination, principal.actor)
    except ForwardingError as error:
        raise FormRefused("Not forwarded", f"{error}. Nothing was sent.", field="destination") from None
    return RedirectResponse(f"/reports/{report_id}#forwarding", status_code=303)
