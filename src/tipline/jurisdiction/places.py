"""Places: a country, optionally a region and a city, compared by normalised names and codes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

import pycountry

from tipline.domain.codes import COUNTRIES, US_STATES

# Countries and their regions come from ISO 3166-1 and ISO 3166-2 (pycountry): a region is one of a
# country's top-level subdivisions (a US state, a German Land, a Brazilian state, a British nation),
# named by its code without the country prefix, as MaxMind databases give them, or by its name.
# Elsewhere (a city, a county below a region) a place is compared by its normalised name. The
# CyberTipline schema's own country list (domain/codes.py) is what the wire carries; its names and the
# few codes ISO lacks (XK, AN) are accepted here too.
REGION_ALIASES: dict[str, dict[str, str]] = {
    "US": {"washington dc": "DC", "washington d c": "DC", "d c": "DC"},
}
COUNTRY_ALIASES = {"uk": "GB", "great britain": "GB", "usa": "US", "united states of america": "US"}
# Country codes of the schema that are not countries.
NOT_COUNTRIES = frozenset({"A1", "A2", "O1", "AP", "EU"})
_QUALIFIER = re.compile(r"\s*\[[^\]]*\]$")  # "Wales [Cymru GB-CYM]": ISO's other name of the same place


def normalise_name(text: str) -> str:
    """Case, accents, punctuation and spacing ignored: 'Québec' == 'quebec', 'D.C.' == 'd c'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", plain).strip()


@cache
def country_names() -> dict[str, str]:
    """Every country's display name by ISO 3166-1 alpha-2 code (ISO's common name where it has one)."""
    names = {code: name for code, name in COUNTRIES.items() if code not in NOT_COUNTRIES}
    for country in pycountry.countries:
        names[country.alpha_2] = str(getattr(country, "common_name", None) or country.name)
    return names


@cache
def _country_index() -> dict[str, str]:
    """Normalised country names (ISO's name, common and official names, the schema's name) to codes."""
    index: dict[str, str] = {}
    for code, name in COUNTRIES.items():
        if code not in NOT_COUNTRIES:
            index.setdefault(normalise_name(name), code)
    for country in pycountry.countries:
        for iso_name in (country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)):
            if iso_name:
                index.setdefault(normalise_name(iso_name), country.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        index.setdefault(alias, code)
    return index


def country_code(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code from a code or an English country name (None if unknown)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.upper() in country_names():
        return text.upper()
    return _country_index().get(normalise_name(text))


def country_name(code: str | None) -> str:
    if not code:
        return "unknown country"
    return country_names().get(code, code)


@cache
def region_names(country: str | None) -> dict[str, str]:
    """The country's regions (top-level ISO 3166-2 subdivisions): name by code without the country prefix."""
    if not country:
        return {}
    try:
        subdivisions = pycountry.subdivisions.get(country_code=country) or []  # type: ignore[no-untyped-call]  # pycountry's lookups are not annotated
    except (KeyError, LookupError):
        return {}
    return {
        sub.code.split("-", 1)[1]: _QUALIFIER.sub("", sub.name)
        for sub in subdivisions
        if sub.parent_code is None
    }


@cache
def _region_index(country: str) -> dict[str, str]:
    """Normalised region names (and aliases) of a country to region codes."""
    index = {normalise_name(name): code for code, name in region_names(country).items()}
    if country == "US":  # the schema's names of the states and territories ("Virgin Islands")
        for code, name in US_STATES.items():
            index.setdefault(normalise_name(name), code)
    for alias, code in REGION_ALIASES.get(country, {}).items():
        index.setdefault(alias, code)
    return index


def region_code(country: str | None, value: str | None) -> str | None:
    """The ISO 3166-2 subdivision code (without country) for a known region code or name, else None."""
    if not country or not value or not value.strip():
        return None
    text = value.strip()
    if text.upper() in region_names(country):
        return text.upper()
    return _region_index(country).get(normalise_name(text))


def region_keys(country: str | None, value: str | None) -> frozenset[str]:
    """Every normalised form a region can be compared by: its code and its name, where known."""
    if not value or not value.strip():
        return frozenset()
    keys = {normalise_name(value)}
    code = region_code(country, value)
    if code:
        keys.add(normalise_name(code))
        keys.add(normalise_name(region_names(country)[code]))
    keys.discard("")
    return frozenset(keys)


def region_display(country: str | None, value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    code = region_code(country, value)
    return region_names(country)[code] if code and country else value.strip()


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
