"""Deciding where a report is from its clues: the strongest decides, corroboration helps, and every
clue that disagrees stays in view.

For each level (country, then region within it, then city within that) the clues that agree form a
group; a group's score is its strongest clue's confidence plus a tenth of each other clue's (at most
15 more), so several independent clues beat one slightly stronger clue only by a little. The best
group at each level is chosen; ties go to the group with more clues, then alphabetically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tipline.jurisdiction.clues import Clues, LocationClue, UnlocatedClue
from tipline.jurisdiction.places import Place, country_name, normalise_name

CORROBORATION_SHARE = 0.1
CORROBORATION_CAP = 15


@dataclass
class LevelDecision:
    level: str  # country, region, city
    value: str
    score: int
    clues: list[LocationClue]
    rivals: list[tuple[str, int]]  # other values at this level and their scores

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "value": self.value, "score": self.score,
                "clues": [c.to_dict() for c in self.clues], "rivals": [list(r) for r in self.rivals]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LevelDecision:
        return cls(data["level"], data["value"], int(data["score"]),
                   [LocationClue.from_dict(c) for c in data["clues"]], [(r[0], int(r[1])) for r in data["rivals"]])


@dataclass
class Resolution:
    """Where the report is, how sure, why, and every clue (agreeing or not)."""

    best: Place | None
    confidence: int
    clues: list[LocationClue] = field(default_factory=list)  # strongest first
    unlocated: list[UnlocatedClue] = field(default_factory=list)
    decisions: list[LevelDecision] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def agrees(self, clue: LocationClue) -> bool:
        """Whether a clue is consistent with the best location (a less precise clue can agree)."""
        if self.best is None:
            return False
        place = clue.place
        if place.country != self.best.country:
            return False
        if self.best.region and place.region and not self.best.same_region(place):
            return False
        return not (self.best.city and place.city and not self.best.same_city(place))

    @property
    def conflicts(self) -> list[LocationClue]:
        return [c for c in self.clues if not self.agrees(c)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "best": self.best.to_dict() if self.best else None,
            "confidence": self.confidence,
            "clues": [{**c.to_dict(), "agrees": self.agrees(c)} for c in self.clues],
            "unlocated": [u.to_dict() for u in self.unlocated],
            "decisions": [d.to_dict() for d in self.decisions],
            "reasoning": self.reasoning,
            "warnings": self.warnings,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resolution:
        return cls(
            best=Place.from_dict(data["best"]) if data.get("best") else None,
            confidence=int(data.get("confidence", 0)),
            clues=[LocationClue.from_dict(c) for c in data.get("clues", [])],
            unlocated=[UnlocatedClue.from_dict(u) for u in data.get("unlocated", [])],
            decisions=[LevelDecision.from_dict(d) for d in data.get("decisions", [])],
            reasoning=list(data.get("reasoning", [])),
            warnings=list(data.get("warnings", [])),
        )


def group_score(clues: list[LocationClue]) -> int:
    ordered = sorted((c.confidence for c in clues), reverse=True)
    bonus = min(CORROBORATION_CAP, round(sum(ordered[1:]) * CORROBORATION_SHARE))
    return min(99, ordered[0] + bonus) if ordered else 0


def _strength_order(clue: LocationClue) -> tuple[int, str, str]:
    return (-clue.confidence, clue.kind.value, clue.path)


def _decide(level: str, groups: dict[str, list[LocationClue]], label: dict[str, str]) -> LevelDecision | None:
    if not groups:
        return None
    scored = sorted(groups.items(), key=lambda item: (-group_score(item[1]), -len(item[1]), item[0]))
    key, clues = scored[0]
    rivals = [(label[k], group_score(g)) for k, g in scored[1:]]
    return LevelDecision(level, label[key], group_score(clues), sorted(clues, key=_strength_order), rivals)


def _cite(clues: list[LocationClue], limit: int = 3) -> str:
    shown = "; ".join(f"{c.party}: {c.kind.label.lower()} ({c.confidence})" for c in clues[:limit])
    more = len(clues) - limit
    return shown + (f"; and {more} more" if more > 0 else "")


def resolve(clues: Clues) -> Resolution:
    located = sorted(clues.located, key=_strength_order)
    resolution = Resolution(best=None, confidence=0, clues=located, unlocated=list(clues.unlocated),
                            warnings=list(clues.warnings))
    usable = [c for c in located if c.place.country]
    if not usable:
        resolution.reasoning.append("No clue in the report places it in a country.")
        return resolution

    by_country: dict[str, list[LocationClue]] = {}
    for clue in usable:
        by_country.setdefault(clue.place.country or "", []).append(clue)
    country = _decide("country", by_country, {k: k for k in by_country})
    assert country is not None
    resolution.decisions.append(country)
    resolution.confidence = country.score
    text = f"{country_name(country.value)} (score {country.score}): {_cite(country.clues)}."
    if country.rivals:
        text += " Disagreeing: " + ", ".join(f"{country_name(c)} ({s})" for c, s in country.rivals) + "."
    resolution.reasoning.append(text)

    in_country = country.clues
    region_groups: dict[str, list[LocationClue]] = {}
    region_label: dict[str, str] = {}
    representative: dict[str, Place] = {}
    for clue in in_country:
        if clue.place.region is None:
            continue
        key = next((k for k, p in representative.items() if p.same_region(clue.place)), None)
        if key is None:
            key = clue.place.region_key or normalise_name(clue.place.region)
            representative[key] = clue.place
            region_label[key] = clue.place.region
        region_groups.setdefault(key, []).append(clue)
    region = _decide("region", region_groups, region_label)
    region_place = None
    if region is not None:
        resolution.decisions.append(region)
        region_place = next(c.place for c in region.clues)
        text = f"Region {region.value} (score {region.score}): {_cite(region.clues)}."
        if region.rivals:
            text += " Disagreeing: " + ", ".join(f"{r} ({s})" for r, s in region.rivals) + "."
        resolution.reasoning.append(text)

    city_groups: dict[str, list[LocationClue]] = {}
    city_label: dict[str, str] = {}
    for clue in in_country:
        if clue.place.city is None:
            continue
        if region_place is not None and clue.place.region is not None and not region_place.same_region(clue.place):
            continue
        key = normalise_name(clue.place.city)
        city_groups.setdefault(key, []).append(clue)
        city_label.setdefault(key, clue.place.city)
    city = _decide("city", city_groups, city_label)
    if city is not None:
        resolution.decisions.append(city)
        text = f"City {city.value} (score {city.score}): {_cite(city.clues)}."
        if city.rivals:
            text += " Disagreeing: " + ", ".join(f"{r} ({s})" for r, s in city.rivals) + "."
        resolution.reasoning.append(text)

    if region_place is not None:
        best = Place(country.value, region_place.region, city.value if city else None, region_place.region_aliases)
    else:
        best = Place.of(country.value, None, city.value if city else None)
    resolution.best = best
    return resolution
