"""Identifiers written differently but meaning the same thing normalise to the same value."""

from __future__ import annotations

import pytest

from tipline.linking import (
    normalise_device_id,
    normalise_email,
    normalise_esp_user_id,
    normalise_ip,
    normalise_phone,
    normalise_platform,
    normalise_screen_name,
    normalise_url,
)


@pytest.mark.parametrize(
    "raw", ["night.owl@example.com", "Night.Owl@Example.COM", "  night.owl@example.com ", "mailto:night.owl@example.com",
            "<Night.Owl@example.com>"]
)
def test_emails_are_lower_cased_and_trimmed(raw: str) -> None:
    assert normalise_email(raw).value == "night.owl@example.com"
    assert normalise_email(raw).valid


def test_an_internationalised_email_domain_becomes_idna() -> None:
    assert normalise_email("kid@bücher.example").value == "kid@xn--bcher-kva.example"


def test_something_that_is_not_an_email_is_kept_but_marked() -> None:
    result = normalise_email("not an email")
    assert result.value == "not an email" and not result.valid


@pytest.mark.parametrize("raw", ["(202) 555-0143", "202-555-0143", "+1 202 555 0143", "2025550143", "+12025550143"])
def test_us_numbers_in_any_format_become_e164(raw: str) -> None:
    assert normalise_phone(raw, "US").value == "+12025550143"


def test_the_calling_code_attribute_picks_the_country() -> None:
    assert normalise_phone("020 7946 0018", "US", "+44").value == "+442079460018"
    assert normalise_phone("0491 570 156", "US", "+61").value == "+61491570156"


def test_the_default_region_applies_to_national_numbers() -> None:
    assert normalise_phone("020 7946 0018", "GB").value == "+442079460018"


def test_an_unparseable_number_keeps_its_digits_for_linking() -> None:
    result = normalise_phone("call me maybe 12", "US")
    assert result.value == "unparsed:12" and not result.valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_ip_addresses_take_their_canonical_form(raw: str, expected: str) -> None:
    assert normalise_ip(raw).value == expected and normalise_ip(raw).valid


def test_an_invalid_ip_is_kept_but_marked() -> None:
    result = normalise_ip("203.0.113.999")
    assert result.value == "203.0.113.999" and not result.valid


@pytest.mark.parametrize("platform", ["Instagram", "instagram.com", "https://www.instagram.com/", "IG", " insta "])
def test_platform_names_fold_to_one_key(platform: str) -> None:
    assert normalise_platform(platform) == "instagram"


def test_twitter_and_x_are_one_platform() -> None:
    assert normalise_platform("Twitter") == normalise_platform("X") == normalise_platform("x.com") == "x"


def test_screen_names_are_per_platform_and_case_insensitive() -> None:
    assert normalise_screen_name("@NightOwl77", "Chirp").value == "chirp:nightowl77"
    assert normalise_screen_name("nightowl77", "chirp").value == "chirp:nightowl77"
    assert normalise_screen_name("nightowl77", "Pixelgram").value != normalise_screen_name("nightowl77", "Chirp").value
    assert normalise_screen_name("nightowl77", None).value == "unknown:nightowl77"


def test_service_user_ids_are_opaque_but_scoped_to_the_service() -> None:
    assert normalise_esp_user_id(" 88812345 ", "Chirp").value == "chirp:88812345"
    assert normalise_esp_user_id("AbC", "Chirp").value != normalise_esp_user_id("abc", "Chirp").value


def test_hardware_device_ids_lose_their_separators() -> None:
    assert normalise_device_id("IMEI", "35-209900-176148-1").value == "imei:352099001761481"
    assert normalise_device_id("imei", "352099001761481").value == "imei:352099001761481"
    assert normalise_device_id("IDFA", "AB12-CD").value == "idfa:ab12-cd"


@pytest.mark.parametrize(
    "raw",
    ["https://Example.com/u/owl/", "http://www.example.com/u/owl", "HTTPS://EXAMPLE.COM:443/u/owl#top",
     "example.com/u/owl"],
)
def test_urls_to_the_same_page_compare_equal(raw: str) -> None:
    assert normalise_url(raw).value == "https://example.com/u/owl"


def test_url_paths_and_queries_stay_case_sensitive() -> None:
    assert normalise_url("https://example.com/U?id=A").value == "https://example.com/U?id=A"
    assert normalise_url("http://example.com:8080/x").value == "https://example.com:8080/x"
