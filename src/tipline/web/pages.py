"""Rendering server-side pages with what every page needs: who is signed in, their CSRF token, the menu."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from tipline.domain.roles import Permission, Role, has_permission
from tipline.store.accounts import Principal


def menu(principal: Principal) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if has_permission(principal.role, Permission.REPORT_REVIEW):
        items.append(("/queue", "Queue"))
    if has_permission(principal.role, Permission.REPORT_READ):
        items += [("/reports", "Reports"), ("/search", "Search")]
    if has_permission(principal.role, Permission.REPORT_SUPERVISE):
        items += [("/supervisor", "Supervisor"), ("/takedown", "Takedown")]
    if has_permission(principal.role, Permission.REPORT_READ):
        items.append(("/referrals", "Referrals"))
    if has_permission(principal.role, Permission.SERIES_MANAGE):
        items += [("/series", "Series"), ("/victim-id/queue", "Victim ID"), ("/clusters", "Clusters")]
    if has_permission(principal.role, Permission.REPORT_READ) or has_permission(principal.role,
                                                                                Permission.ACCOUNTS_MANAGE):
        items.append(("/trends", "Trends"))
    if has_permission(principal.role, Permission.AGENCY_PORTAL):
        items += [("/agency/referrals", "Referrals"), ("/agency/notifications", "Series notifications")]
    if has_permission(principal.role, Permission.ACCOUNTS_MANAGE):
        items += [("/admin/users", "Users"), ("/admin/api-accounts", "Service providers"), ("/admin/banks", "Banks")]
    if has_permission(principal.role, Permission.AUDIT_VERIFY):
        items.append(("/admin/audit", "Audit trail"))
    if has_permission(principal.role, Permission.FOLLOW_UP):
        items.append(("/follow-ups", "Follow-up requests"))
    if principal.user_id is not None:
        items.append(("/settings", "Settings"))
    return items


def home_for(principal: Principal) -> str:
    if has_permission(principal.role, Permission.REPORT_REVIEW):
        return "/queue"
    if has_permission(principal.role, Permission.REPORT_READ):
        return "/reports"
    if has_permission(principal.role, Permission.ACCOUNTS_MANAGE):
        return "/admin/users"
    if principal.role == Role.AGENCY:
        return "/agency/referrals"
    if has_permission(principal.role, Permission.FOLLOW_UP):
        return "/follow-ups"
    return "/login"


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    base = {
        "principal": principal,
        "csrf_token": principal.csrf_token if principal else None,
        "menu": menu(principal) if principal else [],
        "current_path": request.url.path,
        "drawn_at": datetime.now(UTC).isoformat(timespec="microseconds"),  # stale forms show what changed since
        "refusal": getattr(request.state, "refusal", None),  # a refused form this page is drawn again for
    }
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )
    return response
