"""Administration pages: people's logins, service-provider API accounts, and the audit chain check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.domain.errors import TiplineError
from tipline.domain.roles import USER_ROLES, Permission, Role, has_permission, needs_second_person
from tipline.referral.directory import assign_user
from tipline.store.accounts import AccountError, GrantNotFound, Principal
from tipline.store.audit_search import PAGE as AUDIT_PAGE
from tipline.store.audit_search import count_events, csv_lines, page_of_events
from tipline.store.audit_search import parse_filters as parse_audit_filters
from tipline.store.referrals import DirectoryError, list_agencies
from tipline.store.tables import BankEntryRow, ReportRow
from tipline.web.auth import allow
from tipline.web.pages import render

router = APIRouter(include_in_schema=False)
BANK_KIND_LABELS = {"known_material": "Known material", "identified_series": "Identified victim series",
                    "ignore": "Known false positives (ignored)"}
Admin = Annotated[Principal, Depends(allow(Permission.ACCOUNTS_MANAGE))]
Auditor = Annotated[Principal, Depends(allow(Permission.AUDIT_VERIFY))]
# Another administrator or a supervisor approves a grant of a role that reads reports.
Approver = Annotated[Principal, Depends(allow(Permission.ACCOUNTS_MANAGE, Permission.REPORT_SUPERVISE))]
GrantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOTICES = {
    "role_changed": "Role changed.",
    "role_requested": "Role requested: it takes effect when another administrator or a supervisor approves it.",
    "approved": "Approved: the role is granted, and supervisors are told.",
    "refused": "Refused: the role was not granted.",
    "disabled": "Login disabled: its sessions have ended and it cannot sign in.",
    "enabled": "Login enabled.",
    "agency_set": "Agency set: the user now sees that agency's referrals.",
}


class NotPossible(TiplineError):
    """A decision on a role grant that cannot be taken now (one's own, already decided)."""

    status, code, title = 409, "not_possible", "Not possible"


def _users_page(request: Request, principal: Principal, *, created: dict[str, str] | None = None) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        users = instance.accounts.list_users(session)
        pending = instance.accounts.pending_grants(session)
        agencies = list_agencies(session, active_only=True)
        by_id = {a.id: a for a in list_agencies(session)}
        agency_of = {u.id: by_id.get(getattr(u, "agency_id", None) or 0) for u in users}
    return render(request, "admin_users.html", {
        "title": "Users", "users": users, "roles": [(r.value, r.label) for r in USER_ROLES],
        "agencies": agencies, "agency_of": agency_of,
        "created": created, "pending_grants": pending, "me": principal.user_id,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    })


def _account_change(request: Request, work: Callable[[Session], Response]) -> Response:
    """Run an account change in one transaction and answer as `work` says; a refused change (AccountError)
    rolls back and shows the users page again with the reason at the form (tipline.web.refusals)."""
    with request.app.state.instance.db.transaction() as session:
        return work(session)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, principal: Admin) -> HTMLResponse:
    return _users_page(request, principal)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    principal: Admin,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=20)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    agency: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """A role that reads reports (analyst, supervisor, victim-identification) makes a login that
    cannot sign in until another administrator or a supervisor approves it: one administrator alone
    cannot make themselves a reader of reports."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        if role not in {r.value for r in USER_ROLES}:
            raise AccountError(f"choose one of the roles listed (got {role!r})").at_field("role")
        if (role == Role.AGENCY.value) != bool(agency):
            raise AccountError("choose the agency of an agency user (it sees only its agency's referrals), and "
                               "no agency for other roles").at_field("agency")
        user, password, grant = instance.accounts.request_user(
            session, username, Role(role), principal.actor, principal.user_id,
            display_name=display_name.strip() or None,
        )
        if agency:
            _assign(session, instance, user.username, agency, principal)
    return _users_page(request, principal, created={
        "username": user.username, "password": password, "pending": "yes" if grant is not None else ""})


@router.post("/admin/users/{username}/role", response_class=HTMLResponse)
def change_role(
    request: Request,
    principal: Admin,
    username: Annotated[str, Path(max_length=64)],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    """Roles that read reports wait for a second person's approval, as for a new login."""
    instance = request.app.state.instance

    def work(session: Session) -> Response:
        if role not in {r.value for r in USER_ROLES}:
            raise AccountError(f"choose one of the roles listed (got {role!r})").at_field("role")
        grant = instance.accounts.change_role(session, username, Role(role), principal.actor, principal.user_id,
                                              via="web")
        notice = "role_requested" if grant is not None else "role_changed"
        return RedirectResponse(f"/admin/users?notice={notice}", status_code=303)

    return _account_change(request, work)


def _assign(session: Session, instance: Any, username: str, agency_code: str, principal: Principal) -> None:
    try:
        assign_user(instance, session, username, agency_code, principal.actor)
    except DirectoryError as error:
        raise AccountError(str(error)).at_field("agency") from None


@router.post("/admin/users/{username}/agency", response_class=HTMLResponse)
def set_agency(
    request: Request,
    principal: Admin,
    username: Annotated[str, Path(max_length=64)],
    agency: Annotated[str, Form(max_length=64)],
) -> Response:
    """Tie an agency user to its agency (audited `user.agency_assigned`): it then sees that agency's referrals."""
    instance = request.app.state.instance

    def work(session: Session) -> Response:
        _assign(session, instance, username, agency, principal)
        return RedirectResponse("/admin/users?notice=agency_set", status_code=303)

    return _account_change(request, work)


@router.post("/admin/users/{username}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    principal: Admin,
    username: Annotated[str, Path(max_length=64)],
    active: Annotated[str, Form(max_length=5)],
) -> Response:
    """Disable a login (its sessions end at once; it cannot sign in) or enable it again."""
    instance = request.app.state.instance

    def work(session: Session) -> Response:
        user = instance.accounts.user_by_name(session, username)
        if user is not None and user.id == principal.user_id:
            raise AccountError("you cannot disable your own login: ask another administrator")
        instance.accounts.set_active(session, username, active == "yes", principal.actor)
        return RedirectResponse(f"/admin/users?notice={'enabled' if active == 'yes' else 'disabled'}",
                                status_code=303)

    return _account_change(request, work)


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    principal: Admin,
    username: Annotated[str, Path(max_length=64)],
) -> HTMLResponse:
    """A new password, shown once. Not for logins that read reports or approve access to them: an
    administrator who knew such a password could read reports as that person (least privilege); those
    are reset from the server (`tipline users reset-password`), which is host access and audited."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, username)
        if user is None:
            raise AccountError(f"no user named {username!r}")
        if needs_second_person(Role(user.role)):
            raise AccountError(f"{username} reads reports or approves access to them: reset this password from "
                               "the server with `tipline users reset-password`, or ask the person to change it")
        password = instance.accounts.reset_password(session, username, principal.actor)
    return _users_page(request, principal, created={"username": username, "password": password, "pending": "",
                                                    "reset": "yes"})


def _decide(request: Request, principal: Principal, grant_id: int, approve: bool) -> Response:
    instance = request.app.state.instance
    back = "/admin/users" if has_permission(principal.role, Permission.ACCOUNTS_MANAGE) else "/supervisor"
    try:
        with instance.db.transaction() as session:
            instance.accounts.decide_grant(session, grant_id, approve, principal.actor, principal.user_id)
    except GrantNotFound:
        raise HTTPException(404, "no such role grant") from None
    except AccountError as error:
        raise NotPossible(str(error)) from None
    return RedirectResponse(f"{back}?notice={'approved' if approve else 'refused'}", status_code=303)


@router.post("/access-grants/{grant_id}/approve")
def approve_grant(request: Request, principal: Approver, grant_id: GrantId) -> Response:
    return _decide(request, principal, grant_id, True)


@router.post("/access-grants/{grant_id}/refuse")
def refuse_grant(request: Request, principal: Approver, grant_id: GrantId) -> Response:
    return _decide(request, principal, grant_id, False)


def _accounts_page(request: Request, *, created: dict[str, str] | None = None) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        accounts = instance.accounts.list_api_accounts(session)
        # the newest report each account filed (reports loaded without the API, like the demo's, count too)
        last_reports = {account_id: newest for account_id, newest in session.execute(
            select(ReportRow.api_account_id, func.max(ReportRow.opened_at))
            .where(ReportRow.api_account_id.is_not(None)).group_by(ReportRow.api_account_id)).all()}
    return render(request, "admin_api_accounts.html", {
        "title": "Service providers", "accounts": accounts, "created": created, "last_reports": last_reports,
    })


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
    with instance.db.transaction() as session:  # a refused account shows this page again (web.refusals)
        account, secret = instance.accounts.add_api_account(
            session, username, principal.actor, display_name=display_name.strip() or None
        )
    return _accounts_page(request, created={"username": account.username, "password": secret})


AuditQuery = Annotated[str, Query(max_length=200)]


@router.post("/admin/api-accounts/{username}/secret", response_class=HTMLResponse)
def rotate_api_secret(request: Request, principal: Admin, username: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    """A new secret for a provider, shown once; the old one stops working at once."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:  # a refused rotation shows this page again (web.refusals)
        secret = instance.accounts.rotate_api_secret(session, username, principal.actor)
    return _accounts_page(request, created={"username": username, "password": secret, "rotated": "yes"})


@router.get("/admin/banks", response_class=HTMLResponse)
def banks(request: Request, principal: Admin) -> HTMLResponse:
    """The hash banks, read only: what kind, how many entries (enabled), where they came from, last change."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        summaries = instance.banks.summaries(session)
        sources: dict[int, list[tuple[str, int]]] = {}
        for bank_id, source, count in session.execute(
                select(BankEntryRow.bank_id, BankEntryRow.source, func.count())
                .group_by(BankEntryRow.bank_id, BankEntryRow.source).order_by(func.count().desc())):
            sources.setdefault(bank_id, []).append((source or "not recorded", count))
        changed = {bank_id: at for bank_id, at in session.execute(
            select(BankEntryRow.bank_id, func.max(BankEntryRow.changed_at)).group_by(BankEntryRow.bank_id))}
    return render(request, "admin_banks.html", {"title": "Hash banks", "summaries": summaries, "sources": sources,
                                                "changed": changed, "kinds": BANK_KIND_LABELS})


@router.get("/admin/audit", response_class=HTMLResponse)
def audit(request: Request, principal: Auditor, who: AuditQuery = "", what: AuditQuery = "", report: AuditQuery = "",
          since: AuditQuery = "", until: AuditQuery = "",
          before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> HTMLResponse:
    """The audit trail, newest first, a page at a time, filtered by who, what, report and dates; looking
    is itself audited (`audit.browsed`, with the filters)."""
    instance = request.app.state.instance
    filters, problems = parse_audit_filters(who, what, report, since, until)
    with instance.db.transaction() as session:
        total = instance.audit.count(session)
        events = page_of_events(session, filters, before=before)
        matching = count_events(session, filters) if filters.as_dict() else total
        instance.audit.append(session, principal.actor, "audit.browsed",
                              details={"filters": filters.as_dict(), "before": before, "shown": len(events)})
    query = urlencode({k: v for k, v in {"who": who, "what": what, "report": report, "since": since,
                                         "until": until}.items() if v})
    return render(request, "admin_audit.html", {
        "title": "Audit trail", "total": total, "result": None, "events": events, "matching": matching,
        "filters": filters, "form": {"who": who, "what": what, "report": report, "since": since, "until": until},
        "problems": problems, "query": query, "paged": before is not None,
        "older": events[-1].seq if len(events) == AUDIT_PAGE else None,
    })


@router.get("/admin/audit.csv")
def audit_csv(request: Request, principal: Auditor, who: AuditQuery = "", what: AuditQuery = "",
              report: AuditQuery = "", since: AuditQuery = "", until: AuditQuery = "") -> Response:
    """The events matching the same filters as CSV (newest first); the export is audited (`audit.exported`)."""
    instance = request.app.state.instance
    filters, problems = parse_audit_filters(who, what, report, since, until)
    if problems:
        raise AccountError("; ".join(problems))
    with instance.db.transaction() as session:
        instance.audit.append(session, principal.actor, "audit.exported", details={"filters": filters.as_dict()})

    def lines() -> Iterator[str]:
        with instance.db.read_session() as session:
            yield from csv_lines(session, filters)

    stamp = utc_now().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"', "Cache-Control": "no-store"})


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
    return render(request, "admin_audit.html", {"title": "Audit trail", "total": total, "result": result,
                                                "events": None, "form": {}, "filters": None, "problems": []})
