"""A refused form shows the page it came from again: signed in, the reason at the field, what was typed kept.

One mechanism for every form of the workspace (the handlers of tipline.web.errors call it): when a
browser's form POST is refused (a stale report version, an unknown assignee, a missing reason, a
wrong password ...), the page the form was on is drawn again by its own GET route, in a sub-request
that carries the refusal (`request.state.refusal`, for pages that show more, such as what changed
since a stale page was drawn). The form the person sent is then found in that page by its action
and filled with what they typed (never a password, never the page's fresh CSRF token or version),
the reason is put at the field it concerns (or at the top of the form) and focused, and the answer
keeps the refusal's status (400, 403, 409, 422).

The page a form came from is, in order: a `from_page` field of the form (a local path), else the
nearest path above the form's action that a GET page answers (`/reports/7/close` -> `/reports/7`,
`/admin/users/ann/role` -> `/admin/users`, `/settings/password` -> `/settings`). Browsers send no
Referer here (Referrer-Policy: no-referrer), so it is never used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field as default
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from lxml.html import HtmlElement
from starlette.datastructures import FormData
from starlette.routing import Match
from starlette.types import Message

from tipline.domain.errors import TiplineError

log = logging.getLogger("tipline.web")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PAGE_FIELD = "from_page"
"""A form's optional hidden field naming the page it is on, when that is not the page above its action."""
DRAWN_FIELD = "drawn_at"
"""When the page the form is on was drawn (ISO 8601, UTC): a stale refusal shows what changed since."""
NOT_REFILLED = frozenset({"csrf_token", "version", PAGE_FIELD, DRAWN_FIELD})
"""Hidden fields the page draws afresh: the new token and version make sending the form again possible."""
MESSAGE_ID = "refusal-message"


class FormRefused(TiplineError):
    """A route's refusal of a form, with a heading of its own ("Not referred"): the page the form came from is
    drawn again with it, as for every refusal; nothing was changed."""

    status, code, title = 400, "refused", "Not done"

    def __init__(self, heading: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self._heading = heading
        self.field = field

    def heading(self) -> str:
        return self._heading


@dataclass(frozen=True)
class Refusal:
    """A refused form, as the page it came from sees it (`request.state.refusal`)."""

    action: str
    """The path the form was sent to."""
    status: int
    title: str
    message: str
    field: str | None = None
    """The form field the refusal is about, when it is about one."""
    values: list[tuple[str, str]] = default(default_factory=list)
    """What was typed, in order (files and passwords left out)."""
    drawn_at: datetime | None = None
    """When the page the form was on was drawn, if the form said."""
    stale: bool = False
    """Refused because the page was out of date: the page shows what changed since `drawn_at`."""


def refusal_of(request: Request) -> Refusal | None:
    """The refusal a page is drawn again for, if any."""
    refusal: Refusal | None = getattr(request.state, "refusal", None)
    return refusal


def is_browser_form(request: Request) -> bool:
    return request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPES)


async def submitted(request: Request) -> FormData | None:
    """The form as the route read it (Starlette keeps it on the request), or None if it cannot be read now."""
    try:
        return await request.form()
    except Exception:  # the body was consumed without being parsed as a form, or is not a form
        return None


def kept_values(form: FormData | None) -> list[tuple[str, str]]:
    """What a person typed, to be put back: text only (a file cannot be put back into a page)."""
    if form is None:
        return []
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


def _local_path(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _has_page(request: Request, path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in request.app.router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "include_in_schema", False) is False  # a page, not an HTTP API
    return False


def origin_page(request: Request, form: FormData | None) -> str | None:
    """The page the refused form was on (see the module's description), or None."""
    named = form.get(PAGE_FIELD) if form is not None else None
    if isinstance(named, str) and (local := _local_path(named)) is not None:
        path = local.partition("?")[0]
        if path != request.url.path and _has_page(request, path):
            return local
    parts = request.url.path.rstrip("/").split("/")
    while len(parts) > 1:
        candidate = "/".join(parts) or "/"
        if _has_page(request, candidate):
            return candidate
        parts.pop()
    return None


def parse_drawn_at(form: FormData | None) -> datetime | None:
    raw = form.get(DRAWN_FIELD) if form is not None else None
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


async def page_again(request: Request, *, status: int, title: str, message: str, field_name: str | None = None,
                     keep_input: bool = True, stale: bool = False) -> Response | None:
    """The page the refused form came from, drawn again with the refusal at the form; None when the request
    is not a browser's form or no page can be drawn (the caller answers with the error page)."""
    if not is_browser_form(request):
        return None
    form = await submitted(request)
    page = origin_page(request, form)
    if page is None:
        return None
    refusal = Refusal(
        action=request.url.path, status=status, title=title, message=message, field=field_name,
        values=kept_values(form) if keep_input else [], drawn_at=parse_drawn_at(form), stale=stale,
    )
    drawn = await _draw(request, page, refusal)
    if drawn is None:
        return None
    html, headers = drawn
    try:
        body = annotate(html, refusal, page)
    except Exception:  # a page lxml cannot read: the error page still says what happened
        log.exception("could not put a refusal into %s", page)
        return None
    response = HTMLResponse(body, status_code=status)
    for name, value in headers:
        if name.lower() in ("set-cookie",):
            response.headers.append(name, value)
    return response


async def _draw(request: Request, page: str, refusal: Refusal) -> tuple[str, list[tuple[str, str]]] | None:
    """The page as its GET route draws it for this person (same cookies), or None unless it is a 200 page."""
    path, _, query = page.partition("?")
    scope: dict[str, Any] = {
        key: request.scope[key] for key in ("type", "asgi", "http_version", "scheme", "server", "client",
                                            "root_path", "app", "extensions") if key in request.scope
    }
    scope.update({
        "method": "GET", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "headers": [(name, value) for name, value in request.scope["headers"]
                    if name not in (b"content-type", b"content-length", b"x-csrf-token", b"accept")]
                   + [(b"accept", b"text/html")],
        "state": {"refusal": refusal},
    })
    received = False

    async def receive() -> Message:
        nonlocal received
        if received:
            return {"type": "http.disconnect"}
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    status = 0
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.extend((name.decode("latin-1"), value.decode("latin-1")) for name, value in message["headers"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await request.app.middleware_stack(scope, receive, send)
    except Exception:
        log.exception("could not draw %s again after a refused form", page)
        return None
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    if status != 200 or not content_type.startswith("text/html"):
        return None
    return b"".join(chunks).decode("utf-8"), headers


def _form_path(form: HtmlElement) -> str:
    return urlsplit(form.get("action") or "").path


def _controls(form: HtmlElement) -> list[HtmlElement]:
    return [element for element in form.iter("input", "textarea", "select", "button") if element.get("name")]


def _visible(element: HtmlElement) -> bool:
    kind = (element.get("type") or "text").lower()
    return element.tag != "input" or kind not in ("hidden",)


def _best_form(forms: list[HtmlElement], refusal: Refusal) -> HtmlElement:
    """Of the forms sent to the same place, the one whose fields best match what was sent (then the one
    a person types into)."""
    sent = {name for name, _ in refusal.values} - NOT_REFILLED

    def fit(form: HtmlElement) -> tuple[int, int]:
        names = {element.get("name") for element in _controls(form)}
        visible = {element.get("name") for element in _controls(form) if _visible(element)}
        return len(sent & names) - len(names - sent - NOT_REFILLED - visible), len(visible)

    return max(forms, key=fit)


def _fill(form: HtmlElement, values: list[tuple[str, str]]) -> None:
    by_name: dict[str, list[str]] = {}
    for name, value in values:
        by_name.setdefault(name, []).append(value)
    sent_names = set(by_name)
    taken: dict[str, int] = {}
    for element in _controls(form):
        name = element.get("name")
        if name in NOT_REFILLED:
            continue
        kind = (element.get("type") or "text").lower()
        if element.tag == "button" or kind in ("hidden", "submit", "button", "image", "reset", "file"):
            continue
        if kind == "password":
            element.attrib.pop("value", None)  # a password is typed again, never sent back in a page
            continue
        chosen = by_name.get(name, [])
        if kind in ("checkbox", "radio"):
            if element.get("value", "on") in chosen:
                element.set("checked", "checked")
            elif name in sent_names or kind == "checkbox":  # an unticked box is not sent at all
                element.attrib.pop("checked", None)
            continue
        if element.tag == "select":
            if name not in sent_names:
                continue
            found = set()
            for option in element.iter("option"):
                value = option.get("value")
                value = value if value is not None else (option.text or "").strip()
                if value in chosen:
                    option.set("selected", "selected")
                    found.add(value)
                else:
                    option.attrib.pop("selected", None)
            if element.get("multiple") is None:
                for value in chosen[:1]:
                    if value not in found:  # no longer offered (a user disabled since): shown as it was sent
                        option = lxml.html.Element("option", {"value": value, "selected": "selected"})
                        option.text = value
                        element.append(option)
            continue
        index = taken.get(name, 0)
        if index >= len(chosen):
            continue
        taken[name] = index + 1
        if element.tag == "textarea":
            element.text = chosen[index]
        else:
            element.set("value", chosen[index])


def _message(refusal: Refusal) -> HtmlElement:
    box = lxml.html.Element("p", {"class": "notice notice-error field-error", "id": MESSAGE_ID, "role": "alert"})
    strong = lxml.html.Element("strong")
    strong.text = f"{refusal.title}:"
    strong.tail = f" {_sentence(refusal.message)}"
    box.append(strong)
    if refusal.values and any(name not in NOT_REFILLED for name, _ in refusal.values):
        kept = lxml.html.Element("span", {"class": "kept"})
        kept.text = " What you typed is kept below; nothing was saved."
        box.append(kept)
    return box


def _sentence(text: str) -> str:
    text = text.strip()  # after "Title:", as the store wrote it (tests and scripts find the same words)
    if not text:
        return text
    return text if text.endswith((".", "!", "?")) else text + "."


def _field_element(form: HtmlElement, name: str | None) -> HtmlElement | None:
    if not name:
        return None
    for element in _controls(form):
        if element.get("name") == name and _visible(element) and element.tag != "button":
            return element
    return None


def annotate(html: str, refusal: Refusal, page: str | None = None) -> str:
    """The page with the refused form filled again and the reason at its field (or at the top of the form,
    or of the page if the form is not on it); with `page`, the browser shows that address (static/refused.js)."""
    document = lxml.html.document_fromstring(html)
    if page is not None:
        head = document.head
        head.append(lxml.html.Element("meta", {"name": "tipline-page", "content": page}))
        head.append(lxml.html.Element("script", {"src": "/static/refused.js", "defer": "defer"}))
    forms = [form for form in document.iter("form")
             if (form.get("method") or "get").lower() == "post" and _form_path(form) == refusal.action]
    message = _message(refusal)
    if not forms:
        main = next(document.iter("main"), None)
        if main is None:
            main = document.body
        title = next(main.iter("h1"), None)
        if title is not None:
            title.addnext(message)
        else:
            main.insert(0, message)
        message.set("tabindex", "-1")
        message.set("autofocus", "autofocus")
        return _serialise(document)
    form = _best_form(forms, refusal)
    _fill(form, refusal.values)
    form.set("class", ((form.get("class") or "") + " refused").strip())
    target = _field_element(form, refusal.field)
    if target is not None:
        target.set("aria-invalid", "true")
        target.set("aria-describedby", MESSAGE_ID)
        anchor = target
        group = next((parent for parent in target.iterancestors("fieldset", "label") if parent is not None), None)
        if group is not None and form in group.iterancestors():
            anchor = group
        anchor.addnext(message)
        if message.tail is None:
            message.tail = anchor.tail
            anchor.tail = None
    else:
        form.insert(0, message)
        target = next((element for element in form.iter("input", "textarea", "select", "button")
                       if _visible(element) and element.get("type") not in ("hidden",)), None)
    if target is not None:
        target.set("autofocus", "autofocus")
    return _serialise(document)


def _serialise(document: HtmlElement) -> str:
    body: str = lxml.html.tostring(document, encoding="unicode", doctype="<!doctype html>")
    return body
