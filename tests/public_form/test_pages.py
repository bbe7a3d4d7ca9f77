"""The form and receipt pages as a screen reader and a phone get them (server side), and the receipt
token: it shows one report's number to the person who sent it, and nothing for anyone guessing."""

from __future__ import annotations

import base64
import re
import time

import lxml.html
import pytest
from public_form.formsupport import MINIMAL, FormClient
from websupport import Site

from tipline.web.public_form.guards import Receipt, ReceiptTokens


def page_of(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html)


def words(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_the_form_asks_in_order_with_enticement_and_sextortion_first(site: Site, visitor: FormClient) -> None:
    page = page_of(visitor.open().text)
    assert page.findtext(".//title") == "Report a concern about a child \u00b7 tipline"
    assert [words(h) for h in page.iter("h1", "h2")] == [
        "Report a concern about a child", "What happened", "Where it happened", "When it happened", "The child",
        "The other person", "Screenshots and files (optional)", "About you", "Send your report"]
    what = [i.get("value") for i in page.xpath("//input[@name='what']")]
    assert what == ["sextortion", "enticement", "images", "sent_to_child", "abuse", "trafficking", "travel",
                    "misleading_words", "misleading_site"]
    # every option is explained in plain words, tied to its radio button
    for value in what:
        radio = page.get_element_by_id(f"what-{value}")
        hint = page.get_element_by_id(radio.get("aria-describedby"))
        assert len(words(hint)) > 20
    form = page.get_element_by_id("report-form")
    assert (form.get("method"), form.get("action"), form.get("enctype")) == ("post", "/report", "multipart/form-data")
    assert [f for f in ("what", "description") if page.xpath(f"//*[@name='{f}'][@required]")] == ["what", "description"]


def test_every_control_has_a_label_and_every_hint_is_tied_to_its_control(site: Site, visitor: FormClient) -> None:
    page = page_of(visitor.open().text)
    controls = page.xpath("//form//input[not(@type='hidden')] | //form//textarea | //form//select")
    assert len(controls) > 30
    for control in controls:
        labels = page.xpath(f"//label[@for='{control.get('id')}']")
        assert len(labels) == 1 and words(labels[0]), control.get("name")
        for ref in (control.get("aria-describedby") or "").split():
            assert page.get_element_by_id(ref) is not None
    for hint in page.xpath("//p[contains(@class, 'pf-hint')][@id]"):
        assert page.xpath(f"//*[contains(concat(' ', @aria-describedby, ' '), ' {hint.get('id')} ')]"), hint.get("id")
    for group in ("what", "danger", "where", "child_gender", "relationship"):
        first = page.xpath(f"//input[@name={group!r}]")[0]
        assert first.xpath("ancestor::fieldset/legend"), group  # a group of radio buttons is named by its legend


def test_the_honeypot_is_out_of_sight_and_out_of_the_tab_order(site: Site, visitor: FormClient) -> None:
    page = page_of(visitor.open().text)
    trap = page.get_element_by_id("homepage")
    assert trap.get("tabindex") == "-1" and trap.get("autocomplete") == "off"
    assert trap.getparent().get("aria-hidden") == "true" and "pf-hp" in trap.getparent().get("class")


def test_pages_need_nothing_from_other_sites_and_nothing_inline(site: Site, visitor: FormClient) -> None:
    form = visitor.open()
    _number, receipt = visitor.receipt(visitor.send({**MINIMAL, "what": "sextortion"}))
    for html in (form.text, receipt):
        page = page_of(html)
        for element in page.xpath("//*[@src or @href or @action][not(self::a)]"):  # what the page loads
            target = element.get("src") or element.get("href") or element.get("action")
            assert target.startswith(("/", "#")), target
        for link in page.xpath("//a[@href]"):  # where it lets the reader go: other sites only without a referrer
            target = link.get("href")
            if not target.startswith(("/", "#", "?", "tel:", "mailto:")):
                assert target.startswith("https://") and "noreferrer" in link.get("rel", ""), target
        assert not page.xpath("//*[@style] | //style | //script[not(@src)]")  # the CSP allows none
    assert "default-src 'self'" in form.headers["content-security-policy"]


def test_a_signed_in_person_sees_the_public_page_without_the_staff_menu(site: Site) -> None:
    analyst = site.signed_in("analyst")
    page = analyst.get("/report")
    assert page.status_code == 200
    assert "Sign out" not in page.text and 'href="/reports"' not in page.text


def _help_headings(html: str) -> list[str]:
    return [h.get("id") for h in page_of(html).xpath("//section[contains(@class, 'pf-help')]/h2")]


@pytest.mark.parametrize(("what", "order"), [
    ("sextortion", ["help-threat", "help-takedown", "help-families"]),
    ("enticement", ["help-enticement", "help-threat", "help-takedown", "help-families"]),
    ("images", ["help-found", "help-takedown", "help-families", "help-threat"]),
    ("abuse", ["help-families", "help-threat", "help-takedown"]),
])
def test_the_receipt_shows_the_number_what_happens_next_and_help_for_the_situation_first(
    site: Site, visitor: FormClient, what: str, order: list[str]
) -> None:
    number, html = visitor.receipt(visitor.send({**MINIMAL, "what": what}))
    assert number == 1
    page = page_of(html)
    assert page.findtext(".//title") == "Report 1 received \u00b7 tipline"
    assert words(page.get_element_by_id("report-number")) == "1"
    assert "What happens next" in words(page)
    assert _help_headings(html) == order
    assert MINIMAL["description"] not in html  # the receipt does not repeat what was reported
    assert "in danger right now" not in words(page)


def test_the_threat_help_is_practical_and_take_it_down_is_described_in_words(site: Site, visitor: FormClient) -> None:
    _, html = visitor.receipt(visitor.send({**MINIMAL, "what": "sextortion", "danger": "yes"}))
    text = words(page_of(html))
    for advice in ("Stop replying.", "Do not pay", "Keep the evidence.", "Tell an adult you trust,",
                   "Take It Down", "digital fingerprint", "not sent to anyone", "Support for families",
                   "You told us a child is in danger right now."):
        assert advice in text, advice
    link = page_of(html).get_element_by_id("take-it-down")
    assert link.get("href") == "https://takeitdown.ncmec.org/" and "noreferrer" in link.get("rel")


def test_a_young_person_reporting_about_themself_is_spoken_to_first(site: Site, visitor: FormClient) -> None:
    _, html = visitor.receipt(visitor.send({**MINIMAL, "what": "sextortion", "relationship": "child_themself"}))
    assert _help_headings(html) == ["help-child", "help-threat", "help-takedown"]
    assert "You are not in trouble" in words(page_of(html))


def test_a_receipt_token_cannot_be_forged_altered_or_reused_after_it_expires(site: Site, visitor: FormClient) -> None:
    response = visitor.send(MINIMAL)
    location = response.headers["location"]
    token = location.rsplit("/", 1)[1]
    assert visitor.http.get(location).status_code == 200

    payload, signature = token.split(".")
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    other = base64.urlsafe_b64encode(("2" + decoded[1:]).encode()).decode().rstrip("=")
    foreign = ReceiptTokens(b"k" * 32, 24).issue(Receipt(1, "enticement", False))
    for guess in (f"{other}.{signature}", f"{payload}.{signature[:-1]}A", "1", foreign, "x" * 500, "a.b.c"):
        refused = visitor.http.get(f"/report/received/{guess}")
        assert refused.status_code == 404, guess
        assert "This receipt link has expired" in refused.text
        assert not re.search(r'id="report-number"', refused.text)

    site.app.state.public_form.receipts.clock = lambda: time.time() + 25 * 3600
    assert visitor.http.get(location).status_code == 404
