"""The CyberTipline-compatible Reporting API under /ispws: an existing client written for NCMEC's
endpoint works by changing only its base URL and credentials.

Every answer, success or refusal, is an XML document of the schema (`reportResponse`, or
`reportDoneResponse` for a successful /finish) with the documented response code; the HTTP
statuses are listed in docs/ispws.md. Uploads stream through a multipart parser straight into the
encrypted file store (web/multipart.py reads the body): no plaintext ever reaches the disk.

Length (a little over 500 lines): one protocol's answers, policy (with its credential cache), bodies
and endpoints, kept together so that every refusal can be checked against the documented code.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from lxml import etree
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from tipline.cybertipline.codes import (
    AUTHENTICATION_REQUIRED,
    DESCRIPTIONS,
    FILE_UPLOAD_FAILED,
    INVALID_REQUEST,
    MALFORMED_FILE,
    MALFORMED_XML,
    NOT_AUTHORIZED,
    NOT_AUTHORIZED_TO_SUBMIT,
    SERVER_ERROR,
    SUCCESS,
    IspwsError,
)
from tipline.cybertipline.schema import schema_bytes
from tipline.cybertipline.xmlmap import parse_file_details, parse_report
from tipline.domain.roles import Permission, Role, has_permission
from tipline.intake.cybertipline import service
from tipline.media.blobstore import BlobTooLargeError, BlobWriter
from tipline.store.accounts import Principal
from tipline.store.files import clean_file_name
from tipline.store.idempotency import HEADER as IDEMPOTENCY_HEADER
from tipline.store.idempotency import (
    KEY_DESCRIPTION,
    KEY_PATTERN,
    MAX_KEY_LENGTH,
    REPLAYED_HEADER,
    Idempotency,
    Outcome,
)
from tipline.web.auth import (
    POLICY_MARK,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    AuthError,
    _basic_credentials,
    check_csrf,
    principal_of,
)
from tipline.web.multipart import Buffer, MultipartError, MultipartReader, Part, PartSink, Writing

log = logging.getLogger("tipline.ispws")

XML_MEDIA_TYPE = "application/xml"
XML_CONTENT_TYPES = {"text/xml", "application/xml"}
# What HTTP libraries send when the caller names no type (no header at all is "" here): read as XML.
GENERIC_CONTENT_TYPES = {"", "text/plain", "application/octet-stream"}
FORM_CONTENT_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}
MAX_FIELD_BYTES = 1024
CREDENTIAL_TTL_SECONDS = 10.0
MAX_SMALL_FORM_BYTES = 64 * 1024
DRAIN_LIMIT = 16 * 1024 * 1024
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
REALM = 'Basic realm="CyberTipline Reporting API (tipline)", charset="UTF-8"'


# --- responses -----------------------------------------------------------------------------------


def _xml(root: etree._Element, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = XML_DECLARATION + etree.tostring(root, xml_declaration=False, encoding="UTF-8")
    return Response(body, status_code=status, media_type=XML_MEDIA_TYPE, headers=headers)


def _sub(parent: etree._Element, name: str, text: object) -> None:
    etree.SubElement(parent, name).text = str(text)


def report_response(code: int, description: str, *, report_id: int | None = None, file_id: str | None = None,
                    md5: str | None = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    root = etree.Element("reportResponse")
    _sub(root, "responseCode", code)
    _sub(root, "responseDescription", description)
    if report_id is not None:
        _sub(root, "reportId", report_id)
    if file_id is not None:
        _sub(root, "fileId", file_id)
    if md5 is not None:
        _sub(root, "hash", md5)
    return _xml(root, status, headers)


def report_done_response(report_id: int, file_ids: list[str]) -> Response:
    root = etree.Element("reportDoneResponse")
    _sub(root, "responseCode", SUCCESS)
    _sub(root, "reportId", report_id)
    files = etree.SubElement(root, "files")
    for file_id in file_ids:
        _sub(files, "fileId", file_id)
    return _xml(root)


def error_response(error: IspwsError, report_id: int | None = None) -> Response:
    headers = {"WWW-Authenticate": REALM} if error.status == 401 else None
    return report_response(error.code, error.description, report_id=report_id, status=error.status, headers=headers)


class IspwsRoute(APIRoute):
    """Every failure on these routes, in a policy, a parser or the store, becomes an XML answer with
    the documented code; nothing unexpected escapes as a stack trace or a JSON problem."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        upload = self.path.endswith("/upload")

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except IspwsError as error:
                return error_response(error, getattr(request.state, "ispws_report_id", None))
            except StarletteHTTPException as error:
                if error.status_code == 413:
                    code = FILE_UPLOAD_FAILED if upload else INVALID_REQUEST
                    return error_response(IspwsError(code, str(error.detail), status=413))
                return error_response(IspwsError(INVALID_REQUEST, str(error.detail), status=error.status_code))
            except ClientDisconnect:
                return error_response(IspwsError(MALFORMED_FILE if upload else INVALID_REQUEST,
                                                 "the request body ended early (the client disconnected)"))
            except Exception:  # noqa: BLE001 - answered as the documented server error, and logged
                request_id = getattr(request.state, "request_id", "-")
                log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id)
                return error_response(IspwsError(
                    SERVER_ERROR, f"something went wrong on our side; nothing was half-saved. Request-ID {request_id}"
                ))

        return guarded


# --- the policy ----------------------------------------------------------------------------------


class VerifiedCredentials:
    """Service-provider credentials this process verified in the last `ttl` seconds, so that the four
    calls of one report do not each cost a database transaction for authentication. Keys are SHA-256
    digests of name and secret (no secret is kept). A disabled account or a changed secret stops
    working here within `ttl` seconds."""

    def __init__(self, ttl: float = CREDENTIAL_TTL_SECONDS, size: int = 4096) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(username: str, secret: str) -> bytes:
        return hashlib.sha256(f"{username}\x00{secret}".encode()).digest()

    def get(self, key: bytes) -> Principal | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(key, None)
                return None
            return entry[1]

    def put(self, key: bytes, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, principal)


def _remembered_principal(request: Request) -> tuple[Principal | None, bytes | None]:
    """The principal of recently verified Basic credentials (no database work), and the cache key."""
    credentials = _basic_credentials(request)
    if credentials is None or request.cookies.get(SESSION_COOKIE):
        return None, None
    cache: VerifiedCredentials | None = getattr(request.app.state, "ispws_credentials", None)
    if cache is None:
        cache = request.app.state.ispws_credentials = VerifiedCredentials()
    key = cache.key(*credentials)
    principal = cache.get(key)
    if principal is not None:
        request.state.principal = principal
        request.state.via_basic = True
    return principal, key


def _verified_principal(request: Request, key: bytes | None) -> Principal:
    principal = principal_of(request)
    if key is not None and principal.role == Role.ESP:
        request.app.state.ispws_credentials.put(key, principal)
    return principal


def from_another_site(request: Request) -> bool:
    """A browser sending on behalf of a page of another site. The XML endpoints read text/plain and
    untyped bodies (as NCMEC's does), which a page can send across sites without asking first, and
    a browser may add HTTP Basic credentials it remembers: such requests carry Sec-Fetch-Site or an
    Origin, which ESP clients (server to server) do not send."""
    if request.headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def esp_submitter() -> Callable[..., Any]:
    """A route policy: a service provider's API account (HTTP Basic). Unauthenticated requests get
    the documented 2000 answer (HTTP 401), other principals 3100 (HTTP 403), as XML."""

    async def policy(request: Request) -> Principal:
        principal, key = _remembered_principal(request)
        if principal is None:
            principal = await run_in_threadpool(_verified_principal, request, key)
        if principal.role == Role.PUBLIC:
            raise IspwsError(AUTHENTICATION_REQUIRED, "send the credentials of your service provider account "
                             "with HTTP Basic authentication")
        if not has_permission(principal.role, Permission.REPORT_SUBMIT):
            raise IspwsError(NOT_AUTHORIZED_TO_SUBMIT, "only service provider accounts may use the Reporting API")
        if principal.session_id is not None:
            try:
                await check_csrf(request, principal)
            except AuthError as error:
                raise IspwsError(NOT_AUTHORIZED, error.message) from None
        elif request.method in UNSAFE_METHODS and from_another_site(request):
            raise IspwsError(NOT_AUTHORIZED, "a web page of another site may not send to the Reporting API with "
                             "credentials your browser remembers; send from your own client")
        return principal

    setattr(policy, POLICY_MARK, {"permissions": [Permission.REPORT_SUBMIT.value], "esp_own": True})
    return policy


router = APIRouter(prefix="/ispws", tags=["CyberTipline Reporting API"], route_class=IspwsRoute)
Esp = Annotated[Principal, Depends(esp_submitter())]


# --- request bodies ------------------------------------------------------------------------------


def _media_type(request: Request) -> tuple[str, dict[bytes, bytes]]:
    header = request.headers.get("content-type")
    if not header:
        return "", {}
    media, params = parse_options_header(header)
    return media.decode("latin-1").lower(), params


def looks_like_xml(body: bytes) -> bool:
    """Whether a body is meant as an XML document: after an optional UTF-8 byte-order mark and
    white space, it starts with '<' (the parser then decides whether it is well-formed)."""
    return body.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<")


async def xml_body(request: Request) -> bytes:
    """The XML document of /submit and /fileinfo. The body is XML whatever the header says, as at
    NCMEC's endpoint: published clients send it as text/xml, but also as text/plain, as
    application/octet-stream or with no Content-Type (their HTTP library's defaults), and all of
    them are read as XML. A body under another declared type (application/json, a form) that is not
    XML is refused as a wrong Content-Type (415, 4000); any other body that is not well-formed XML
    gets 4110 from the parser. A charset other than UTF-8 on an XML type is refused (415, 4110); the
    body must be UTF-8 in every case (4110 from the parser). The XML hardening (no DOCTYPE, no
    entities) and the body-size limit apply whatever the type."""
    media, params = _media_type(request)
    charset = params.get(b"charset", b"utf-8").decode("latin-1").strip("\"'").lower()
    # A generic type's charset is the library's default, not a statement about the document (Java's
    # StringEntity says ISO-8859-1 of every string): the document itself must then be UTF-8.
    if charset not in ("utf-8", "utf8", "us-ascii") and media not in GENERIC_CONTENT_TYPES:
        raise IspwsError(MALFORMED_XML, f"the body must be UTF-8 (Content-Type says charset={charset})", status=415)
    body = await request.body()
    declared_xml = media in XML_CONTENT_TYPES or media in GENERIC_CONTENT_TYPES or media.endswith("+xml")
    if not declared_xml and not looks_like_xml(body):
        raise IspwsError(INVALID_REQUEST, f"send the XML document with Content-Type: text/xml; charset=utf-8 "
                         f"(got {request.headers.get('content-type')} and a body that is not XML)", status=415)
    return body


class _FormReader:
    """The fields of a Reporting API form, read by web/multipart.py: `id` (kept, at most MAX_FIELD_BYTES)
    and, when a sink is given, the one `file` part, chunk by chunk to the sink; anything else is discarded."""

    def __init__(self, boundary: bytes, file_sink: Callable[[str | None], Callable[[bytes], None]] | None,
                 malformed_code: int) -> None:
        self.fields: dict[str, str] = {}
        self.file_seen = False
        self.file_name: str | None = None
        self.malformed_code = malformed_code
        self._file_sink = file_sink
        try:
            self.reader = MultipartReader(boundary, self._on_part)
        except MultipartError as error:
            raise IspwsError(malformed_code, f"the multipart body is malformed ({error.message})") from None

    def _on_part(self, part: Part) -> PartSink | None:
        if part.name == "file" and self._file_sink is not None:
            if self.file_seen:
                raise IspwsError(MALFORMED_FILE, "send one file per /upload request (found a second 'file' part)")
            self.file_seen = True
            self.file_name = part.file_name
            return Writing(self._file_sink(self.file_name))
        if part.name == "id":
            return Buffer(MAX_FIELD_BYTES, on_close=self._id_read,
                          refuse=lambda: IspwsError(INVALID_REQUEST, "the form field 'id' is too long"))
        return None

    def _id_read(self, value: Buffer) -> None:
        if "id" in self.fields:
            raise IspwsError(INVALID_REQUEST, "the form field 'id' was sent twice")
        self.fields["id"] = value.text

    async def drain(self, request: Request, limit: int = DRAIN_LIMIT) -> None:
        """Read and discard what is left of a refused body, so that the client, still sending, gets to
        read the answer (web/multipart.py)."""
        await self.reader.drain(request, limit)

    async def read(self, request: Request,
                   on_id: Callable[[str], Coroutine[Any, Any, None]] | None = None) -> None:
        """Parse the whole body; `on_id` is awaited as soon as the `id` field is complete (before
        the rest of the body is read, when the client sends id first as the documentation does)."""
        checked = False

        async def after_chunk() -> None:
            nonlocal checked
            if on_id is not None and not checked and "id" in self.fields:
                checked = True
                await on_id(self.fields["id"])

        try:
            await self.reader.read(request, after_chunk=after_chunk)
        except MultipartError as error:
            raise IspwsError(self.malformed_code, error.message) from None


async def form_id(request: Request) -> int:
    """The `id` form field of /finish and /retract (multipart/form-data, as curl --form sends it,
    or application/x-www-form-urlencoded)."""
    media, params = _media_type(request)
    if media == "application/x-www-form-urlencoded":
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_SMALL_FORM_BYTES:
                raise IspwsError(INVALID_REQUEST, "the form is too large; send only the field 'id'", status=413)
        try:
            values = parse_qs(body.decode("utf-8"), strict_parsing=False).get("id", [])
        except UnicodeDecodeError:
            raise IspwsError(INVALID_REQUEST, "the form is not UTF-8") from None
        if len(values) > 1:
            raise IspwsError(INVALID_REQUEST, "the form field 'id' was sent twice")
        report_id = service.parse_report_id(values[0] if values else None)
    elif media == "multipart/form-data" and params.get(b"boundary"):
        reader = _FormReader(params[b"boundary"], None, INVALID_REQUEST)
        await reader.read(request)
        report_id = service.parse_report_id(reader.fields.get("id"))
    else:
        raise IspwsError(INVALID_REQUEST, "send the report ID as the form field 'id' (multipart/form-data or "
                         f"application/x-www-form-urlencoded; got {request.headers.get('content-type') or 'none'})",
                         status=415)
    request.state.ispws_report_id = report_id
    return report_id


# --- endpoints -----------------------------------------------------------------------------------


@router.get("/status", summary="Check that you can connect and authenticate")
def status_endpoint(request: Request, principal: Esp) -> Response:
    address = request.client.host if request.client else "unknown"
    return report_response(SUCCESS, f"Remote User : {principal.username}, Remote Ip : {address}")


@router.get("/xsd", summary="The XML schema of reports and responses")
def xsd_endpoint(principal: Esp) -> Response:
    return Response(schema_bytes(), media_type=XML_MEDIA_TYPE)


@router.post("/submit", summary="Open a report: one <report> document")
async def submit_endpoint(
    request: Request,
    principal: Esp,
    idempotency_key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER, description=KEY_DESCRIPTION.replace(
        "refused (422)", "refused (4000, HTTP 422)"))] = None,
) -> Response:
    """NCMEC's protocol has no idempotency mechanism (a repeated submit opens another report, and
    the unfinished one expires); tipline also takes `Idempotency-Key` here (docs/ispws.md)."""
    if idempotency_key is not None and (len(idempotency_key) > MAX_KEY_LENGTH
                                        or not re.fullmatch(KEY_PATTERN, idempotency_key)):
        raise IspwsError(INVALID_REQUEST, f"the {IDEMPOTENCY_HEADER} header must be 1 to {MAX_KEY_LENGTH} printable "
                         "ASCII characters (a UUID, say)")
    body = await xml_body(request)
    instance = request.app.state.instance
    once = None
    if idempotency_key is not None and principal.api_account_id is not None:
        once = Idempotency(principal.api_account_id, "ispws_submit", idempotency_key, Idempotency.digest(body),
                           instance.settings.idempotency_hours)

    def work() -> Outcome:
        return service.submit_once(instance, principal, parse_report(body), once)

    outcome = await run_in_threadpool(work)
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else None
    return report_response(SUCCESS, DESCRIPTIONS[SUCCESS], report_id=outcome.report_id, headers=headers)


@router.post("/upload", summary="Upload a file to an open report (multipart form: id, file)")
async def upload_endpoint(request: Request, principal: Esp) -> Response:
    media, params = _media_type(request)
    if media != "multipart/form-data" or not params.get(b"boundary"):
        raise IspwsError(INVALID_REQUEST, "send the upload as multipart/form-data with the fields 'id' and 'file' "
                         f"(got {request.headers.get('content-type') or 'no Content-Type'})", status=415)
    instance = request.app.state.instance
    writers: list[BlobWriter] = []

    def sink(_file_name: str | None) -> Callable[[bytes], None]:
        writer = instance.files.writer(max_size=instance.settings.max_upload_bytes)
        writers.append(writer)
        write: Callable[[bytes], None] = writer.write
        return write

    checked: list[int] = []

    async def check(raw_id: str) -> None:
        report_id = service.parse_report_id(raw_id)
        request.state.ispws_report_id = report_id
        await run_in_threadpool(service.check_open, instance, principal, report_id)
        checked.append(report_id)

    reader = _FormReader(params[b"boundary"], sink, MALFORMED_FILE)
    try:
        try:
            await reader.read(request, on_id=check)
        except IspwsError:
            for writer in writers:
                writer.abort()
            await reader.drain(request)
            raise
        except BlobTooLargeError:
            raise IspwsError(FILE_UPLOAD_FAILED, f"the file is larger than the {instance.settings.max_upload_bytes:,} "
                             "bytes this hotline accepts; nothing was stored", status=413) from None
        if not checked:  # the id came after the file, or not at all
            await check(reader.fields["id"]) if "id" in reader.fields else service.parse_report_id(None)
        report_id = checked[0]
        if not writers:
            raise IspwsError(MALFORMED_FILE, "the form has no part named 'file'")
        writer = writers[0]
        if writer.size == 0:
            raise IspwsError(MALFORMED_FILE, "the uploaded file is empty")
        file_name = clean_file_name(reader.file_name)
        if file_name in (".", ".."):
            file_name = None
        result = await run_in_threadpool(service.upload, instance, principal, report_id, writer, file_name)
    finally:
        for writer in writers:
            writer.abort()  # no-op once committed; drops the ciphertext of a refused upload
    return report_response(SUCCESS, DESCRIPTIONS[SUCCESS], report_id=result.report_id, file_id=result.file_id,
                           md5=result.md5)


@router.post("/fileinfo", summary="Details of an uploaded file: one <fileDetails> document")
async def fileinfo_endpoint(request: Request, principal: Esp) -> Response:
    body = await xml_body(request)
    instance = request.app.state.instance

    def work() -> int:
        report_id, file_id, details = parse_file_details(body)
        request.state.ispws_report_id = report_id
        service.file_info(instance, principal, report_id, file_id, details)
        return report_id

    report_id = await run_in_threadpool(work)
    return report_response(SUCCESS, DESCRIPTIONS[SUCCESS], report_id=report_id)


@router.post("/finish", summary="Finish a report (form field id)")
async def finish_endpoint(request: Request, principal: Esp) -> Response:
    report_id = await form_id(request)
    instance = request.app.state.instance
    file_ids = await run_in_threadpool(service.finish, instance, principal, report_id)
    return report_done_response(report_id, file_ids)


@router.post("/retract", summary="Cancel an unfinished report (form field id)")
async def retract_endpoint(request: Request, principal: Esp) -> Response:
    report_id = await form_id(request)
    instance = request.app.state.instance
    await run_in_threadpool(service.retract, instance, principal, report_id)
    return report_response(SUCCESS, DESCRIPTIONS[SUCCESS], report_id=report_id)
