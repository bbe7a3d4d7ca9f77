"""The start page, health check, and the OpenAPI description with its browsable documentation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from tipline.store.accounts import Principal
from tipline.web.auth import public
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


@router.get("/openapi.json")
def openapi(request: Request, principal: Anyone) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request, principal: Anyone) -> HTMLResponse:
    return render(request, "docs.html", {"title": "API documentation"})


@router.get("/welcome", response_class=HTMLResponse)
def welcome(request: Request, principal: Anyone) -> HTMLResponse:
    return render(request, "welcome.html", {"title": "Welcome"})
