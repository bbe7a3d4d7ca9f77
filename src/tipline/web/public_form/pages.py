"""What every public page shares: the language it is served in and the hotline's frame around it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from tipline.web import i18n
from tipline.web.pages import render
from tipline.web.public_form.hotline import HotlineProfile, in_language, profile_for


async def public_language(request: Request) -> str:
    """Choose the language of a public page (a dependency: it runs in the request's own context, so
    everything the request renders afterwards is in that language)."""
    code = i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE),
                       request.headers.get("accept-language"))
    i18n.use(code)
    request.state.language = code
    return code


def hotline(request: Request) -> HotlineProfile:
    return profile_for(request.app.state.instance.settings.extra)


def render_public(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A public page in the chosen language, inside the hotline's frame (public_base.html)."""
    language = i18n.current()
    response = render(request, template, {
        "hotline": hotline(request),
        "languages": list(i18n.LANGUAGES.values()),
        "in_language": in_language,
        **context,
    }, status_code=status_code)
    response.headers["Content-Language"] = language.code
    chosen = request.query_params.get("lang")
    if chosen and chosen.lower() == language.code:
        # a session cookie (gone when the browser closes): the choice holds on the next pages, and
        # nothing lasting on a shared device says this site was visited
        response.set_cookie(i18n.COOKIE, language.code, httponly=True, samesite="lax", path="/",
                            secure=request.app.state.instance.settings.secure_cookies)
    return response
