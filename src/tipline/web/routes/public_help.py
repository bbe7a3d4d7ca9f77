"""Help for children and families after they report (`/help`), and the hotline's logo."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from tipline.web.i18n import N_
from tipline.web.i18n import gettext as _
from tipline.web.public_form.pages import hotline, render_public
from tipline.web.routes.public_form import Anyone, Language, help_order

router = APIRouter(include_in_schema=False)

SITUATIONS: tuple[tuple[str, str], ...] = (
    ("sextortion", N_("Someone is threatening to share pictures")),
    ("enticement", N_("Someone online is trying to get close to a child")),
    ("images", N_("I found sexual pictures or videos of a child")),
    ("child", N_("This is happening to me")),
    ("parent", N_("I am a parent or carer")),
)


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request, principal: Anyone, language: Language, situation: str | None = None) -> HTMLResponse:
    known = {name for name, _label in SITUATIONS}
    chosen = situation if situation in known else None
    if chosen == "child":
        sections: tuple[str, ...] = help_order("sextortion", True)
    elif chosen == "parent":
        sections = ("families", "threat", "takedown")
    elif chosen is not None:
        sections = help_order(chosen, False)
    else:
        sections = ()
    return render_public(request, "public_help.html", {
        "title": _("Help and support"),
        "situations": SITUATIONS,
        "chosen": chosen,
        "sections": sections,
        "services": hotline(request).support_for(chosen),
    })


@router.get("/hotline/logo")
def hotline_logo(request: Request, principal: Anyone) -> Response:
    profile = hotline(request)
    if profile.logo is None or profile.logo_type() is None:
        return Response(status_code=404)
    return FileResponse(profile.logo, media_type=profile.logo_type(),
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff",
                                 # an SVG opened on its own runs nothing in this site's origin
                                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})
