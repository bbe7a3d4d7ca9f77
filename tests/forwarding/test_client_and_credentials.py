"""The CyberTipline client's reading of answers, and the sealing of destination passwords."""

from __future__ import annotations

import httpx
import pytest

from tipline.forwarding.client import IspwsClient, RemoteFailure
from tipline.forwarding.credentials import CredentialError, Secret, open_password, seal_password
from tipline.forwarding.destinations import PRODUCTION, TEST, DestinationError, check_url

KEY = bytes(range(32))


def client(status: int, body: bytes) -> IspwsClient:
    return IspwsClient("https://hotline.example/ispws", "hotline", Secret("s3cret-pass"),
                       transport=httpx.MockTransport(lambda request: httpx.Response(status, content=body)))


def test_a_success_answer_gives_the_report_id() -> None:
    answer = b"<reportResponse><responseCode>0</responseCode><reportId>4242</reportId></reportResponse>"
    assert client(200, answer).submit(b"<report/>", "key-1") == "4242"


@pytest.mark.parametrize(("status", "body", "retryable", "words"), [
    (200, b"<reportResponse><responseCode>2000</responseCode></reportResponse>", False, "Authentication required"),
    (400, b"<reportResponse><responseCode>4100</responseCode><responseDescription>incidentType is required"
          b"</responseDescription></reportResponse>", False, "incidentType is required"),
    (500, b"<reportResponse><responseCode>1100</responseCode></reportResponse>", True, "Save failed"),
    (200, b"<reportResponse><responseCode>6001</responseCode></reportResponse>", True, "does not list"),
    (200, b"<reportResponse><responseCode>zero</responseCode></reportResponse>", True, "not a CyberTipline"),
    (200, b"", True, "not a CyberTipline"),
    (200, b"\x00\xff\xfe garbage", True, "not a CyberTipline"),
    (302, b"", True, "HTTP 302"),
    (200, b"<reportResponse><responseCode>0</responseCode></reportResponse>", True, "gave no report ID"),
    (200, b"<reportResponse><responseCode>0</responseCode><reportId>R-17</reportId></reportResponse>", False,
     "not a number"),
])
def test_each_failing_answer_says_what_happened(status: int, body: bytes, retryable: bool, words: str) -> None:
    with pytest.raises(RemoteFailure) as caught:
        client(status, body).submit(b"<report/>", "key-1")
    assert caught.value.retryable is retryable
    assert words in str(caught.value)
    assert "s3cret-pass" not in str(caught.value)


def test_entities_in_an_answer_are_not_expanded() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<reportResponse><responseCode>0</responseCode><reportId>&b;</reportId></reportResponse>")
    with pytest.raises(RemoteFailure) as caught:
        client(200, bomb).submit(b"<report/>", "key-1")
    assert caught.value.retryable


def test_an_oversized_answer_is_refused_unread() -> None:
    with pytest.raises(RemoteFailure, match="too large"):
        client(200, b"<reportResponse>" + b" " * (2 << 20) + b"</reportResponse>").status()


def test_a_sealed_password_opens_only_for_its_destination_and_key() -> None:
    sealed = seal_password(KEY, "ncmec", "correct horse")
    assert "correct horse" not in sealed
    assert open_password(KEY, "ncmec", sealed).reveal() == "correct horse"
    with pytest.raises(CredentialError):
        open_password(KEY, "partner", sealed)
    with pytest.raises(CredentialError):
        open_password(bytes(32), "ncmec", sealed)
    assert "correct horse" not in repr(open_password(KEY, "ncmec", sealed))


@pytest.mark.parametrize(("url", "environment", "words"), [
    ("ftp://example.org/ispws", TEST, "http(s)"),
    ("https://user:pw@example.org/ispws", TEST, "must not hold a user name"),
    ("https://example.org/ispws?x=1", TEST, "query"),
    ("http://example.org/ispws", PRODUCTION, "must use https://"),
])
def test_a_bad_url_is_refused_with_the_reason(url: str, environment: str, words: str) -> None:
    with pytest.raises(DestinationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        check_url(url, environment)
