"""File previews for reviewers: blurred and greyscale by default; a clear view only by a deliberate,
audited reveal that lasts minutes and works only in the session that asked for it."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tipline.domain.numbers import parse_whole_number
from tipline.domain.roles import Permission
from tipline.media.errors import MediaError
from tipline.media.previews import PreviewStyle, render_preview
from tipline.store.accounts import Principal
from tipline.store.files import FileNotFound
from tipline.store.reports import ReportNotFound
from tipline.web.auth import allow
from tipline.web.decoding import DecodeBusy

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.REPORT_READ))]
REVEAL_SECONDS = 300
PREVIEWABLE = {"image", "video"}


def _reveal_token(secret: bytes, file_id: str, session_id: int | None, expires: int) -> str:
    message = f"{file_id}:{session_id}:{expires}".encode()
    return f"{expires}.{hmac.new(secret, message, hashlib.sha256).hexdigest()}"


def reveal_token_valid(secret: bytes, token: str, file_id: str, session_id: int | None) -> bool:
    expires_text, _, _ = token.partition(".")
    expires = parse_whole_number(expires_text, minimum=0)
    if expires is None or expires < time.time():
        return False
    return hmac.compare_digest(token.encode(), _reveal_token(secret, file_id, session_id, expires).encode())


def style_for(principal_preferences: dict[str, object], clear: bool) -> PreviewStyle:
    if clear:
        return PreviewStyle(blurred=False, greyscale=False)
    strength = str(principal_preferences.get("blur", "strong"))
    return PreviewStyle(blurred=True, greyscale=bool(principal_preferences.get("greyscale", True)), strength=strength)


@router.get("/files/{file_id}/preview")
async def preview(request: Request, file_id: str, principal: Reader, clear: str = "") -> Response:
    instance = request.app.state.instance
    revealed = bool(clear) and reveal_token_valid(instance.secret_key, clear, file_id, principal.session_id)
    if clear and not revealed:
        return Response("This reveal has expired; reveal the picture again.", status_code=403, media_type="text/plain")

    def render() -> bytes:
        with instance.db.transaction() as session:
            row = instance.files.row(session, file_id)
            if row.media_kind not in PREVIEWABLE:
                raise FileNotFound(file_id)
            user = instance.accounts.user_by_name(session, principal.username)
            preferences = dict(user.preferences or {}) if user else {}
            reader = instance.files.open_for(session, file_id, principal,
                                             purpose="revealed preview" if revealed else "blurred preview")
            kind = row.media_kind
        with reader:
            return render_preview(reader, kind, style_for(preferences, revealed))

    try:
        image = await request.app.state.decode_budget.run(render)
    except FileNotFound:
        return Response("No preview for this file.", status_code=404, media_type="text/plain")
    except DecodeBusy as busy:
        return Response(str(busy), status_code=503, media_type="text/plain", headers={"Retry-After": "5"})
    except MediaError as error:
        return Response(f"No preview: {error.message}", status_code=422, media_type="text/plain")
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/files/{file_id}/reveal")
def reveal(request: Request, file_id: str, principal: Reader) -> Response:
    """Reveal one picture clearly: audited, and only for a few minutes in this session."""
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        row = instance.files.row(session, file_id)
        try:
            instance.reports.visible_row(session, row.report_id, principal)
        except ReportNotFound:
            raise FileNotFound(file_id) from None
        instance.audit.append(session, principal.actor, "file.revealed", report_id=row.report_id,
                              details={"file_id": file_id})
        report_id = row.report_id
    token = _reveal_token(instance.secret_key, file_id, principal.session_id, int(time.time()) + REVEAL_SECONDS)
    url = f"/files/{file_id}/preview?clear={token}"
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"url": url, "seconds": REVEAL_SECONDS})
    return RedirectResponse(f"/reports/{report_id}?reveal={file_id}&token={token}#file-{file_id}", status_code=303)
