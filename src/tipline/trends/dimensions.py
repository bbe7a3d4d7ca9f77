"""What trends count: the dimensions, their plain names, and the facts of one report (pure: no database).

A report counts once for each value it has, on the day (UTC) it was received: a report annotated both
"sextortion" and "csamSolicitation" adds one to each. Multi-valued dimensions (annotations, tactics,
payment methods) therefore do not add up to the number of reports; "all" does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tipline.domain.incident import INCIDENT_SHORT_NAMES, IncidentType

DIMENSIONS: dict[str, str] = {
    "all": "All reports",
    "incident_type": "Incident type (as reported)",
    "confirmed_incident_type": "Incident type (confirmed by an analyst)",
    "suggested_incident_type": "Incident type (suggested by conversation analysis)",
    "annotation": "Report annotation",
    "source": "Source",
    "platform": "Platform",
    "country": "Country",
    "region": "Region",
    "tactic": "Enticement tactic",
    "disclosure": "Disclosure in a conversation",
    "age_band": "Victim age",
    "victim_sex": "Victim sex",
    "reporter": "Who reported (public reports)",
    "offender_relationship": "Child knows the offender offline",
    "payment_method": "Payment method named",
    "priority": "Priority",
    "decision": "Decision",
    "referral_outcome": "Referral outcome",
}
UNKNOWN = "unknown"
MAX_VALUE = 200
AGE_BANDS = ((0, 12, "0-12"), (13, 15, "13-15"), (16, 17, "16-17"), (18, 200, "18 or over"))
OFFENDER_KNOWN = ("online_only", "known_offline")
DECIDED = ("referred", "informational", "closed_no_action")
ANNOTATIONS = {"sextortion", "csamSolicitation", "minorToMinorInteraction", "spam", "sadisticOnlineExploitation"}


@dataclass
class ReportInputs:
    """What the counting stage read about one report (from its row and the pipeline's results)."""

    received_on: date
    incident_type: str
    source: str  # a provider's account name, or "public"
    platform: str | None = None
    reviewed_incident_type: str | None = None
    annotations: list[str] = field(default_factory=list)  # the reporter's and the analysts'
    suggested_incident_types: list[str] = field(default_factory=list)
    tactics: list[str] = field(default_factory=list)
    disclosure: bool = False
    victim_ages: list[int] = field(default_factory=list)
    victim_sex: str | None = None
    reporter: str | None = None  # a public reporter's relationship to the child
    offender_known: str | None = None  # online_only, known_offline or unknown, where the reporter said
    payment_services: list[str] = field(default_factory=list)
    country: str | None = None
    region: str | None = None
    priority: str | None = None
    state: str = ""
    referral_outcome: str | None = None


def age_band(age: int) -> str:
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def _clean(value: str) -> str:
    return " ".join(value.split())[:MAX_VALUE]


def facts(inputs: ReportInputs) -> set[tuple[str, str]]:
    """The (dimension, value) pairs the report adds one to, on its day."""
    found: set[tuple[str, str]] = {("all", "reports"), ("incident_type", inputs.incident_type),
                                   ("source", inputs.source)}
    found.add(("decision", inputs.state if inputs.state in DECIDED else "undecided"))
    found.add(("platform", _clean(inputs.platform) if inputs.platform and inputs.platform.strip() else UNKNOWN))
    if inputs.reviewed_incident_type:
        found.add(("confirmed_incident_type", inputs.reviewed_incident_type))
    found |= {("annotation", a) for a in inputs.annotations if a in ANNOTATIONS}
    found |= {("suggested_incident_type", t) for t in inputs.suggested_incident_types if t}
    found |= {("tactic", _clean(t)) for t in inputs.tactics if t}
    if inputs.disclosure:
        found.add(("disclosure", "disclosed"))
    bands = {age_band(a) for a in inputs.victim_ages if 0 <= a <= 130}
    found |= {("age_band", b) for b in bands} if bands else {("age_band", UNKNOWN)}
    found.add(("victim_sex", inputs.victim_sex or UNKNOWN))
    if inputs.reporter:
        found.add(("reporter", inputs.reporter))
    found.add(("offender_relationship", inputs.offender_known if inputs.offender_known in OFFENDER_KNOWN else UNKNOWN))
    found |= {("payment_method", _clean(s)) for s in inputs.payment_services if s}
    found.add(("country", inputs.country or UNKNOWN))
    if inputs.region:
        found.add(("region", _clean(f"{inputs.country or '?'}: {inputs.region}")))
    found.add(("priority", inputs.priority or "unscored"))
    if inputs.referral_outcome:
        found.add(("referral_outcome", inputs.referral_outcome))
    return found


def value_label(dimension: str, value: str) -> str:
    """A value as a person reads it (an incident type by its short name, a decision in words)."""
    if dimension in ("incident_type", "confirmed_incident_type", "suggested_incident_type"):
        try:
            return INCIDENT_SHORT_NAMES[IncidentType(value)]
        except ValueError:
            return value
    if dimension == "offender_relationship":
        return {"online_only": "Only online", "known_offline": "Known offline"}.get(value, "Not known")
    if dimension in ("decision", "referral_outcome", "reporter", "tactic", "victim_sex"):
        return value.replace("_", " ").capitalize()
    if dimension == "source":
        return "Public form" if value == "public" else value
    return value


def ages_in(content: dict[str, Any]) -> list[int]:
    """Victims' ages as the reporter gave them (the wire form of the content)."""
    ages = []
    for victim in content.get("victim") or []:
        person = victim.get("victimPerson") or {}
        if isinstance(person.get("age"), int):
            ages.append(person["age"])
    return ages


def annotation_names(*documents: dict[str, Any] | None) -> list[str]:
    """The annotations set in these (the reporter's reportAnnotations, an analyst's {"annotations": [...]})."""
    names: list[str] = []
    for document in documents:
        if not document:
            continue
        if isinstance(document.get("annotations"), list):
            names += [str(a) for a in document["annotations"]]
        else:
            names += [key for key, value in document.items() if value is True]
    return sorted(set(names))


def unique(values: Iterable[str | None]) -> list[str]:
    return sorted({v for v in values if v})
