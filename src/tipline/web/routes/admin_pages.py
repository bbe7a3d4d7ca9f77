"""Administration pages: people's logins, service-provider API accounts, and the audit chain check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from tipline.domain.roles import USER_ROLES, Permission, Role
from tipline.store.accounts import AccountError, Principal
from tipline.web.auth import allow
from tipline.web.pages import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[Principal, Depends(allow(Permission.ACCOUNTS_MANAGE))]
Auditor = Annotated[Principal, Depends(allow(Permission.AUDIT_VERIFY))]


def _users_page(request: Request, *, created: dict[str, str] | None = None, error: str | None = None,
                status: int = 200) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        users = instance.accounts.list_users(session)
    return render(request, "admin_users.html", {
        "title": "Users", "users": users, "roles": [(r.value, r.label) for r in USER_ROLES],
        "created": created, "error": error,
    }, status_code=status)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, principal: Admin) -> HTMLResponse:
    return _users_page(request)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    principal: Admin,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=20)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            if role not in {r.value for r in USER_ROLES}:
                raise AccountError(f"choose one of the roles listed (got {role!r})")
            user, password = instance.accounts.add_user(
                session, username, Role(role), principal.actor, display_name=display_name.strip() or None
            )
    except AccountError as error:
        return _users_page(request, error=str(error), status=400)
    return _users_page(request, created={"username": user.username, "password": password})


def _accounts_page(request: Request, *, created: dict[str, str] | None = None, error: str | None = None,
                   status: int = 200) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        accounts = instance.accounts.list_api_accounts(session)
    return render(request, "admin_api_accounts.html", {
        "title": "Service providers", "accounts": accounts, "created": created, "error": error,
    }, status_code=status)


@router.get("/admin/api-accounts", response_class=HTMLResponse)
def api_accounts(request: Request, principal: Admin) -> HTMLResponse:
    return _accounts_page(request)


@router.post("/admin/api-accounts", response_class=HTMLResponse)
def add_api_account(
    request: Request,
    principal: Admin,
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            account, secret = instance.accounts.add_api_account(
                session, username, principal.actor, display_name=display_name.strip() or None
            )
    except AccountError as error:
        return _accounts_page(request, error=str(error), status=400)
    return _accounts_page(request, created={"username": account.username, "password": secret})


@router.get("/admin/audit", response_class=HTMLResponse)
def audit(request: Request, principal: Auditor) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        total = instance.audit.count(session)
    return render(request, "admin_audit.html", {"title": "Audit trail", "total": total, "result": None})


@router.post("/admin/audit/verify", response_class=HTMLResponse)
def verify_audit(request: Request, principal: Auditor) -> HTMLResponse:
    instance = request.app.state.instance
    checkpoints = instance.audit.read_checkpoints(instance.audit_checkpoints_path)
    with instance.db.read_session() as session:  # intake carries on while the chain is walked
        result = instance.audit.verify(session, checkpoints=checkpoints)
    with instance.db.transaction() as session:
        instance.audit.append(session, principal.actor, "audit.verified",
                              details={"ok": result.ok, "events": result.checked})
        total = instance.audit.count(session)
    return render(request, "admin_audit.html", {"title": "Audit trail", "total": total, "result": result})
