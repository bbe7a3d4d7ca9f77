"""Tokens a caller sends (CSRF tokens, reveal tokens, receipt and form signatures) are compared as
bytes: a token with characters outside ASCII is refused like any wrong token, never a server error
(hmac.compare_digest raises TypeError on non-ASCII str; schemathesis found it on POST /login)."""

from __future__ import annotations

from urllib.parse import quote

from websupport import Site, token_of

from tipline.web.public_form.guards import FormTokens


def test_a_sign_in_form_token_outside_ascii_is_refused(site: Site) -> None:
    client = site.client()
    client.get("/login")
    answer = client.post("/login", data={"username": "analyst", "password": "x", "csrf_token": "\u00e9t\u00e9"})
    assert answer.status_code == 400
    assert "The sign-in form expired" in answer.text


def test_a_session_csrf_token_outside_ascii_is_refused(site: Site) -> None:
    analyst = site.signed_in("analyst")
    assert token_of(analyst.get("/queue").text)
    by_header = analyst.post("/queue/claim-next", headers={"X-CSRF-Token": "\u00e9".encode("latin-1")})
    by_form = analyst.post("/queue/claim-next", data={"csrf_token": "\u00e9t\u00e9"})
    assert (by_header.status_code, by_form.status_code) == (403, 403)


def test_a_reveal_token_outside_ascii_is_refused(site: Site) -> None:
    analyst = site.signed_in("analyst")
    for clear in ("\u00b2", "9999999999.\u00e9", "\u0661\u0662.abc"):  # superscript two, e acute, Arabic-Indic digits
        answer = analyst.get(f"/files/sha256-abc/preview?clear={quote(clear)}")
        assert answer.status_code == 403, clear


def test_a_receipt_signature_outside_ascii_is_refused(site: Site) -> None:
    answer = site.client().get(f"/report/received/{quote('MS4yLjMuMA.' + chr(0xe9) * 32)}")
    assert answer.status_code == 404


def test_a_public_form_token_outside_ascii_is_refused() -> None:
    tokens = FormTokens(b"k" * 32, 24)
    assert tokens.check("a" * 43, "1700000000.\u00e9\u00e9") is not None
