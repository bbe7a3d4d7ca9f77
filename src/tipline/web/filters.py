"""Jinja filters for the pages: times in UTC, ages, field labels from the schema's names."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from jinja2 import Environment

from tipline.domain.base import utc_now
from tipline.domain.incident import INCIDENT_SHORT_NAMES, IncidentType
from tipline.domain.lifecycle import ReportState
from tipline.domain.paths import describe_path, describe_value

_LABEL_OVERRIDES = {
    "espIdentifier": "Service user id",
    "espService": "Service",
    "legalURL": "Legal URL",
    "reportedToLe": "Reported to law enforcement",
    "priorCTReports": "Prior CyberTipline reports",
    "priorCTReport": "Prior CyberTipline reports",
    "chatImIncident": "Chat / IM",
    "peer2peerIncident": "Peer to peer",
    "personOrUserReportedPerson": "Person",
    "intendedRecipientPerson": "Person",
    "victimPerson": "Person",
    "ipCaptureEvent": "IP capture events",
    "deviceId": "Device ids",
    "url": "URLs",
    "fleaCountry": "Foreign law-enforcement country",
    "offenderKnown": "Child knows them in person",
    "reporterRelationship": "Who reported",
    "childGender": "Child's gender",
}


def label(key: str) -> str:
    """'incidentDateTime' -> 'Incident date time'."""
    if key in _LABEL_OVERRIDES:
        return _LABEL_OVERRIDES[key]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:]


def when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")


def age(value: datetime | None) -> str:
    """How long ago, in the largest sensible unit."""
    if value is None:
        return ""
    seconds = int((utc_now() - value).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return ""


def incident_short(value: str) -> str:
    try:
        return INCIDENT_SHORT_NAMES[IncidentType(value)]
    except ValueError:
        return value


def state_label(value: str) -> str:
    try:
        return ReportState(value).label
    except ValueError:
        return value


def is_mapping(value: Any) -> bool:
    return isinstance(value, dict)


def is_list(value: Any) -> bool:
    return isinstance(value, list)


def install(env: Environment) -> None:
    env.filters.update(
        label=label, when=when, age=age, incident_short=incident_short, state_label=state_label,
        plain_path=describe_path, plain_value=lambda value, key: describe_value(key, value),
    )
    env.tests.update(mapping_value=is_mapping, list_value=is_list)
