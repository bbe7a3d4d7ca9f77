"""Reading an HMA-compatible request's body without touching the disk: a JSON body, or the one file of a
multipart/form-data upload, in memory within the body limit."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException as StarletteHTTPException

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


class Upload:
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
            raise Refused(400, "a multipart part lacks Content-Disposition: form-data; name=...")
        name = params[b"name"].decode("utf-8", "replace")
        is_file = name in CONTENT_TYPES or b"filename" in params
        if not is_file:
            return  # another form field: read and ignored
        if name not in CONTENT_TYPES:
            raise Refused(400, f"no such content_type: {name!r} (name the file's field photo or video)")
        if self.field is not None:
            raise Refused(400, "Only one file allowed per request")
        self.field, self._is_file = name, True
        raw = params.get(b"filename")
        self.filename = raw.decode("utf-8", "replace") if raw else None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.data.extend(data[start:end])
            if len(self.data) > self.limit:
                raise Refused(413, f"the file is over the limit of {self.limit:,} bytes")
        else:
            self._other += end - start
            if self._other > MAX_FIELD_BYTES:
                raise Refused(400, "a form field other than the file is too long")

    def _end(self) -> None:
        self.finished = True


async def read_upload(request: Request) -> Upload:
    media, params = parse_options_header(request.headers.get("content-type", ""))
    if media != b"multipart/form-data" or not params.get(b"boundary"):
        raise Refused(400, "Missing multipart/form-data file upload: send the file in a form field named photo "
                       "or video (curl --form photo=@picture.jpg)")
    upload = Upload(params[b"boundary"], request.app.state.instance.settings.max_body_bytes)
    try:
        async for chunk in request.stream():
            upload.parser.write(chunk)
        upload.parser.finalize()
    except Refused:
        raise
    except StarletteHTTPException as error:  # the body limit, enforced while the body streams in
        raise Refused(error.status_code, str(error.detail)) from None
    except Exception as error:  # noqa: BLE001 - python-multipart's parse errors
        raise Refused(400, f"the multipart body is malformed ({error})") from None
    if not upload.finished:
        raise Refused(400, "the multipart body ended before its closing boundary")
    if upload.field is None:
        raise Refused(400, "Missing multipart/form-data file upload: no field named photo or video")
    return upload
