"""Turning failures into precise answers: JSON problems for APIs, pages for people, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tipline.domain.errors import TiplineError
from tipline.web.auth import AuthError
from tipline.web.pages import render
from tipline.web.refusals import is_browser_form, origin_page, page_again, submitted

log = logging.getLogger("tipline.web")


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/openapi") or path.startswith("/ispws"):
        return True
    return "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get(
        "accept", ""
    )


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'internetDetails', 0, 'webPageIncident') -> 'internetDetails[0].webPageIncident'."""
    parts: list[str] = []
    for item in location:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(request body)"


def validation_problems(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    problems = []
    for error in errors:
        location = list(error.get("loc", ()))
        # pydantic names the union/tagged branch it tried in the location; people do not need it
        location = [part for part in location if not (isinstance(part, str) and part.startswith("function-"))]
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            message = f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
        elif error.get("type") == "extra_forbidden":
            message = "unknown field (not part of the report format)"
        elif error.get("type") == "timezone_aware":
            message = "the timestamp needs a time zone (Z or +hh:mm)"
        elif error.get("type") == "missing":
            message = "this field is required"
        problems.append({"field": field_path(location), "problem": message, "type": str(error.get("type"))})
    return problems


def problem(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = validation_problems(list(exc.errors()))
        if any(p["type"] == "json_invalid" for p in problems):
            return problem(400, "malformed_json", problems[0]["problem"], problems=problems)
        if not wants_json(request) and _signed_in(request):  # a person's form: shown again, the reason at the field
            first = problems[0]
            again = await page_again(request, status=422, title="Please check the form", message=first["problem"],
                                     field_name=first["field"])
            if again is not None:
                return again
        count = len(problems)
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        return problem(
            422, "validation_failed", f"{count} problem{'s' if count != 1 else ''}: {summary}", problems=problems
        )

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> Response:
        if exc.api or wants_json(request):
            headers = {"WWW-Authenticate": 'Basic realm="tipline"'} if exc.status == 401 else None
            if exc.status == 429:
                headers = {"Retry-After": str(exc.retry_after or 900)}
            error = {401: "unauthorized", 429: "too_many_attempts"}.get(exc.status, "forbidden")
            return JSONResponse({"error": error, "message": exc.message}, status_code=exc.status, headers=headers)
        if exc.redirect is not None:
            return RedirectResponse(exc.redirect, status_code=303)
        if exc.status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if is_browser_form(request):  # signed out meanwhile: back to the form's page after signing in
                target = origin_page(request, await submitted(request)) or "/"
            return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        if exc.status == 403 and _signed_in(request):
            # a form from another site keeps nothing of what it sent (the forged CSRF case)
            again = await page_again(request, status=403, title="Not allowed", message=exc.message,
                                     keep_input=exc.keeps_input)
            if again is not None:
                return again
        return page_error(request, exc.status, "Not allowed", exc.message)

    @app.exception_handler(TiplineError)
    async def _refused(request: Request, exc: TiplineError) -> Response:
        """Every failure of the family: its status and code as JSON for programs, its title as a page for people."""
        if exc.always_json or wants_json(request):
            return problem(exc.status, exc.code, str(exc), **exc.problem_details())
        if _signed_in(request):
            again = await page_again(request, status=exc.status, title=exc.heading(), message=exc.on_page(),
                                     field_name=exc.field, stale=exc.shows_changes)
            if again is not None:
                return again
        return page_error(request, exc.status, exc.heading(), str(exc))

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        """The backstop for text the entry checks did not see (a multipart form field, say): PostgreSQL
        refuses NUL in any text or JSONB value. The transaction has rolled back; anything else the
        database refuses is unexpected."""
        text = str(exc.orig)
        if "NUL" not in text and "\\u0000" not in text:
            raise exc
        field = "(request)"
        problems = [{"field": field, "problem": "text must not contain the NUL character (U+0000)",
                     "type": "nul_character"}]
        if wants_json(request):
            return problem(422, "validation_failed", f"1 problem: {field}: {problems[0]['problem']}",
                           problems=problems)
        return page_error(request, 422, "Please check what you sent", problems[0]["problem"])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return problem(exc.status_code, _http_error_name(exc.status_code), str(exc.detail))
        if exc.status_code in (400, 404, 409, 422) and _signed_in(request) and request.scope.get("endpoint"):
            again = await page_again(request, status=exc.status_code, title="Could not do that",
                                     message=str(exc.detail))
            if again is not None:
                return again
        return page_error(request, exc.status_code, _http_error_name(exc.status_code).replace("_", " ").capitalize(),
                          str(exc.detail))


def unexpected_error(request: Request, exc: BaseException) -> Response:
    """The one answer to an unexpected error: logged with its request id, a 500 without a stack
    trace, and `Connection: close` (the server may be in a bad state for this connection).
    SecurityMiddleware calls it, so the answer keeps the security headers and the Request-ID;
    an exception handler registered with FastAPI would run outside every middleware."""
    request_id = getattr(request.state, "request_id", "-")
    log.error("unhandled error on %s %s (request %s): %s: %s", request.method, request.url.path, request_id,
              type(exc).__name__, exc)  # the server logs the traceback itself
    message = f"Something went wrong on our side; nothing was half-saved. Quote request id {request_id}."
    if wants_json(request):
        response: Response = problem(500, "server_error", message, request_id=request_id)
    else:
        try:
            response = page_error(request, 500, "Server error", message)
        except Exception:  # the page itself cannot be drawn: plain text still says what to quote
            log.exception("the error page failed too (request %s)", request_id)
            response = PlainTextResponse(message, status_code=500)
    response.headers["Connection"] = "close"
    return response


def _http_error_name(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        415: "unsupported_media_type",
        422: "validation_failed",
        429: "too_many_requests",
    }.get(status, "error")


def _signed_in(request: Request) -> bool:
    """A person signed in with a session: only their refused forms are drawn again (not an API client's,
    and not the public's, whose pages answer refusals themselves)."""
    principal = getattr(request.state, "principal", None)
    return principal is not None and principal.session_id is not None


def page_error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """The error page, with the menu and the name of whoever is signed in (never "Staff sign in" to them)."""
    return render(request, "error.html", {"title": title, "message": message, "status": status},
                  status_code=status)
