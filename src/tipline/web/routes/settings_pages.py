"""A person's own settings: how strongly pictures are blurred by default."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tipline.media.previews import BLUR_RADIUS
from tipline.store.accounts import Principal
from tipline.store.review import InvalidDecision
from tipline.web.auth import signed_in
from tipline.web.pages import render

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(signed_in())]


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, principal: SignedIn, saved: bool = False) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, principal.username)
        preferences = dict(user.preferences or {})
    return render(request, "settings.html", {
        "title": "Settings", "blur": preferences.get("blur", "strong"),
        "greyscale": preferences.get("greyscale", True), "strengths": list(BLUR_RADIUS), "saved": saved,
    })


@router.post("/settings")
def save_settings(request: Request, principal: SignedIn, blur: Annotated[str, Form(max_length=20)],
                  greyscale: Annotated[str, Form(max_length=5)] = "") -> RedirectResponse:
    if blur not in BLUR_RADIUS:
        raise InvalidDecision(f"blur must be one of {', '.join(BLUR_RADIUS)}")
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, principal.username)
        user.preferences = {**(user.preferences or {}), "blur": blur, "greyscale": greyscale == "on"}
        instance.audit.append(session, principal.actor, "user.preferences_changed",
                              details={"blur": blur, "greyscale": greyscale == "on"})
    return RedirectResponse("/settings?saved=true", status_code=303)
