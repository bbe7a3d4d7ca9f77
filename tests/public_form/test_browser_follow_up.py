"""Follow-up in a real browser (Debian's chromium via Playwright): a reporter asks, in Spanish on a
phone, to be contacted from their receipt; an advocate signs in and sees the request (and the page
passes axe-core's WCAG 2.1 AA rules in each language)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from websupport import PASSWORD, LiveServer, Site, launch_chromium

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
AXE_TAGS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def test_a_reporter_asks_in_spanish_on_the_receipt_and_an_advocate_sees_it(site: Site, chromium: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    with LiveServer(site.app) as server:
        context = chromium.new_context(**PHONE)
        page = context.new_page()
        page.goto(server.url + "/report?lang=es")
        page.get_by_label("Alguien amenaza con compartir fotos o vídeos sexuales de un niño o una niña").check()
        page.locator("#description").fill("Un hombre pide fotos y dinero a mi hija por un juego.")
        page.get_by_role("button", name="Enviar aviso").click()
        number = page.locator("#report-number").inner_text()
        expect(page.locator("#follow-up")).to_contain_text("Nadie le contactará si no lo pide aquí.")
        results = Axe().run(page, options=AXE_TAGS)  # the receipt with its follow-up form
        assert not [v["id"] for v in results.response["violations"]]
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        page.get_by_role("button", name="Pedir que me contacten").click()  # nothing chosen yet
        expect(page.locator("#error-summary")).to_be_focused()
        expect(page.locator("#error-summary li")).to_have_text([
            "Elija cómo quiere que le contactemos.",
            "Díganos qué número de teléfono o dirección de correo debemos usar.",
            "Díganos cuándo es seguro contactarle, por ejemplo \"entre semana después de las 4 de la tarde\"."])
        page.get_by_label("Un mensaje de texto").check()
        page.get_by_label("Su número de teléfono o dirección de correo electrónico").fill("+52 55 0100 2000")
        page.get_by_label("¿Cuándo es seguro contactarle?").fill("entre semana después de las 4 de la tarde")
        page.get_by_role("button", name="Pedir que me contacten").click()
        expect(page.locator("#follow-up-done")).to_contain_text(
            "Una persona de nuestro equipo le enviará un mensaje de texto en los horarios que nos indicó.")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        context.close()

        context = chromium.new_context(**DESKTOP)
        page = context.new_page()
        page.goto(server.url + "/login")
        page.locator("#username").fill("advocate")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("h1")).to_have_text("Follow-up requests")
        row = page.locator("table tbody tr").first
        expect(row).to_contain_text(f"#{number}")
        expect(row).to_contain_text("Spanish")
        expect(row).to_contain_text("Text message")
        expect(row).to_contain_text("+52 55 0100 2000")
        expect(row).to_contain_text("entre semana después de las 4 de la tarde")
        row.get_by_role("link").click()
        expect(page.locator("#fu-contact")).to_have_text("+52 55 0100 2000")
        page.get_by_label("Note", exact=True).fill("Texted once at 17:00 as asked; waiting for a reply.")
        page.get_by_label("How did the contact go?").select_option("message_left")
        page.get_by_role("button", name="Record").click()
        expect(page.locator("#fu-history")).to_contain_text("Contact: Left a message")
        context.close()


@pytest.mark.parametrize("code", ["en", "es", "ar"])
def test_the_follow_up_page_passes_axe_core(site: Site, chromium: Any, code: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    with LiveServer(site.app) as server:
        for viewport in (PHONE, DESKTOP):
            context = chromium.new_context(**viewport)
            page = context.new_page()
            page.goto(f"{server.url}/report/follow-up?situation=parent&lang={code}")
            page.locator("button.pf-button").click()  # with its error summary too
            results = Axe().run(page, options=AXE_TAGS)
            violations = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
            assert not violations, violations
            context.close()
