"""File previews for reviewers: blurred and greyscale by default; a clearer view only by a deliberate,
audited reveal that lasts minutes and works only in the session that asked for it. A reveal grants one
look (a blur step and colour, `PreviewStyle.code`): the token shows that look or any more protective one,
so blurring again or going back to greyscale needs no new reveal, while each step towards clear does."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.domain.numbers import parse_whole_number
from tipline.domain.roles import Permission
from tipline.media.errors import MediaError
from tipline.media.previews import LARGE_SIZE, THUMBNAIL_SIZE, VIEWER_DEFAULT, PreviewStyle, render_preview
from tipline.store.accounts import Principal
from tipline.store.analyst_figures import sign_in_exposure
from tipline.store.files import FileNotFound
from tipline.store.reports import ReportNotFound
from tipline.store.review import InvalidDecision
from tipline.triage.exposure import ExposureTargets, SessionExposure
from tipline.web.auth import allow
from tipline.web.decoding import DecodeBusy

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.REPORT_READ))]
REVEAL_SECONDS = 300
PREVIEWABLE = {"image", "video"}
CLEAR = PreviewStyle(blurred=False, greyscale=False)
PLAYING = "/play"  # a play token is signed for the file id with this suffix: it opens the video itself


def _reveal_token(secret: bytes, file_id: str, session_id: int | None, expires: int, look: str = CLEAR.code) -> str:
    message = f"{file_id}:{session_id}:{expires}:{look}".encode()
    return f"{expires}.{look}.{hmac.new(secret, message, hashlib.sha256).hexdigest()}"


def granted_look(secret: bytes, token: str, file_id: str, session_id: int | None) -> PreviewStyle | None:
    """The look a reveal token grants for this file in this session, None when it is expired or not genuine."""
    expires_text, _, rest = token.partition(".")
    look, _, _ = rest.partition(".")
    expires = parse_whole_number(expires_text, minimum=0)
    style = PreviewStyle.from_code(look)
    if expires is None or expires < time.time() or style is None:
        return None
    genuine = hmac.compare_digest(token.encode(), _reveal_token(secret, file_id, session_id, expires, look).encode())
    return style if genuine else None


def reveal_token_valid(secret: bytes, token: str, file_id: str, session_id: int | None) -> bool:
    return granted_look(secret, token, file_id, session_id) is not None


def style_for(principal_preferences: dict[str, object], clear: bool) -> PreviewStyle:
    if clear:
        return CLEAR
    strength = str(principal_preferences.get("blur", "strong"))
    return PreviewStyle(blurred=True, greyscale=bool(principal_preferences.get("greyscale", True)), strength=strength)


def exposure_of(request: Request, session: Session, principal: Principal) -> SessionExposure | None:
    """What this person revealed since signing in (None for a login without a browser session)."""
    if principal.user_id is None or principal.session_id is None:
        return None
    targets = ExposureTargets.from_settings(request.app.state.instance.settings.extra)
    return sign_in_exposure(session, principal.user_id, principal.session_id, utc_now(), targets,
                            timedelta(seconds=REVEAL_SECONDS))


def exposure_json(figures: SessionExposure | None) -> dict[str, Any] | None:
    if figures is None:
        return None
    return {"files": figures.files, "reveals": figures.reveals,
            "minutes": int(figures.revealed_for.total_seconds() // 60), "break_due": figures.break_due}


@router.get("/files/{file_id}/preview")
async def preview(request: Request, file_id: str, principal: Reader, clear: str = "", look: str = "",
                  size: str = "") -> Response:
    """A thumbnail, or with `size=large` the viewer's picture (a video's first frame). `look` asks for a blur
    step and colour; beyond the default it needs a `clear` token granting at least that look."""
    instance = request.app.state.instance
    granted = granted_look(instance.secret_key, clear, file_id, principal.session_id) if clear else None
    if clear and granted is None:
        return Response("This reveal has expired; reveal the picture again.", status_code=403, media_type="text/plain")
    wanted = PreviewStyle.from_code(look) if look else None
    if look and wanted is None:
        return Response("Unknown look: ask for a blur step (strong, light, none) and grey or colour, as "
                        "`light-grey`.", status_code=400, media_type="text/plain")
    if wanted is not None and not wanted.within(granted or VIEWER_DEFAULT):
        return Response("Reveal the picture first: that look shows more than was revealed.", status_code=403,
                        media_type="text/plain")
    large = size == "large"

    def render() -> bytes:
        with instance.db.transaction() as session:
            row = instance.files.row(session, file_id)
            if row.media_kind not in PREVIEWABLE:
                raise FileNotFound(file_id)
            user = instance.accounts.user_by_name(session, principal.username)
            preferences = dict(user.preferences or {}) if user else {}
            style = wanted or granted or (VIEWER_DEFAULT if large else style_for(preferences, False))
            revealed = granted is not None and style != VIEWER_DEFAULT and style.within(granted)
            purpose = f"{'revealed' if revealed else 'blurred'} {'view' if large else 'preview'}"
            reader = instance.files.open_for(session, file_id, principal, purpose=purpose)
            kind = row.media_kind
        with reader:
            if large:
                return render_preview(reader, kind, style, size=LARGE_SIZE, frame_at=0)
            return render_preview(reader, kind, style, size=THUMBNAIL_SIZE)

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
def reveal(request: Request, file_id: str, principal: Reader,
           look: Annotated[str, Form(max_length=20)] = CLEAR.code,
           play: Annotated[str, Form(max_length=5)] = "",
           to: Annotated[str, Form(max_length=10)] = "",
           zoom: Annotated[str, Form(max_length=5)] = "") -> Response:
    """Reveal one file at a look (clear by default, as the report page's Reveal; the viewer asks one step at a
    time), or play a video: audited, and only for a few minutes in this session."""
    instance = request.app.state.instance
    style = PreviewStyle.from_code(look)
    if style is None:
        raise InvalidDecision("choose a blur step (strong, light or none) and grey or colour").at_field("look")
    with instance.db.transaction() as session:
        row = instance.files.row(session, file_id)
        try:
            instance.reports.visible_row(session, row.report_id, principal)
        except ReportNotFound:
            raise FileNotFound(file_id) from None
        playing = bool(play)
        if playing and row.media_kind != "video":
            raise InvalidDecision("only a video plays").at_field("play")
        details: dict[str, Any] = {"file_id": file_id, "look": style.code}
        if playing:
            details["play"] = True
        instance.audit.append(session, principal.actor, "file.revealed", report_id=row.report_id, details=details)
        report_id = row.report_id
        figures = exposure_json(exposure_of(request, session, principal))
    expires = int(time.time()) + REVEAL_SECONDS
    token = _reveal_token(instance.secret_key, file_id, principal.session_id, expires, style.code)
    play_token = _reveal_token(instance.secret_key, file_id + PLAYING, principal.session_id, expires,
                               style.code) if playing else ""
    viewer = to == "viewer"
    url = f"/files/{file_id}/preview?" + urlencode({**({"size": "large"} if viewer else {}), "clear": token})
    if "application/json" in request.headers.get("accept", ""):
        body: dict[str, Any] = {"url": url, "token": token, "look": style.code, "seconds": REVEAL_SECONDS,
                                "exposure": figures}
        if playing:
            body["media_url"] = f"/files/{file_id}/media?clear={play_token}"
        return JSONResponse(body)
    if viewer:
        query = {"look": style.code, "token": token, **({"play": play_token} if playing else {}),
                 **({"zoom": zoom} if zoom else {})}
        return RedirectResponse(f"/reports/{report_id}/files/{file_id}/view?{urlencode(query)}#viewer", status_code=303)
    return RedirectResponse(f"/reports/{report_id}?reveal={file_id}&token={token}#file-{file_id}", status_code=303)


@router.get("/files/{file_id}/media")
def media(request: Request, file_id: str, principal: Reader, clear: str = "") -> Response:
    """A video itself, for the viewer's player: only with the token of an audited Play in this session."""
    instance = request.app.state.instance
    if granted_look(instance.secret_key, clear, file_id + PLAYING, principal.session_id) is None:
        return Response("Press Play again: playing is a reveal and lasts a few minutes.", status_code=403,
                        media_type="text/plain")
    with instance.db.transaction() as session:
        row = instance.files.row(session, file_id)
        if row.media_kind != "video":
            raise FileNotFound(file_id)
        media_type = row.media_type or "application/octet-stream"
        reader = instance.files.open_for(session, file_id, principal, purpose="video played")
    with reader:
        content = reader.read()
    return Response(content, media_type=media_type, headers={"Cache-Control": "no-store"})
