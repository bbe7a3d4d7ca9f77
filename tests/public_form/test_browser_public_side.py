"""The public side in a real browser (Debian's chromium via Playwright), at phone width (375 px) and on
a desktop: a report filed in each language, a refused report recovered, adding to a report with its
number and code, the quick exit, and axe-core's accessibility rules on every public page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from websupport import LiveServer, Site, launch_chromium

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
EXIT = "https://www.google.com/search?q=weather+today"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def neutral_site(context: Any) -> None:
    """The quick exit's page, answered locally (the machine has no internet)."""
    context.route("https://www.google.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>Weather</title><p>Sunny</p>"))


@pytest.mark.parametrize(("code", "direction", "what", "send", "thanks"), [
    ("en", "ltr", "Someone is threatening to share sexual pictures or videos of a child", "Send report",
     "Thank you. We have your report."),
    ("es", "ltr", "Alguien amenaza con compartir fotos o vídeos sexuales de un niño o una niña", "Enviar aviso",
     "Gracias. Hemos recibido su aviso."),
    ("ar", "rtl", "شخص يهدد بنشر صور أو مقاطع فيديو جنسية لطفل", "أرسل البلاغ", "شكرًا لك. وصلنا بلاغك."),
])
def test_a_report_is_filed_in_each_language_on_a_phone(site: Site, chromium: Any, code: str, direction: str,
                                                        what: str, send: str, thanks: str) -> None:
    from playwright.sync_api import expect

    with LiveServer(site.app) as server:
        context = chromium.new_context(**PHONE)
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
                else None)
        page.goto(server.url + "/report")
        page.get_by_role("link", name={"en": "English", "es": "Español", "ar": "العربية"}[code]).click()
        expect(page.locator("html")).to_have_attribute("lang", code)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        page.get_by_label(what).check()
        page.locator("#description").fill("Un hombre pide fotos y dinero. / A man asks for photos and money.")
        page.locator("#child_age").fill({"en": "about 14", "es": "unos 14", "ar": "١٤"}[code])
        assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
        page.get_by_role("button", name=send).click()
        expect(page.locator("h1")).to_have_text(thanks)
        number = int(page.locator("#report-number").inner_text())
        assert re.fullmatch(r"([A-Z2-9]{4}-){3}[A-Z2-9]{4}", page.locator("#report-code").inner_text())
        assert not refused, refused
        context.close()
    site.drain()
    with site.instance.db.transaction() as session:
        public = site.instance.reports.load(session, number).content.public_report
    assert public.language == code and public.child_age is not None and public.child_age.low == 14


def test_a_refused_report_is_corrected_and_sent_with_its_files(site: Site, chromium: Any) -> None:
    from playwright.sync_api import expect

    with LiveServer(site.app) as server:
        page = chromium.new_context(**DESKTOP).new_page()
        page.goto(server.url + "/report?lang=es")
        page.locator("#description").fill("Alguien escribe a mi hijo en un juego.")
        page.locator("#child_age").fill("cuarto de primaria")
        page.locator("#attachments").set_input_files([{"name": "captura.png", "mimeType": "image/png",
                                                        "buffer": b"synthetic screenshot"}])
        page.get_by_role("button", name="Enviar aviso").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary.locator("li")).to_have_count(2)  # one per field: what happened, the age
        expect(page.locator("#child_age-error")).to_contain_text("unos 14")
        expect(page.locator("#description")).to_have_value("Alguien escribe a mi hijo en un juego.")
        expect(page.locator("#held-files")).to_contain_text("captura.png")  # the file is kept, not lost
        summary.locator("a[href='#child_age']").click()
        expect(page.locator("#child_age")).to_be_focused()
        page.locator("#child_age").fill("9 o 10")
        page.get_by_label("Alguien en internet intenta que un niño o una niña haga cosas sexuales").check()
        page.get_by_role("button", name="Enviar aviso").click()
        expect(page.locator("h1")).to_have_text("Gracias. Hemos recibido su aviso.")
        number = int(page.locator("#report-number").inner_text())
    with site.instance.db.transaction() as session:
        report = site.instance.reports.load(session, number)
    assert [f.file_name for f in report.files] == ["captura.png"]  # sent with the corrected report


def test_a_reporter_adds_to_their_report_with_its_number_and_code(site: Site, chromium: Any) -> None:
    from playwright.sync_api import expect

    with LiveServer(site.app) as server:
        page = chromium.new_context(**PHONE).new_page()
        page.goto(server.url + "/report")
        page.get_by_label("Someone online is trying to get a child to do sexual things").check()
        page.locator("#description").fill("A stranger in a game keeps asking my son to keep secrets.")
        page.get_by_role("button", name="Send report").click()
        number = page.locator("#report-number").inner_text()
        code = page.locator("#report-code").inner_text()
        page.get_by_role("link", name="add information or files to this report later").click()
        page.locator("#report_number").fill(number)
        page.locator("#report_code").fill(code.lower())
        page.get_by_role("button", name="Open my report").click()
        expect(page.locator("#report-status")).to_contain_text("waiting to be read")
        page.locator("#addition").fill("He now asks to meet at the park on Saturday.")
        page.locator("#attachments").set_input_files([{"name": "chat.png", "mimeType": "image/png",
                                                        "buffer": b"synthetic screenshot"}])
        page.get_by_role("button", name="Add to my report").click()
        expect(page.locator("#report-status")).to_contain_text(f"We have added this to report {number}.")
    with site.instance.db.transaction() as session:
        report = site.instance.reports.load(session, int(number))
    assert report.content.public_report.additions[0].description == "He now asks to meet at the park on Saturday."
    assert [f.file_name for f in report.files] == ["chat.png"]


@pytest.mark.parametrize("how", ["button", "escape twice"])
def test_quick_exit_leaves_and_back_does_not_return(site: Site, chromium: Any, how: str) -> None:
    from playwright.sync_api import expect

    with LiveServer(site.app) as server:
        context = chromium.new_context(**DESKTOP)
        neutral_site(context)
        page = context.new_page()
        page.goto(server.url + "/help")
        page.goto(server.url + "/report")
        page.locator("#description").fill("something private")
        if how == "button":
            page.get_by_role("link", name="Leave this site quickly").click()
        else:
            page.locator("#description").press("Escape")
            page.locator("#description").press("Escape")
        expect(page).to_have_url(EXIT)
        page.go_back()
        assert not page.url.endswith("/report"), page.url  # the form was replaced in the history
        context.close()


@pytest.mark.parametrize("code", ["en", "es", "ar"])
@pytest.mark.parametrize("path", ["/report", "/help?situation=sextortion", "/report/add"])
def test_public_pages_pass_axe_core(site: Site, chromium: Any, path: str, code: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    with LiveServer(site.app) as server:
        for viewport in (PHONE, DESKTOP):
            context = chromium.new_context(**viewport)
            page = context.new_page()
            separator = "&" if "?" in path else "?"
            page.goto(f"{server.url}{path}{separator}lang={code}")
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
            violations = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
            assert not violations, violations
            context.close()
