"""The public form in a real browser (Debian's chromium, headless, driven by Playwright): a report
sent with the keyboard alone, a refused report corrected and sent, and the form on a phone.

Screenshots go to $TIPLINE_SCREENSHOT_DIR when it is set (for people checking the look), else to
the test's temporary directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websupport import LiveServer, Site, launch_chromium

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("TIPLINE_SCREENSHOT_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def focused(page: Any) -> str:
    return page.evaluate("() => document.activeElement.id || document.activeElement.className || "
                         "document.activeElement.tagName")


def tab_to(page: Any, target: str, most: int = 60) -> list[str]:
    """Press Tab until `target` has focus; the ids passed on the way (each once, in order)."""
    visited: list[str] = []
    for _ in range(most):
        page.keyboard.press("Tab")
        now = focused(page)
        if not visited or visited[-1] != now:
            visited.append(now)
        if now == target:
            return visited
    raise AssertionError(f"Tab never reached #{target}; went through {visited}")


def stored(site: Site, report_id: int) -> Any:
    with site.instance.db.transaction() as session:
        return site.instance.reports.load(session, report_id)


def test_a_report_sent_with_the_keyboard_alone(site: Site, chromium: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    with LiveServer(site.app) as server:
        context = chromium.new_context(**DESKTOP, locale="en-US", timezone_id="America/Chicago")
        page = context.new_page()
        page.goto(server.url + "/report")
        expect(page).to_have_title("Report a concern about a child \u00b7 tipline")
        page.screenshot(path=str(shots / "desktop-form.png"), full_page=True)

        page.keyboard.press("Tab")
        assert focused(page) == "skip-link"
        tab_to(page, "what-sextortion")
        page.keyboard.press("Space")
        assert tab_to(page, "description") == ["description"]
        page.keyboard.type("Someone in a game chat says he will share a photo of my daughter unless she pays.")
        assert tab_to(page, "danger-yes") == ["danger-yes"]
        page.keyboard.press("ArrowDown")  # moves to, and chooses, "No, or I am not sure"
        assert tab_to(page, "where-chat") == ["where-chat"]
        page.keyboard.press("Space")
        tab_to(page, "platform")
        page.keyboard.type("Chirp")
        # the rest of the form, in the order it reads (one stop per group of radio buttons)
        order = tab_to(page, "when_date")
        assert order == ["links", "when_date"]
        page.keyboard.type("03142025")  # en-US: month, day, year
        assert tab_to(page, "when_time")[-1] == "when_time"
        page.keyboard.type("0630PM")
        order = [stop for stop in tab_to(page, "other_usernames") if stop != "when_time"]  # its AM/PM part first
        assert order == ["when_note", "child_age", "child_gender-female", "child_username", "other_usernames"]
        page.keyboard.type("@Shadow.Fox")
        order = tab_to(page, "may_contact")
        assert order == ["other_profiles", "other_first_name", "other_last_name", "other_email", "other_phone",
                         "other_age", "other_description", "offender_known-online_only", "attachments", "relationship-child_themself",
                         "contact_name", "contact_email", "contact_phone", "may_contact"]
        assert tab_to(page, "pf-button") == ["pf-button"]
        page.keyboard.press("Enter")

        expect(page).to_have_title("Report 1 received \u00b7 tipline")
        expect(page.locator("#report-number")).to_have_text("1")
        page.screenshot(path=str(shots / "desktop-receipt.png"), full_page=True)
        context.close()

    wire = stored(site, 1).content.to_wire()
    assert wire["incidentSummary"]["incidentType"] == "Online Enticement of Children for Sexual Acts"
    assert wire["incidentSummary"]["reportAnnotations"] == {"sextortion": True}
    assert wire["incidentSummary"]["platform"] == "Chirp"
    # the script sent the browser's zone: 18:30 in Chicago on 14 March 2025 (daylight time)
    assert wire["incidentSummary"]["incidentDateTime"] == "2025-03-14T18:30:00-05:00"
    assert wire["internetDetails"] == [{"chatImIncident": {"chatClient": "Chirp"}}]
    assert wire["personOrUserReported"] == [{"espService": "Chirp", "screenName": "@Shadow.Fox"}]
    assert wire["publicReport"]["description"].startswith("Someone in a game chat")
    assert "childInDangerNow" not in wire["publicReport"]


def test_a_refused_report_is_corrected_and_sent(make_site, chromium: Any, shots: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    site = make_site(TIPLINE_PUBLIC_FORM_MAX_FILE_BYTES=str(64 * 1024))
    big = tmp_path / "screen-recording.mp4"
    big.write_bytes(b"synthetic recording " * 5_000)  # 100 KB, over this site's 64 KB
    small = tmp_path / "chat.png"
    small.write_bytes(b"synthetic screenshot bytes")

    with LiveServer(site.app) as server:
        context = chromium.new_context(**DESKTOP)
        page = context.new_page()
        page.goto(server.url + "/report")
        page.fill("#description", "An adult keeps asking a pupil of mine to move to a private app.")
        page.fill("#child_age", "19")
        page.fill("#platform", "Blocktown")
        page.set_input_files("#attachments", str(big))
        expect(page.locator("#attachments-check")).to_contain_text("is more than 64 KB")  # said before sending
        page.click("button[type=submit]")

        expect(page).to_have_title("Error: 3 things to fix \u2013 Report a concern about a child \u00b7 tipline")
        assert focused(page) == "error-summary"  # a screen reader starts at the list of what to fix
        summary = page.locator("#error-summary")
        expect(summary.locator("a")).to_have_text([
            "Choose what happened. If none fits exactly, choose the closest one and explain in your own words.",
            ("This form is about children under 18. Enter an age from 0 to 17 (their age when it happened), "
            "or leave it empty."),
            ("\u201cscreen-recording.mp4\u201d is 97 KB, more than the 64 KB each file may be. Send a smaller file "
            "or a screenshot, or tell us where the file is."),
        ])
        expect(summary).to_contain_text("The files you chose were not kept")
        expect(page.locator("#description")).to_have_value(
            "An adult keeps asking a pupil of mine to move to a private app.")
        expect(page.locator("#platform")).to_have_value("Blocktown")
        expect(page.locator("#child_age")).to_have_attribute("aria-invalid", "true")
        page.screenshot(path=str(shots / "desktop-errors.png"), full_page=True)

        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#what-sextortion"
        page.keyboard.press("Enter")
        assert focused(page) == "what-sextortion"  # the link takes focus to the question
        page.keyboard.press("ArrowDown")  # "Someone online is trying to get a child to do sexual things"
        expect(page.locator("#what-enticement")).to_be_checked()
        page.fill("#child_age", "13")
        page.set_input_files("#attachments", str(small))
        expect(page.locator("#attachments-check")).to_be_empty()
        page.click("button[type=submit]")

        expect(page).to_have_title("Report 1 received \u00b7 tipline")
        context.close()

    report = stored(site, 1)
    assert report.content.incident_summary.incident_type.value == "Online Enticement of Children for Sexual Acts"
    assert report.content.victims[0].person.age == 13
    assert report.content.incident_summary.platform == "Blocktown"
    assert [(f.file_name, f.size) for f in report.files] == [("chat.png", small.stat().st_size)]


def test_on_a_phone_nothing_scrolls_sideways_and_targets_are_large(site: Site, chromium: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    small_targets = """() => [...document.querySelectorAll(
            'form input:not([type=hidden]):not([type=radio]):not([type=checkbox]):not(#homepage), form textarea, '
            + 'form button, .pf-radio label, .pf-checkbox label')]
        .map(e => [e.id || e.htmlFor || e.textContent.trim(), e.getBoundingClientRect().height,
                   parseFloat(getComputedStyle(e).fontSize)])
        .filter(([name, height, size]) => height < 44 || size < 16)"""
    with LiveServer(site.app) as server:
        context = chromium.new_context(**PHONE)
        page = context.new_page()
        page.goto(server.url + "/report")
        assert page.evaluate(overflow) <= 0
        assert page.evaluate(small_targets) == []
        page.screenshot(path=str(shots / "phone-form.png"), full_page=True)

        page.fill("#links", "not a link https://chirp.example/a-very-long-address-" + "x" * 120)
        page.fill("#other_email", "someone-with-a-really-long-address-that-does-not-wrap@example")
        page.locator("button[type=submit]").tap()
        expect(page.locator("#error-summary")).to_be_visible()
        assert page.evaluate(overflow) <= 0
        page.screenshot(path=str(shots / "phone-errors.png"), full_page=True)

        page.locator("#what-sextortion + label").tap()
        page.fill("#description", "Someone is threatening to post a picture of me.")
        page.fill("#links", "")
        page.fill("#other_email", "")
        page.locator("button[type=submit]").tap()
        expect(page.locator("#report-number")).to_have_text("1")
        assert page.evaluate(overflow) <= 0
        page.screenshot(path=str(shots / "phone-receipt.png"), full_page=True)
        context.close()
