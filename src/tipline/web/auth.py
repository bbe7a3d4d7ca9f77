"""Who is asking and may they: session cookies with CSRF tokens, HTTP Basic for API accounts, and
route policies (every route declares one; a route without one stops the application from starting)."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Request
from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount, Route

from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.roles import Permission, Role, has_permission
from tipline.store.accounts import PUBLIC, Principal, SecondFactorNeeded
from tipline.store.audit import AuditLog
from tipline.store.db import Database
from tipline.store.tables import LoginFailureRow, LoginKnownAddress

if TYPE_CHECKING:
    from tipline.instance import Instance

SESSION_COOKIE = "tipline_session"
LOGIN_CSRF_COOKIE = "tipline_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
POLICY_MARK = "__tipline_policy__"


class AuthError(Exception):
    """Raised by policies; the application turns it into a login redirect, 401, 403 or 404."""

    def __init__(self, status: int, message: str, *, api: bool, retry_after: int | None = None,
                 keeps_input: bool = True, redirect: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.api = api
        self.retry_after = retry_after  # seconds, for a 429
        self.keeps_input = keeps_input  # False: a page drawn again shows nothing of what the request sent
        self.redirect = redirect  # a page to send a browser to instead of an error page


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
    cached: Principal | None = getattr(request.state, "principal", None)
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
    sign-in form is (LoginThrottle): an address that failed too often answers 429 with Retry-After
    without checking the password, so a script cannot guess passwords at Argon2's pace."""
    instance: Instance = request.app.state.instance
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"
    verdict = throttle.check(username, client)
    if not verdict.allowed:
        raise AuthError(429, verdict.message, api=True, retry_after=verdict.retry_after)
    try:
        with instance.db.transaction() as session:
            principal = instance.accounts.principal_for_user_password(session, username, password)
    except SecondFactorNeeded as needed:
        throttle.succeeded(username, client)  # the password was right
        raise AuthError(401, str(needed), api=True) from None
    if principal is None:
        with instance.db.transaction() as session:
            instance.audit.append(session, Actor(ActorType.PUBLIC, None, "public"), "user.login_failed",
                                  details={"username": username.strip().lower()[:64], "address": client,
                                           "via": "http_basic"})
        throttle.failed(username, client)
    else:
        throttle.succeeded(username, client)
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
            keeps_input=False,
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
        _refuse_until_second_factor(request, principal)
        await check_csrf(request, principal)
        return principal

    setattr(policy, POLICY_MARK, {"permissions": [p.value for p in permissions], "esp_own": esp_own})
    return policy


SECOND_FACTOR_SETUP = "/settings/second-factor"


def _refuse_until_second_factor(request: Request, principal: Principal) -> None:
    """A person whose role requires a second factor they have not set up may only set it up (or sign out)."""
    if principal.second_factor_due:
        raise AuthError(403, "Your role requires a second factor: set it up first (Settings, Second factor).",
                        api=_is_api(request), redirect=SECOND_FACTOR_SETUP)


def signed_in(*, setting_up: bool = False) -> Callable[..., Any]:
    """A route policy for anything a signed-in person may do whatever their role; `setting_up`: also
    before they set up a second factor their role requires (setting it up, signing out)."""

    async def policy(request: Request) -> Principal:
        principal = await run_in_threadpool(principal_of, request)
        if principal.user_id is None:
            raise AuthError(401, "Sign in to continue.", api=_is_api(request))
        if not setting_up:
            _refuse_until_second_factor(request, principal)
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
        mark: dict[str, Any] | None = getattr(current.call, POLICY_MARK, None)
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


@dataclass(frozen=True)
class ThrottleVerdict:
    """Whether a sign-in attempt may check its password now, and if not, for how long to wait."""

    allowed: bool
    retry_after: int = 0  # seconds
    reason: str = ""

    @property
    def message(self) -> str:
        wait = f"{self.retry_after} seconds" if self.retry_after < 120 else f"{-(-self.retry_after // 60)} minutes"
        return f"Too many failed sign-in attempts. Wait {wait} and try again."


ALLOWED = ThrottleVerdict(True)


class LoginThrottle:
    """Slows password guessing in a way that an attacker cannot turn against the person guessed at.

    Failures are counted per (name, address) and per address; after `pair_limit` failures for a
    name from one address (or `address_limit` from one address for any names) within `window`
    seconds, that address must wait before its next attempt, `base_delay` seconds doubling with
    each further failure up to the window: a progressive delay, not a lockout of the name, so
    failures from other addresses never hold back the real person. Guessing spread over many
    addresses meets a per-name ceiling, `name_ceiling` failures within `ceiling_window` seconds:
    above it, attempts for the name from addresses it has not signed in from successfully before
    are slowed to one per `ceiling_interval` seconds (never locked), and `user.login_ceiling` is
    audited once per window as an alert. Addresses the person signed in from before (remembered in
    `login_known_addresses` for `known_days`) are never slowed by the ceiling.

    The failures live in the database (`login_failures`), so every server process counts them
    together and a restart does not forget them; a success clears the failures of that name from
    that address only (an attacker with an account of their own cannot reset their address's count)."""

    def __init__(
        self, db: Database, audit: AuditLog | None = None, *, pair_limit: int = 5, address_limit: int = 20,
        window: float = 900.0, base_delay: float = 30.0, name_ceiling: int = 100, ceiling_window: float = 3600.0,
        ceiling_interval: float = 5.0, known_days: int = 90,
    ) -> None:
        self.db = db
        self.audit = audit
        self.pair_limit = pair_limit
        self.address_limit = address_limit
        self.window = window
        self.base_delay = base_delay
        self.name_ceiling = name_ceiling
        self.ceiling_window = ceiling_window
        self.ceiling_interval = ceiling_interval
        self.known_days = known_days

    @staticmethod
    def keys(username: str, address: str) -> dict[str, str]:
        name = username.strip().lower()
        return {kind: key[:300] for kind, key in (
            ("pair", f"pair:{address} {name}"), ("addr", f"addr:{address}"), ("user", f"user:{name}"))}

    def _counts(self, session: Any, keys: list[str], now: datetime) -> dict[str, tuple[int, int, datetime | None]]:
        """For each key: failures within the window, failures within the ceiling's window, the last one."""
        short = now - timedelta(seconds=self.window)
        rows = session.execute(
            select(LoginFailureRow.key, func.sum(case((LoginFailureRow.at > short, 1), else_=0)), func.count(),
                   func.max(LoginFailureRow.at))
            .where(LoginFailureRow.key.in_(keys),
                   LoginFailureRow.at > now - timedelta(seconds=max(self.window, self.ceiling_window)))
            .group_by(LoginFailureRow.key)
        ).all()
        return {key: (int(recent or 0), int(total), last) for key, recent, total, last in rows}

    def _delay(self, failures: int, limit: int, last: datetime | None, now: datetime) -> int:
        if failures < limit or last is None:
            return 0
        wait = min(self.window, self.base_delay * 2 ** min(failures - limit, 30))
        return max(0, math.ceil((last + timedelta(seconds=wait) - now).total_seconds()))

    def check(self, username: str, address: str) -> ThrottleVerdict:
        keys = self.keys(username, address)
        now = utc_now()
        with self.db.read_session() as session:  # reads only: on SQLite it does not wait for the write lock
            counts = self._counts(session, list(keys.values()), now)
            pair = counts.get(keys["pair"], (0, 0, None))
            addr = counts.get(keys["addr"], (0, 0, None))
            wait = max(self._delay(pair[0], self.pair_limit, pair[2], now),
                       self._delay(addr[0], self.address_limit, addr[2], now))
            if wait:
                return ThrottleVerdict(False, wait, "address")
            name = counts.get(keys["user"], (0, 0, None))
            if name[1] < self.name_ceiling or name[2] is None:
                return ALLOWED
            wait = math.ceil((name[2] + timedelta(seconds=self.ceiling_interval) - now).total_seconds())
            if wait <= 0 or self._known(session, username, address, now):
                return ALLOWED
        return ThrottleVerdict(False, wait, "name_ceiling")

    def _known(self, session: Any, username: str, address: str, now: datetime) -> bool:
        return session.execute(
            select(LoginKnownAddress.last_success_at).where(
                LoginKnownAddress.username == username.strip().lower()[:64],
                LoginKnownAddress.address == address[:100],
                LoginKnownAddress.last_success_at > now - timedelta(days=self.known_days))
        ).first() is not None

    def failed(self, username: str, address: str) -> None:
        keys = self.keys(username, address)
        now = utc_now()
        oldest = now - timedelta(seconds=max(self.window, self.ceiling_window))
        with self.db.transaction() as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= oldest))  # their window passed
            session.add_all(LoginFailureRow(key=key, at=now) for key in keys.values())
            session.flush()
            name = username.strip().lower()
            alert_key = f"alert:{name}"[:300]
            counts = self._counts(session, [keys["user"], alert_key], now)
            failures = counts.get(keys["user"], (0, 0, None))[1]
            if failures >= self.name_ceiling and alert_key not in counts and self.audit is not None:
                session.add(LoginFailureRow(key=alert_key, at=now))  # one alert per window
                self.audit.append(session, Actor.system("login-throttle"), "user.login_ceiling", details={
                    "username": name[:64], "failures": failures, "window_seconds": int(self.ceiling_window),
                    "last_address": address[:100],
                    "effect": f"attempts from addresses this name never signed in from: one per "
                              f"{self.ceiling_interval:g} seconds"})

    def succeeded(self, username: str, address: str) -> None:
        keys = self.keys(username, address)
        name, where = username.strip().lower()[:64], address[:100]
        now = utc_now()
        with self.db.transaction() as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.key == keys["pair"]))
            session.execute(delete(LoginKnownAddress).where(  # forget addresses not used for `known_days`
                LoginKnownAddress.username == name,
                LoginKnownAddress.last_success_at <= now - timedelta(days=self.known_days)))
            known = session.get(LoginKnownAddress, (name, where))
            if known is not None:
                known.last_success_at = now
                return
            try:
                with session.begin_nested():
                    session.add(LoginKnownAddress(username=name, address=where, last_success_at=now))
            except IntegrityError:
                pass  # another process remembered it at the same moment
