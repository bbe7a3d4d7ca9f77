"""Locating phone numbers: the country from the number, and a region or city from `phonenumbers`'
offline geocoder where it knows one (landlines mostly; a mobile number gives only its country)."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import geocoder

from tipline.domain.codes import US_STATES
from tipline.jurisdiction.places import Place, country_name, region_code

# +1 is shared by the United States, Canada and much of the Caribbean: the code alone says little.
SHARED_CALLING_CODES = frozenset({1, 7})


@dataclass(frozen=True)
class PhoneLocation:
    place: Place
    e164: str
    valid: bool
    detail: str  # how the place was found, for the evidence


def locate_phone(value: str, calling_code: str | None = None, default_region: str = "US") -> PhoneLocation | None:
    """Where a number is registered, or None when it cannot be parsed at all."""
    text = value.strip()
    if not text:
        return None
    region = None
    if calling_code and not text.startswith("+"):
        try:
            region = phonenumbers.region_code_for_country_code(int(calling_code.lstrip("+")))
        except ValueError:
            region = None
        if region in (None, "ZZ"):
            text = f"{calling_code} {text}"
            region = None
    try:
        number = phonenumbers.parse(text, region or default_region)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(number):
        country = phonenumbers.region_code_for_number(number)
        if not country:
            return None
        description = geocoder.description_for_number(number, "en") or ""
        place, detail = _place_from_description(country, description)
        return PhoneLocation(place, e164, True, detail)
    if number.country_code is None or number.country_code in SHARED_CALLING_CODES:
        return None
    country = phonenumbers.region_code_for_country_code(number.country_code)
    if not country or country == "ZZ":
        return None
    return PhoneLocation(Place.of(country), e164, False,
                         f"only the calling code +{number.country_code} ({country_name(country)}); "
                         "the number itself is not a valid one")


def _place_from_description(country: str, description: str) -> tuple[Place, str]:
    """The geocoder says 'Texas', 'Mountain View, CA', 'Leeds', 'Ontario' or the country's name."""
    text = description.strip()
    if not text or text == country_name(country):
        return Place.of(country), f"registered in {country_name(country)}"
    if country == "US" and "," in text:
        city, _, state = text.rpartition(",")
        if state.strip().upper() in US_STATES:
            return Place.of(country, state.strip(), city.strip()), f"geocoded by its area code to {text}"
    if region_code(country, text):
        return Place.of(country, text), f"geocoded by its area code to {text}"
    return Place.of(country, None, text), f"geocoded by its area code to {text}"
