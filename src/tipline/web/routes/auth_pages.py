"""Signing in and out of the web workspace."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tipline.domain.audit import Actor, ActorType
from tipline.referral.reading import KEY_COOKIE
from tipline.store.accounts import Principal
from tipline.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    new_login_csrf,
    public,
    signed_in,
)
from tipline.web.pages import home_for, render

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Principal, Depends(public())]


def _safe_next(target: str | None) -> str | None:
    """Only local paths: a login link must not send people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _login_page(request: Request, *, error: str | None = None, username: str = "", next_path: str = "",
                status: int = 200) -> HTMLResponse:
    token = new_login_csrf()
    response = render(
        request, "login.html",
        {"error": error, "username": username, "next": next_path, "login_csrf": token, "title": "Sign in"},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
        secure=request.app.state.instance.settings.secure_cookies,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: Anyone, next: str = "") -> Response:
    if principal.user_id is not None:
        return RedirectResponse(_safe_next(next) or home_for(principal), status_code=303)
    return _login_page(request, next_path=_safe_next(next) or "")


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    principal: Anyone,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    instance = request.app.state.instance
    next_path = _safe_next(next) or ""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return _login_page(request, error="The sign-in form expired. Please try again.", username=username,
                           next_path=next_path, status=400)
    client = request.client.host if request.client else "unknown"
    throttle: LoginThrottle = request.app.state.login_throttle
    verdict = await run_in_threadpool(throttle.check, username, client)
    if not verdict.allowed:
        refused = _login_page(request, error=verdict.message, username=username, next_path=next_path, status=429)
        refused.headers["Retry-After"] = str(verdict.retry_after)
        return refused

    def attempt() -> tuple[str | None, Principal | None]:
        with instance.db.transaction() as session:
            user = instance.accounts.check_password(session, username, password)
            if user is None:
                instance.audit.append(session, Actor(ActorType.PUBLIC, None, "public"), "user.login_failed",
                                      details={"username": username.strip().lower()[:64], "address": client})
                return None, None
            token, row = instance.accounts.open_session(session, user, instance.settings.session_hours, client)
            instance.audit.append(session, Actor(ActorType.USER, str(user.id), user.username), "user.login",
                                  details={"address": client})
            principal_now = instance.accounts.principal_for_session(session, token)
            return token, principal_now

    token, signed_in = await run_in_threadpool(attempt)
    if token is None or signed_in is None:
        await run_in_threadpool(throttle.failed, username, client)
        return _login_page(request, error="That username and password do not match an active account.",
                           username=username, next_path=next_path, status=401)
    await run_in_threadpool(throttle.succeeded, username, client)
    response = RedirectResponse(next_path or home_for(signed_in), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
        secure=instance.settings.secure_cookies, max_age=instance.settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, principal: Annotated[Principal, Depends(signed_in())]) -> Response:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        if principal.session_id is not None:
            instance.accounts.revoke_session(session, principal.session_id)
        instance.audit.append(session, principal.actor, "user.logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(KEY_COOKIE, path="/agency")  # sealed to this session anyway; tidy
    return response
