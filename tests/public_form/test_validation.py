"""Every refusal says exactly what to fix, next to the field and in a summary at the top, keeps what
was typed, and stores nothing."""

from __future__ import annotations

from datetime import date, timedelta

import lxml.html
import pytest
from public_form.formsupport import MINIMAL, FormClient, counts, load
from sqlalchemy import func, select
from websupport import Site

from tipline.domain.base import utc_now
from tipline.store import held_uploads
from tipline.store.tables import HeldUploadRow

Q_OPEN, Q_CLOSE = "\u201c", "\u201d"
IN_THE_FUTURE = (date.today() + timedelta(days=3)).isoformat()

# (answers over MINIMAL, the field, the id the summary links to, the exact message)
CASES: list[tuple[dict[str, str], str, str, str]] = [
    ({"what": ""}, "what", "what-sextortion",
     "Choose what happened. If none fits exactly, choose the closest one and explain in your own words."),
    ({"what": "something_else"}, "what", "what-sextortion", "Choose one of the options shown."),
    ({"description": "   "}, "description", "description",
     "Tell us what happened, in your own words. A few sentences are enough."),
    ({"description": "a" * 20_001}, "description", "description",
     "What happened is too long. Please shorten it to 20,000 characters or fewer (it has 20,001)."),
    ({"danger": "maybe"}, "danger", "danger-yes", "Choose one of the options shown."),
    ({"where": "radio"}, "where", "where-chat", "Choose one of the options shown."),
    ({"platform": "p" * 201}, "platform", "platform",
     ("The name of the app, game, website or place is too long. Please shorten it to 200 characters or fewer "
     "(it has 201).")),
    ({"links": "https://chirp.example/a\nnot a link at all"}, "links", "links",
     (f"Line 2 of {Q_OPEN}Links{Q_CLOSE} does not look like a web address (for example https://example.com/page). "
     f"Check it, or move it to {Q_OPEN}What happened{Q_CLOSE}.")),
    ({"links": "\n".join(f"https://chirp.example/p/{n}" for n in range(21))}, "links", "links",
     (f"Please give at most 20 links, one on each line (you gave 21). You can add others under "
     f"{Q_OPEN}What happened{Q_CLOSE}.")),
    ({"when_date": "14/03/2025"}, "when_date", "when_date",
     "Enter the date as year-month-day, for example 2025-03-14, or leave it empty and tell us what you know below."),
    ({"when_date": "2025-02-30"}, "when_date", "when_date",
     "Enter the date as year-month-day, for example 2025-03-14, or leave it empty and tell us what you know below."),
    ({"when_date": IN_THE_FUTURE}, "when_date", "when_date",
     "That date is in the future. Check it, or leave it empty and tell us what you know below."),
    ({"when_date": "1850-06-01"}, "when_date", "when_date", "Check the year of the date."),
    ({"when_time": "18:30"}, "when_time", "when_time",
     "You gave a time but no date. Add the date, or leave the time empty."),
    ({"when_date": "2025-03-14", "when_time": "25:10"}, "when_time", "when_time",
     "Enter the time as hours and minutes, for example 18:30, or leave it empty."),
    ({"when_note": "n" * 1001}, "when_note", "when_note",
     ("What you know about when it happened is too long. Please shorten it to 1,000 characters or fewer "
     "(it has 1,001).")),
    ({"child_age": "year nine"}, "child_age", "child_age",
     (f"Enter an age as a number, for example 14, or in words such as {Q_OPEN}about 14{Q_CLOSE}, "
      f"{Q_OPEN}13 or 14{Q_CLOSE} or {Q_OPEN}20s{Q_CLOSE}. A guess is fine. Or leave it empty.")),
    ({"child_age": "about 19"}, "child_age", "child_age",
     ("This form is about children under 18. Enter an age from 0 to 17 (their age when it happened), "
     "or leave it empty.")),
    ({"child_age": "c" * 61}, "child_age", "child_age",
     "The child's age is too long. Please shorten it to 60 characters or fewer (it has 61)."),
    ({"child_age": "19"}, "child_age", "child_age",
     ("This form is about children under 18. Enter an age from 0 to 17 (their age when it happened), "
     "or leave it empty.")),
    ({"child_gender": "x"}, "child_gender", "child_gender-female", "Choose one of the options shown."),
    ({"other_usernames": "\n".join(f"user{n}" for n in range(11))}, "other_usernames", "other_usernames",
     (f"Please give at most 10 usernames, one on each line (you gave 11). You can add others under "
     f"{Q_OPEN}What else you know about them{Q_CLOSE}.")),
    ({"other_usernames": "u" * 201}, "other_usernames", "other_usernames",
     "Each username can be at most 200 characters. Put one username on each line."),
    ({"other_profiles": "my profile"}, "other_profiles", "other_profiles",
     (f"Line 1 of {Q_OPEN}Links to their profiles{Q_CLOSE} does not look like a web address (for example "
     f"https://example.com/page). Check it, or move it to {Q_OPEN}What happened{Q_CLOSE}.")),
    ({"other_email": "fox at example"}, "other_email", "other_email",
     "Enter their email address in the form name@example.com, or leave it empty."),
    ({"other_phone": "call me"}, "other_phone", "other_phone",
     "Enter their phone number using digits, for example +1 202 555 0143, or leave it empty."),
    ({"other_age": "old"}, "other_age", "other_age",
     (f"Enter an age as a number, for example 14, or in words such as {Q_OPEN}about 14{Q_CLOSE}, "
      f"{Q_OPEN}13 or 14{Q_CLOSE} or {Q_OPEN}20s{Q_CLOSE}. A guess is fine. Or leave it empty.")),
    ({"other_age": "150"}, "other_age", "other_age", "Enter an age from 0 to 120, or leave it empty."),
    ({"relationship": "boss"}, "relationship", "relationship-child_themself", "Choose one of the options shown."),
    ({"contact_email": "me@"}, "contact_email", "contact_email",
     "Enter your email address in the form name@example.com, or leave it empty."),
    ({"contact_phone": "12"}, "contact_phone", "contact_phone",
     "Enter your phone number using digits, for example +1 202 555 0143, or leave it empty."),
    ({"may_contact": "yes", "contact_name": "Robin"}, "contact_email", "contact_email",
     (f"To let us contact you, give an email address or a phone number. Or untick {Q_OPEN}It is safe to contact "
     f"me{Q_CLOSE} to stay anonymous.")),
]
RADIO_FIELDS = {"what", "danger", "where", "child_gender", "relationship"}


def text_of(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


@pytest.mark.parametrize(("answers", "field", "target", "message"), CASES,
                         ids=[f"{c[1]}-{n}" for n, c in enumerate(CASES)])
def test_each_problem_is_named_at_the_top_and_at_its_field(
    site: Site, visitor: FormClient, answers: dict[str, str], field: str, target: str, message: str
) -> None:
    visitor.open()
    before = counts(site.instance)
    response = visitor.send({**MINIMAL, **answers})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)

    assert page.findtext(".//title").startswith("Error: 1 thing to fix \u2013 Report a concern about a child")
    summary = page.get_element_by_id("error-summary")
    assert summary.get("role") == "alert"
    links = summary.findall(".//li/a")
    assert [(link.get("href"), text_of(link)) for link in links] == [(f"#{target}", message)]
    assert page.get_element_by_id(target) is not None  # the link lands on the field

    error = page.get_element_by_id(f"{field}-error")
    assert text_of(error) == f"Error: {message}"
    if field in RADIO_FIELDS:
        fieldset = page.get_element_by_id(target).getparent().getparent().getparent()
        assert fieldset.tag == "fieldset"
        assert f"{field}-error" in fieldset.get("aria-describedby").split()
    else:
        control = page.get_element_by_id(field)
        assert control.get("aria-invalid") == "true"
        assert f"{field}-error" in control.get("aria-describedby").split()
    assert counts(site.instance) == before


def test_several_problems_are_listed_in_the_order_of_the_form_and_the_rest_is_kept(
    site: Site, visitor: FormClient
) -> None:
    visitor.open()
    before = counts(site.instance)
    typed = {
        "what": "", "description": "He asked for photos <b>twice</b> & said \"don't tell\".", "danger": "no",
        "where": "game", "platform": "Blocktown", "child_age": "twelve or so, in year 7", "child_gender": "female",
        "other_usernames": "builder_bob\nbob2", "contact_email": "not-an-address", "may_contact": "yes",
        "relationship": "other_family", "when_note": "last Tuesday", "tz": "Europe/Paris",
    }
    response = visitor.send(typed, files=[("chat.png", b"synthetic screenshot bytes")])
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)
    assert page.findtext(".//title").startswith("Error: 3 things to fix")
    summary = page.get_element_by_id("error-summary")
    assert [link.get("href") for link in summary.findall(".//li/a")] == [
        "#what-sextortion", "#child_age", "#contact_email"]
    # the file is kept (encrypted, held for the corrected submission), not thrown away
    assert "The files you chose were not kept" not in text_of(summary)
    assert "chat.png" in text_of(page.get_element_by_id("held-files"))

    form = page.get_element_by_id("report-form")
    assert form.fields["description"] == typed["description"]  # kept exactly, escaped in the page
    assert "<b>" not in response.text.split("<textarea", 2)[1].split("</textarea>")[0]
    for name in ("platform", "child_age", "contact_email", "when_note", "tz"):
        assert form.fields[name] == typed[name]
    assert form.fields["other_usernames"] == "builder_bob\nbob2"
    for name in ("danger", "where", "child_gender", "relationship"):
        assert form.fields[name] == typed[name], name
    assert form.fields["what"] is None
    assert page.get_element_by_id("may_contact").get("checked") is not None
    assert form.fields["homepage"] == ""  # the honeypot is never echoed
    after = counts(site.instance)
    for table in ("reports", "files", "jobs", "identifiers"):
        assert after[table] == before[table], table  # no report, nothing half-written
    assert after["blob_files"] == before["blob_files"] + 1  # the one held file, encrypted


def held_token(html: str) -> str:
    return lxml.html.fromstring(html).xpath("//input[@name='held']/@value")[0]


def test_files_are_kept_across_a_refused_submission_and_sent_with_the_corrected_one(
        site: Site, visitor: FormClient) -> None:
    refused = visitor.send({**MINIMAL, "child_age": "19"}, files=[("first.png", b"first synthetic screenshot")])
    assert refused.status_code == 422
    token = held_token(refused.text)
    assert b"first synthetic screenshot" not in b"".join(
        path.read_bytes() for path in (site.instance.settings.file_store_dir / "blobs").rglob("*") if path.is_file())
    again = visitor.send({**MINIMAL, "child_age": "about 19", "held": token},
                         files=[("second.png", b"second synthetic screenshot")])
    assert again.status_code == 422 and held_token(again.text) == token
    assert "2 files are kept" in text_of(lxml.html.fromstring(again.text).get_element_by_id("held-files"))
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "child_age": "16", "held": token}))
    report = load(site, number)
    assert [f.file_name for f in report.files] == ["first.png", "second.png"]
    with site.instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(HeldUploadRow)).scalar_one() == 0


def test_held_files_can_be_removed_and_expire_when_abandoned(site: Site, visitor: FormClient) -> None:
    refused = visitor.send({**MINIMAL, "child_age": "19"}, files=[("mistake.png", b"not this one")])
    token = held_token(refused.text)
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "held": token, "held_discard": "yes"}))
    assert load(site, number).files == []

    visitor.send({**MINIMAL, "child_age": "19"}, files=[("abandoned.png", b"left behind")])
    later = utc_now() + timedelta(minutes=held_uploads.HOLD_MINUTES + 1)
    with site.instance.db.transaction() as session:
        assert held_uploads.expire(session, site.instance.files, now=later) == 1
    with site.instance.db.transaction() as session:
        collected = site.instance.files.collect_garbage(session, grace=timedelta(0))
    assert collected == 2  # the removed file and the abandoned one: no ciphertext is left behind


def test_a_hold_token_opens_nothing_but_its_own_files(site: Site, visitor: FormClient) -> None:
    visitor.send({**MINIMAL, "child_age": "19"}, files=[("private.png", b"someone else's screenshot")])
    stranger = FormClient(site, address="203.0.113.77")
    number, _ = stranger.receipt(stranger.send({**MINIMAL, "held": "guessed-token-value"}))
    assert load(site, number).files == []


def test_an_over_long_field_cut_short_while_reading_is_named(site: Site, visitor: FormClient) -> None:
    response = visitor.send({**MINIMAL, "description": "\u00e9" * 50_000})  # 100,000 bytes: over the reader's cap
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)
    assert text_of(page.get_element_by_id("description-error")) == (
        "Error: What happened is too long. Please shorten it to 20,000 characters or fewer.")


def test_a_corrected_submission_is_accepted(site: Site, visitor: FormClient) -> None:
    refused = visitor.send({**MINIMAL, "child_age": "19"})
    assert refused.status_code == 422
    number, _ = visitor.receipt(visitor.send({**MINIMAL, "child_age": "16"}))  # with the token of the error page
    with site.instance.db.transaction() as session:
        assert site.instance.reports.load(session, number).content.victims[0].person.age == 16
