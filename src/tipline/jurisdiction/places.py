"""Places: a country, optionally a region and a city, compared by normalised names and codes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from tipline.domain.codes import COUNTRIES, US_STATES

# Region codes are ISO 3166-2 subdivision codes without the country prefix, as MaxMind databases give
# them. Only the countries whose regions people commonly write out are listed; elsewhere a region is
# compared by its normalised name.
CA_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories", "NU": "Nunavut",
    "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec", "SK": "Saskatchewan", "YT": "Yukon",
}
AU_STATES = {
    "ACT": "Australian Capital Territory", "NSW": "New South Wales", "NT": "Northern Territory",
    "QLD": "Queensland", "SA": "South Australia", "TAS": "Tasmania", "VIC": "Victoria", "WA": "Western Australia",
}
GB_NATIONS = {"ENG": "England", "NIR": "Northern Ireland", "SCT": "Scotland", "WLS": "Wales"}
REGION_NAMES: dict[str, dict[str, str]] = {"US": US_STATES, "CA": CA_PROVINCES, "AU": AU_STATES, "GB": GB_NATIONS}
REGION_ALIASES: dict[str, dict[str, str]] = {
    "US": {"washington dc": "DC", "washington d c": "DC", "d c": "DC"},
}
# Country codes of the schema that are not countries.
NOT_COUNTRIES = frozenset({"A1", "A2", "O1", "AP", "EU"})


def normalise_name(text: str) -> str:
    """Case, accents, punctuation and spacing ignored: 'Québec' == 'quebec', 'D.C.' == 'd c'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", plain).strip()


def country_code(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code from a code or an English country name (None if unknown)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.upper() in COUNTRIES and text.upper() not in NOT_COUNTRIES:
        return text.upper()
    wanted = normalise_name(text)
    for code, name in COUNTRIES.items():
        if code not in NOT_COUNTRIES and normalise_name(name) == wanted:
            return code
    return {"uk": "GB", "united kingdom": "GB", "great britain": "GB", "usa": "US",
            "united states of america": "US", "united states": "US"}.get(wanted)


def country_name(code: str | None) -> str:
    if not code:
        return "unknown country"
    return COUNTRIES.get(code, code)


def region_code(country: str | None, value: str | None) -> str | None:
    """The ISO 3166-2 subdivision code (without country) for a known region code or name, else None."""
    if not country or not value or not value.strip():
        return None
    names = REGION_NAMES.get(country, {})
    text = value.strip()
    if text.upper() in names:
        return text.upper()
    wanted = normalise_name(text)
    for code, name in names.items():
        if normalise_name(name) == wanted:
            return code
    return REGION_ALIASES.get(country, {}).get(wanted)


def region_keys(country: str | None, value: str | None) -> frozenset[str]:
    """Every normalised form a region can be compared by: its code and its name, where known."""
    if not value or not value.strip():
        return frozenset()
    keys = {normalise_name(value)}
    code = region_code(country, value)
    if code:
        keys.add(normalise_name(code))
        keys.add(normalise_name(REGION_NAMES[country][code]))
    keys.discard("")
    return frozenset(keys)


def region_display(country: str | None, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    code = region_code(country, value)
    return REGION_NAMES[country][code] if code and country else value.strip()


@dataclass(frozen=True)
class Place:
    """Where something is: a country (ISO 3166-1 alpha-2), and optionally a region and a city."""

    country: str | None
    region: str | None = None
    city: str | None = None
    region_aliases: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def of(cls, country: str | None, region: str | None = None, city: str | None = None,
           extra_region_names: tuple[str, ...] = ()) -> Place:
        """A place from what a source gave (codes or names); the region is shown by its full name."""
        code = country_code(country)
        region_text = region.strip() if region and region.strip() else None
        aliases = set(region_keys(code, region_text))
        for name in extra_region_names:
            aliases |= region_keys(code, name)
        city_text = city.strip() if city and city.strip() else None
        return cls(code, region_display(code, region_text), city_text, frozenset(aliases))

    @property
    def region_key(self) -> str | None:
        """One stable key for grouping: the region's code where known, else its normalised name."""
        if self.region is None:
            return None
        code = region_code(self.country, self.region)
        return normalise_name(code) if code else normalise_name(self.region)

    def same_region(self, other: Place) -> bool:
        if self.region is None or other.region is None:
            return False
        mine = self.region_aliases or region_keys(self.country, self.region)
        theirs = other.region_aliases or region_keys(other.country, other.region)
        return bool(mine & theirs)

    def same_city(self, other: Place) -> bool:
        return (self.city is not None and other.city is not None
                and normalise_name(self.city) == normalise_name(other.city))

    @property
    def level(self) -> str:
        return "city" if self.city else "region" if self.region else "country" if self.country else "none"

    def describe(self) -> str:
        parts = [p for p in (self.city, self.region) if p]
        parts.append(country_name(self.country))
        return ", ".join(parts)

    def to_dict(self) -> dict[str, str | None]:
        return {"country": self.country, "region": self.region, "city": self.city}

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> Place:
        return cls.of(data.get("country"), data.get("region"), data.get("city"))
