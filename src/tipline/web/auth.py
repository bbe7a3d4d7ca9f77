"""Who is asking and may they: session cookies with CSRF tokens, HTTP Basic for API accounts, and
route policies (every route declares one; a route without one stops the application from starting)."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import delete, func, select
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount, Route

from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.roles import Permission, Role, has_permission
from tipline.store.accounts import PUBLIC, Principal
from tipline.store.db import Database
from tipline.store.tables import LoginFailureRow

SESSION_COOKIE = "tipline_session"
LOGIN_CSRF_COOKIE = "tipline_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
POLICY_MARK = "__tipline_policy__"


class AuthError(Exception):
    """Raised by policies; the application turns it into a login redirect, 401, 403 or 404."""

    def __init__(self, status: int, message: str, *, api: bool) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.api = api


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def principal_of(request: Request) -> Principal:
    """The principal of this request (cached): a session cookie, else HTTP Basic, else the public."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    instance = request.app.state.instance
    principal = PUBLIC
    token = request.cookies.get(SESSION_COOKIE)
    credentials = _basic_credentials(request)
    with instance.db.transaction() as session:
        if token:
            principal = instance.accounts.principal_for_session(session, token) or PUBLIC
        if principal is PUBLIC and credentials is not None:
            username, secret = credentials
            principal = instance.accounts.principal_for_api(session, username, secret) or PUBLIC
    if principal is PUBLIC and credentials is not None and request.url.path.startswith("/api/"):
        # People may script the staff API with their own login (Argon2-checked, throttled).
        principal = basic_user_login(request, *credentials) or PUBLIC
    request.state.principal = principal
    request.state.via_basic = credentials is not None and principal.session_id is None
    return principal


def basic_user_login(request: Request, username: str, password: str) -> Principal | None:
    """A person's own login sent by HTTP Basic (for scripts), throttled and audited exactly as the
    sign-in form is: after too many failures for the name or the address, further attempts answer
    429 without checking the password, so a script cannot guess passwords at Argon2's pace."""
    instance = request.app.state.instance
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.strip().lower()}", f"addr:{client}")
    if throttle.blocked(*keys):
        raise AuthError(429, "Too many failed sign-in attempts. Wait 15 minutes and try again.", api=True)
    with instance.db.transaction() as session:
        principal = instance.accounts.principal_for_user_password(session, username, password)
        if principal is None:
            instance.audit.append(session, Actor(ActorType.PUBLIC, None, "public"), "user.login_failed",
                                  details={"username": username.strip().lower()[:64], "address": client,
                                           "via": "http_basic"})
    if principal is None:
        throttle.failed(*keys)
    else:
        throttle.succeeded(*keys)
    return principal


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path.startswith("/ispws") or path.startswith("/openapi")


async def check_csrf(request: Request, principal: Principal) -> None:
    """State-changing requests from a browser session must carry the session's CSRF token."""
    if request.method not in UNSAFE_METHODS or principal.session_id is None:
        return
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            supplied = value if isinstance(value, str) else None
    if not supplied or not principal.csrf_token or not hmac.compare_digest(supplied.encode(), principal.csrf_token.encode()):
        raise AuthError(
            403,
            "This form has expired or did not come from this site (missing or wrong CSRF token). "
            "Reload the page and try again.",
            api=_is_api(request),
        )


def allow(*permissions: Permission, esp_own: bool = False) -> Callable[..., Any]:
    """A route policy: the principal needs one of `permissions` (or, with esp_own, to be a service
    provider account; the route then limits it to its own reports)."""

    async def policy(request: Request) -> Principal:
        principal = await run_in_threadpool(principal_of, request)
        allowed = any(has_permission(principal.role, p) for p in permissions)
        if esp_own and principal.role == Role.ESP:
            allowed = True
        if not allowed:
            if principal.role == Role.PUBLIC:
                raise AuthError(401, "Sign in to continue.", api=_is_api(request))
            raise AuthError(403, "Your role does not allow this.", api=_is_api(request))
        await check_csrf(request, principal)
        return principal

    setattr(policy, POLICY_MARK, {"permissions": [p.value for p in permissions], "esp_own": esp_own})
    return policy


def signed_in() -> Callable[..., Any]:
    """A route policy for anything a signed-in person may do whatever their role (signing out)."""

    async def policy(request: Request) -> Principal:
        principal = await run_in_threadpool(principal_of, request)
        if principal.user_id is None:
            raise AuthError(401, "Sign in to continue.", api=_is_api(request))
        await check_csrf(request, principal)
        return principal

    setattr(policy, POLICY_MARK, {"signed_in": True})
    return policy


def public() -> Callable[..., Any]:
    """A route policy for pages anyone may use (login, the public report form, API docs)."""

    async def policy(request: Request) -> Principal:
        principal = await run_in_threadpool(principal_of, request)
        await check_csrf(request, principal)
        return principal

    setattr(policy, POLICY_MARK, {"public": True})
    return policy


def route_policy(route: Any) -> dict[str, Any] | None:
    """The policy a route declares, found among its dependencies (None when it has none)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    stack = [dependant]
    while stack:
        current = stack.pop()
        mark = getattr(current.call, POLICY_MARK, None)
        if mark is not None:
            return mark
        stack.extend(current.dependencies)
    return None


def leaf_routes(routes: list[Any]) -> list[Any]:
    """Every route, with included routers opened up (newer FastAPI keeps them nested)."""
    leaves = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        leaves.extend(leaf_routes(inner.routes) if inner is not None else [route])
    return leaves


def assert_every_route_has_policy(routes: list[Any], public_mounts: set[str]) -> None:
    """Deny by default: refuse to start if any route forgot to say who may use it."""
    missing = []
    for route in leaf_routes(routes):
        if isinstance(route, Mount):
            if route.path not in public_mounts:
                missing.append(route.path)
            continue
        if isinstance(route, Route) and not hasattr(route, "dependant"):
            missing.append(route.path)
            continue
        if route_policy(route) is None:
            missing.append(getattr(route, "path", repr(route)))
    if missing:
        raise RuntimeError(f"routes without an authorisation policy: {', '.join(sorted(missing))}")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


class LoginThrottle:
    """Slows password guessing: after `limit` failures for a name or an address within `window`
    seconds, further attempts are refused until the window passes. The failures live in the
    database (`login_failures`), so every server process counts them together and a restart does
    not forget them; a success clears them for that name and address."""

    def __init__(self, db: Database, limit: int = 5, window: float = 900.0) -> None:
        self.db = db
        self.limit = limit
        self.window = window

    def _since(self) -> datetime:
        return utc_now() - timedelta(seconds=self.window)

    def blocked(self, *keys: str) -> bool:
        with self.db.transaction() as session:
            counts = session.execute(
                select(LoginFailureRow.key, func.count()).where(
                    LoginFailureRow.key.in_([key[:300] for key in keys]), LoginFailureRow.at > self._since())
                .group_by(LoginFailureRow.key)
            ).all()
        return any(count >= self.limit for _, count in counts)

    def failed(self, *keys: str) -> None:
        with self.db.transaction() as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= self._since()))  # the window passed
            now = utc_now()
            session.add_all(LoginFailureRow(key=key[:300], at=now) for key in keys)

    def succeeded(self, *keys: str) -> None:
        with self.db.transaction() as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.key.in_([key[:300] for key in keys])))
