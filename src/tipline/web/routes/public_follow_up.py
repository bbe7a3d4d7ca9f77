"""A reporter's opt-in request to be contacted after their report: `GET/POST /report/follow-up`.

The request is tied to a report either by the receipt's signed token (on the receipt page) or by the
report number and secret code (after `/report/add` opened the report, or on this route's own page,
linked from `/help`). It is guarded like the form: the signed double-submit form token, a honeypot,
a per-address limit on accepted requests, and the wrong-code limits of `/report/add`. Nobody is
contacted unless they ask here; advocates see the request at `/follow-ups`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tipline.domain.follow_up import CHANNELS, CONTACT_LIMIT, SAFE_TIMES_LIMIT, FollowUpRequest, contact_ok
from tipline.domain.numbers import parse_whole_number
from tipline.domain.support_resources import SITUATIONS
from tipline.instance import Instance
from tipline.store import follow_ups, report_codes
from tipline.store.accounts import PUBLIC
from tipline.web import i18n
from tipline.web.i18n import N_
from tipline.web.i18n import gettext as _
from tipline.web.public_form.guards import FORM_COOKIE, FORM_TOKEN_FIELD, HONEYPOT_FIELD, SubmissionLimiter, wrong_codes
from tipline.web.public_form.pages import render_public
from tipline.web.public_form.questions import Choice, Problem
from tipline.web.routes.public_form import Anyone, Language, form_state

log = logging.getLogger("tipline.web.public_form")
router = APIRouter(include_in_schema=False)

REQUESTS_PER_HOUR = 5
MAX_BODY = 16 * 1024
FIELDS = {"report_number": 30, "report_code": 40, "receipt": 200, "channel": 10, "contact": CONTACT_LIMIT * 2,
          "safe_times": SAFE_TIMES_LIMIT * 2, "situation": 30, "lang": 10, FORM_TOKEN_FIELD: 200,
          HONEYPOT_FIELD: 200}
CHANNEL_CHOICES = (
    Choice("phone", N_("A phone call")),
    Choice("text", N_("A text message")),
    Choice("email", N_("An email")),
)
DONE = {
    "phone": N_("Someone from our team will call you at the times you gave us."),
    "text": N_("Someone from our team will send you a text message at the times you gave us."),
    "email": N_("Someone from our team will email you at the times you gave us."),
}


def _limiter(request: Request) -> SubmissionLimiter:
    limiter: SubmissionLimiter | None = getattr(request.app.state, "public_follow_ups", None)
    if limiter is None:
        limiter = SubmissionLimiter(REQUESTS_PER_HOUR, 3600)
        request.app.state.public_follow_ups = limiter
    return limiter


def form_context(request: Request, response_cookie: list[str], *, values: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None, receipt: str | None = None, code_known: bool = False,
                 situation: str | None = None, cookie: str | None = None) -> dict[str, Any]:
    """What `_follow_up_form.html` needs; `response_cookie` receives the form cookie to set (the
    page's response must set it with `set_form_cookie`), unless the page gives its own `cookie`."""
    state = form_state(request)
    cookie = cookie or request.cookies.get(FORM_COOKIE)
    if cookie is None or not state.tokens.cookie_ok(cookie):
        cookie = state.tokens.new_cookie()
    response_cookie.append(cookie)
    return {"form_token": state.tokens.token_for(cookie), "form_token_field": FORM_TOKEN_FIELD,
            "honeypot_field": HONEYPOT_FIELD, "channels": CHANNEL_CHOICES, "answers": values or {},
            "errors": errors or {}, "receipt": receipt, "code_known": code_known,
            "situation": situation if situation in SITUATIONS else None}


def set_form_cookie(request: Request, response: Response, cookie: list[str]) -> None:
    if cookie:
        response.set_cookie(FORM_COOKIE, cookie[0], httponly=True, samesite="strict", path="/report",
                            secure=request.app.state.instance.settings.secure_cookies)


def _page(request: Request, *, values: dict[str, str] | None = None, problems: list[Problem] | None = None,
          status: int = 200, done: tuple[str, int] | None = None) -> HTMLResponse:
    values = {k: v for k, v in (values or {}).items() if k in FIELDS and k not in (FORM_TOKEN_FIELD, HONEYPOT_FIELD)}
    problems = list(problems or [])
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field and problem.field not in errors:
            errors[problem.field] = problem.message
    cookie: list[str] = []
    receipt = values.get("receipt") or None
    context = form_context(request, cookie, values=values, errors=errors, receipt=receipt,
                           code_known=False, situation=values.get("situation"))
    response = render_public(request, "follow_up_request.html", {
        "title": _("Ask someone to contact you"), "fu": context, "problems": problems,
        "done": done is not None, "done_sentence": _(DONE[done[0]]) if done else "",
        "done_number": done[1] if done else None,
    }, status_code=status)
    set_form_cookie(request, response, cookie)
    return response


@router.get("/report/follow-up", response_class=HTMLResponse)
def follow_up_page(request: Request, principal: Anyone, language: Language, situation: str | None = None) -> HTMLResponse:
    return _page(request, values={"situation": situation or ""})


@router.post("/report/follow-up", response_class=HTMLResponse)
async def ask_for_follow_up(request: Request, principal: Anyone, language: Language) -> Response:
    state = form_state(request)
    instance: Instance = request.app.state.instance
    address = request.client.host if request.client else "unknown"
    unreadable = _unreadable(request)
    if unreadable is not None:
        return _page(request, problems=[Problem(None, unreadable[1])], status=unreadable[0])
    body = await request.body()  # url-encoded and small; nothing is spooled to disk
    if len(body) > MAX_BODY:
        return _page(request, problems=[Problem(None, _("The form could not be read. Please try again."))], status=413)
    try:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return _page(request, problems=[Problem(None, _("The form could not be read. Please try again."))], status=400)
    values: dict[str, str] = {}
    for key, value in pairs:
        if key in FIELDS and key not in values:
            values[key] = value[:FIELDS[key]].replace("\x00", "")
    if values.get("lang") in i18n.LANGUAGES:
        i18n.use(values["lang"])
    refusal = state.tokens.check(request.cookies.get(FORM_COOKIE), values.get(FORM_TOKEN_FIELD))
    if refusal is not None:
        return _page(request, values=values, problems=[Problem(None, refusal)], status=403)
    wait = max(_limiter(request).wait_seconds(address), wrong_codes(request).wait_seconds(address))
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return _page(request, values=values, status=429, problems=[Problem(None, i18n.ngettext(
            "Too many tries from this internet connection. Please wait about %(num)s minute and try again.",
            "Too many tries from this internet connection. Please wait about %(num)s minutes and try again.",
            minutes))])

    problems: list[Problem] = []
    channel = values.get("channel", "")
    contact = " ".join(values.get("contact", "").split())
    safe_times = " ".join(values.get("safe_times", "").split())
    if channel not in CHANNELS:
        problems.append(Problem("channel", _("Choose how we should contact you.")))
    if not contact:
        problems.append(Problem("contact", _("Tell us the phone number or email address to use.")))
    elif len(contact) > CONTACT_LIMIT:
        problems.append(Problem("contact", _("%(label)s is too long. Please shorten it to %(limit)s characters or "
                                             "fewer.", label=_("Your phone number or email address"),
                                             limit=i18n.number(CONTACT_LIMIT))))
    elif channel == "email" and not contact_ok(channel, contact):
        problems.append(Problem("contact", _("Enter an email address, like name@example.com.")))
    elif channel in ("phone", "text") and not contact_ok(channel, contact):
        problems.append(Problem("contact", _("Enter a phone number, like +1 555 0100 200, using only numbers, "
                                             "spaces and +.")))
    if not safe_times:
        problems.append(Problem("safe_times", _("Tell us when it is safe to contact you, for example "
                                                "\"weekdays after 4pm\".")))
    elif len(safe_times) > SAFE_TIMES_LIMIT:
        problems.append(Problem("safe_times", _("%(label)s is too long. Please shorten it to %(limit)s characters "
                                                "or fewer.", label=_("When is it safe to contact you?"),
                                                limit=i18n.number(SAFE_TIMES_LIMIT))))

    report_id, situation, problem = _which_report(request, instance, values, address)
    if problem is not None:
        problems.insert(0, problem)
    if problems or report_id is None:
        return _page(request, values=values, problems=problems, status=422)
    if values.get(HONEYPOT_FIELD, "").strip():
        log.warning("public follow-up request: honeypot filled, nothing stored (from %s)", address)
        _limiter(request).accepted(address)
        return _page(request, done=(channel, report_id))
    wanted = FollowUpRequest(report_id, channel, contact, safe_times, i18n.current().code, situation)

    def store() -> int | None:
        with instance.db.transaction() as session:
            return follow_ups.request(session, instance.audit, wanted, PUBLIC.actor)

    stored = await run_in_threadpool(store)
    if stored is None:  # a decoy receipt's number: acknowledged like any, nothing stored
        log.warning("public follow-up request for decoy report %s: nothing stored (from %s)", report_id, address)
    _limiter(request).accepted(address)
    return _page(request, done=(channel, report_id))


def _unreadable(request: Request) -> tuple[int, str] | None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return 415, _("The form could not be read. Please try again.")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        return 413, _("The form could not be read. Please try again.")
    return None


def _which_report(request: Request, instance: Instance, values: dict[str, str],
                  address: str) -> tuple[int | None, str | None, Problem | None]:
    """The report a request is for (by the receipt's token, or its number and code), the situation
    reported, or the problem to show."""
    chosen = values.get("situation") if values.get("situation") in SITUATIONS else None
    if values.get("receipt"):
        receipt = form_state(request).receipts.read(values["receipt"])
        if receipt is None:
            values.pop("receipt")
            return None, None, Problem(None, _("The receipt page has expired. Please give your report number and "
                                               "secret code instead."))
        return receipt.number, "child" if receipt.child else receipt.what, None
    number = parse_whole_number(values.get("report_number", "").strip().lstrip("#"), minimum=1)
    code = values.get("report_code", "")
    if number is None or not code.strip():
        return None, None, Problem("report_number", _("Enter your report number and secret code."))
    with instance.db.transaction() as session:
        access = report_codes.check(session, instance.secret_key, number, code)
    if access is None:
        wrong_codes(request).accepted(address)
        values.pop("report_code", None)
        return None, None, Problem("report_code", _(
            "The report number and the secret code do not match. Check both (they are on the page "
            "you saw after sending the report) and try again."))
    return access.report_id, chosen, None
