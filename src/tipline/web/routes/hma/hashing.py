"""`/h/hash`: hash an uploaded photo or video (HMA's hashing root), and the hashing that lookups and
curation share: within the web process's decode budget, checking the content is what its field says."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from tipline.media import FileHashes, HashOptions, MediaKind, hash_file, to_threatexchange_vpdq
from tipline.web.decoding import DecodeBudget, DecodeBusy
from tipline.web.routes.hma.access import Looker
from tipline.web.routes.hma.bodies import Upload, read_upload
from tipline.web.routes.hma.shapes import (
    ERRORS,
    NO_URL_FETCHING,
    SIGNALS_OF,
    UPLOAD_BODY,
    UPLOAD_ERRORS,
    Refused,
    answers,
)

router = APIRouter(tags=["HMA-compatible API"])


def _wanted_types(content_type: str, types: str | None) -> tuple[str, ...]:
    available = SIGNALS_OF[content_type]
    if types is None:
        return available
    chosen = tuple(dict.fromkeys(t.strip() for t in types.split(",") if t.strip()))
    for name in chosen:
        if name not in available:
            raise Refused(400, f"signal type {name!r} doesn't exist or is not computed for {content_type} "
                           f"(available: {', '.join(available)})")
    if not chosen:
        raise Refused(400, "empty signal type selection")
    return chosen


async def hash_within_budget(request: Request, upload: Upload) -> FileHashes:
    """Hash an upload within the web process's decode budget (web/decoding.py)."""
    budget: DecodeBudget = request.app.state.decode_budget
    try:
        return await budget.run(_hash_now, upload, budget.hash_options)
    except DecodeBusy as busy:
        raise Refused(503, str(busy)) from None


def _hash_now(upload: Upload, options: HashOptions) -> FileHashes:
    hashes = hash_file(bytes(upload.data), name=upload.filename, options=options)
    upload.data = bytearray()  # the content is not needed any more
    field = upload.field
    want = MediaKind.IMAGE if field == "photo" else MediaKind.VIDEO
    if hashes.size == 0:
        raise Refused(400, f"the {field} is empty (0 bytes)")
    if hashes.kind is not want:
        raise Refused(400, f"the {field} is not {'an image' if field == 'photo' else 'a video'}: "
                       f"its content is {hashes.media_type}")
    if hashes.errors and not (hashes.pdq or hashes.video_frames):
        raise Refused(400, f"could not hash the {field}: {hashes.errors[0].message}")
    return hashes


def pick_signals(hashes: FileHashes, wanted: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str | None] = {
        "pdq": hashes.pdq,
        "md5": hashes.md5,
        "video_md5": hashes.md5,
        "vpdq": to_threatexchange_vpdq(hashes.video_frames) if hashes.video_frames else None,
    }
    return {name: value for name in wanted if (value := found[name]) is not None}



@router.get("/h/hash", summary="Hash content by URL (not served: upload it with POST)",
            responses={200: {"description": "Never: see 501"}, **ERRORS, **UPLOAD_ERRORS})
@answers
async def hash_url(principal: Looker, url: str | None = None) -> Any:
    """HMA fetches `url` and hashes it. tipline makes no outbound requests, so this answers 501 and
    names the upload form (POST /h/hash) instead."""
    if url is None:
        raise Refused(400, "url is required; but tipline does not fetch URLs: POST the file to /h/hash instead")
    raise Refused(501, NO_URL_FETCHING.format(path="/h/hash"))


@router.post("/h/hash", summary="Hash an uploaded photo or video", response_model=dict[str, str],
             responses={**ERRORS, **UPLOAD_ERRORS}, openapi_extra=UPLOAD_BODY)
@answers
async def hash_upload(
    request: Request,
    principal: Looker,
    types: Annotated[str | None, Query(description="Comma-separated signal types to return")] = None,
) -> Any:
    """Signal type to hash, as HMA answers: `{"pdq": ..., "md5": ...}` for a photo, `{"video_md5": ...,
    "vpdq": ...}` for a video (vPDQ as python-threatexchange writes it). Nothing is stored."""
    upload = await read_upload(request)
    assert upload.field is not None
    wanted = _wanted_types(upload.field, types)
    hashes = await hash_within_budget(request, upload)
    return pick_signals(hashes, wanted)
