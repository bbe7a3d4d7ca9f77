"""The hotline's own name, logo, numbers and services on the public pages, from one file; a quick
exit on every public page; no way from the public pages to the staff sign-in."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pytest
from public_form.formsupport import MINIMAL, FormClient
from websupport import Site

from tipline.config import ConfigError
from tipline.web.public_form.hotline import load_profile

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def hotline_file(tmp_path: Path) -> Path:
    folder = tmp_path / "hotline"
    folder.mkdir()
    shutil.copy(DOCS / "hotline.example.toml", folder / "hotline.toml")
    shutil.copy(DOCS / "logo.svg", folder / "logo.svg")
    return folder / "hotline.toml"


def page(response_text: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response_text)


def test_the_documented_example_is_a_working_profile(hotline_file: Path) -> None:
    profile = load_profile(hotline_file)
    assert profile.home_country == "ES"
    assert [line.number for line in profile.emergency_lines()] == ["112", "112"]
    assert [s.phone for s in profile.support_for("child")] == ["116 111"]


def test_the_public_pages_wear_the_hotlines_name_logo_and_numbers(make_site, hotline_file: Path) -> None:  # noqa: ANN001
    site: Site = make_site(TIPLINE_HOTLINE_FILE=str(hotline_file))
    visitor = FormClient(site)
    form = visitor.http.get("/report?lang=es")
    root = page(form.text)
    assert root.findtext(".//title").endswith("\u00b7 L\u00ednea de Protecci\u00f3n Infantil de Ejemplo")
    assert root.xpath("//a[@class='pub-brand']/img/@src") == ["/hotline/logo"]
    urgent = " ".join(root.xpath("//div[contains(@class, 'pf-urgent')]")[0].text_content().split())
    assert "Emergencias (polic\u00eda, ambulancia, bomberos): 112" in urgent
    assert root.xpath("//a[@href='tel:112']")
    logo = visitor.http.get("/hotline/logo")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in logo.headers["content-security-policy"]

    number, receipt = visitor.receipt(visitor.send({**MINIMAL, "relationship": "child_themself", "lang": "es"}))
    assert "116 111" in receipt  # the child helpline, for a child reporting about themself


@pytest.mark.parametrize(("content", "message"), [
    ("name = ", "is not valid TOML"),
    ('home_country = "Spain"', "home_country"),
    ('[[emergency]]\ncountry = "ES"\nlabel = "Police"\nnumber = "call us"', "emergency.0.number"),
    ('quick_exit_url = "javascript:alert(1)"', "quick_exit_url"),
    ('logo = "missing.png"', "is missing"),
    ('logo = "notes.txt"', "PNG, SVG, JPEG or WebP"),
    ('colour = "blue"', "colour"),
])
def test_a_profile_that_cannot_be_used_is_refused_with_its_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="TIPLINE_HOTLINE_FILE") as error:
        load_profile(path)
    assert message in str(error.value)


def test_without_a_profile_the_pages_point_to_the_emergency_number_where_you_are(site: Site, visitor: FormClient) -> None:
    root = page(visitor.http.get("/report").text)
    urgent = " ".join(root.xpath("//div[contains(@class, 'pf-urgent')]")[0].text_content().split())
    assert "where you are (for example 911 or 112)" in urgent
    assert visitor.http.get("/hotline/logo").status_code == 404


@pytest.mark.parametrize("path", ["/report", "/help", "/report/add"])
def test_every_public_page_has_a_quick_exit_and_no_staff_sign_in(site: Site, visitor: FormClient, path: str) -> None:
    response = visitor.http.get(path)
    assert response.status_code == 200
    root = page(response.text)
    exit_link = root.get_element_by_id("quick-exit")
    assert exit_link.get("href").startswith("https://") and "noreferrer" in exit_link.get("rel")
    assert root.xpath("//script[@src='/static/public-exit.js']")
    assert not root.xpath("//a[@href='/login']") and "Staff sign in" not in response.text


@pytest.mark.parametrize(("situation", "first_heading"), [
    ("sextortion", "help-threat"),
    ("enticement", "help-enticement"),
    ("images", "help-found"),
    ("child", "help-child"),
    ("parent", "help-families"),
])
def test_help_is_given_for_each_situation(site: Site, visitor: FormClient, situation: str, first_heading: str) -> None:
    root = page(visitor.http.get(f"/help?situation={situation}").text)
    headings = root.xpath("//section[contains(@class, 'pf-help')]/h2/@id")
    assert headings[0] == first_heading
    assert root.xpath(f"//a[@href='/help?situation={situation}'][@aria-current='page']")
