"""The agency portal: an agency's users see the referrals made to their agency (and nothing else),
download the encrypted package (audited), and report what happened. A referral of another agency
answers exactly like one that does not exist."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.exceptions import HTTPException

from tipline.domain.base import STORED
from tipline.domain.report import ReportContent
from tipline.domain.roles import Permission
from tipline.jurisdiction.places import country_name
from tipline.referral import service as referral_service
from tipline.referral.filters import MAX_TEXT, PRIORITIES, clauses, parse_filters
from tipline.referral.keys import b64, fingerprint, raw_public, signing_key
from tipline.referral.messages import MAX_MESSAGE, MessageRefused, messages_of, send_message
from tipline.referral.outcomes import OUTCOME_LABELS, Outcome
from tipline.referral.service import (
    ReferralNotFound,
    ReferralRefused,
    count_referrals,
    latest_outcomes,
    mark_opened,
    outcomes_of,
    record_download,
    record_outcome,
    referral_for_agency,
    referrals_for_agency,
)
from tipline.store.accounts import Principal
from tipline.store.referrals import AgencyRow, ReferralRow, ReportJurisdictionRow, agency_of_user
from tipline.store.tables import ReportFileRow, ReportRow
from tipline.web.auth import allow
from tipline.web.pages import render
from tipline.web.params import Id

router = APIRouter(include_in_schema=False)
AgencyUser = Annotated[Principal, Depends(allow(Permission.AGENCY_PORTAL))]
NOTICES = {"outcome": "Outcome recorded. Thank you: the hotline sees it on the report's timeline.",
           "message": "Message sent. The hotline sees it on the report.",
           "key_forgotten": "Your agency's key is forgotten in this browser."}


def _not_found(referral_id: int | str) -> HTTPException:
    return HTTPException(404, str(ReferralNotFound(referral_id)))


def _scoped(session: Any, principal: Principal, referral_id: int) -> tuple[AgencyRow, ReferralRow]:
    agency = agency_of_user(session, principal.user_id)
    try:
        referral = referral_for_agency(session, referral_id, agency)  # refuses a user without an agency
        assert agency is not None
        return agency, referral
    except ReferralNotFound:
        raise _not_found(referral_id) from None


def _status(referral: ReferralRow, outcomes: list[Any]) -> str:
    if outcomes:
        label: str = OUTCOME_LABELS.get(Outcome(outcomes[-1].outcome), outcomes[-1].outcome)
        return label
    return "Opened" if referral.opened_at else "New"


@router.get("/agency/referrals", response_class=HTMLResponse)
def list_referrals(request: Request, principal: AgencyUser,
                   before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                   status: Annotated[str, Query(max_length=40)] = "",
                   since: Annotated[str, Query(max_length=20)] = "",
                   until: Annotated[str, Query(max_length=20)] = "",
                   priority: Annotated[str, Query(max_length=4)] = "",
                   q: Annotated[str, Query(max_length=MAX_TEXT)] = "") -> HTMLResponse:
    """This agency's referrals, newest first, a page at a time; filtered by status, the day referred,
    priority and words."""
    instance = request.app.state.instance
    filters, problems = parse_filters(status, since, until, priority, q)
    where = clauses(filters)
    with instance.db.transaction() as session:
        agency = agency_of_user(session, principal.user_id)
        page = referrals_for_agency(session, agency, before=before, where=where)
        latest = latest_outcomes(session, [referral.id for referral, _ in page])
        rows = [{"referral": referral, "incident_type": report.incident_type, "priority": report.priority,
                 "status": _status(referral, [latest[referral.id]] if referral.id in latest else [])}
                for referral, report in page]
        total = count_referrals(session, agency.id, where) if agency is not None else 0
        everything = count_referrals(session, agency.id) if agency is not None and filters.active else total
    older = rows[-1]["referral"].id if len(rows) == referral_service.REFERRALS_PAGE else None
    return render(request, "agency_referrals.html", {
        "title": "Referrals", "agency": agency, "rows": rows, "total": total, "everything": everything,
        "older": older, "paged": before is not None, "filters": filters, "filter_query": urlencode(filters.query()),
        "problems": problems, "statuses": [("new", "New (not opened)"), ("opened", "Opened, no outcome yet"),
                                           *[(o.value, o.label) for o in Outcome]],
        "priorities": PRIORITIES, "notice": NOTICES.get(request.query_params.get("notice", ""))})


@router.get("/agency/referrals/{referral_id}", response_class=HTMLResponse)
def show_referral(request: Request, referral_id: Id, principal: AgencyUser) -> HTMLResponse:
    return _referral_page(request, referral_id, principal)


def _referral_page(request: Request, referral_id: int, principal: Principal, *, message_error: str | None = None,
                   status: int = 200) -> HTMLResponse:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        agency, referral = _scoped(session, principal, referral_id)
        mark_opened(instance, session, referral, principal, "referral page")
        instance.audit.append(session, principal.actor, "referral.viewed", report_id=referral.report_id,
                              details={"referral_id": referral.id})
        report = session.get(ReportRow, referral.report_id)
        content = ReportContent.model_validate(report.content, context=STORED)
        jurisdiction = session.get(ReportJurisdictionRow, referral.report_id)
        files = list(session.execute(select(ReportFileRow).where(ReportFileRow.report_id == referral.report_id)
                                     .order_by(ReportFileRow.position)).scalars())
        outcomes = outcomes_of(session, referral.id)
        messages = messages_of(session, referral.id)
    location = (jurisdiction.resolution if jurisdiction else {}) or {}
    best = location.get("best")
    return render(request, "agency_referral.html", {
        "title": f"Referral {referral.id}",
        "agency": agency,
        "referral": referral,
        "report": report,
        "summary": content.incident_summary,
        "victim_ages": [v.person.age for v in content.victims if v.person.age is not None],
        "location": ", ".join(p for p in (best.get("city"), best.get("region"), country_name(best.get("country")))
                              if p) if best else None,
        "location_reasoning": location.get("reasoning", []),
        "files": [f for f in files if f.blob_address],
        "outcomes": outcomes,
        "messages": messages,
        "message_error": message_error,
        "outcome_choices": [(o.value, o.label) for o in Outcome],
        "outcome_labels": {o.value: o.label for o in Outcome},
        "status": _status(referral, outcomes),
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "error": None,
    }, status_code=status)


@router.get("/agency/referrals/{referral_id}/package")
def download_package(request: Request, referral_id: Id, principal: AgencyUser) -> Response:
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            _agency, referral = _scoped(session, principal, referral_id)
            path = record_download(instance, session, referral, principal)
            name, digest = referral.package_name, referral.package_sha256
    except ReferralRefused as error:
        raise HTTPException(410, str(error)) from None
    return FileResponse(path, media_type="application/octet-stream", filename=name,
                        headers={"X-Package-SHA256": digest, "Cache-Control": "no-store"})


@router.get("/agency/referrals/{referral_id}/files/{file_id}", response_class=HTMLResponse)
def show_file(request: Request, referral_id: Id, file_id: str, principal: AgencyUser) -> HTMLResponse:
    """What the package holds about one evidence file: name, size, hashes, custody. Never its content."""
    from tipline.referral.service import custody_log

    instance = request.app.state.instance
    with instance.db.transaction() as session:
        _agency, referral = _scoped(session, principal, referral_id)
        file_row = session.get(ReportFileRow, file_id)
        if file_row is None or file_row.report_id != referral.report_id or not file_row.blob_address:
            raise HTTPException(404, f"file {file_id} does not exist")
        custody = custody_log(session, referral.report_id, [file_id])["files"][file_id]
        instance.audit.append(session, principal.actor, "referral.file_viewed", report_id=referral.report_id,
                              details={"referral_id": referral.id, "file_id": file_id})
    return render(request, "agency_file.html", {"title": f"File {file_row.file_name or file_id}",
                                                "referral": referral, "file": file_row, "custody": custody})


@router.post("/agency/referrals/{referral_id}/outcomes", response_class=HTMLResponse)
def report_outcome(request: Request, referral_id: Id, principal: AgencyUser,
                   outcome: Annotated[str, Form(max_length=40)],
                   reason: Annotated[str, Form(max_length=2000)] = "",
                   referred_to: Annotated[str, Form(max_length=200)] = "",
                   note: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """A refused outcome (a missing reason) shows the referral again, with the reason at its field and the
    form as it was filled (tipline.web.refusals)."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        _agency, referral = _scoped(session, principal, referral_id)
        record_outcome(instance, session, referral, principal, outcome, reason=reason, referred_to=referred_to,
                       note=note)
    return RedirectResponse(f"/agency/referrals/{referral_id}?notice=outcome#outcomes", status_code=303)


@router.post("/agency/referrals/{referral_id}/messages", response_class=HTMLResponse)
def send_agency_message(request: Request, referral_id: Id, principal: AgencyUser,
                        body: Annotated[str, Form(max_length=MAX_MESSAGE + 100)] = "") -> Response:
    """A message to the hotline about this referral (audited; the hotline sees it on the report)."""
    instance = request.app.state.instance
    try:
        with instance.db.transaction() as session:
            _agency, referral = _scoped(session, principal, referral_id)
            send_message(instance.audit, session, referral, "agency", principal, body)
    except MessageRefused as error:
        message = str(error)
        return _referral_page(request, referral_id, principal, message_error=message[:1].upper() + message[1:] + ".",
                              status=400)
    return RedirectResponse(f"/agency/referrals/{referral_id}?notice=message#messages", status_code=303)


@router.get("/agency/signing-key", response_class=PlainTextResponse)
def hotline_signing_key(request: Request, principal: AgencyUser) -> PlainTextResponse:
    """The hotline's public signing key, for `tipline referral verify --hotline-key` (compare its key
    id with the one the hotline gave you by another channel)."""
    key = raw_public(signing_key(request.app.state.instance.settings.key_dir).public_key())
    return PlainTextResponse(f"ed25519:{b64(key)}\n", headers={
        "Content-Disposition": 'attachment; filename="hotline-signing-key.pub"', "X-Key-Id": fingerprint(key)})
