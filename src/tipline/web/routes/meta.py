"""The start page, health check, and the OpenAPI description with its browsable documentation."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from PIL import Image, ImageDraw

from tipline.store.accounts import Principal
from tipline.web.auth import SESSION_COOKIE, public
from tipline.web.pages import home_for, render

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Principal, Depends(public())]


@router.get("/")
def home(principal: Anyone) -> RedirectResponse:
    """Staff go to their start page; everyone else to the public report form."""
    return RedirectResponse(home_for(principal) if principal.user_id else "/report", status_code=303)


@router.get("/healthz")
def health(request: Request, principal: Anyone) -> dict[str, Any]:
    instance = request.app.state.instance
    with instance.db.transaction() as session:
        jobs = instance.jobs.counts(session)
    return {"status": "ok", "database": instance.db.dialect, "pipeline": jobs}


SECURITY_SCHEMES: dict[str, Any] = {
    "httpBasic": {
        "type": "http", "scheme": "basic",
        "description": "A service provider's API account (`tipline esp add`): the CyberTipline API (`/ispws`) "
                       "and filing reports (`POST /api/v1/reports`).",
    },
    "session": {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": "A signed-in staff member's session (sign in at /login). Requests that change "
                       "something also send the session's CSRF token in the `X-CSRF-Token` header.",
    },
}


def described_api(app: Any) -> dict[str, Any]:
    """The application's OpenAPI description with the two ways to authenticate, so that `/docs` can
    authorise its requests (each operation still says in words who may call it)."""
    schema: dict[str, Any] = app.openapi()
    components = schema.setdefault("components", {})
    if "securitySchemes" not in components:
        components["securitySchemes"] = SECURITY_SCHEMES
        schema["security"] = [{"httpBasic": []}, {"session": []}]
    return schema


@router.get("/openapi.json")
def openapi(request: Request, principal: Anyone) -> JSONResponse:
    return JSONResponse(described_api(request.app))


@lru_cache(maxsize=1)
def _favicon() -> bytes:
    """tipline's icon, drawn once: a white check mark on the workspace's blue, in the sizes browsers ask for."""
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, 61, 61), fill=(11, 92, 173, 255))
    draw.line((18, 33, 28, 44, 47, 21), fill=(255, 255, 255, 255), width=7, joint="curve")
    out = io.BytesIO()
    image.save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


@router.get("/favicon.ico")
def favicon(principal: Anyone) -> Response:
    return Response(_favicon(), media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request, principal: Anyone) -> HTMLResponse:
    return render(request, "docs.html", {"title": "API documentation"})


@router.get("/welcome", response_class=HTMLResponse)
def welcome(request: Request, principal: Anyone) -> HTMLResponse:
    return render(request, "welcome.html", {"title": "Welcome"})
