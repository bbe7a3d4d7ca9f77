"""The receipt of a public report: `GET /report/received/{token}`: the report number and secret code,
what happens next, help for the situation, and the request for follow-up."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tipline.web.i18n import gettext as _
from tipline.web.public_form.pages import hotline, render_public
from tipline.web.routes.public_follow_up import form_context, set_form_cookie
from tipline.web.routes.public_form import CODE_COOKIE, Anyone, Language, form_state, help_order

router = APIRouter(include_in_schema=False)


@router.get("/report/received/{token}", response_class=HTMLResponse)
def receipt_page(request: Request, token: str, principal: Anyone, language: Language) -> HTMLResponse:
    state = form_state(request)
    receipt = state.receipts.read(token)
    if receipt is None:
        return render_public(request, "report_receipt.html",
                             {"title": _("This receipt link has expired"), "receipt": None}, status_code=404)
    code_number, _sep, code = request.cookies.get(CODE_COOKIE, "").partition(".")
    cookie: list[str] = []
    response = render_public(request, "report_receipt.html", {
        "fu": form_context(request, cookie, receipt=token),
        "title": _("Report %(number)s received", number=receipt.number),
        "code": code if code_number == str(receipt.number) else None,
        "services": hotline(request).support_for("child" if receipt.child else receipt.what),
        "receipt": receipt,
        "help_order": help_order(receipt.what, receipt.child),
        "receipt_hours": state.settings.receipt_hours,
    })
    set_form_cookie(request, response, cookie)
    return response
