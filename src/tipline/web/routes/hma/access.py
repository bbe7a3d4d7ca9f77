"""Who may call the HMA-compatible routes: tipline's allow() policy, answering in JSON, with HTTP Basic
logins for scripts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from tipline.domain.roles import Permission, Role
from tipline.store.accounts import Principal
from tipline.web.auth import (
    CSRF_HEADER,
    POLICY_MARK,
    AuthError,
    _basic_credentials,
    allow,
    basic_user_login,
    principal_of,
)


def _principal_with_login(request: Request) -> Principal:
    """As on /api/: a browser session, a service provider's API account, or a person's own login by
    HTTP Basic (checked with Argon2) for scripts."""
    principal = principal_of(request)
    credentials = _basic_credentials(request)
    if principal.role == Role.PUBLIC and credentials is not None:
        person = basic_user_login(request, *credentials)
        if person is not None:
            request.state.principal = principal = person
    return principal


def policy_of(*permissions: Permission) -> Callable[..., Any]:
    """tipline's allow() policy, answering in JSON on these paths. A browser session's multipart upload
    must carry its CSRF token in the X-CSRF-Token header: the form is never parsed (spooled) to find it."""
    inner = allow(*permissions)

    async def policy(request: Request) -> Principal:
        principal = await run_in_threadpool(_principal_with_login, request)
        content_type = request.headers.get("content-type", "").lower()
        if (principal.session_id is not None and content_type.startswith("multipart/")
                and not request.headers.get(CSRF_HEADER)):
            raise AuthError(403, "send this session's CSRF token in the X-CSRF-Token header with an upload",
                            api=True)
        try:
            principal_found: Principal = await inner(request)
            return principal_found
        except AuthError as error:
            raise AuthError(error.status, error.message, api=True) from None

    setattr(policy, POLICY_MARK, getattr(inner, POLICY_MARK))
    return policy


Looker = Annotated[Principal, Depends(policy_of(Permission.REPORT_READ, Permission.REPORT_SUBMIT))]
"""Hashing and lookups: analysts, supervisors, victim identification, and service providers' API accounts."""
Reader = Annotated[Principal, Depends(policy_of(Permission.REPORT_READ))]
"""Reading banks: analysts, supervisors, victim identification."""
Curator = Annotated[Principal, Depends(policy_of(Permission.REPORT_SUPERVISE))]
"""Creating banks and adding to them: supervisors."""
