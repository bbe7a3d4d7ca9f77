"""Finding place names in free text (what a public reporter typed, a school's name): a small
gazetteer of countries, the regions of the countries people commonly name regions of and of the
countries the agency directory covers, and every place the directory covers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tipline.domain.codes import COUNTRIES
from tipline.jurisdiction.places import NOT_COUNTRIES, Place, country_names, normalise_name, region_names

# Countries whose regions are looked for in any hotline's free text; a country the agency directory
# covers has its regions looked for too (all of ISO 3166-2 at once would make every "Central" a place).
FREE_TEXT_REGION_COUNTRIES = ("US", "CA", "AU", "GB")

# Country names that are also common words or first names: a mention is too weak to count.
AMBIGUOUS_WORDS = frozenset({"jordan", "chad", "turkey", "jersey", "guernsey", "niger", "georgia", "china",
                             "victoria", "washington", "india", "israel", "france", "wales", "jamaica"})
# ... except that a region name that is also a first name still counts when the text says it is a place
PLACE_CUES = re.compile(r"\b(?:in|from|near|at|to|of|lives?|living|based)\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class PlaceMention:
    place: Place
    text: str  # as written
    start: int
    ambiguous: bool  # the name stands for several places, or is also a common word


@dataclass
class Gazetteer:
    """Names to places. Matching is on whole words that start with a capital letter as written."""

    entries: dict[str, list[Place]] = field(default_factory=dict)

    def add(self, name: str, place: Place) -> None:
        key = normalise_name(name)
        if len(key) < 3:
            return
        places = self.entries.setdefault(key, [])
        if place not in places:
            places.append(place)

    @classmethod
    def standard(cls, places: Iterable[Place] = ()) -> Gazetteer:
        """Countries, their regions (see FREE_TEXT_REGION_COUNTRIES), and the given places (the areas of the
        agency directory)."""
        gazetteer = cls()
        places = list(places)
        for code, name in COUNTRIES.items():
            if code not in NOT_COUNTRIES:
                gazetteer.add(name, Place.of(code))
        for code, name in country_names().items():
            gazetteer.add(name, Place.of(code))
        countries = dict.fromkeys(FREE_TEXT_REGION_COUNTRIES)
        countries.update(dict.fromkeys(p.country for p in places if p.country))
        for country in countries:
            for name in region_names(country).values():
                gazetteer.add(name, Place.of(country, name))
        for place in places:
            if place.city:
                gazetteer.add(place.city, Place.of(place.country, place.region, place.city))
            if place.region:
                gazetteer.add(place.region, Place.of(place.country, place.region))
        gazetteer._compile()
        return gazetteer

    def _compile(self) -> None:
        names = sorted(self.entries, key=len, reverse=True)
        words = [r"\s+".join(re.escape(w) for w in name.split()) for name in names]
        self._pattern = re.compile(r"(?<![\w])(" + "|".join(words) + r")(?![\w])", re.IGNORECASE) if words else None

    def find(self, text: str) -> list[PlaceMention]:
        """Every place named in `text`; longer names win over the shorter names inside them."""
        if not getattr(self, "_pattern", None):
            self._compile()
        if not text or self._pattern is None:
            return []
        mentions = []
        for match in self._pattern.finditer(text):
            written = match.group(1)
            if not written[:1].isupper():
                continue
            key = normalise_name(written)
            places = self.entries.get(key, [])
            cue = bool(PLACE_CUES.search(text[max(0, match.start() - 12):match.start()]))
            if key in AMBIGUOUS_WORDS and not cue:
                continue
            for place in places:
                mentions.append(PlaceMention(place, written, match.start(), ambiguous=len(places) > 1))
        return mentions
