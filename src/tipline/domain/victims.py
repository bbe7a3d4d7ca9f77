"""Victim identification: a series' status, its victims as pseudonymous records, and the rules that
keep direct identifiers (names, addresses, contact details) out of them."""

from __future__ import annotations

import re

from tipline.domain.labels import LabelledEnum, labels


class SeriesStatus(LabelledEnum):
    UNIDENTIFIED = "unidentified"
    UNDER_INVESTIGATION = "under_investigation"
    IDENTIFIED = "identified"


SERIES_STATUS_LABELS = labels(SeriesStatus, {
    SeriesStatus.UNIDENTIFIED: "Not identified",
    SeriesStatus.UNDER_INVESTIGATION: "Under investigation",
    SeriesStatus.IDENTIFIED: "Identified",
})


class VictimSex(LabelledEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


VICTIM_SEX_LABELS = labels(VictimSex, {VictimSex.FEMALE: "Female", VictimSex.MALE: "Male",
                                       VictimSex.UNKNOWN: "Unknown"})


class AgeBand(LabelledEnum):
    """The child's apparent age when the material was produced."""

    INFANT = "0-2"
    TODDLER = "3-5"
    CHILD = "6-9"
    PRETEEN = "10-12"
    YOUNG_TEEN = "13-15"
    OLDER_TEEN = "16-17"
    UNKNOWN = "unknown"


AGE_BAND_LABELS = labels(AgeBand, {
    AgeBand.INFANT: "0 to 2 years", AgeBand.TODDLER: "3 to 5 years", AgeBand.CHILD: "6 to 9 years",
    AgeBand.PRETEEN: "10 to 12 years", AgeBand.YOUNG_TEEN: "13 to 15 years", AgeBand.OLDER_TEEN: "16 or 17 years",
    AgeBand.UNKNOWN: "Unknown",
})


class VictimStatus(LabelledEnum):
    UNIDENTIFIED = "unidentified"
    IDENTIFIED = "identified"
    SAFEGUARDED = "safeguarded"


VICTIM_STATUS_LABELS = labels(VictimStatus, {
    VictimStatus.UNIDENTIFIED: "Not identified", VictimStatus.IDENTIFIED: "Identified",
    VictimStatus.SAFEGUARDED: "Identified and safeguarded",
})


class VictimRecordError(ValueError):
    """A victim record or series field that cannot be accepted, and why."""


_PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.'-]{0,39}$")
_DIGIT_RUN = re.compile(r"\d{5,}")
_SERIES_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
MAX_NOTES = 5000
MAX_CASE_REFERENCE = 200


def check_pseudonym(text: str) -> str:
    """A victim's pseudonym: 1 to 40 letters, digits, spaces, '_', '.', "'" or '-'. An e-mail address
    or phone-like number is refused: a victim record carries no direct identifier."""
    cleaned = " ".join(text.split())
    if "@" in cleaned or _DIGIT_RUN.search(cleaned):
        raise VictimRecordError("a pseudonym cannot hold an e-mail address or a long number: victim records "
                                "carry no direct identifiers")
    if not _PSEUDONYM.match(cleaned):
        raise VictimRecordError("a pseudonym is 1 to 40 letters, digits, spaces, '_', '.', \"'\" or '-', starting "
                                "with a letter or digit")
    return cleaned


def check_series_name(text: str) -> str:
    cleaned = " ".join(text.split())
    if not _SERIES_NAME.match(cleaned):
        raise VictimRecordError("a series name is 1 to 200 printable characters")
    return cleaned


def parse_choice(enum: type[LabelledEnum], text: str, what: str) -> str:
    """An enum value by its value (any case), or a VictimRecordError naming the choices."""
    cleaned = text.strip().lower()
    for member in enum:
        if member.value == cleaned:
            return member.value
    raise VictimRecordError(f"{what} must be one of {', '.join(m.value for m in enum)}, got {text.strip()!r}")
