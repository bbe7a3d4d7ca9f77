"""A person's own settings: how strongly pictures are blurred by default, their password, and (for those who
read reports) how many pictures they revealed today and this week."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tipline.domain.base import utc_now
from tipline.domain.roles import Permission, has_permission
from tipline.media.previews import BLUR_RADIUS
from tipline.store.accounts import AccountError, Principal
from tipline.store.analyst_figures import own_exposure
from tipline.store.review import InvalidDecision
from tipline.triage.exposure import ExposureTargets
from tipline.triage.workload import duration_words
from tipline.web.auth import signed_in
from tipline.web.pages import render

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(signed_in())]


def _page(request: Request, principal: Principal, *, saved: str = "") -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, principal.username)
        preferences = dict(user.preferences or {}) if user is not None else {}
        targets = ExposureTargets.from_settings(instance.settings.extra)
        exposure = (own_exposure(session, principal.user_id, utc_now(), targets)
                    if principal.user_id is not None and has_permission(principal.role, Permission.REPORT_READ)
                    else None)
    return render(request, "settings.html", {
        "exposure": exposure, "exposure_targets": targets, "duration_words": duration_words,
        "title": "Settings", "blur": preferences.get("blur", "strong"),
        "greyscale": preferences.get("greyscale", True), "strengths": list(BLUR_RADIUS), "saved": saved,
    })


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, principal: SignedIn, saved: str = "") -> HTMLResponse:
    return _page(request, principal, saved=saved[:20])


@router.post("/settings/password", response_class=HTMLResponse)
def change_password(request: Request, principal: SignedIn, current: Annotated[str, Form(max_length=1024)],
                    new: Annotated[str, Form(max_length=1024)], again: Annotated[str, Form(max_length=1024)]) -> Response:
    """Change one's own password; the other sessions end, this one stays. A refusal shows this page again
    with the reason at the field (tipline.web.refusals); passwords are never sent back in a page."""
    if new != again:
        raise AccountError("the two new passwords differ: type the same one twice").at_field("again")
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        if principal.user_id is None:
            raise AccountError("only a person's login has a password to change here")
        instance.accounts.change_own_password(session, principal.user_id, current, new, principal.actor,
                                              keep_session_id=principal.session_id)
    return RedirectResponse("/settings?saved=password", status_code=303)


@router.post("/settings")
def save_settings(request: Request, principal: SignedIn, blur: Annotated[str, Form(max_length=20)],
                  greyscale: Annotated[str, Form(max_length=5)] = "") -> RedirectResponse:
    if blur not in BLUR_RADIUS:
        raise InvalidDecision(f"blur must be one of {', '.join(BLUR_RADIUS)}").at_field("blur")
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, principal.username)
        user.preferences = {**(user.preferences or {}), "blur": blur, "greyscale": greyscale == "on"}
        instance.audit.append(session, principal.actor, "user.preferences_changed",
                              details={"blur": blur, "greyscale": greyscale == "on"})
    return RedirectResponse("/settings?saved=display", status_code=303)
