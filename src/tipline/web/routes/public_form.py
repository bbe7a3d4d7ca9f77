"""The public report form: `GET /report`, `POST /report` and the receipt page.

Anyone may use it, without an account. A submission is filed as the public actor through
`submit_report`, like every report, with its files streamed into the encrypted store. Abuse
resistance: a signed double-submit form token (CSRF), a per-address limit on accepted reports, a
honeypot field, and limits on the count and size of files. A refused submission is shown again with
what the person typed (files excepted, and the page says so) and exactly what to fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tipline.domain.base import utc_now
from tipline.domain.report import ReportContent, ReportSource
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.store import held_uploads, report_codes
from tipline.store.accounts import PUBLIC, Principal
from tipline.web import i18n
from tipline.web.auth import POLICY_MARK, public
from tipline.web.i18n import N_, ngettext
from tipline.web.i18n import gettext as _
from tipline.web.public_form import questions
from tipline.web.public_form.guards import (
    FORM_COOKIE,
    FORM_TOKEN_FIELD,
    HONEYPOT_FIELD,
    FormSettings,
    FormTokens,
    Receipt,
    ReceiptTokens,
    SubmissionLimiter,
    decoy_number,
)
from tipline.web.public_form.pages import public_language, render_public
from tipline.web.public_form.questions import Problem
from tipline.web.public_form.storing import committed_files
from tipline.web.public_form.upload import (
    FILE_FIELD,
    FormReader,
    FormUnreadable,
    SubmittedForm,
    describe_size,
)

log = logging.getLogger("tipline.web.public_form")
CODE_COOKIE = "tipline_receipt_code"
router = APIRouter(include_in_schema=False)

FORM_TITLE = N_("Report a concern about a child")


def public_form_policy() -> Any:
    """`public()`, with the principal pinned to the public whoever is signed in.

    A report from this form is always the public's, and `public()` would otherwise, for a signed-in
    staff member, read the whole multipart body with `request.form()` to look for the session's CSRF
    token (spooling files to a plaintext temporary file). The form has its own token instead."""
    policy_of_public = public()

    async def policy(request: Request) -> Principal:
        request.state.principal = PUBLIC
        principal: Principal = await policy_of_public(request)
        return principal

    setattr(policy, POLICY_MARK, getattr(policy_of_public, POLICY_MARK))
    return policy


Anyone = Annotated[Principal, Depends(public_form_policy())]
Language = Annotated[str, Depends(public_language)]


@dataclass
class FormState:
    settings: FormSettings
    tokens: FormTokens
    receipts: ReceiptTokens
    limiter: SubmissionLimiter


def form_state(request: Request) -> FormState:
    """The form's settings, signers and limiter for this application (built on first use)."""
    state: FormState | None = getattr(request.app.state, "public_form", None)
    if state is None:
        instance: Instance = request.app.state.instance
        settings = FormSettings.from_settings(instance.settings)
        state = FormState(
            settings,
            FormTokens(instance.secret_key, settings.form_hours),
            ReceiptTokens(instance.secret_key, settings.receipt_hours),
            SubmissionLimiter(settings.rate_limit, settings.rate_window_seconds),
        )
        request.app.state.public_form = state
    return state


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def form_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    files_not_kept: bool = False,
    held: list[HeldFile] | None = None,
    held_token: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The form, empty or with what the person typed and what to fix, with a fresh form token."""
    state = form_state(request)
    values = {k: v for k, v in (values or {}).items()
              if k not in (FORM_TOKEN_FIELD, HONEYPOT_FIELD, "held", "held_discard")}
    problems = list(problems or [])
    errors: dict[str, str] = {}
    shown: list[Problem] = []
    for problem in problems:  # one message per field, the same at the top and at the field
        if problem.field is None or problem.field not in errors:
            shown.append(problem)
        if problem.field and problem.field not in errors:
            errors[problem.field] = problem.message
    problems = shown
    cookie = request.cookies.get(FORM_COOKIE)
    if cookie is None or not state.tokens.cookie_ok(cookie):
        cookie = state.tokens.new_cookie()
    limits = state.settings
    title = _(FORM_TITLE) if not problems else ngettext(
        "Error: 1 thing to fix \u2013 %(form)s", "Error: %(num)s things to fix \u2013 %(form)s", len(problems),
        form=_(FORM_TITLE))
    response = render_public(request, "report_form.html", {
        "title": title,
        "values": values,
        "problems": problems,
        "errors": errors,
        "files_not_kept": files_not_kept,
        "held": held or [],
        "held_token": held_token,
        "form_token": state.tokens.token_for(cookie),
        "form_token_field": FORM_TOKEN_FIELD,
        "honeypot_field": HONEYPOT_FIELD,
        "file_field": FILE_FIELD,
        "choices": questions.RADIOS,
        "limits": limits,
        "max_file_text": describe_size(limits.max_file_bytes),
        "max_total_text": describe_size(limits.max_total_bytes),
        "anchor": questions.anchor,
    }, status_code=status)
    response.set_cookie(FORM_COOKIE, cookie, httponly=True, samesite="strict", path="/report",
                        secure=request.app.state.instance.settings.secure_cookies)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, principal: Anyone, language: Language) -> HTMLResponse:
    return form_page(request)


@router.post("/report", response_class=HTMLResponse)
async def send_report(request: Request, principal: Anyone, language: Language) -> Response:
    state = form_state(request)
    instance: Instance = request.app.state.instance
    address = _client_address(request)
    cookie = request.cookies.get(FORM_COOKIE)
    wait = state.limiter.wait_seconds(address)

    def may_store(values: dict[str, str]) -> bool:
        """Encrypt files only for a submission that can still be accepted."""
        return (wait == 0 and not values.get(HONEYPOT_FIELD, "").strip()
                and state.tokens.check(cookie, values.get(FORM_TOKEN_FIELD)) is None)

    reader = FormReader(instance.files, state.settings, may_store)
    try:
        form = await reader.read(request)
        if form.values.get("lang") in i18n.LANGUAGES:
            i18n.use(form.values["lang"])  # the language the form was filled in
    except FormUnreadable as error:
        # a body refused before its end is not read on: the connection closes after this answer
        return form_page(request, values=reader.form.values, problems=[Problem(None, error.message)],
                         files_not_kept=reader.form.files_sent > 0 or error.status == 413, status=error.status,
                         headers={"Connection": "close"} if error.status == 413 else None)
    try:
        return await _decide(request, state, instance, form, cookie, wait, address)
    finally:
        form.discard_files()  # no-op for files already committed


async def _decide(request: Request, state: FormState, instance: Instance, form: SubmittedForm,
                  cookie: str | None, wait: float, address: str) -> Response:
    values = form.values
    files_sent = form.files_sent > 0

    refusal = state.tokens.check(cookie, values.get(FORM_TOKEN_FIELD))
    if refusal is not None:
        return form_page(request, values=values, problems=[Problem(None, refusal)], files_not_kept=files_sent,
                         status=403)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        message = ngettext(
            "Several reports have been sent from this internet connection in the last few minutes. To keep this "
            "service working for everyone, please wait about %(num)s minute, then press \u201cSend report\u201d "
            "again. What you typed is still here.",
            "Several reports have been sent from this internet connection in the last few minutes. To keep this "
            "service working for everyone, please wait about %(num)s minutes, then press \u201cSend report\u201d "
            "again. What you typed is still here.", minutes)
        return form_page(request, values=values, problems=[Problem(None, message)], files_not_kept=files_sent,
                         status=429, headers={"Retry-After": str(int(wait) + 1)})

    token = values.get("held") if held_uploads.well_formed(values.get("held")) else None
    kept = await run_in_threadpool(_held_files, instance, token, values.get("held_discard") == "yes")
    outcome = questions.read_answers(values, now=utc_now(), default_zone=state.settings.time_zone,
                                     too_long=frozenset(form.too_long), language=i18n.current().code)
    problems = list(outcome.problems) + [Problem(FILE_FIELD, message) for message in form.file_problems]
    new_files = len(form.kept_writers())
    if not form.file_problems and len(kept) + new_files > state.settings.max_files:
        problems.append(Problem(FILE_FIELD, _(
            "You chose %(count)s files. Please send at most %(most)s, and tell us about the others under "
            "\u201cWhat happened\u201d.", count=len(kept) + new_files, most=state.settings.max_files)))
    if problems or outcome.content is None:
        # keep what can be kept: the files encrypted so far are held for the corrected submission
        token = token or held_uploads.new_token()
        newly_held = 0
        if new_files and len(kept) + new_files <= state.settings.max_files:
            kept = await run_in_threadpool(_hold_files, instance, token, form)
            newly_held = new_files
        return form_page(request, values=values, problems=problems, files_not_kept=form.files_sent > newly_held,
                         held=kept, held_token=token if kept else None, status=422)

    what = values.get("what", "")
    danger = values.get("danger") == "yes"
    child = values.get("relationship") == "child_themself"
    if values.get(HONEYPOT_FIELD, "").strip():
        number = decoy_number()
        state.limiter.accepted(address)
        log.warning("public report form: the hidden honeypot field was filled in (from %s); acknowledged with "
                    "decoy number %d, nothing stored", address, number)
        return _to_receipt(state, Receipt(number, what, danger, child))

    try:
        report_id, code = await run_in_threadpool(_store, instance, outcome.content, form, token)
    except Exception:
        request_id = getattr(request.state, "request_id", "-")
        log.exception("public report form: storing a report failed (request %s); nothing was kept", request_id)
        message = _("Something went wrong on our side, and your report was not saved. Nothing you typed has "
                    "been lost: it is all still here. Please wait a minute and press \u201cSend report\u201d again. "
                    "(Reference: %(reference)s)", reference=request_id)
        return form_page(request, values=values, problems=[Problem(None, message)], files_not_kept=files_sent,
                         held=kept, held_token=token if kept else None, status=500)
    state.limiter.accepted(address)
    response = _to_receipt(state, Receipt(report_id, what, danger, child))
    # the secret code reaches the receipt page in a cookie for that page only, never in an address that
    # browser history or a server log would keep
    response.set_cookie(CODE_COOKIE, f"{report_id}.{code}", max_age=state.settings.receipt_hours * 3600,
                        httponly=True, samesite="strict", path="/report/received",
                        secure=instance.settings.secure_cookies)
    return response


@dataclass(frozen=True)
class HeldFile:
    """A file kept from a refused submission, as the form lists it."""

    name: str
    size: str


def _held_files(instance: Instance, token: str | None, discard: bool) -> list[HeldFile]:
    """The files held under the form's hold token (let go of, when the person asked to remove them)."""
    if token is None:
        return []
    with instance.db.transaction() as session:
        if discard:
            held_uploads.release(session, instance.files, held_uploads.held(session, instance.secret_key, token))
            return []
        return _listed(instance, session, token)


def _listed(instance: Instance, session: Session, token: str) -> list[HeldFile]:
    return [HeldFile(row.file_name or _("A file without a name"), describe_size(row.size))
            for row in held_uploads.held(session, instance.secret_key, token)]


def _hold_files(instance: Instance, token: str, form: SubmittedForm) -> list[HeldFile]:
    """Keep the submission's encrypted files under `token` for the corrected submission; the list of
    every file now held under it."""
    with committed_files(instance, form) as committed, instance.db.transaction() as session:
        for attachment, stored in committed:
            held_uploads.hold(session, instance.files, instance.secret_key, token, stored, attachment.file_name)
        return _listed(instance, session, token)  # what is held now, read in the same transaction


def _to_receipt(state: FormState, receipt: Receipt) -> RedirectResponse:
    return RedirectResponse(f"/report/received/{state.receipts.issue(receipt)}", status_code=303)


def _store(instance: Instance, content: ReportContent, form: SubmittedForm, token: str | None) -> tuple[int, str]:
    """The report, its files (those held from earlier refused submissions first), its secret code and
    its first pipeline job, in one transaction: all or nothing."""
    with committed_files(instance, form) as committed, instance.db.transaction() as session:
        row = submit_report(instance, session, content, ReportSource.PUBLIC_FORM, PUBLIC)
        held = held_uploads.held(session, instance.secret_key, token)
        for kept in held:
            instance.files.register(session, row.id, held_uploads.as_stored(kept), file_name=kept.file_name,
                                    actor=PUBLIC.actor)
        held_uploads.release(session, instance.files, held)
        for attachment, stored in committed:
            instance.files.register(session, row.id, stored, file_name=attachment.file_name, actor=PUBLIC.actor)
        return row.id, report_codes.issue(session, instance.secret_key, row.id)


# --- the receipt ---------------------------------------------------------------------------------

HELP_ORDER = {
    "sextortion": ("threat", "takedown", "families"),
    "enticement": ("enticement", "threat", "takedown", "families"),
    "images": ("found", "takedown", "families", "threat"),
}
DEFAULT_HELP_ORDER = ("families", "threat", "takedown")


def help_order(what: str, child: bool) -> tuple[str, ...]:
    """The help sections for a situation, the child's own first when the reporter is the child."""
    order = HELP_ORDER.get(what, DEFAULT_HELP_ORDER)
    return ("child", *(name for name in order if name != "families")) if child else order
