"""The one reader of multipart/form-data bodies, for every route that takes an upload: the public
form (and its additions), the Reporting API's /upload, /finish and /retract, and the HMA-compatible
API's hashing, lookups and curation.

Nothing is spooled. Starlette's `request.form()` (and FastAPI's `UploadFile`) write a large file to
a plaintext temporary file, which a hotline's server must never hold; this reader feeds the body, as
it arrives, to python-multipart's streaming parser and hands each part's bytes to a sink its route
chooses when the part's headers have been read: a bounded buffer in memory (a text field; a file that
is hashed and forgotten) or an encrypting `BlobWriter` (a file kept in the encrypted store). A route
may refuse a part as soon as its name is known, before any of its bytes are read.

Limits, each refused with a plain message (`MultipartError`): the parts in a body (`max_parts`), the
bytes of the whole body (`max_bytes` of `read`) and of one buffered part (`Buffer`'s limit); a part's
headers, and so its field and file names, python-multipart itself bounds (8 headers of at most 4,224
bytes each: "Maximum header size exceeded"). A route words
`MultipartError` in its own protocol (HMA's JSON, the Reporting API's codes, the form's page);
anything a route's own callback raises passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

DEFAULT_MAX_PARTS = 100
"""Parts a body may have unless the route says otherwise (its fields, a file, and room to spare)."""


class MultipartError(ValueError):
    """The body is not a well-formed multipart/form-data body within the reader's limits. `kind` is
    "boundary" (the parser refused the boundary), "malformed" (python-multipart's own limits included),
    "unfinished" (no closing boundary), "disposition", "parts" or "too_large"."""

    def __init__(self, message: str, *, kind: str = "malformed") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class Part:
    """One part's headers, as its route sees them before any of its bytes."""

    index: int
    """1 for the body's first part."""
    name: str
    """The form field's name ("" when a lenient reader met a part without one)."""
    file_name: str | None
    """The `filename` parameter as sent (possibly ""); None for a text field."""
    content_type: str | None

    @property
    def is_file(self) -> bool:
        return self.file_name is not None


class PartSink(Protocol):
    """Where a part's bytes go, chunk by chunk; `close` when the part ends."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class Buffer:
    """A part kept in memory, at most `limit` bytes. Past it, `refuse()` is raised when given;
    otherwise the rest is dropped and `over` is set. `on_close` is called with the buffer at the end."""

    def __init__(self, limit: int, *, refuse: Callable[[], Exception] | None = None,
                 on_close: Callable[[Buffer], None] | None = None) -> None:
        self.limit = limit
        self.data = bytearray()
        self.over = False
        self._refuse = refuse
        self._on_close = on_close

    def write(self, data: bytes) -> None:
        room = self.limit - len(self.data)
        if len(data) > room:
            if self._refuse is not None:
                raise self._refuse()
            self.over = True
            data = data[:max(room, 0)]
        self.data.extend(data)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close(self)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class Writing:
    """A part written, chunk by chunk, with a function (an encrypting BlobWriter's `write`, say);
    committing or aborting it stays with the route."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write

    def write(self, data: bytes) -> None:
        self._write(data)

    def close(self) -> None:
        pass


def boundary_of(content_type: str | None) -> bytes | None:
    """The boundary of a multipart/form-data Content-Type, or None when it is not one (or lacks it)."""
    media, params = parse_options_header(content_type or "")
    if media != b"multipart/form-data":
        return None
    return params.get(b"boundary") or None


class MultipartReader:
    """Reads one body. `on_part(part)` is called when a part's headers are complete and answers the
    sink for its bytes, or None to skip them. Strict (the default), every part must be `form-data`
    with a name and the body must end with its closing boundary; lenient, a part without them is
    passed on with the name "" and a body cut short is read as far as it goes."""

    def __init__(self, boundary: bytes, on_part: Callable[[Part], PartSink | None], *, strict: bool = True,
                 max_parts: int | None = DEFAULT_MAX_PARTS) -> None:
        self.on_part = on_part
        self.strict = strict
        self.max_parts = max_parts
        self.finished = False
        self.body_done = False
        self._parts = 0
        self._headers: dict[str, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._sink: PartSink | None = None
        self._raised: BaseException | None = None
        try:
            self._parser = MultipartParser(boundary, {
                "on_part_begin": self._guarded(self._part_begin),
                "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
                "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
                "on_header_end": self._guarded(self._header_end),
                "on_headers_finished": self._guarded(self._headers_finished),
                "on_part_data": self._guarded(self._part_data),
                "on_part_end": self._guarded(self._part_end),
                "on_end": self._guarded(self._end),
            })
        except Exception as error:  # noqa: BLE001 - python-multipart's refusal of the boundary
            raise MultipartError(str(error), kind="boundary") from None

    # --- feeding ---------------------------------------------------------------------------------

    def write(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except Exception as error:  # noqa: BLE001 - a parse error, or a refusal raised by a callback
            if error is self._raised:
                raise
            raise MultipartError(f"the multipart body is malformed ({error})") from None

    def finish(self) -> None:
        """The body has ended: finish parsing and, strict, insist that it was complete."""
        try:
            self._parser.finalize()
        except Exception as error:  # noqa: BLE001 - as in write
            if error is self._raised:
                raise
            raise MultipartError(f"the multipart body is malformed ({error})") from None
        if self.strict and not self.finished:
            raise MultipartError("the multipart body ended before its closing boundary", kind="unfinished")

    async def read(self, request: Request, *, max_bytes: int | None = None,
                   too_large: Callable[[], Exception] | None = None,
                   after_chunk: Callable[[], Awaitable[None]] | None = None) -> None:
        """Read the request's whole body through the parser. Past `max_bytes`, `too_large()` is raised
        (a MultipartError without it); `after_chunk` is awaited after every chunk (to act on a field as
        soon as it is complete, or to write buffered file bytes in a worker thread). A client that
        disconnects raises Starlette's ClientDisconnect."""
        received = 0
        while not self.body_done:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            self.body_done = not message.get("more_body", False)
            received += len(chunk)
            if max_bytes is not None and received > max_bytes:
                raise too_large() if too_large is not None else MultipartError(
                    f"the body is over {max_bytes:,} bytes", kind="too_large")
            if chunk:
                self.write(chunk)
            if after_chunk is not None:
                await after_chunk()
        self.finish()

    async def drain(self, request: Request, limit: int) -> None:
        """Read and discard what is left of a refused body (up to `limit` bytes), so that a client
        still sending gets to read the answer; past the limit the connection is simply closed."""
        seen = 0
        while not self.body_done and seen <= limit:
            message = await request.receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            self.body_done = not message.get("more_body", False)

    # --- parser callbacks --------------------------------------------------------------------------

    def _guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        """Remember what a callback raised, so that `write` passes it on instead of calling it malformed."""

        def call(*args: object) -> None:
            try:
                callback(*args)
            except BaseException as error:
                self._raised = error
                raise

        return call

    def _part_begin(self) -> None:
        self._parts += 1
        if self.max_parts is not None and self._parts > self.max_parts:
            raise MultipartError(f"the multipart body has more than {self.max_parts} parts", kind="parts")
        self._headers, self._sink = {}, None

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").strip().lower()] = bytes(self._value).strip()
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get("content-disposition", b""))
        if self.strict and (disposition != b"form-data" or b"name" not in params):
            raise MultipartError("a multipart part lacks Content-Disposition: form-data; name=...",
                                 kind="disposition")
        raw_name = params.get(b"filename")
        content_type = self._headers.get("content-type")
        self._sink = self.on_part(Part(
            index=self._parts,
            name=params.get(b"name", b"").decode("utf-8", "replace"),
            file_name=raw_name.decode("utf-8", "replace") if raw_name is not None else None,
            content_type=content_type.decode("latin-1") if content_type is not None else None,
        ))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None and end > start:
            self._sink.write(data[start:end])

    def _part_end(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()

    def _end(self) -> None:
        self.finished = True
