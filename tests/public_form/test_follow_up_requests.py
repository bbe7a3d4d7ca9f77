"""A reporter asks to be contacted: from the receipt, after opening a report with its number and
code, or from /help; guarded like the form, translated, and nothing stored unless it is right."""

from __future__ import annotations

import re

import lxml.html
from public_form.formsupport import MINIMAL, FormClient, form_token
from public_form.test_additions import open_report, receipt_code
from sqlalchemy import func, select
from websupport import Site

from tipline.store.tables import AuditEventRow, FollowUpRow

ASK = {"channel": "text", "contact": "+1 555 0100 200", "safe_times": "weekdays after 4pm, never at weekends"}


def receipt_token(html: str) -> str:
    match = re.search(r'name="receipt" value="([^"]+)"', html)
    assert match is not None, "the receipt has no follow-up form"
    return match.group(1)


def ask(visitor: FormClient, page: str, answers: dict[str, str], **hidden: str) -> tuple[int, str]:
    response = visitor.http.post("/report/follow-up", data={"form_token": form_token(page), **hidden, **answers})
    return response.status_code, response.text


def stored(site: Site) -> list[FollowUpRow]:
    with site.instance.db.transaction() as session:
        return list(session.execute(select(FollowUpRow)).scalars())


def summary(html: str) -> list[str]:
    tree = lxml.html.fromstring(html)
    return [" ".join(li.text_content().split()) for li in tree.xpath('//*[@id="error-summary"]//li')]


def test_from_the_receipt_the_reporter_asks_to_be_texted_at_safe_times(site: Site, visitor: FormClient) -> None:
    number, page = visitor.receipt(visitor.send({**MINIMAL, "what": "sextortion"}))
    text = " ".join(lxml.html.fromstring(page).get_element_by_id("follow-up").text_content().split())
    assert "Nobody will contact you unless you ask here." in text
    assert stored(site) == []  # nobody asked yet, so nobody is to be contacted

    status, done = ask(visitor, page, ASK, receipt=receipt_token(page))
    assert status == 200, done
    confirmation = " ".join(lxml.html.fromstring(done).get_element_by_id("follow-up-done").text_content().split())
    assert confirmation == ("Thank you. We will contact you. Someone from our team will send you a text message at "
                            f"the times you gave us. This is about report {number}.")
    [row] = stored(site)
    assert (row.report_id, row.channel, row.contact, row.safe_times, row.language, row.situation) == (
        number, "text", "+1 555 0100 200", "weekdays after 4pm, never at weekends", "en", "sextortion")


def test_a_request_with_mistakes_says_what_to_fix_keeps_the_answers_and_stores_nothing(
        site: Site, visitor: FormClient) -> None:
    _number, page = visitor.receipt(visitor.send(MINIMAL))
    token = receipt_token(page)
    status, html = ask(visitor, page, {"contact": "", "safe_times": ""}, receipt=token)
    assert status == 422
    assert summary(html) == ["Choose how we should contact you.", "Tell us the phone number or email address to use.",
                             'Tell us when it is safe to contact you, for example "weekdays after 4pm".']
    status, html = ask(visitor, html, {"channel": "email", "contact": "not an address", "safe_times": "evenings"},
                       receipt=token)
    assert status == 422
    assert summary(html) == ["Enter an email address, like name@example.com."]
    tree = lxml.html.fromstring(html)
    assert tree.get_element_by_id("contact").get("value") == "not an address"
    assert tree.get_element_by_id("contact").get("aria-invalid") == "true"
    assert tree.xpath('//input[@name="receipt"]')[0].get("value") == token  # still tied to the report
    status, html = ask(visitor, html, {"channel": "phone", "contact": "call me maybe", "safe_times": "evenings"},
                       receipt=token)
    assert summary(html) == ["Enter a phone number, like +1 555 0100 200, using only numbers, spaces and +."]
    assert stored(site) == []


def test_without_the_form_token_or_with_a_forged_receipt_nothing_is_stored(site: Site, visitor: FormClient) -> None:
    number, page = visitor.receipt(visitor.send(MINIMAL))
    forged = receipt_token(page)[:-1] + ("A" if receipt_token(page)[-1] != "A" else "B")
    response = visitor.http.post("/report/follow-up", data={**ASK, "receipt": receipt_token(page)})
    assert response.status_code == 403
    elsewhere = FormClient(site, "198.51.100.99")  # a cross-site post has no cookie
    response = elsewhere.http.post("/report/follow-up", data={**ASK, "form_token": form_token(page),
                                                              "receipt": receipt_token(page)})
    assert response.status_code == 403
    status, html = ask(visitor, page, ASK, receipt=forged)
    assert status == 422
    assert summary(html) == ["The receipt page has expired. Please give your report number and secret code instead."]
    assert stored(site) == []
    response = visitor.http.post("/report/follow-up", data={"form_token": form_token(page), **ASK},
                                 files=[("attachments", ("a.txt", b"x", "text/plain"))])
    assert response.status_code == 415
    assert stored(site) == []
    assert number


def test_after_opening_a_report_with_its_code_the_reporter_asks_by_email(site: Site, visitor: FormClient) -> None:
    number, receipt = visitor.receipt(visitor.send(MINIMAL))
    code = receipt_code(receipt)
    status, page = open_report(visitor, number, code)
    assert status == 200
    form = lxml.html.fromstring(page).get_element_by_id("follow-up-form")
    hidden = {i.get("name"): i.get("value") for i in form.xpath('.//input[@type="hidden"]')}
    assert hidden["report_number"] == str(number) and hidden["report_code"] == code
    status, html = ask(visitor, page, {**ASK, "channel": "email", "contact": "robin.parent@example.org"},
                       report_number=str(number), report_code="wrong-code-0000")
    assert status == 422
    assert summary(html)[0].startswith("The report number and the secret code do not match.")
    assert stored(site) == []
    status, html = ask(visitor, page, {**ASK, "channel": "email", "contact": "robin.parent@example.org"},
                       report_number=str(number), report_code=code)
    assert status == 200, html
    [row] = stored(site)
    assert (row.report_id, row.channel, row.contact) == (number, "email", "robin.parent@example.org")


def test_help_leads_to_asking_with_the_number_and_code(site: Site, visitor: FormClient) -> None:
    number, receipt = visitor.receipt(visitor.send(MINIMAL))
    code = receipt_code(receipt)
    help_page = visitor.http.get("/help?situation=parent")
    assert help_page.status_code == 200
    link = lxml.html.fromstring(help_page.text).xpath('//a[starts-with(@href, "/report/follow-up")]')
    assert [a.get("href") for a in link] == ["/report/follow-up?situation=parent"]
    page = visitor.http.get("/report/follow-up?situation=parent")
    assert page.status_code == 200
    status, html = ask(visitor, page.text, ASK, report_number=str(number), report_code=code, situation="parent")
    assert status == 200, html
    [row] = stored(site)
    assert (row.report_id, row.situation) == (number, "parent")


def test_asking_again_changes_the_request_instead_of_adding_one(site: Site, visitor: FormClient) -> None:
    number, page = visitor.receipt(visitor.send(MINIMAL))
    ask(visitor, page, ASK, receipt=receipt_token(page))
    ask(visitor, page, {**ASK, "safe_times": "please do not contact me after all"}, receipt=receipt_token(page))
    [row] = stored(site)
    assert row.safe_times == "please do not contact me after all"


def test_requests_are_limited_per_address(site: Site, visitor: FormClient) -> None:
    _number, page = visitor.receipt(visitor.send(MINIMAL))
    for _ in range(5):
        status, _html = ask(visitor, page, ASK, receipt=receipt_token(page))
        assert status == 200
    status, html = ask(visitor, page, ASK, receipt=receipt_token(page))
    assert status == 429
    assert "Too many tries from this internet connection" in html


def test_a_decoy_receipt_is_thanked_and_nothing_is_stored(site: Site, visitor: FormClient) -> None:
    decoy, page = visitor.receipt(visitor.send({**MINIMAL, "homepage": "http://spam.example"}))
    assert decoy >= 900_000_000
    status, _html = ask(visitor, page, ASK, receipt=receipt_token(page))
    assert status == 200
    assert stored(site) == []
    with site.instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(AuditEventRow)
                               .where(AuditEventRow.action.like("follow_up.%"))).scalar_one() == 0


def test_in_spanish_and_arabic_the_request_and_its_errors_are_translated(site: Site, visitor: FormClient) -> None:
    _number, page = visitor.receipt(visitor.send(MINIMAL))
    spanish = visitor.http.get("/report/follow-up?lang=es")
    assert "¿Quiere que alguien le contacte?" in spanish.text
    status, html = ask(visitor, page, {"lang": "es", "channel": "phone", "contact": "", "safe_times": "tardes"},
                       receipt=receipt_token(page))
    assert status == 422
    assert summary(html) == ["Díganos qué número de teléfono o dirección de correo debemos usar."]
    assert '<html lang="es"' in html
    status, html = ask(visitor, page, {"lang": "ar", **ASK}, receipt=receipt_token(page))
    assert status == 200
    assert '<html lang="ar" dir="rtl"' in html and "شكرًا لك. سنتواصل معك." in html
    [row] = stored(site)
    assert row.language == "ar"
