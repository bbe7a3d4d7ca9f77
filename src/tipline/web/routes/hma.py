"""HMA-compatible endpoints: the subset of Meta's Hasher-Matcher-Actioner 2.0 API that an integration uses
to hash content, look hashes up and fill banks, with HMA's paths, parameters and JSON shapes, so that it
can switch to tipline by changing its base URL (docs/matching.md, "HMA-compatible API", lists what is
served and where tipline differs).

* `/h/hash`: hash an uploaded photo or video (multipart/form-data, field `photo` or `video`).
* `/m/lookup`: look a signal up (GET) or an uploaded file (POST); answers `{bank: [{bank_content_id,
  distance}]}` with what is matched by known-material and identified-series banks and not silenced by
  an ignore bank.
* `/c/banks`, `/c/bank/{bank_name}`: list, create and read banks.
* `/c/bank/{bank_name}/signal`, `/c/bank/{bank_name}/content`: add signals, or the signals of uploaded content.

Behind tipline's authorisation: lookups and hashing for staff who read reports and for service
providers' API accounts; reading banks for staff who read reports; changing banks for supervisors.
Uploads are read from the request stream into memory within the body limit and hashed there: no byte
of them is written to disk (no UploadFile, whose spooling would). Lookups use this process's matcher;
changes go through BankStore (audited, in the change log), so every process matches them within a second.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from tipline.domain.numbers import parse_whole_number
from tipline.domain.roles import Permission, Role
from tipline.matching import (
    BankEntry,
    BankKind,
    FileSignals,
    LookupResult,
    PdqQuery,
    SignalError,
    SignalType,
    VpdqFrame,
    parse_classification,
    parse_signal_type,
)
from tipline.media import FileHashes, HashOptions, MediaKind, hash_file, to_threatexchange_vpdq
from tipline.store.accounts import Principal
from tipline.store.banks import BankError
from tipline.store.tables import BankEntryRow, BankRow
from tipline.web.auth import (
    CSRF_HEADER,
    POLICY_MARK,
    AuthError,
    _basic_credentials,
    allow,
    basic_user_login,
    principal_of,
)
from tipline.web.decoding import DecodeBudget, DecodeBusy
from tipline.web.params import Id

router = APIRouter(tags=["HMA-compatible API"])

CONTENT_TYPES = ("photo", "video")
SIGNALS_OF = {"photo": ("pdq", "md5"), "video": ("video_md5", "vpdq")}
"""The signals /h/hash computes for each HMA content type (HMA computes pdq, and video_md5 and vpdq)."""
MAX_JSON_BYTES = 256 * 1024
MAX_FIELD_BYTES = 64 * 1024
NO_URL_FETCHING = ("tipline does not fetch URLs (a hotline server makes no outbound requests by design); "
                   "upload the file instead: POST it as multipart/form-data in a field named photo or video, "
                   "as HMA's POST {path} takes it")


# --- shapes (HMA's, plus tipline's additions, which HMA clients ignore) ---------------------------------


class HmaMatch(BaseModel):
    bank_content_id: int = Field(description="The id of the matching bank entry (each signal is one entry in tipline)")
    distance: str = Field(description="As HMA writes it: the PDQ Hamming distance as text; \"0\" for exact hashes")


class HmaBank(BaseModel):
    name: str
    matching_enabled_ratio: float = Field(1.0, description="Always 1.0: tipline banks match every lookup")
    kind: Literal["known_material", "identified_series", "ignore"] = Field(
        description="tipline: what a match means (ignore banks hold known false positives)")
    pdq_threshold: int = Field(description="tipline: PDQ distance at or below which the bank's entries match")
    description: str = ""


class HmaBankCreate(BaseModel):
    name: str = Field(description="1 to 100 letters, digits, '_', '.' or '-' (HMA's CAPS_AND_UNDERSCORE names fit)")
    enabled_ratio: float | None = Field(1.0, description="Only 1.0 is accepted (tipline has no sampled matching)")
    enabled: bool | None = Field(None, description="Only true is accepted")
    kind: Literal["known_material", "identified_series", "ignore"] = Field(
        "known_material", description="tipline: the kind of bank")
    pdq_threshold: int = Field(31, ge=0, le=256, description="tipline: the bank's PDQ match threshold")
    description: str = Field("", description="tipline: what the bank holds")


class HmaContentAdded(BaseModel):
    id: int = Field(description="The entry id of the first signal added (HMA's bank content id)")
    signals: dict[str, str] = Field(description="Signal type to the value stored")
    entry_ids: dict[str, int] = Field(description="tipline: the entry id of each signal (each is its own entry)")
    not_added: dict[str, str] = Field(default_factory=dict,
                                      description="tipline: signals computed but not banked, and why")


class HmaMessage(BaseModel):
    message: str = Field(description="What went wrong (HMA's error shape)")
    error: str = Field(description="tipline: a stable code (bad_request, not_found, ...)")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": HmaMessage, "description": "Malformed input; the message says which and why"},
    401: {"model": HmaMessage, "description": "No credentials, or wrong ones"},
    403: {"model": HmaMessage, "description": "The role may not do this (or, for bank creation, HMA's 'exists')"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": HmaMessage, "description": "No bank of that name"}}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {413: {"model": HmaMessage, "description": "The body is over the limit (TIPLINE_MAX_BODY_BYTES)"},
                 501: {"model": HmaMessage, "description": "A `url` was given: tipline does not fetch URLs"}}
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object",
    "description": "One file, in a field named after its HMA content type",
    "properties": {name: {"type": "string", "format": "binary"} for name in CONTENT_TYPES},
}}}}}


def _json_body(model: type[BaseModel] | None, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = (model.model_json_schema() if model is not None else
                              {"type": "object", "additionalProperties": {"type": "string"}})
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": schema}}}}


class _Refused(Exception):
    """An answer other than success, in HMA's error shape ({"message": ...}) plus tipline's code."""

    CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large",
             415: "unsupported_media_type", 501: "not_implemented", 503: "busy"}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"message": self.message, "error": self.CODES.get(self.status, "error")},
                            status_code=self.status, headers={"Retry-After": "5"} if self.status == 503 else None)


def _answers(endpoint: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Turn _Refused into its JSON answer (these paths are not under /api/, so the application's own
    handlers would answer people's pages)."""

    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await endpoint(*args, **kwargs)
        except _Refused as refused:
            return refused.response()

    return wrapper


# --- who may ------------------------------------------------------------------------------------------


def _principal_with_login(request: Request) -> Principal:
    """As on /api/: a browser session, a service provider's API account, or a person's own login by
    HTTP Basic (checked with Argon2) for scripts."""
    principal = principal_of(request)
    credentials = _basic_credentials(request)
    if principal.role == Role.PUBLIC and credentials is not None:
        person = basic_user_login(request, *credentials)
        if person is not None:
            request.state.principal = principal = person
    return principal


def _policy(*permissions: Permission) -> Callable[..., Any]:
    """tipline's allow() policy, answering in JSON on these paths. A browser session's multipart upload
    must carry its CSRF token in the X-CSRF-Token header: the form is never parsed (spooled) to find it."""
    inner = allow(*permissions)

    async def policy(request: Request) -> Principal:
        principal = await run_in_threadpool(_principal_with_login, request)
        content_type = request.headers.get("content-type", "").lower()
        if (principal.session_id is not None and content_type.startswith("multipart/")
                and not request.headers.get(CSRF_HEADER)):
            raise AuthError(403, "send this session's CSRF token in the X-CSRF-Token header with an upload",
                            api=True)
        try:
            principal_found: Principal = await inner(request)
            return principal_found
        except AuthError as error:
            raise AuthError(error.status, error.message, api=True) from None

    setattr(policy, POLICY_MARK, getattr(inner, POLICY_MARK))
    return policy


Looker = Annotated[Principal, Depends(_policy(Permission.REPORT_READ, Permission.REPORT_SUBMIT))]
"""Hashing and lookups: analysts, supervisors, victim identification, and service providers' API accounts."""
Reader = Annotated[Principal, Depends(_policy(Permission.REPORT_READ))]
"""Reading banks: analysts, supervisors, victim identification."""
Curator = Annotated[Principal, Depends(_policy(Permission.REPORT_SUPERVISE))]
"""Creating banks and adding to them: supervisors."""


# --- reading the body without touching the disk --------------------------------------------------------


async def _read_json(request: Request) -> Any:
    media, _ = parse_options_header(request.headers.get("content-type", ""))
    if media != b"application/json":
        raise _Refused(415, "send the body as application/json (got "
                       f"{request.headers.get('content-type') or 'no Content-Type'})")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_JSON_BYTES:
                raise _Refused(413, f"the JSON body is over {MAX_JSON_BYTES:,} bytes")
    except StarletteHTTPException as error:
        raise _Refused(error.status_code, str(error.detail)) from None
    try:
        parsed = json.loads(body)
    except ValueError as error:  # not JSON, not UTF-8, or a number of more than 4,300 digits
        raise _Refused(400, f"the body is not valid JSON ({error})") from None
    where = _nul_at(parsed, "")
    if where is not None:
        raise _Refused(400, f"{where or '(body)'}: text must not contain the NUL character (U+0000)")
    return parsed


def _nul_at(value: Any, path: str) -> str | None:
    """Where in a JSON value a text holds NUL (PostgreSQL can store it nowhere), or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, list):
        return next((p for i, item in enumerate(value) if (p := _nul_at(item, f"{path}[{i}]")) is not None), None)
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return inner.replace("\x00", "")
            found = _nul_at(item, inner)
            if found is not None:
                return found
    return None


class _Upload:
    """The one file of a multipart/form-data body, in memory: its field (the HMA content type), name, bytes."""

    def __init__(self, boundary: bytes, limit: int) -> None:
        self.limit = limit
        self.field: str | None = None
        self.filename: str | None = None
        self.data = bytearray()
        self.finished = False
        self._current: str | None = None
        self._is_file = False
        self._other = 0
        self._headers: dict[str, bytes] = {}
        self._hname = bytearray()
        self._hvalue = bytearray()
        self.parser = MultipartParser(boundary, {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._hname.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._hvalue.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._part_data,
            "on_end": self._end,
        })

    def _begin(self) -> None:
        self._headers, self._current, self._is_file, self._other = {}, None, False, 0

    def _header_end(self) -> None:
        self._headers[self._hname.decode("latin-1").lower()] = bytes(self._hvalue)
        self._hname.clear()
        self._hvalue.clear()

    def _headers_done(self) -> None:
        disposition, params = parse_options_header(self._headers.get("content-disposition", b""))
        if disposition != b"form-data" or b"name" not in params:
            raise _Refused(400, "a multipart part lacks Content-Disposition: form-data; name=...")
        name = params[b"name"].decode("utf-8", "replace")
        is_file = name in CONTENT_TYPES or b"filename" in params
        if not is_file:
            return  # another form field: read and ignored
        if name not in CONTENT_TYPES:
            raise _Refused(400, f"no such content_type: {name!r} (name the file's field photo or video)")
        if self.field is not None:
            raise _Refused(400, "Only one file allowed per request")
        self.field, self._is_file = name, True
        raw = params.get(b"filename")
        self.filename = raw.decode("utf-8", "replace") if raw else None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.data.extend(data[start:end])
            if len(self.data) > self.limit:
                raise _Refused(413, f"the file is over the limit of {self.limit:,} bytes")
        else:
            self._other += end - start
            if self._other > MAX_FIELD_BYTES:
                raise _Refused(400, "a form field other than the file is too long")

    def _end(self) -> None:
        self.finished = True


async def _read_upload(request: Request) -> _Upload:
    media, params = parse_options_header(request.headers.get("content-type", ""))
    if media != b"multipart/form-data" or not params.get(b"boundary"):
        raise _Refused(400, "Missing multipart/form-data file upload: send the file in a form field named photo "
                       "or video (curl --form photo=@picture.jpg)")
    upload = _Upload(params[b"boundary"], request.app.state.instance.settings.max_body_bytes)
    try:
        async for chunk in request.stream():
            upload.parser.write(chunk)
        upload.parser.finalize()
    except _Refused:
        raise
    except StarletteHTTPException as error:  # the body limit, enforced while the body streams in
        raise _Refused(error.status_code, str(error.detail)) from None
    except Exception as error:  # noqa: BLE001 - python-multipart's parse errors
        raise _Refused(400, f"the multipart body is malformed ({error})") from None
    if not upload.finished:
        raise _Refused(400, "the multipart body ended before its closing boundary")
    if upload.field is None:
        raise _Refused(400, "Missing multipart/form-data file upload: no field named photo or video")
    return upload


# --- hashing ----------------------------------------------------------------------------------------------


def _wanted_types(content_type: str, types: str | None) -> tuple[str, ...]:
    available = SIGNALS_OF[content_type]
    if types is None:
        return available
    chosen = tuple(dict.fromkeys(t.strip() for t in types.split(",") if t.strip()))
    for name in chosen:
        if name not in available:
            raise _Refused(400, f"signal type {name!r} doesn't exist or is not computed for {content_type} "
                           f"(available: {', '.join(available)})")
    if not chosen:
        raise _Refused(400, "empty signal type selection")
    return chosen


async def _hash(request: Request, upload: _Upload) -> FileHashes:
    """Hash an upload within the web process's decode budget (web/decoding.py)."""
    budget: DecodeBudget = request.app.state.decode_budget
    try:
        return await budget.run(_hash_now, upload, budget.hash_options)
    except DecodeBusy as busy:
        raise _Refused(503, str(busy)) from None


def _hash_now(upload: _Upload, options: HashOptions) -> FileHashes:
    hashes = hash_file(bytes(upload.data), name=upload.filename, options=options)
    upload.data = bytearray()  # the content is not needed any more
    field = upload.field
    want = MediaKind.IMAGE if field == "photo" else MediaKind.VIDEO
    if hashes.size == 0:
        raise _Refused(400, f"the {field} is empty (0 bytes)")
    if hashes.kind is not want:
        raise _Refused(400, f"the {field} is not {'an image' if field == 'photo' else 'a video'}: "
                       f"its content is {hashes.media_type}")
    if hashes.errors and not (hashes.pdq or hashes.video_frames):
        raise _Refused(400, f"could not hash the {field}: {hashes.errors[0].message}")
    return hashes


def _signals(hashes: FileHashes, wanted: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str | None] = {
        "pdq": hashes.pdq,
        "md5": hashes.md5,
        "video_md5": hashes.md5,
        "vpdq": to_threatexchange_vpdq(hashes.video_frames) if hashes.video_frames else None,
    }
    return {name: value for name in wanted if (value := found[name]) is not None}


# --- lookups ----------------------------------------------------------------------------------------------


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


# --- endpoints: hashing -----------------------------------------------------------------------------------


@router.get("/h/hash", summary="Hash content by URL (not served: upload it with POST)",
            responses={200: {"description": "Never: see 501"}, **ERRORS, **UPLOAD_ERRORS})
@_answers
async def hash_url(principal: Looker, url: str | None = None) -> Any:
    """HMA fetches `url` and hashes it. tipline makes no outbound requests, so this answers 501 and
    names the upload form (POST /h/hash) instead."""
    if url is None:
        raise _Refused(400, "url is required; but tipline does not fetch URLs: POST the file to /h/hash instead")
    raise _Refused(501, NO_URL_FETCHING.format(path="/h/hash"))


@router.post("/h/hash", summary="Hash an uploaded photo or video", response_model=dict[str, str],
             responses={**ERRORS, **UPLOAD_ERRORS}, openapi_extra=UPLOAD_BODY)
@_answers
async def hash_upload(
    request: Request,
    principal: Looker,
    types: Annotated[str | None, Query(description="Comma-separated signal types to return")] = None,
) -> Any:
    """Signal type to hash, as HMA answers: `{"pdq": ..., "md5": ...}` for a photo, `{"video_md5": ...,
    "vpdq": ...}` for a video (vPDQ as python-threatexchange writes it). Nothing is stored."""
    upload = await _read_upload(request)
    assert upload.field is not None
    wanted = _wanted_types(upload.field, types)
    hashes = await _hash(request, upload)
    return _signals(hashes, wanted)


# --- endpoints: matching ----------------------------------------------------------------------------------


@router.get("/m/lookup", summary="Look up a signal", response_model=dict[str, list[HmaMatch]],
            responses={**ERRORS, 501: UPLOAD_ERRORS[501]})
@_answers
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
        raise _Refused(501, NO_URL_FETCHING.format(path="/m/lookup"))
    if not signal or not signal_type:
        raise _Refused(400, "Either url or both signal and signal_type are required (tipline serves signal and "
                       "signal_type)")
    try:
        kind = parse_signal_type(signal_type)
    except SignalError:
        raise _Refused(400, f"No such SignalType {signal_type!r} (served: "
                       f"{', '.join(t.value for t in SignalType)})") from None
    instance = request.app.state.instance

    def work() -> LookupResult:
        with instance.db.transaction() as session:
            matcher = instance.matching.matcher(session)
        found: LookupResult = matcher.lookup_signal(kind, signal)
        return found

    try:
        result = await run_in_threadpool(work)
    except SignalError as error:
        raise _Refused(400, f"invalid signal: {error}") from None
    return _by_bank(result, _bank_filter(banks))


@router.post("/m/lookup", summary="Hash an uploaded photo or video and look it up",
             response_model=dict[str, dict[str, list[HmaMatch]]], responses={**ERRORS, **UPLOAD_ERRORS},
             openapi_extra=UPLOAD_BODY)
@_answers
async def lookup_upload(
    request: Request,
    principal: Looker,
    banks: Annotated[str | None, Query(description="Comma-separated bank names to restrict the answer to")] = None,
    seed: Annotated[str | None, Query(description="Accepted and ignored (no coinflip)")] = None,
    bypass_coinflip: Annotated[str | None, Query(description="Accepted and ignored (no coinflip)")] = None,
) -> Any:
    """Signal type to bank to matches, as HMA answers: `{"pdq": {"BANK": [...]}, "md5": {}}`. The photo's
    rotations and flips are looked up too (a match is reported once, at its nearest variant)."""
    upload = await _read_upload(request)
    assert upload.field is not None
    field = upload.field
    hashes = await _hash(request, upload)
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
        with instance.db.transaction() as session:
            matcher = instance.matching.matcher(session)
        found: LookupResult = matcher.lookup(query)
        return found

    result = await run_in_threadpool(work)
    chosen = _bank_filter(banks)
    return {name: _by_bank(result, chosen, types) for name, types in groups.items()}


# --- endpoints: curation ----------------------------------------------------------------------------------


def _bank_shape(row: BankRow) -> dict[str, Any]:
    return {"name": row.name, "matching_enabled_ratio": 1.0, "kind": row.kind, "pdq_threshold": row.pdq_threshold,
            "description": row.description or ""}


def _bank_row(session: Any, name: str) -> BankRow:
    row: BankRow | None = session.execute(select(BankRow).where(BankRow.name == name)).scalar_one_or_none()
    if row is None:
        raise _Refused(404, f"bank {name!r} not found")
    return row


@router.get("/c/banks", summary="List banks", response_model=list[HmaBank], responses=ERRORS)
@_answers
async def banks_index(request: Request, principal: Reader) -> Any:
    """Every bank, by name, as HMA's BankConfig (`name`, `matching_enabled_ratio`) with tipline's kind,
    PDQ threshold and description."""
    instance = request.app.state.instance

    def work() -> list[dict[str, Any]]:
        with instance.db.transaction() as session:
            return [_bank_shape(row) for row in session.execute(select(BankRow).order_by(BankRow.name)).scalars()]

    return await run_in_threadpool(work)


@router.get("/c/bank/{bank_name}", summary="Read a bank", response_model=HmaBank, responses={**ERRORS, **NOT_FOUND})
@_answers
async def bank_show(request: Request, bank_name: str, principal: Reader) -> Any:
    instance = request.app.state.instance

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            return _bank_shape(_bank_row(session, bank_name))

    return await run_in_threadpool(work)


@router.post("/c/banks", summary="Create a bank", status_code=201, response_model=HmaBank,
             responses={**ERRORS, 415: {"model": HmaMessage, "description": "Not application/json"}},
             openapi_extra=_json_body(HmaBankCreate, "HMA's BankCreateRequest, with tipline's kind and threshold"))
@_answers
async def bank_create(request: Request, principal: Curator) -> Any:
    """Create a bank (audited). A bank of that name already existing answers 403, as HMA does."""
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise _Refused(400, "the body must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise _Refused(400, "name is required")
    ratio, enabled = body.get("enabled_ratio"), body.get("enabled")
    if (ratio is not None and ratio != 1 and ratio != 1.0) or enabled is False:
        raise _Refused(400, "tipline banks match every lookup: enabled_ratio must be 1.0 (disable entries instead)")
    kind = body.get("kind", BankKind.KNOWN_MATERIAL.value)
    threshold = body.get("pdq_threshold", 31)
    description = body.get("description", "")
    if kind not in {k.value for k in BankKind}:
        raise _Refused(400, f"kind must be one of {', '.join(k.value for k in BankKind)}, got {kind!r}")
    if not isinstance(threshold, int) or isinstance(threshold, bool):
        raise _Refused(400, f"pdq_threshold must be an integer from 0 to 256, got {threshold!r}")
    if not isinstance(description, str):
        raise _Refused(400, "description must be text")
    instance = request.app.state.instance

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            if session.execute(select(BankRow.id).where(BankRow.name == name)).first() is not None:
                raise _Refused(403, "Bank already exists")
            try:
                row = instance.banks.create(session, name, kind, principal.actor, pdq_threshold=threshold,
                                            description=description)
            except BankError as error:
                raise _Refused(400, str(error)) from None
            shape = _bank_shape(row)
        with instance.db.transaction() as session:
            instance.matching.matcher(session, fresh=True)  # this process matches it at once
        return shape

    return await run_in_threadpool(work)


def _provenance(request: Request) -> dict[str, str | None]:
    """tipline's additions to the curation calls: provenance of what is added, as query parameters."""
    return {name: request.query_params.get(name) or None
            for name in ("classification", "series", "source", "source_id")}


def _add_signals(request: Request, principal: Principal, bank_name: str, signals: dict[str, str],
                 not_added: dict[str, str], via: str) -> dict[str, Any]:
    """Add each signal as an entry of the bank, in one transaction; HMA's answer."""
    instance = request.app.state.instance
    provenance = _provenance(request)
    entries = []
    for name, value in signals.items():
        try:
            entries.append(BankEntry(bank=bank_name, signal_type=parse_signal_type(name), value=value,
                                     added_at=BankEntry.now(), added_by=principal.actor.name,
                                     classification=parse_classification(provenance["classification"]),
                                     series=provenance["series"], source=provenance["source"],
                                     source_id=provenance["source_id"]))
        except SignalError as error:
            if str(error).startswith("unknown signal type"):
                raise _Refused(400, f"No such signal type {name!r}") from None
            raise _Refused(400, f"Invalid {name} signal: {error}") from None
    if not entries:
        raise _Refused(400, "No signals given" + (f" ({'; '.join(not_added.values())})" if not_added else ""))
    ids: list[int] = []
    with instance.db.transaction() as session:
        _bank_row(session, bank_name)
        instance.banks.add_entries(session, bank_name, entries, principal.actor, audit_detail={"via": via},
                                   ids_out=ids)
        stored = {(row.signal_type, row.value): row.id for row in session.execute(
            select(BankEntryRow).where(BankEntryRow.id.in_(ids))).scalars()}
    with instance.db.transaction() as session:
        instance.matching.matcher(session, fresh=True)  # this process matches them at once
    entry_ids = {name: stored[(entry.signal_type.value, entry.value)] for name, entry in zip(signals, entries)}
    return {"id": next(iter(entry_ids.values())), "signals": {name: e.value for name, e in zip(signals, entries)},
            "entry_ids": entry_ids, "not_added": not_added}


PROVENANCE_PARAMETERS = {"parameters": [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
    for name, text in (("classification", "tipline: A1, A2, B1 or B2"),
                       ("series", "tipline: the victim-identification series"),
                       ("source", "tipline: where the content or hash comes from"),
                       ("source_id", "tipline: the source's id for it (HMA's metadata content_id)"))
]}


@router.post("/c/bank/{bank_name}/signal", summary="Add signals to a bank", response_model=HmaContentAdded,
             responses={**ERRORS, **NOT_FOUND, 415: {"model": HmaMessage, "description": "Not application/json"}},
             openapi_extra={**_json_body(None, "Signal type to value, e.g. {\"pdq\": \"f8f8...\"}"),
                            **PROVENANCE_PARAMETERS})
@_answers
async def bank_add_signal(request: Request, bank_name: str, principal: Curator) -> Any:
    """Add signals (audited); they match within a second. Each signal becomes one entry."""
    instance = request.app.state.instance

    def exists() -> None:
        with instance.db.transaction() as session:
            _bank_row(session, bank_name)

    await run_in_threadpool(exists)
    body = await _read_json(request)
    if not isinstance(body, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in body.items()):
        raise _Refused(400, "the body must be a JSON object of signal type to signal value (text)")
    return await run_in_threadpool(_add_signals, request, principal, bank_name, body, {}, "HMA API signal")


@router.post("/c/bank/{bank_name}/content", summary="Add uploaded content to a bank",
             response_model=HmaContentAdded, responses={**ERRORS, **NOT_FOUND, **UPLOAD_ERRORS},
             openapi_extra={**UPLOAD_BODY, **PROVENANCE_PARAMETERS})
@_answers
async def bank_add_content(request: Request, bank_name: str, principal: Curator) -> Any:
    """Hash an uploaded photo (pdq, md5) or video (video_md5, vpdq) and add its signals (audited); they match
    within a second. The content itself is not kept. A PDQ hash of quality below 50 is not banked."""
    instance = request.app.state.instance

    def exists() -> None:
        with instance.db.transaction() as session:
            _bank_row(session, bank_name)

    await run_in_threadpool(exists)
    if request.query_params.get("url") is not None:
        raise _Refused(501, NO_URL_FETCHING.format(path=f"/c/bank/{bank_name}/content"))
    upload = await _read_upload(request)
    assert upload.field is not None
    field = upload.field
    hashes = await _hash(request, upload)
    signals = _signals(hashes, SIGNALS_OF[field])
    not_added: dict[str, str] = {}
    if "pdq" in signals and (hashes.pdq_quality or 0) < 50:
        del signals["pdq"]
        not_added["pdq"] = (f"PDQ quality {hashes.pdq_quality} is below 50: the image is too flat to tell apart, "
                            "and its hash would match unrelated images")
    return await run_in_threadpool(_add_signals, request, principal, bank_name, signals, not_added,
                                   f"HMA API content ({hashes.media_type})")


# --- endpoints: one bank content (one entry) ---------------------------------------------------------------


class HmaBankConfig(BaseModel):
    name: str
    matching_enabled_ratio: float = 1.0


class HmaContent(BaseModel):
    id: int
    disable_until_ts: int = Field(description="HMA's magic values: 1 enabled, 0 disabled")
    collab_metadata: dict[str, list[str]] = Field(default_factory=dict, description="Always empty")
    original_media_uri: str | None = Field(None, description="Always null: tipline keeps no content")
    bank: HmaBankConfig
    signals: dict[str, str] | None = Field(None, description="With include_signals=true: the entry's signal")
    signal_type: str = Field(description="tipline: the entry's signal type")
    classification: str | None = None
    series: str | None = None
    source: str | None = None
    source_id: str | None = None
    added_by: str
    added_at: str


class HmaContentUpdate(BaseModel):
    disable_until_ts: int = Field(description="0 disables the entry, 1 enables it (timed disabling is not served)")


ENABLED, DISABLED = 1, 0


def _content_row(session: Any, bank_name: str, content_id: int) -> tuple[BankRow, BankEntryRow]:
    bank = _bank_row(session, bank_name)
    row = session.get(BankEntryRow, content_id)
    if row is None or row.bank_id != bank.id:
        raise _Refused(404, f"content '{content_id}' not found")
    return bank, row


def _content_shape(bank: BankRow, row: BankEntryRow, include_signals: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "id": row.id, "disable_until_ts": ENABLED if row.enabled else DISABLED, "collab_metadata": {},
        "original_media_uri": None, "bank": {"name": bank.name, "matching_enabled_ratio": 1.0},
        "signal_type": row.signal_type, "classification": row.classification, "series": row.series,
        "source": row.source, "source_id": row.source_id, "added_by": row.added_by,
        "added_at": row.added_at.isoformat(),
    }
    if include_signals:
        shape["signals"] = {row.signal_type: row.value}
    return shape


@router.get("/c/bank/{bank_name}/content/{content_id}", summary="Read one bank content (entry)",
            response_model=HmaContent, response_model_exclude_unset=True,
            responses={**ERRORS, 404: {"model": HmaMessage, "description": "No such bank, or no such content in it"}})
@_answers
async def bank_content_show(
    request: Request, bank_name: str, content_id: Id, principal: Reader,
    include_signals: Annotated[str, Query(description="true adds the entry's signal")] = "false",
) -> Any:
    """HMA's BankContentResponse for one entry, with tipline's provenance."""
    instance = request.app.state.instance

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            bank, row = _content_row(session, bank_name, content_id)
            return _content_shape(bank, row, include_signals.lower() == "true")

    return await run_in_threadpool(work)


@router.put("/c/bank/{bank_name}/content/{content_id}", summary="Disable or enable one bank content (entry)",
            response_model=HmaContent, response_model_exclude_unset=True,
            responses={**ERRORS, 404: {"model": HmaMessage, "description": "No such bank, or no such content in it"},
                       415: {"model": HmaMessage, "description": "Not application/json"}},
            openapi_extra=_json_body(HmaContentUpdate, "HMA's BankContentUpdateRequest"))
@_answers
async def bank_content_update(request: Request, bank_name: str, content_id: Id, principal: Curator) -> Any:
    """`{"disable_until_ts": 0}` disables the entry, `1` enables it again (audited); the change matches within
    a second. A timestamp (HMA's timed disabling) is refused: tipline's entries are on or off."""
    instance = request.app.state.instance

    def exists() -> None:
        with instance.db.transaction() as session:
            _content_row(session, bank_name, content_id)

    await run_in_threadpool(exists)
    body = await _read_json(request)
    value = body.get("disable_until_ts") if isinstance(body, dict) else None
    if isinstance(value, str) and parse_whole_number(value.strip()) is not None:
        value = parse_whole_number(value.strip())
    if value not in (ENABLED, DISABLED) or isinstance(value, bool):
        raise _Refused(400, "disable_until_ts must be 0 (disabled) or 1 (enabled); tipline does not serve timed "
                       f"disabling (got {value!r})")

    def work() -> dict[str, Any]:
        with instance.db.transaction() as session:
            bank, row = _content_row(session, bank_name, content_id)
            instance.banks.set_enabled(session, content_id, value == ENABLED, principal.actor)
            shape = _content_shape(bank, row, False)
        with instance.db.transaction() as session:
            instance.matching.matcher(session, fresh=True)  # this process stops (or starts) matching it at once
        return shape

    return await run_in_threadpool(work)
