"""A person's own settings: how strongly pictures are blurred by default, their password, their second factor
(TOTP; store/second_factors.py), and (for those who read reports) how many pictures they revealed today and this week."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tipline.domain.base import utc_now
from tipline.domain.roles import Permission, Role, has_permission
from tipline.media.previews import BLUR_RADIUS
from tipline.store.accounts import AccountError, Principal
from tipline.store.analyst_figures import own_exposure
from tipline.store.review import InvalidDecision
from tipline.store.totp import SecondFactorError
from tipline.triage.exposure import ExposureTargets
from tipline.triage.workload import duration_words
from tipline.web.auth import signed_in
from tipline.web.pages import home_for, render

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(signed_in())]
SettingUp = Annotated[Principal, Depends(signed_in(setting_up=True))]  # allowed before a required second factor


def _page(request: Request, principal: Principal, *, saved: str = "") -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, principal.username)
        preferences = dict(user.preferences or {}) if user is not None else {}
        targets = ExposureTargets.from_settings(instance.settings.extra)
        exposure = (own_exposure(session, principal.user_id, utc_now(), targets)
                    if principal.user_id is not None and has_permission(principal.role, Permission.REPORT_READ)
                    else None)
        second_factor = user is not None and instance.second_factors.enrolled(session, user.id) is not None
    return render(request, "settings.html", {
        "exposure": exposure, "exposure_targets": targets, "duration_words": duration_words,
        "title": "Settings", "blur": preferences.get("blur", "strong"),
        "greyscale": preferences.get("greyscale", True), "strengths": list(BLUR_RADIUS), "saved": saved,
        "second_factor": second_factor,
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


# --- the second factor -----------------------------------------------------------------------------------


def _factor_page(request: Request, principal: Principal, *, error: str | None = None,
                 recovery_codes: list[str] | None = None, status: int = 200) -> HTMLResponse:
    instance = request.app.state.instance
    factors = instance.second_factors
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, principal.username)
        if user is None:
            raise AccountError("only a person's login has a second factor")
        enrolled = factors.enrolled(session, user.id)
        pending = None if recovery_codes else factors.pending(session, user)
        codes_left = factors.recovery_codes_left(session, user.id)
        required = Role(user.role) in factors.required
        due = factors.due(session, user)
    qr_svg = ""
    if pending is not None:
        qr_svg = segno.make(pending[1], error="m").svg_inline(scale=5, title="QR code for your authenticator app")
    return render(request, "second_factor.html", {
        "title": "Second factor", "enrolled": enrolled, "pending": pending is not None,
        "pending_secret": pending[0] if pending else "", "qr_svg": qr_svg, "codes_left": codes_left,
        "required": required, "due": due and not recovery_codes, "error": error, "recovery_codes": recovery_codes,
        "home": home_for(principal),
    }, status_code=status)


@router.get("/settings/second-factor", response_class=HTMLResponse)
def second_factor_page(request: Request, principal: SettingUp) -> HTMLResponse:
    return _factor_page(request, principal)


@router.post("/settings/second-factor/start")
def start_second_factor(request: Request, principal: SettingUp) -> Response:
    """A new secret to add to the authenticator app (it works once confirmed with a first code)."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, principal.username)
        if user is None:
            raise AccountError("only a person's login has a second factor")
        instance.second_factors.begin(session, user)
        instance.audit.append(session, principal.actor, "user.second_factor_started",
                              details={"username": user.username})
    return RedirectResponse("/settings/second-factor", status_code=303)


@router.post("/settings/second-factor/confirm", response_class=HTMLResponse)
def confirm_second_factor(request: Request, principal: SettingUp,
                          code: Annotated[str, Form(max_length=12)]) -> HTMLResponse:
    """The first code turns the second factor on; the recovery codes are shown once."""
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            user = instance.accounts.user_by_name(session, principal.username)
            if user is None:
                raise SecondFactorError("only a person's login has a second factor")
            codes = instance.second_factors.confirm(session, user, code, principal.actor)
    except SecondFactorError as error:
        message = str(error)
        return _factor_page(request, principal, error=message[:1].upper() + message[1:] + ".", status=400)
    return _factor_page(request, principal, recovery_codes=codes)


@router.post("/settings/second-factor/remove", response_class=HTMLResponse)
def remove_second_factor(request: Request, principal: SignedIn,
                         password: Annotated[str, Form(max_length=1024)]) -> Response:
    """Turn the second factor off (with one's password), where one's role does not require it."""
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            user = instance.accounts.user_by_name(session, principal.username)
            if user is None or instance.accounts.check_password(session, user.username, password) is None:
                raise SecondFactorError("the password is not right")
            instance.second_factors.remove(session, user, principal.actor)
    except SecondFactorError as error:
        message = str(error)
        return _factor_page(request, principal, error=message[:1].upper() + message[1:] + ".", status=400)
    return RedirectResponse("/settings?saved=second_factor_off", status_code=303)
