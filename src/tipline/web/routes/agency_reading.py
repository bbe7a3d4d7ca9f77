"""Reading a referral in the browser, for the agency it was made to: the agency user gives the
agency's private key for their session (tipline.referral.reading: it lives only in their browser,
sealed and bound to the sign-in), the server opens the stored package, checks the hotline's
signature and every item, and shows the report's facts, identifiers and files (blurred and greyscale;
a reveal is deliberate and audited, as for analysts). Every read is audited; the package stays
downloadable. Another agency's referral answers exactly like one that does not exist.

The package is opened outside any database transaction (it may hold large evidence): a short
transaction checks the scope and writes the audit event first, so a read is recorded even when the
package then turns out to be damaged."""

from __future__ import annotations

import io
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from tipline.domain.roles import Permission
from tipline.media.errors import MediaError
from tipline.media.previews import render_preview
from tipline.referral.keys import signing_key
from tipline.referral.package import PackageError
from tipline.referral.reading import (
    KEY_COOKIE,
    MAX_KEYS,
    KeyRefused,
    key_for,
    key_id,
    parse_agency_key,
    read_evidence,
    read_package,
    seal_keys,
    unseal_keys,
)
from tipline.referral.service import mark_opened, package_path
from tipline.store.accounts import Principal
from tipline.store.referrals import AgencyRow, ReferralRow
from tipline.web.auth import allow
from tipline.web.decoding import DecodeBusy
from tipline.web.pages import render
from tipline.web.params import Id
from tipline.web.routes.agency_portal import _scoped
from tipline.web.routes.previews import REVEAL_SECONDS, _reveal_token, reveal_token_valid, style_for
from tipline.web.routes.staff_pages import HEADING_SINGULAR, PARTY_SECTIONS

router = APIRouter(include_in_schema=False)
AgencyUser = Annotated[Principal, Depends(allow(Permission.AGENCY_PORTAL))]
MAX_KEY_BYTES = 512
PREVIEWABLE = ("image/", "video/")
FileId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _keys(request: Request, principal: Principal, agency: AgencyRow) -> list[Any]:
    instance = request.app.state.instance
    return unseal_keys(instance.secret_key, request.cookies.get(KEY_COOKIE), session_secret=principal.csrf_token or "",
                       user_id=principal.user_id or 0, agency_id=agency.id)


def _subject(referral_id: int, file_id: str) -> str:
    """What a reveal token names: this referral's file, so no other page's token opens it."""
    return f"referral-{referral_id}:{file_id}"


def _key_page(request: Request, referral: ReferralRow, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "agency_read.html", {"title": f"Read referral {referral.id}", "referral": referral,
                                                "needs_key": True, "error": error}, status_code=status)


@router.post("/agency/referrals/{referral_id}/key", response_class=HTMLResponse)
async def give_key(request: Request, referral_id: Id, principal: AgencyUser,
                   key_file: Annotated[UploadFile | None, File()] = None,
                   key_text: Annotated[str, Form(max_length=MAX_KEY_BYTES)] = "") -> Response:
    """Take the agency's private key for this session (a key file or its 64 hex digits), if it is the
    key this referral was encrypted to; audited by its key id."""
    data = key_text.strip().encode("ascii", "replace")
    if key_file is not None and key_file.filename:
        data = await key_file.read(MAX_KEY_BYTES + 1)
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        agency, referral = _scoped(session, principal, referral_id)
        try:
            if not data:
                raise KeyRefused("choose your agency's key file, or paste the 64 hex digits it holds")
            if len(data) > MAX_KEY_BYTES:
                raise KeyRefused("that file is far larger than an agency key: choose the key file itself")
            key = parse_agency_key(data)
            if key_id(key) != referral.recipient_key_id:
                raise KeyRefused(f"this key (id {key_id(key)}) is not the one this referral was encrypted to "
                                 f"(id {referral.recipient_key_id}); give that key")
        except KeyRefused as error:
            instance.audit.append(session, principal.actor, "referral.key_refused", report_id=referral.report_id,
                                  details={"referral_id": referral.id, "reason": str(error)[:200]})
            return _key_page(request, referral, error=str(error)[:1].upper() + str(error)[1:] + ".", status=400)
        instance.audit.append(session, principal.actor, "referral.key_supplied", report_id=referral.report_id,
                              details={"referral_id": referral.id, "key_id": key_id(key)})
        agency_id = agency.id
        keys = [key] + [k for k in _keys(request, principal, agency) if key_id(k) != key_id(key)]
    response = RedirectResponse(f"/agency/referrals/{referral_id}/read", status_code=303)
    response.set_cookie(KEY_COOKIE, seal_keys(instance.secret_key, keys[:MAX_KEYS],
                                              session_secret=principal.csrf_token or "",
                                              user_id=principal.user_id or 0, agency_id=agency_id),
                        httponly=True, samesite="strict", path="/agency", secure=instance.settings.secure_cookies,
                        max_age=instance.settings.session_hours * 3600)
    return response


@router.post("/agency/key/forget")
def forget_key(request: Request, principal: AgencyUser) -> Response:
    """Forget the agency's key in this browser now (it is forgotten at sign-out anyway)."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        instance.audit.append(session, principal.actor, "referral.key_forgotten")
    response = RedirectResponse("/agency/referrals?notice=key_forgotten", status_code=303)
    response.delete_cookie(KEY_COOKIE, path="/agency")
    return response


@router.get("/agency/referrals/{referral_id}/read", response_class=HTMLResponse)
def read_referral(request: Request, referral_id: Id, principal: AgencyUser) -> HTMLResponse:
    """The referral as the package holds it, once verified: facts, people, identifiers, location,
    conversations, the hotline's notes and the files (blurred)."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        agency, referral = _scoped(session, principal, referral_id)
        key = key_for(_keys(request, principal, agency), referral.recipient_key_id)
        if key is None:
            return _key_page(request, referral)
        mark_opened(instance, session, referral, principal, "read in the browser")
        instance.audit.append(session, principal.actor, "referral.read", report_id=referral.report_id,
                              details={"referral_id": referral.id, "key_id": key_id(key)})
        path = package_path(instance.settings, referral)
    hotline = signing_key(instance.settings.key_dir).public_key()
    try:
        read = read_package(path, key, hotline)
    except PackageError as error:
        return render(request, "agency_read.html", {"title": f"Read referral {referral.id}", "referral": referral,
                                                    "needs_key": False, "broken": str(error)}, status_code=422)
    reveal = request.query_params.get("reveal", "")
    token = request.query_params.get("token", "")
    if not (reveal and reveal_token_valid(instance.secret_key, token, _subject(referral.id, reveal),
                                          principal.session_id)):
        reveal, token = "", ""
    document = read.document
    report = document.get("report", {})
    content = report.get("content", {})
    files = {f.get("fileId"): f for f in report.get("files", [])}
    evidence = [{**item, "previewable": str(item.get("media_type") or "").startswith(PREVIEWABLE),
                 "classification": (files.get(item.get("file_id")) or {}).get("analystClassification")}
                for item in read.evidence]
    return render(request, "agency_read.html", {
        "title": f"Read referral {referral.id}", "referral": referral, "needs_key": False, "broken": None,
        "verification": read.verification, "key_id": key_id(key), "document": document, "report": report,
        "content": content, "review": document.get("review", {}), "identifiers": document.get("identifiers", []),
        "location": document.get("location") or {}, "conversations": document.get("conversations", []),
        "evidence": evidence, "party_sections": PARTY_SECTIONS, "heading_singular": HEADING_SINGULAR,
        "reveal_file": reveal, "reveal_token": token,
    })


@router.get("/agency/referrals/{referral_id}/files/{file_id}/preview")
async def evidence_preview(request: Request, referral_id: Id, file_id: FileId, principal: AgencyUser,
                           clear: str = "") -> Response:
    """A file of the package as a blurred greyscale thumbnail (the reader's settings), or clear with a
    reveal token of this session; every one is audited."""
    instance = request.app.state.instance
    revealed = bool(clear) and reveal_token_valid(instance.secret_key, clear, _subject(referral_id, file_id),
                                                  principal.session_id)
    if clear and not revealed:
        return Response("This reveal has expired; reveal the picture again.", status_code=403, media_type="text/plain")

    def draw() -> bytes:
        with instance.db.transaction() as session:
            agency, referral = _scoped(session, principal, referral_id)
            key = key_for(_keys(request, principal, agency), referral.recipient_key_id)
            if key is None:
                raise HTTPException(403, "Give your agency's key first")
            user = instance.accounts.user_by_name(session, principal.username)
            preferences = dict(user.preferences or {}) if user else {}
            instance.audit.append(session, principal.actor, "referral.file_read", report_id=referral.report_id,
                                  details={"referral_id": referral.id, "file_id": file_id,
                                           "purpose": "revealed preview" if revealed else "blurred preview"})
            path = package_path(instance.settings, referral)
        evidence = read_evidence(path, key, signing_key(instance.settings.key_dir).public_key(), file_id)
        if not evidence.media_type.startswith(PREVIEWABLE):
            raise PackageError("this file has no picture to show")
        return render_preview(io.BytesIO(evidence.data), evidence.media_type.split("/")[0],
                              style_for(preferences, revealed))

    try:
        image = await request.app.state.decode_budget.run(draw)
    except PackageError as error:
        return Response(f"No preview: {error}", status_code=404, media_type="text/plain")
    except DecodeBusy as busy:
        return Response(str(busy), status_code=503, media_type="text/plain", headers={"Retry-After": "5"})
    except MediaError as error:
        return Response(f"No preview: {error.message}", status_code=422, media_type="text/plain")
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/agency/referrals/{referral_id}/files/{file_id}/reveal")
def reveal_evidence(request: Request, referral_id: Id, file_id: FileId, principal: AgencyUser) -> Response:
    """Reveal one picture clearly: audited, for a few minutes, in this session only."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        _agency, referral = _scoped(session, principal, referral_id)
        instance.audit.append(session, principal.actor, "referral.file_revealed", report_id=referral.report_id,
                              details={"referral_id": referral.id, "file_id": file_id})
    token = _reveal_token(instance.secret_key, _subject(referral_id, file_id), principal.session_id,
                          int(time.time()) + REVEAL_SECONDS)
    url = f"/agency/referrals/{referral_id}/files/{file_id}/preview?clear={token}"
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"url": url, "seconds": REVEAL_SECONDS})
    return RedirectResponse(f"/agency/referrals/{referral_id}/read?reveal={file_id}&token={token}#file-{file_id}",
                            status_code=303)
