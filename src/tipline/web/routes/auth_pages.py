"""Signing in and out of the web workspace."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tipline.domain.audit import Actor, ActorType
from tipline.domain.numbers import parse_whole_number
from tipline.referral.reading import KEY_COOKIE
from tipline.store.accounts import Principal
from tipline.store.tables import User
from tipline.web.auth import (
    LOGIN_CSRF_COOKIE,
    SECOND_FACTOR_SETUP,
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

    def attempt() -> tuple[str | None, Principal | None, str | None]:
        with instance.db.transaction() as session:
            user = instance.accounts.check_password(session, username, password)
            if user is None:
                instance.audit.append(session, Actor(ActorType.PUBLIC, None, "public"), "user.login_failed",
                                      details={"username": username.strip().lower()[:64], "address": client})
                return None, None, None
            if instance.second_factors.enrolled(session, user.id) is not None:
                return None, None, pending_token(instance.secret_key, user.id, user.password_changed_at)
            token, signed_in = _open_session(instance, session, user, client, None)
            return token, signed_in, None

    token, signed_in, pending = await run_in_threadpool(attempt)
    if pending is not None:  # the password was right; the second factor is asked next
        await run_in_threadpool(throttle.succeeded, username, client)
        return _code_page(request, pending=pending, next_path=next_path)
    if token is None or signed_in is None:
        await run_in_threadpool(throttle.failed, username, client)
        return _login_page(request, error="That username and password do not match an active account.",
                           username=username, next_path=next_path, status=401)
    await run_in_threadpool(throttle.succeeded, username, client)
    return _signed_in_response(request, token, signed_in, next_path)


def _open_session(instance: Any, session: Any, user: User, client: str,
                  second_factor: str | None) -> tuple[str, Principal | None]:
    token, _row = instance.accounts.open_session(session, user, instance.settings.session_hours, client)
    details = {"address": client} | ({"second_factor": second_factor} if second_factor else {})
    instance.audit.append(session, Actor(ActorType.USER, str(user.id), user.username), "user.login", details=details)
    return token, instance.accounts.principal_for_session(session, token)


def _signed_in_response(request: Request, token: str, signed_in: Principal, next_path: str) -> Response:
    instance = request.app.state.instance
    target = SECOND_FACTOR_SETUP if signed_in.second_factor_due else (next_path or home_for(signed_in))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
        secure=instance.settings.secure_cookies, max_age=instance.settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    response.delete_cookie(PENDING_COOKIE, path="/login")
    return response


# --- the second factor at sign-in ---------------------------------------------------------------------------

PENDING_COOKIE = "tipline_login_pending"
PENDING_SECONDS = 300


def pending_token(secret: bytes, user_id: int, password_changed_at: datetime) -> str:
    """Proof, for five minutes, that this browser gave the user's right password (and that it has not
    changed since): what the code step needs besides the code."""
    expires = int(time.time()) + PENDING_SECONDS
    return f"{user_id}.{expires}.{_pending_mac(secret, user_id, expires, password_changed_at)}"


def _pending_mac(secret: bytes, user_id: int, expires: int, password_changed_at: datetime) -> str:
    message = f"login-second-factor:{user_id}:{expires}:{password_changed_at.isoformat()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _pending_user(session: Any, secret: bytes, token: str) -> User | None:
    user_text, _, rest = token.partition(".")
    expires_text, _, mac = rest.partition(".")
    user_id, expires = parse_whole_number(user_text, minimum=1), parse_whole_number(expires_text, minimum=0)
    if user_id is None or expires is None or expires < time.time() or user_id > 2**31:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or user.pending_approval:
        return None
    expected = _pending_mac(secret, user_id, expires, user.password_changed_at)
    return user if hmac.compare_digest(mac.encode(), expected.encode()) else None


def _code_page(request: Request, *, pending: str | None = None, next_path: str = "", error: str | None = None,
               status: int = 200) -> HTMLResponse:
    token = new_login_csrf()
    response = render(request, "login_code.html", {"title": "Second factor", "error": error, "next": next_path,
                                                   "login_csrf": token}, status_code=status)
    secure = request.app.state.instance.settings.secure_cookies
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login", secure=secure)
    if pending is not None:
        response.set_cookie(PENDING_COOKIE, pending, httponly=True, samesite="strict", path="/login", secure=secure,
                            max_age=PENDING_SECONDS)
    return response


@router.post("/login/code", response_class=HTMLResponse)
async def login_code(
    request: Request,
    principal: Anyone,
    code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The second step of signing in: a code from the authenticator app, or a recovery code (spent)."""
    instance = request.app.state.instance
    next_path = _safe_next(next) or ""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return _login_page(request, error="The sign-in form expired. Please try again.", next_path=next_path,
                           status=400)
    client = request.client.host if request.client else "unknown"
    throttle: LoginThrottle = request.app.state.login_throttle

    def find() -> User | None:
        with instance.db.transaction() as session:
            return _pending_user(session, instance.secret_key, request.cookies.get(PENDING_COOKIE, ""))

    user = await run_in_threadpool(find)
    if user is None:
        return _login_page(request, error="That sign-in took too long or was not finished. Please sign in again.",
                           next_path=next_path, status=401)
    verdict = await run_in_threadpool(throttle.check, user.username, client)
    if not verdict.allowed:
        refused = _code_page(request, error=verdict.message, next_path=next_path, status=429)
        refused.headers["Retry-After"] = str(verdict.retry_after)
        return refused

    def attempt() -> tuple[str | None, Principal | None]:
        with instance.db.transaction() as session:
            row = session.get(User, user.id)
            actor = Actor(ActorType.USER, str(row.id), row.username)
            method = instance.second_factors.verify(session, row, code, actor)
            if method is None:
                return None, None
            return _open_session(instance, session, row, client, method)

    token, signed_in = await run_in_threadpool(attempt)
    if token is None or signed_in is None:
        await run_in_threadpool(throttle.failed, user.username, client)
        return _code_page(request, error="That code is not right. Type the 6 digits your app shows now, or one "
                                         "of your recovery codes.", next_path=next_path, status=401)
    await run_in_threadpool(throttle.succeeded, user.username, client)
    return _signed_in_response(request, token, signed_in, next_path)


@router.post("/logout")
def logout(request: Request, principal: Annotated[Principal, Depends(signed_in(setting_up=True))]) -> Response:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        if principal.session_id is not None:
            instance.accounts.revoke_session(session, principal.session_id)
        instance.audit.append(session, principal.actor, "user.logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(KEY_COOKIE, path="/agency")  # sealed to this session anyway; tidy
    return response
