"""Adding to a report: `GET/POST /report/add`.

A public reporter who kept their report number and secret code can add what they learned since, and
files, to the same report (appended, audited, and run through the pipeline again so triage sees it),
and see whether the report has been read: nothing more. A wrong number and a wrong code get the same
answer; wrong codes are limited per address and per report (`tipline.store.report_codes`).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tipline.domain.base import utc_now
from tipline.domain.numbers import parse_whole_number
from tipline.domain.public import PublicAddition
from tipline.instance import Instance
from tipline.pipeline.engine.runner import start_pipeline
from tipline.store import report_codes
from tipline.store.accounts import PUBLIC
from tipline.web import i18n
from tipline.web.i18n import gettext as _
from tipline.web.public_form.guards import FORM_COOKIE, FORM_TOKEN_FIELD, HONEYPOT_FIELD, wrong_codes
from tipline.web.public_form.pages import render_public
from tipline.web.public_form.questions import Problem
from tipline.web.public_form.storing import committed_files
from tipline.web.public_form.upload import FILE_FIELD, FormReader, FormUnreadable, SubmittedForm, describe_size
from tipline.web.routes.public_form import Anyone, Language, form_state

log = logging.getLogger("tipline.web.public_form")
router = APIRouter(include_in_schema=False)

FIELDS = {"report_number": 30, "report_code": 40, "addition": 20_000, "lang": 10, "step": 10}
STATUS_TEXT = {
    report_codes.Status.WAITING: i18n.N_("We have your report. It is waiting to be read by our team."),
    report_codes.Status.BEING_READ: i18n.N_("Our team is reading your report now."),
    report_codes.Status.READ: i18n.N_("Our team has read your report."),
}




def _page(request: Request, *, values: dict[str, str] | None = None, problems: list[Problem] | None = None,
          access: report_codes.Access | None = None, added: bool = False, status: int = 200,
          files_not_kept: bool = False) -> HTMLResponse:
    state = form_state(request)
    cookie = request.cookies.get(FORM_COOKIE)
    if cookie is None or not state.tokens.cookie_ok(cookie):
        cookie = state.tokens.new_cookie()
    values = {k: v for k, v in (values or {}).items() if k in FIELDS}
    problems = list(problems or [])
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field and problem.field not in errors:
            errors[problem.field] = problem.message
    fu = None
    if access is not None:
        from tipline.web.routes.public_follow_up import form_context

        fu = form_context(request, [], values={"report_number": str(access.report_id),
                                               "report_code": values.get("report_code", "")}, code_known=True,
                              cookie=cookie)
    response = render_public(request, "report_add.html", {
        "fu": fu,
        "title": _("Add to a report you made"),
        "values": values,
        "problems": problems,
        "errors": errors,
        "access": access,
        "status_text": _(STATUS_TEXT[access.status]) if access else None,
        "added": added,
        "files_not_kept": files_not_kept,
        "form_token": state.tokens.token_for(cookie),
        "form_token_field": FORM_TOKEN_FIELD,
        "honeypot_field": HONEYPOT_FIELD,
        "file_field": FILE_FIELD,
        "limits": state.settings,
        "max_file_text": describe_size(state.settings.max_file_bytes),
        "max_total_text": describe_size(state.settings.max_total_bytes),
    }, status_code=status)
    response.set_cookie(FORM_COOKIE, cookie, httponly=True, samesite="strict", path="/report",
                        secure=request.app.state.instance.settings.secure_cookies)
    return response


@router.get("/report/add", response_class=HTMLResponse)
def add_form(request: Request, principal: Anyone, language: Language) -> HTMLResponse:
    return _page(request)


@router.post("/report/add", response_class=HTMLResponse)
async def add_to_report(request: Request, principal: Anyone, language: Language) -> Response:
    state = form_state(request)
    instance: Instance = request.app.state.instance
    address = request.client.host if request.client else "unknown"
    cookie = request.cookies.get(FORM_COOKIE)
    wait = max(state.limiter.wait_seconds(address), wrong_codes(request).wait_seconds(address))

    def may_store(values: dict[str, str]) -> bool:
        return (wait == 0 and not values.get(HONEYPOT_FIELD, "").strip()
                and state.tokens.check(cookie, values.get(FORM_TOKEN_FIELD)) is None)

    reader = FormReader(instance.files, state.settings, may_store, fields=FIELDS)
    try:
        form = await reader.read(request)
    except FormUnreadable as error:
        return _page(request, values=reader.form.values, problems=[Problem(None, error.message)],
                     files_not_kept=reader.form.files_sent > 0, status=error.status)
    if form.values.get("lang") in i18n.LANGUAGES:
        i18n.use(form.values["lang"])
    try:
        return await _decide(request, instance, form, cookie, wait, address)
    finally:
        form.discard_files()


async def _decide(request: Request, instance: Instance, form: SubmittedForm, cookie: str | None, wait: float,
                  address: str) -> Response:
    state = form_state(request)
    values = form.values
    files_sent = form.files_sent > 0
    refusal = state.tokens.check(cookie, values.get(FORM_TOKEN_FIELD))
    if refusal is not None:
        return _page(request, values=values, problems=[Problem(None, refusal)], status=403, files_not_kept=files_sent)
    if wait > 0 or values.get(HONEYPOT_FIELD, "").strip():
        minutes = max(1, round(wait / 60))
        return _page(request, values=values, status=429, files_not_kept=files_sent, problems=[Problem(None, i18n.ngettext(
            "Too many tries from this internet connection. Please wait about %(num)s minute and try again.",
            "Too many tries from this internet connection. Please wait about %(num)s minutes and try again.",
            minutes))])

    number = parse_whole_number(values.get("report_number", "").strip().lstrip("#"), minimum=1)
    code = values.get("report_code", "")
    with instance.db.transaction() as session:
        access = report_codes.check(session, instance.secret_key, number, code)
    if access is None:
        wrong_codes(request).accepted(address)
        log.info("public report form: a report number and code did not match (from %s)", address)
        return _page(request, values={k: v for k, v in values.items() if k != "report_code"}, status=422,
                     files_not_kept=files_sent, problems=[Problem("report_code", _(
                         "The report number and the secret code do not match. Check both (they are on the page "
                         "you saw after sending the report) and try again."))])

    addition = values.get("addition", "").replace("\r\n", "\n").replace("\x00", "").strip()
    if values.get("step") != "add":
        return _page(request, values={"report_number": values.get("report_number", ""), "report_code": code},
                     access=access)
    problems: list[Problem] = [Problem(FILE_FIELD, message) for message in form.file_problems]
    if "addition" in form.too_long or len(addition) > FIELDS["addition"]:
        problems.append(Problem("addition", _("%(label)s is too long. Please shorten it to %(limit)s characters "
                                              "or fewer.", label=_("What is new"),
                                              limit=i18n.number(FIELDS["addition"]))))
    if not addition and not form.kept_writers() and not problems:
        problems.append(Problem("addition", _("Tell us what is new, or choose files to add.")))
    if not access.may_add:
        problems.append(Problem(None, _("This report cannot be added to any more. Please make a new report and "
                                        "mention this report's number.")))
    if problems:
        return _page(request, values=values, problems=problems, access=access, status=422,
                     files_not_kept=files_sent)
    files = len(form.kept_writers())
    await run_in_threadpool(_store, instance, access.report_id, addition or None, files, form,
                            i18n.current().code)
    state.limiter.accepted(address)
    return _page(request, values={"report_number": str(access.report_id), "report_code": code}, access=access,
                 added=True)


def _store(instance: Instance, report_id: int, text: str | None, files: int, form: SubmittedForm,
           language: str) -> None:
    """The addition, its files and the report's new pipeline run, in one transaction."""
    with committed_files(instance, form) as committed, instance.db.transaction() as session:
        instance.reports.append_public_addition(
            session, report_id, PublicAddition(added_at=utc_now(), description=text, files=files, language=language),
            PUBLIC.actor)
        for attachment, stored in committed:
            instance.files.register(session, report_id, stored, file_name=attachment.file_name, actor=PUBLIC.actor)
        report_codes.count_addition(session, report_id)
        start_pipeline(instance, session, report_id)  # hashed, matched, read and triaged again
