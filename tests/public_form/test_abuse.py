"""Abuse resistance: the form's own CSRF token, the honeypot, the per-address limit, and bodies that
are not this form. Each refusal keeps what was typed and stores nothing."""

from __future__ import annotations

import logging
import re
import time

import lxml.html
import pytest
from public_form.formsupport import MINIMAL, FormClient, counts, form_token
from websupport import Site

from tipline.web.public_form.guards import FORM_COOKIE

NOT_FROM_HERE = ("This form did not come from this site, or it was opened in another window, so the report was not "
                 "sent. Please check your answers and press \u201cSend report\u201d again.")


def summary_text(html: str) -> str:
    page = lxml.html.fromstring(html)
    return " ".join(page.get_element_by_id("error-summary").text_content().split())


def kept(html: str, name: str) -> str | None:
    return lxml.html.fromstring(html).get_element_by_id("report-form").fields[name]  # type: ignore[no-any-return]


def test_the_form_cookie_is_http_only_strict_and_scoped_to_the_form(site: Site, visitor: FormClient) -> None:
    page = visitor.open()
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{FORM_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/report" in cookie
    # opening the form again (another tab) keeps the same cookie, so both tabs' tokens stay good
    again = visitor.http.get("/report")
    value = re.search(f"{FORM_COOKIE}=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    assert f"{FORM_COOKIE}={value}" in again.headers["set-cookie"]
    first_token = visitor.token
    visitor.token = form_token(again.text)
    assert visitor.receipt(visitor.send(MINIMAL, token=first_token))[0] > 0


@pytest.mark.parametrize("token", ["", "forged", "1700000000.AAAA", "not.even.close"])
def test_a_missing_or_forged_token_is_refused_and_what_was_typed_is_kept(
    site: Site, visitor: FormClient, token: str
) -> None:
    visitor.open()
    before = counts(site.instance)
    response = visitor.send({**MINIMAL, "platform": "Chirp"}, files=[("a.png", b"synthetic")], token=token)
    assert response.status_code == 403
    assert NOT_FROM_HERE in summary_text(response.text)
    assert "The files you chose were not kept" in summary_text(response.text)
    assert kept(response.text, "description") == MINIMAL["description"]
    assert kept(response.text, "platform") == "Chirp"
    assert counts(site.instance) == before  # not even a temporary ciphertext: files are not read into the store


def test_a_token_is_only_good_with_the_cookie_it_was_signed_for(site: Site) -> None:
    alice, mallory = FormClient(site, "198.51.100.1"), FormClient(site, "198.51.100.2")
    alice.open()
    mallory.open()
    before = counts(site.instance)
    response = alice.send(MINIMAL, token=mallory.token)
    assert response.status_code == 403
    assert NOT_FROM_HERE in summary_text(response.text)
    assert counts(site.instance) == before


def test_a_cross_site_post_without_the_cookie_is_refused_and_the_page_offers_a_working_form(site: Site) -> None:
    attacker = FormClient(site, "203.0.113.66")
    attacker.open()
    victim = FormClient(site, "198.51.100.7")  # never opened the form: a strict cookie is not sent cross-site
    response = victim.send(MINIMAL, token=attacker.token)
    assert response.status_code == 403
    assert "did not send back the small security cookie" in summary_text(response.text)
    assert counts(site.instance)["reports"] == 0
    # the refusal page itself set the cookie and a token for it: pressing Send again works
    assert victim.receipt(victim.send(MINIMAL))[0] == 1


def test_an_expired_token_is_refused_with_its_reason(site: Site, visitor: FormClient) -> None:
    visitor.open()
    tokens = site.app.state.public_form.tokens
    tokens.clock = lambda: time.time() + 25 * 3600  # the default lifetime is 24 hours
    response = visitor.send(MINIMAL)
    assert response.status_code == 403
    assert "This form was open for a long time and expired" in summary_text(response.text)
    assert visitor.receipt(visitor.send(MINIMAL))[0] == 1  # the new token works


def test_a_filled_honeypot_is_acknowledged_like_a_report_but_nothing_is_stored(
    site: Site, visitor: FormClient, caplog: pytest.LogCaptureFixture
) -> None:
    visitor.open()
    before = counts(site.instance)
    with caplog.at_level(logging.WARNING, logger="tipline.web.public_form"):
        response = visitor.send({**MINIMAL, "homepage": "https://spam.example"},
                                files=[("offer.pdf", b"synthetic spam attachment")])
    number, page = visitor.receipt(response)
    assert "Thank you. We have your report." in page
    assert number >= 900_000_000  # a decoy far above real numbers, never someone else's report
    assert counts(site.instance) == before
    logged = [r.getMessage() for r in caplog.records if r.name == "tipline.web.public_form"]
    assert len(logged) == 1
    assert "honeypot" in logged[0] and str(number) in logged[0] and "nothing stored" in logged[0]


def test_a_honeypot_submission_with_mistakes_gets_the_same_corrections_as_anyone(
    site: Site, visitor: FormClient
) -> None:
    response = visitor.send({"what": "", "description": "x", "homepage": "filled"})
    assert response.status_code == 422
    assert kept(response.text, "homepage") == ""


def test_accepted_reports_are_limited_per_address_and_refusals_do_not_count(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(TIPLINE_PUBLIC_FORM_RATE_LIMIT="2", TIPLINE_PUBLIC_FORM_RATE_WINDOW_SECONDS="600")
    visitor = FormClient(site, "198.51.100.30")
    assert visitor.send({**MINIMAL, "what": ""}).status_code == 422  # a mistake does not count
    visitor.receipt(visitor.send(MINIMAL))
    visitor.receipt(visitor.send(MINIMAL))
    before = counts(site.instance)
    typed = {**MINIMAL, "platform": "Blocktown"}
    refused = visitor.send(typed, files=[("a.png", b"synthetic")])
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 601
    text = summary_text(refused.text)
    assert "Several reports have been sent from this internet connection in the last few minutes" in text
    assert "please wait about 10 minutes" in text
    assert kept(refused.text, "platform") == "Blocktown"
    assert counts(site.instance) == before

    neighbour = FormClient(site, "198.51.100.31")  # another address is not affected
    neighbour.receipt(neighbour.send(MINIMAL))

    limiter = site.app.state.public_form.limiter
    start = time.monotonic()
    limiter.clock = lambda: start + 601  # the window has passed
    visitor.receipt(visitor.send(MINIMAL))


def test_a_honeypot_submission_counts_towards_the_limit(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(TIPLINE_PUBLIC_FORM_RATE_LIMIT="1")
    robot = FormClient(site, "203.0.113.9")
    robot.receipt(robot.send({**MINIMAL, "homepage": "x"}))
    assert robot.send({**MINIMAL, "homepage": "x"}).status_code == 429


def test_limits_come_from_settings_and_bad_settings_say_which_variable(make_site) -> None:  # type: ignore[no-untyped-def]
    from tipline.config import ConfigError

    site = make_site(TIPLINE_PUBLIC_FORM_TIME_ZONE="Atlantis/Capital")
    with pytest.raises(ConfigError, match="TIPLINE_PUBLIC_FORM_TIME_ZONE"):
        site.client().get("/report")
    site = make_site(TIPLINE_PUBLIC_FORM_MAX_FILES="many")
    with pytest.raises(ConfigError, match="TIPLINE_PUBLIC_FORM_MAX_FILES must be a whole number"):
        site.client().get("/report")


@pytest.mark.parametrize(("content_type", "body", "status", "says"), [
    ("application/json", b'{"what": "enticement"}', 415, "must be sent as a web form"),
    ("text/plain", b"what=enticement", 415, "must be sent as a web form"),
    ("multipart/form-data", b"--x\r\n", 400, "without its multipart boundary"),
    ("multipart/form-data; boundary=xyz", b"garbage that is not multipart at all\r\n\r\n", 400, "could not be read"),
])
def test_a_body_that_is_not_this_form_gets_a_precise_refusal_and_nothing_is_stored(
    site: Site, visitor: FormClient, content_type: str, body: bytes, status: int, says: str
) -> None:
    visitor.open()
    before = counts(site.instance)
    response = visitor.http.post("/report", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert says in summary_text(response.text)
    assert counts(site.instance) == before


def test_an_oversized_urlencoded_body_is_refused(site: Site, visitor: FormClient) -> None:
    visitor.open()
    response = visitor.send({**MINIMAL, "other_description": "z" * 600_000}, multipart=False)
    assert response.status_code == 413
    assert "too large" in summary_text(response.text)


def test_a_body_with_hundreds_of_fields_is_refused_precisely(site: Site, visitor: FormClient) -> None:
    visitor.open()
    response = visitor.send({**MINIMAL, **{f"extra{n}": "x" for n in range(300)}}, multipart=False)
    assert response.status_code == 400
    assert "too many fields" in summary_text(response.text)


def test_text_that_is_not_utf8_is_read_with_replacement_characters_not_an_error(
    site: Site, visitor: FormClient
) -> None:
    visitor.open()
    boundary = "synthetic-boundary"
    parts = [("form_token", visitor.token.encode()), ("what", b"enticement"),  # type: ignore[union-attr]
             ("description", b"Messages from \xff\xfe someone on a game.")]
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
                    for name, value in parts) + f"--{boundary}--\r\n".encode()
    response = visitor.http.post("/report", content=body,
                                 headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    number, _ = visitor.receipt(response)
    with site.instance.db.transaction() as session:
        description = site.instance.reports.load(session, number).content.public_report.description
    assert description == "Messages from \ufffd\ufffd someone on a game."
