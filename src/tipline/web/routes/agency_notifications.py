"""An agency's series notifications: a series its users identified came back in a new report. The
agency sees what can be shared (report number, date, provider, where it was referred), never the
media; another agency's notification answers exactly like one that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from tipline.domain.base import utc_now
from tipline.domain.roles import Permission
from tipline.jurisdiction.places import country_name
from tipline.store.accounts import Principal
from tipline.store.referrals import agency_of_user
from tipline.victims.sightings import NotificationNotFound, notification_for_agency, notifications_for_agency
from tipline.web.auth import allow
from tipline.web.pages import render
from tipline.web.params import Id

router = APIRouter(include_in_schema=False)
AgencyUser = Annotated[Principal, Depends(allow(Permission.AGENCY_PORTAL))]


@router.get("/agency/notifications", response_class=HTMLResponse)
def list_notifications(request: Request, principal: AgencyUser) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        agency = agency_of_user(session, principal.user_id)
        rows = notifications_for_agency(session, agency)
        instance.audit.append(session, principal.actor, "series.notifications_viewed",
                              details={"agency": agency.code if agency else None, "count": len(rows)})
    return render(request, "agency_notifications.html", {"title": "Series notifications", "agency": agency,
                                                         "rows": rows, "country_name": country_name})


@router.get("/agency/notifications/{notification_id}", response_class=HTMLResponse)
def show_notification(request: Request, notification_id: Id, principal: AgencyUser) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        agency = agency_of_user(session, principal.user_id)
        try:
            shared = notification_for_agency(session, notification_id, agency)
        except NotificationNotFound as error:
            raise HTTPException(404, str(error)) from None
        if shared.notification.read_at is None:
            shared.notification.read_at = utc_now()
        instance.audit.append(session, principal.actor, "series.notification_read",
                              report_id=shared.notification.report_id,
                              details={"notification_id": notification_id, "series": shared.series})
    return render(request, "agency_notification.html", {"title": f"Series {shared.series} seen again",
                                                        "agency": agency, "item": shared,
                                                        "country_name": country_name})
