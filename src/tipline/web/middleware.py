"""ASGI middleware: request ids, security headers, and body-size limits enforced while bytes arrive."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


# Swagger UI sets inline styles; only the documentation page allows them.
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class BodyTooLarge(HTTPException):
    """An HTTPException, so that frameworks reading the body pass it on as a 413 rather than a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit} bytes")


class SecurityMiddleware:
    """Adds a request id and security headers to every response; pages are never cached. An
    unexpected error becomes `on_error`'s answer here, inside this middleware, so that a 500 keeps
    the headers too (Starlette's own handler for it runs outside every middleware)."""

    def __init__(self, app: Any, on_error: Callable[[Request, BaseException], Response] | None = None) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}

                def add(name: bytes, value: str) -> None:
                    if name not in present:
                        headers.append((name, value.encode()))

                add(b"request-id", request_id)
                add(b"x-content-type-options", "nosniff")
                add(b"x-frame-options", "DENY")
                add(b"referrer-policy", "no-referrer")
                policy = DOCS_CONTENT_SECURITY_POLICY if scope["path"] == "/docs" else CONTENT_SECURITY_POLICY
                add(b"content-security-policy", policy)
                add(b"cross-origin-opener-policy", "same-origin")
                add(b"permissions-policy", "camera=(), microphone=(), geolocation=()")
                if not scope["path"].startswith("/static/"):
                    add(b"cache-control", "no-store")
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            if self.on_error is None or response_started:
                raise  # half an answer is out: the server closes the connection
            response = self.on_error(Request(scope, receive), error)
            await response(scope, receive, send_with_headers)
            # Passed on, as Starlette's own handler does after answering: the server then closes the
            # connection, and a test client raises it (the answer, with its headers, is already out).
            raise


class HeaderLimitMiddleware:
    """Refuses a request with more header fields, or more header bytes, than the limits with 431.
    `tipline serve` stops reading an oversized head earlier (web/serving.py); this holds under
    any ASGI server."""

    def __init__(self, app: Any, max_headers: int, max_bytes: int) -> None:
        self.app = app
        self.max_headers = max_headers
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            if len(headers) > self.max_headers:
                await _reject(send, 431, "headers_too_large",
                              f"the request has {len(headers)} header fields; at most {self.max_headers} are accepted",
                              scope["path"])
                return
            if sum(len(name) + len(value) + 4 for name, value in headers) > self.max_bytes:
                await _reject(send, 431, "headers_too_large",
                              f"the request's headers are over the limit of {self.max_bytes} bytes", scope["path"])
                return
        await self.app(scope, receive, send)


NUL_PROBLEM = "must not contain the NUL character (U+0000)"


class NulRefusalMiddleware:
    """Refuses the NUL character in the path, the query and url-encoded form fields with a 422 that
    names the field: PostgreSQL can store it in no text column (it was a 500 there and stored on
    SQLite). Report content is checked by the domain model; JSON bodies by their readers; files
    may hold any byte."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            await _refuse_nul(send, "(path)", scope["path"])
            return
        query = scope.get("query_string", b"")
        field = _nul_field(query)
        if field is not None:
            await _refuse_nul(send, field, scope["path"])
            return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if not content_type.lower().startswith(b"application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        chunks = []  # a url-encoded form is small (the body limit holds while it is read here)
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        field = _nul_field(body)
        if field is not None:
            await _refuse_nul(send, field, scope["path"])
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _nul_field(encoded: bytes) -> str | None:
    """The first field of a url-encoded query or form that holds a NUL (None: none does)."""
    if b"%00" not in encoded and b"\x00" not in encoded:
        return None
    for name, value in parse_qsl(encoded.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "(field name)"
    return None


async def _refuse_nul(send: Send, field: str, path: str) -> None:
    message = f"{field}: {NUL_PROBLEM}"
    if path.startswith("/ispws"):
        await _reject(send, 400, "validation_failed", message, path)
        return
    body = json.dumps({"error": "validation_failed", "message": f"1 problem: {message}",
                       "problems": [{"field": field, "problem": NUL_PROBLEM, "type": "nul_character"}]}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413, before and while they stream in (so a lying or absent
    Content-Length cannot get more through). Upload paths get their own, larger limit."""

    def __init__(self, app: Any, default_limit: int, upload_limit: int, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    def limit_for(self, path: str) -> int:
        """Whole path segments only: /report gets the upload limit, /reports/... does not."""
        is_upload = any(path == prefix or path.startswith(prefix + "/") for prefix in self.upload_paths)
        return self.upload_limit if is_upload else self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                await _reject(send, 400, "bad_request", "Content-Length is not a number", scope["path"])
                return
            if too_large:
                await _reject(send, 413, "too_large", f"the request body is over the limit of {limit} bytes",
                              scope["path"])
                return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await _reject(send, 413, "too_large", f"the request body is over the limit of {limit} bytes",
                              scope["path"])


async def _reject(send: Send, status: int, error: str, message: str, path: str = "") -> None:
    if path.startswith("/ispws"):  # CyberTipline clients read reportResponse documents, not JSON
        code = 1111 if status == 413 and path.startswith("/ispws/upload") else (4000 if status != 413 else 4100)
        body = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<reportResponse>'
            f"<responseCode>{code}</responseCode><responseDescription>{escape(message)}</responseDescription>"
            "</reportResponse>"
        ).encode()
        content_type = b"application/xml"
    else:
        body = json.dumps({"error": error, "message": message}).encode()
        content_type = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
