"""`/m/lookup`: look a signal or an uploaded photo or video up in the banks (HMA's matching root)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from tipline.matching import (
    FileSignals,
    LookupResult,
    PdqQuery,
    SignalError,
    SignalType,
    VpdqFrame,
    parse_signal_type,
)
from tipline.web.routes.hma.access import Looker
from tipline.web.routes.hma.bodies import read_upload
from tipline.web.routes.hma.hashing import hash_within_budget
from tipline.web.routes.hma.shapes import (
    ERRORS,
    NO_URL_FETCHING,
    UPLOAD_BODY,
    UPLOAD_ERRORS,
    HmaMatch,
    Refused,
    answers,
)

router = APIRouter(tags=["HMA-compatible API"])


def _by_bank(result: LookupResult, banks: set[str] | None, signal_types: set[SignalType] | None = None
             ) -> dict[str, list[dict[str, Any]]]:
    """HMA's answer: bank name to its matching entries, nearest first. Only what counts as a match is
    listed: known-material and identified-series entries that no ignore entry silenced."""
    out: dict[str, list[dict[str, Any]]] = {}
    for match in result.hits:
        if banks is not None and match.bank.name not in banks:
            continue
        if signal_types is not None and match.signal_type not in signal_types:
            continue
        out.setdefault(match.bank.name, []).append(
            {"bank_content_id": match.entry.entry_id, "distance": str(match.distance)})
    return out


def _bank_filter(banks: str | None) -> set[str] | None:
    return {b.strip() for b in banks.split(",") if b.strip()} if banks else None


@router.get("/m/lookup", summary="Look up a signal", response_model=dict[str, list[HmaMatch]],
            responses={**ERRORS, 501: UPLOAD_ERRORS[501]})
@answers
async def lookup_signal(
    request: Request,
    principal: Looker,
    signal_type: Annotated[str | None, Query(description="pdq, md5, video_md5, sha1, sha256 or vpdq")] = None,
    signal: Annotated[str | None, Query(description="The hash (hex; vpdq: its JSON list of frames)")] = None,
    banks: Annotated[str | None, Query(description="Comma-separated bank names to restrict the answer to")] = None,
    url: Annotated[str | None, Query(description="Not served (501)")] = None,
    seed: Annotated[str | None, Query(description="Accepted and ignored (no coinflip)")] = None,
    bypass_coinflip: Annotated[str | None, Query(description="Accepted and ignored (no coinflip)")] = None,
) -> Any:
    """Bank name to the entries the signal matches, as HMA answers:
    `{"BANK": [{"bank_content_id": 12, "distance": "4"}]}`; `{}` when nothing matches."""
    if url is not None:
        raise Refused(501, NO_URL_FETCHING.format(path="/m/lookup"))
    if not signal or not signal_type:
        raise Refused(400, "Either url or both signal and signal_type are required (tipline serves signal and "
                       "signal_type)")
    try:
        kind = parse_signal_type(signal_type)
    except SignalError:
        raise Refused(400, f"No such SignalType {signal_type!r} (served: "
                       f"{', '.join(t.value for t in SignalType)})") from None
    instance = request.app.state.instance

    def work() -> LookupResult:
        # a session (read only: on SQLite a writer, a fetch, does not hold it up) only when the change log is due
        matcher = instance.matching.current(instance.db.read_session)
        found: LookupResult = matcher.lookup_signal(kind, signal)
        return found

    try:
        result = await run_in_threadpool(work)
    except SignalError as error:
        raise Refused(400, f"invalid signal: {error}") from None
    return _by_bank(result, _bank_filter(banks))

@router.post("/m/lookup", summary="Hash an uploaded photo or video and look it up",
             response_model=dict[str, dict[str, list[HmaMatch]]], responses={**ERRORS, **UPLOAD_ERRORS},
             openapi_extra=UPLOAD_BODY)
@answers
async def lookup_upload(
    request: Request,
    principal: Looker,
    banks: Annotated[str | None, Query(description="Comma-separated bank names to restrict the answer to")] = None,
    seed: Annotated[str | None, Query(description="Accepted and ignored (no coinflip)")] = None,
    bypass_coinflip: Annotated[str | None, Query(description="Accepted and ignored (no coinflip)")] = None,
) -> Any:
    """Signal type to bank to matches, as HMA answers: `{"pdq": {"BANK": [...]}, "md5": {}}`. The photo's
    rotations and flips are looked up too (a match is reported once, at its nearest variant)."""
    upload = await read_upload(request)
    assert upload.field is not None
    field = upload.field
    hashes = await hash_within_budget(request, upload)
    instance = request.app.state.instance
    if field == "photo":
        query = FileSignals(md5=hashes.md5, pdq=hashes.dihedral
                            or ([PdqQuery(hashes.pdq, hashes.pdq_quality)] if hashes.pdq else []))
        groups = {"pdq": {SignalType.PDQ}, "md5": {SignalType.MD5, SignalType.VIDEO_MD5}}
    else:
        query = FileSignals(md5=hashes.md5, vpdq=[VpdqFrame(f.pdq, f.quality, f.timestamp, f.frame_number)
                                                   for f in hashes.video_frames])
        groups = {"video_md5": {SignalType.MD5, SignalType.VIDEO_MD5}, "vpdq": {SignalType.VPDQ}}

    def work() -> LookupResult:
        # a session (read only: on SQLite a writer, a fetch, does not hold it up) only when the change log is due
        matcher = instance.matching.current(instance.db.read_session)
        found: LookupResult = matcher.lookup(query)
        return found

    result = await run_in_threadpool(work)
    chosen = _bank_filter(banks)
    return {name: _by_bank(result, chosen, types) for name, types in groups.items()}
