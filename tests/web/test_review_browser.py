"""An analyst's whole review in a real browser: queue, the top report, one audited reveal, a
classification, closing; pictures blurred by default and blurred again on leaving."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from support import sample_content
from websupport import (
    PASSWORD,
    SEXTORTION,
    LiveServer,
    Site,
    file_report,
    launch_chromium,
    picture,
)

from tipline.store.tables import AuditEventRow, ReportFileRow, ReportRow

pytestmark = pytest.mark.browser


def test_log_in_queue_open_top_reveal_classify_close(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    file_report(site)  # a calm report first
    urgent = file_report(site, sample_content(internetDetails=[{"chatImIncident": {"chatClient": "Chirp",
                                                                                   "content": SEXTORTION}}]),
                         files={"photo.png": picture()})
    with site.instance.db.transaction() as session:
        file_id = session.execute(select(ReportFileRow.id).where(ReportFileRow.report_id == urgent)).scalar_one()

    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        page.goto(server.url + "/login")
        page.fill("#username", "analyst")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_title("Review queue · tipline")
        top = page.locator("table.queue tbody tr").first
        expect(top.locator(".badge").first).to_have_text("P1")
        top.get_by_role("link").first.click()
        expect(page).to_have_title(f"Report #{urgent} · tipline")

        image = page.locator(f"#file-{file_id} figure.preview img")
        expect(image).to_have_attribute("src", f"/files/{file_id}/preview")  # blurred by default
        expect(page.locator("video")).to_have_count(0)  # nothing plays by itself

        page.get_by_role("button", name="Claim this report").click()
        expect(page.get_by_role("status")).to_contain_text("You hold this report now.")
        reveal = page.get_by_role("button", name="Reveal photo.png (recorded in the audit trail)")
        reveal.click()
        # a locator assertion, not wait_for_function: the page's CSP forbids the eval that one needs
        expect(image).to_have_attribute("src", re.compile(r"clear="))
        page.evaluate("window.dispatchEvent(new Event('blur'))")  # the analyst looks away
        expect(image).to_have_attribute("src", f"/files/{file_id}/preview")

        page.locator(f'#classify input[name="file"][value="{file_id}"]').check()
        page.select_option("#classification", "B2")
        page.get_by_role("button", name="Classify the chosen files", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("File classification recorded.")

        page.get_by_label("Closed, no action").check()
        page.fill("#d-close-reason", "Reviewed; referred to the platform's own team")
        page.get_by_role("button", name="Close", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Report closed.")
        browser.close()

    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, urgent).state == "closed_no_action"
        assert session.get(ReportFileRow, file_id).reviewed_classification == "B2"
        revealed = session.execute(select(AuditEventRow).where(AuditEventRow.action == "file.revealed")).scalars().all()
    assert [(e.actor_name, e.details["file_id"]) for e in revealed] == [("analyst", file_id)]


def _sign_in(page, server: LiveServer, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(queue|reports|admin/users)"))


def test_a_stale_decision_keeps_the_page_and_the_typed_note(site: Site) -> None:
    """Two tabs on one report: the decision sent from the older one is refused on the same report page,
    signed in, with the note still typed and what changed since listed; sending it again then works."""
    from playwright.sync_api import expect, sync_playwright

    report_id = file_report(site)
    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context()
        first = context.new_page()
        _sign_in(first, server, "analyst")
        first.goto(f"{server.url}/reports/{report_id}")
        first.get_by_role("button", name="Claim this report").click()
        expect(first.get_by_role("status")).to_contain_text("You hold this report now.")

        second = context.new_page()  # the same analyst's other tab corrects the incident type
        second.goto(f"{server.url}/reports/{report_id}")
        second.select_option("#d-incident", "Child Sex Tourism")
        second.get_by_role("button", name="Correct", exact=True).click()
        expect(second.get_by_role("status")).to_contain_text("Incident type recorded.")

        note = "The chat shows a second account; a supervisor should look"
        first.fill("#d-escalate", note)
        first.get_by_role("button", name="Escalate", exact=True).click()
        expect(first).to_have_title(f"Report #{report_id} · tipline")
        expect(first.get_by_role("alert").filter(has_text="changed by someone else")).to_be_visible()
        expect(first.locator(".who")).to_contain_text("analyst")  # still signed in, not "Staff sign in"
        expect(first.locator("#d-escalate")).to_have_value(note)  # what was typed is kept
        expect(first.locator("#d-escalate")).to_be_focused()
        expect(first.locator("#changed-since")).to_contain_text("Incident type corrected")
        expect(first).to_have_url(f"{server.url}/reports/{report_id}")  # reloading draws the page, sends nothing
        with site.instance.db.transaction() as session:
            assert session.get(ReportRow, report_id).escalated_to_supervisor_at is None

        first.get_by_role("button", name="Escalate", exact=True).click()  # the page is current now
        expect(first.get_by_role("status")).to_contain_text("Escalated to a supervisor.")
        browser.close()
    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).escalated_to_supervisor_at is not None


def test_an_unknown_assignee_is_refused_with_the_choice_kept(site: Site) -> None:
    """The supervisor picks an analyst whose login is disabled while the page is open: refused at the picker,
    on the report page, the pick kept; nothing assigned."""
    from playwright.sync_api import expect, sync_playwright

    from tipline.domain.audit import Actor
    from tipline.domain.roles import Role

    report_id = file_report(site)
    with site.instance.db.transaction() as session:
        site.instance.accounts.add_user(session, "robin", Role.ANALYST, Actor.system("test"), password=PASSWORD)
    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        _sign_in(page, server, "supervisor")
        page.goto(f"{server.url}/reports/{report_id}")
        page.select_option("#assign-to", "robin")
        with site.instance.db.transaction() as session:
            site.instance.accounts.set_active(session, "robin", False, Actor.system("test"))
        page.get_by_role("button", name="Assign", exact=True).click()
        expect(page).to_have_title(f"Report #{report_id} · tipline")
        alert = page.locator("#refusal-message")
        expect(alert).to_contain_text("'robin' is not an active analyst or supervisor")
        expect(page.locator("#assign-to")).to_have_value("robin")
        expect(page.locator("#assign-to")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(".who")).to_contain_text("supervisor")
        browser.close()
    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).assigned_to is None


def test_keyboard_only_review_claims_moves_reveals_decides_and_lands_on_the_next_report(site: Site) -> None:
    """Claim with c, move between files with j/k, reveal with r (the audited request), close with the keyboard
    and land on the next report of the queue; shortcuts do not fire while typing. The first Reveal is a few
    tab stops from the top of the page (the skip link)."""
    from playwright.sync_api import expect, sync_playwright

    calm = file_report(site)
    urgent = file_report(site, sample_content(internetDetails=[{"chatImIncident": {"chatClient": "Chirp",
                                                                                   "content": SEXTORTION}}]),
                         files={"first.png": picture(3), "second.png": picture(5)})
    with site.instance.db.transaction() as session:
        first_file, second_file = session.execute(select(ReportFileRow.id).where(ReportFileRow.report_id == urgent)
                                                  .order_by(ReportFileRow.uploaded_at, ReportFileRow.id)).scalars()
    with LiveServer(site.app) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        _sign_in(page, server, "analyst")
        page.goto(f"{server.url}/reports/{urgent}")
        rows = page.locator('#files tr[id^="file-"]')
        first_id = rows.nth(0).get_attribute("id")

        stops = 0  # tab stops from the top of the page to the first Reveal button
        reveal_name = "Reveal first.png (recorded in the audit trail)"
        while stops < 80:
            page.keyboard.press("Tab")
            stops += 1
            focused = page.evaluate("document.activeElement.textContent.trim()")
            if focused == "Skip to the files":
                page.keyboard.press("Enter")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == reveal_name:
                break
        assert stops <= 4, f"{stops} tab stops to the first Reveal"

        page.keyboard.press("?")
        expect(page.locator("#shortcuts")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#shortcuts")).to_be_hidden()

        page.keyboard.press("c")
        expect(page.get_by_role("status")).to_contain_text("You hold this report now.")
        page.keyboard.press("j")
        page.keyboard.press("j")
        expect(rows.nth(1)).to_be_focused()
        page.keyboard.press("k")
        expect(rows.nth(0)).to_be_focused()
        page.keyboard.press("r")
        image = page.locator(f"#{first_id} figure.preview img")
        expect(image).to_have_attribute("src", re.compile(r"clear="))

        page.keyboard.press("d")  # to the decisions, then by Tab to the close form
        for _ in range(40):
            if page.evaluate("document.activeElement.value") == "informational":
                break
            page.keyboard.press("Tab")
        page.keyboard.press("ArrowDown")  # the radio group's next choice
        expect(page.get_by_label("Closed, no action")).to_be_checked()
        page.keyboard.press("Tab")
        page.keyboard.type("Reviewed; the platform acted jk")  # j and k typed here move no file
        expect(page.locator("#d-close-reason")).to_be_focused()
        page.keyboard.press("Enter")

        expect(page).to_have_title(f"Report #{calm} · tipline")  # the next report in the queue
        expect(page.get_by_role("status")).to_contain_text(f"Report #{urgent}: Report closed.")
        page.keyboard.press("n")  # nothing else waits: the queue says so
        expect(page).to_have_title("Review queue · tipline")
        browser.close()
    with site.instance.db.transaction() as session:
        assert session.get(ReportRow, urgent).state == "closed_no_action"
        revealed = session.execute(select(AuditEventRow).where(AuditEventRow.action == "file.revealed")).scalars().all()
    assert [e.details["file_id"] for e in revealed] == [first_id.removeprefix("file-")]
    assert {first_file, second_file} >= {first_id.removeprefix("file-")}
