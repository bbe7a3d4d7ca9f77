"""The public pages in the reporter's language: every message translated, the language chosen from
the browser, the switcher or the address, and `lang`/`dir` right for each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from babel.messages.pofile import read_po
from public_form.formsupport import MINIMAL, FormClient, load
from websupport import Site

from tipline.web import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> frozenset[str | tuple[str, ...]]:
    """The messages the code and templates mark today, extracted afresh with Babel (once for every language)."""
    out = tmp_path_factory.mktemp("babel") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "N_", "-o", str(out), "--no-location", "--omit-header", str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    with out.open("rb") as source:
        return frozenset(m.id for m in read_po(source) if m.id)


@pytest.mark.parametrize("code", [c for c in i18n.LANGUAGES if c != "en"])
def test_every_public_message_is_translated_with_the_same_placeholders(
        extracted: frozenset[str | tuple[str, ...]], code: str) -> None:
    with (i18n.LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=code)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = extracted - set(translated)
    assert not missing, f"{len(missing)} messages have no {code} translation, e.g. {sorted(map(str, missing))[:3]}"
    for msgid, string in translated.items():
        singular, *plural = msgid if isinstance(msgid, tuple) else (msgid,)
        forms = string if isinstance(string, tuple) else (string,)
        assert all(forms), f"empty {code} translation of {singular!r}"
        wanted = set(PLACEHOLDER.findall(singular)) | {name for p in plural for name in PLACEHOLDER.findall(p)}
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) <= wanted | {"num"}, (code, singular, form)
            if not plural:
                assert set(PLACEHOLDER.findall(form)) == wanted, (code, singular, form)
            assert form.count("<") == singular.count("<"), f"{code}: markup differs in {singular!r}"


@pytest.mark.parametrize(("header", "expected"), [
    ("es-MX,es;q=0.9,en;q=0.8", "es"),
    ("fr-FR,fr;q=0.9,ar;q=0.5,en;q=0.3", "ar"),
    ("de-DE", "en"),
    ("en;q=0.1, es;q=0.9", "es"),
    ("ar;q=0", "en"),
    ("*", "en"),
    ("", "en"),
])
def test_the_language_follows_the_browser_when_nothing_else_is_chosen(header: str, expected: str) -> None:
    assert i18n.choose(None, None, header) == expected


def html_of(response_text: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response_text)


@pytest.mark.parametrize(("code", "direction", "title", "button"), [
    ("en", "ltr", "Report a concern about a child", "Send report"),
    ("es", "ltr", "Avisar de una preocupación sobre un niño o una niña", "Enviar aviso"),
    ("ar", "rtl", "أبلغ عن قلق بشأن طفل", "أرسل البلاغ"),
])
def test_the_form_is_served_in_the_language_asked_for(site: Site, visitor: FormClient, code: str, direction: str,
                                                       title: str, button: str) -> None:
    page = visitor.http.get(f"/report?lang={code}")
    root = html_of(page.text)
    assert (root.get("lang"), root.get("dir")) == (code, direction)
    assert page.headers["content-language"] == code
    assert root.findtext(".//h1") == title
    assert root.xpath("//button[@type='submit']")[0].text_content().strip() == button
    # the choice holds on the next page without ?lang=, in a cookie that ends with the browser session
    assert "max-age" not in page.headers["set-cookie"].lower().split("tipline_lang=")[1].split(",")[0]
    again = html_of(visitor.http.get("/help").text)
    assert again.get("lang") == code


def test_the_accept_language_header_chooses_when_nothing_else_does(site: Site, visitor: FormClient) -> None:
    page = visitor.http.get("/report", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert html_of(page.text).get("lang") == "es"


def test_errors_come_back_in_the_forms_language_and_the_report_records_it(site: Site, visitor: FormClient) -> None:
    visitor.http.get("/report?lang=es")
    visitor.open()
    refused = visitor.send({"lang": "es", "what": "", "description": "Un hombre en un juego pide fotos."})
    assert refused.status_code == 422
    summary = html_of(refused.text).get_element_by_id("error-summary")
    assert "Elija qué pasó" in summary.text_content()
    number, receipt = visitor.receipt(visitor.send({**MINIMAL, "lang": "es",
                                                    "description": "Un hombre en un juego pide fotos."}))
    assert "Gracias. Hemos recibido su aviso." in receipt
    public = load(site, number).content.public_report
    assert public.language == "es" and public.description == "Un hombre en un juego pide fotos."
