"""Searching for an identifier as people type it: the kind recognised when none is chosen, a screen
name without its platform, and a phone number in a national format."""

from __future__ import annotations

from typing import Any

import pytest
from support import sample_content
from websupport import Site

from tipline.domain.identifiers import IdentifierKind
from tipline.store.search import recognise_kind


def _report_with(site: Site, phone: str, calling_code: str) -> int:
    content: dict[str, Any] = sample_content()
    person = content["personOrUserReported"][0]["personOrUserReportedPerson"]
    person["phone"] = [{"value": phone, "countryCallingCode": calling_code}]
    report_id: int = site.esp("chirp").post("/api/v1/reports", json=content).json()["reportId"]
    site.drain()
    return report_id


def _found(site: Site, **query: str) -> str:
    page = site.signed_in("analyst").get("/search", params=query)
    assert page.status_code == 200, page.text
    return page.text


@pytest.mark.parametrize(("typed", "kind"), [
    ("night.owl@example.com", IdentifierKind.EMAIL),
    ("https://chirp.example/u/nightowl", IdentifierKind.URL),
    ("203.0.113.9", IdentifierKind.IP_ADDRESS),
    ("$Jake_Money99", IdentifierKind.PAYMENT),
    ("07700 900827", IdentifierKind.PHONE),
    ("+44 7700 900827", IdentifierKind.PHONE),
    ("@NightOwl77", IdentifierKind.SCREEN_NAME),
    ("nightowl77", IdentifierKind.SCREEN_NAME),
])
def test_the_kind_of_what_was_typed_is_recognised(typed: str, kind: IdentifierKind) -> None:
    assert recognise_kind(typed) == kind


def test_a_uk_number_typed_as_it_is_dialled_in_the_uk_finds_the_report(site: Site) -> None:
    report_id = _report_with(site, "+44 7700 900827", "+44")
    for typed in ("07700 900827", "+44 7700 900827", "7700900827"):
        assert f"/reports/{report_id}" in _found(site, identifier=typed), typed
    assert f"/reports/{report_id}" not in _found(site, identifier="07700 900828")


def test_a_screen_name_without_its_platform_finds_it_on_every_platform(site: Site) -> None:
    report_id = _report_with(site, "(202) 555-0143", "+1")
    assert f"/reports/{report_id}" in _found(site, identifier="nightowl77")  # stored as chirp:nightowl77
    assert f"/reports/{report_id}" in _found(site, identifier="@NightOwl77", kind="screen_name")
    assert f"/reports/{report_id}" not in _found(site, identifier="nightowl7")  # a whole name, not a part
