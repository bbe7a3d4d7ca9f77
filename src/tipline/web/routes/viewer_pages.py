"""The evidence viewer: one picture or video of a report large, on demand, blurred strongly and in greyscale
until the analyst takes one audited step at a time towards clear (the reveal of previews.py); zoom, the
report's other files one key away, and what this sign-in has revealed so far with a reminder to pause."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tipline.domain.numbers import parse_whole_number
from tipline.media.previews import VIEWER_DEFAULT, VIEWER_STEPS, PreviewStyle
from tipline.store.files import FileNotFound
from tipline.triage.exposure import ExposureTargets
from tipline.web.pages import render
from tipline.web.params import Id
from tipline.web.routes.previews import PLAYING, PREVIEWABLE, REVEAL_SECONDS, Reader, exposure_of, granted_look

router = APIRouter(include_in_schema=False)
ZOOMS = (100, 150, 200, 300, 400)


def viewer_url(report_id: int, file_id: str, **query: str) -> str:
    kept = {name: value for name, value in query.items() if value}
    return f"/reports/{report_id}/files/{file_id}/view" + (f"?{urlencode(kept)}" if kept else "") + "#viewer"


@router.get("/reports/{report_id}/files/{file_id}/view", response_class=HTMLResponse)
def view_file(request: Request, report_id: Id, file_id: str, principal: Reader,
              look: Annotated[str, Query(max_length=20)] = "", token: Annotated[str, Query(max_length=200)] = "",
              play: Annotated[str, Query(max_length=200)] = "", zoom: Annotated[str, Query(max_length=5)] = "",
              ) -> HTMLResponse:
    """The large view. Without a token every file opens at the default look; `look` within what `token`
    grants is shown as asked (the way back to more blur and to greyscale needs no reveal)."""
    instance = request.app.state.instance
    granted = granted_look(instance.secret_key, token, file_id, principal.session_id) if token else None
    wanted = PreviewStyle.from_code(look)
    style = wanted if wanted is not None and wanted.within(granted or VIEWER_DEFAULT) else (granted or VIEWER_DEFAULT)
    if granted is None:
        token = ""
    playing = bool(play) and granted_look(instance.secret_key, play, file_id + PLAYING, principal.session_id) is not None
    asked_zoom = parse_whole_number(zoom, minimum=1)
    zoom_level = asked_zoom if asked_zoom in ZOOMS else ZOOMS[0]
    with instance.db.transaction() as session:
        report = instance.reports.read(session, report_id, principal, purpose="file viewer")
        viewable = [f for f in report.files if f.media_kind in PREVIEWABLE]
        index = next((i for i, f in enumerate(viewable) if f.file_id == file_id), None)
        if index is None:
            raise FileNotFound(file_id)
        exposure = exposure_of(request, session, principal)
    current = viewable[index]
    step = VIEWER_STEPS.index(style.step)
    grey = "grey" if style.greyscale else "colour"
    less_blur = f"{VIEWER_STEPS[step + 1]}-{grey}" if step + 1 < len(VIEWER_STEPS) else ""
    more_blur = f"{VIEWER_STEPS[step - 1]}-{grey}" if step > 0 else ""
    other_colour = f"{style.step}-{'colour' if style.greyscale else 'grey'}"
    keep = {"look": style.code if token else "", "token": token, "play": play if playing else ""}
    zoom_at = ZOOMS.index(zoom_level)

    def at_zoom(level: int) -> str:
        return viewer_url(report_id, file_id, **keep, zoom=str(level) if level != ZOOMS[0] else "")

    neighbours: dict[str, Any] = {
        "previous": viewer_url(report_id, viewable[index - 1].file_id) if index > 0 else "",
        "next": viewer_url(report_id, viewable[index + 1].file_id) if index + 1 < len(viewable) else "",
    }
    picture = f"/files/{file_id}/preview?" + urlencode({"size": "large", **({"look": style.code, "clear": token}
                                                                           if token else {})})
    return render(request, "viewer.html", {
        "title": f"Viewer: {current.display_name}",
        "report_id": report_id,
        "file": current,
        "position": index + 1,
        "count": len(viewable),
        "neighbours": neighbours,
        "style": style,
        "look_words": style.words,
        "token": token,
        "picture": picture,
        "blurred_picture": f"/files/{file_id}/preview?size=large",
        # a step towards clear is an audited reveal (a form); a step back is a plain link within the grant
        "less_blur": less_blur,
        "less_blur_words": (PreviewStyle.from_code(less_blur) or style).words.split(",")[0] if less_blur else "",
        "more_blur_url": viewer_url(report_id, file_id, look=more_blur, token=token, zoom=zoom) if more_blur else "",
        "colour_needs_reveal": style.greyscale,
        "other_colour": other_colour,
        "grey_url": viewer_url(report_id, file_id, look=other_colour, token=token, zoom=zoom),
        "blur_again_url": viewer_url(report_id, file_id, zoom=zoom),
        "zoom": zoom_level,
        "zoom_in_url": at_zoom(ZOOMS[zoom_at + 1]) if zoom_at + 1 < len(ZOOMS) else "",
        "zoom_out_url": at_zoom(ZOOMS[zoom_at - 1]) if zoom_at > 0 else "",
        "zooms": ZOOMS,
        "playing": playing,
        "media_url": f"/files/{file_id}/media?clear={play}" if playing else "",
        "exposure": exposure,
        "targets": ExposureTargets.from_settings(instance.settings.extra),
        "reveal_minutes": REVEAL_SECONDS // 60,
    })
