"""Reading an HMA-compatible request's body without touching the disk: a JSON body, or the one file of a
multipart/form-data upload (read by web/multipart.py), in memory within the body limit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from tipline.web.multipart import Buffer, MultipartError, MultipartReader, Part, PartSink, boundary_of
from tipline.web.routes.hma.shapes import CONTENT_TYPES, Refused

MAX_JSON_BYTES = 256 * 1024
MAX_FIELD_BYTES = 64 * 1024


async def read_json(request: Request) -> Any:
    media, _ = parse_options_header(request.headers.get("content-type", ""))
    if media != b"application/json":
        raise Refused(415, "send the body as application/json (got "
                       f"{request.headers.get('content-type') or 'no Content-Type'})")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_JSON_BYTES:
                raise Refused(413, f"the JSON body is over {MAX_JSON_BYTES:,} bytes")
    except StarletteHTTPException as error:
        raise Refused(error.status_code, str(error.detail)) from None
    try:
        parsed = json.loads(body)
    except ValueError as error:  # not JSON, not UTF-8, or a number of more than 4,300 digits
        raise Refused(400, f"the body is not valid JSON ({error})") from None
    where = _nul_at(parsed, "")
    if where is not None:
        raise Refused(400, f"{where or '(body)'}: text must not contain the NUL character (U+0000)")
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


@dataclass
class Upload:
    """The one file of a multipart/form-data body, in memory: its field (the HMA content type), name, bytes."""

    field: str | None = None
    filename: str | None = None
    data: bytearray = dataclass_field(default_factory=bytearray)


async def read_upload(request: Request) -> Upload:
    """The body's one file, within the body limit (web/multipart.py reads it; nothing is spooled)."""
    boundary = boundary_of(request.headers.get("content-type"))
    if boundary is None:
        raise Refused(400, "Missing multipart/form-data file upload: send the file in a form field named photo "
                      "or video (curl --form photo=@picture.jpg)")
    limit: int = request.app.state.instance.settings.max_body_bytes
    upload = Upload()

    def on_part(part: Part) -> PartSink:
        if not (part.name in CONTENT_TYPES or part.is_file):  # another form field: read and ignored
            return Buffer(MAX_FIELD_BYTES, refuse=lambda: Refused(400, "a form field other than the file is too long"))
        if part.name not in CONTENT_TYPES:
            raise Refused(400, f"no such content_type: {part.name!r} (name the file's field photo or video)")
        if upload.field is not None:
            raise Refused(400, "Only one file allowed per request")
        upload.field, upload.filename = part.name, part.file_name or None
        file = Buffer(limit, refuse=lambda: Refused(413, f"the file is over the limit of {limit:,} bytes"))
        upload.data = file.data
        return file

    try:
        await MultipartReader(boundary, on_part).read(request)
    except MultipartError as error:
        raise Refused(400, error.message) from None
    except StarletteHTTPException as error:  # the body limit, enforced while the body streams in
        raise Refused(error.status_code, str(error.detail)) from None
    except ClientDisconnect:
        raise Refused(400, "the request body ended early (the client disconnected)") from None
    if upload.field is None:
        raise Refused(400, "Missing multipart/form-data file upload: no field named photo or video")
    return upload
