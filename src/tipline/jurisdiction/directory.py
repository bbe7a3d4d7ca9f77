"""The agency directory as data: agencies, the areas they cover, CSV in and out with precise errors,
and the suggestion of the agency for a located report (most specific area that covers it)."""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tipline.domain.labels import LabelledEnum, labels
from tipline.jurisdiction.places import Place, country_code, country_name, normalise_name
from tipline.jurisdiction.resolve import Resolution


class AgencyType(LabelledEnum):
    NATIONAL_POLICE = "national_police"
    NATIONAL_AGENCY = "national_agency"
    STATE_TASK_FORCE = "state_task_force"
    REGIONAL_POLICE = "regional_police"
    LOCAL_POLICE = "local_police"
    HOTLINE = "hotline"
    OTHER = "other"


AGENCY_TYPE_LABELS = labels(AgencyType, {
    AgencyType.NATIONAL_POLICE: "National police service",
    AgencyType.NATIONAL_AGENCY: "National agency",
    AgencyType.STATE_TASK_FORCE: "State or regional task force",
    AgencyType.REGIONAL_POLICE: "Regional police",
    AgencyType.LOCAL_POLICE: "Local police",
    AgencyType.HOTLINE: "Partner hotline",
    AgencyType.OTHER: "Other",
})
# Among agencies covering the same area, the one of the type listed first is suggested.
TYPE_PREFERENCE = list(AgencyType)

CSV_COLUMNS = ["code", "name", "type", "country", "region", "city", "contact_name", "contact_email",
               "contact_phone", "public_key", "active"]
REQUIRED_COLUMNS = ["code", "name", "type", "country"]
CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_CSV_ROWS = 10_000


def public_key_bytes(text: str) -> bytes:
    """An agency's X25519 public key from base64 (44 characters) or hex (64 digits)."""
    value = text.strip()
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raw = bytes.fromhex(value)
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise ValueError("public_key must be a 32-byte X25519 public key in base64 (44 characters) or hex "
                         "(64 digits), as printed by `tipline agencies keygen`")
    return raw


def key_id(public_key: bytes) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True)
class AgencyRecord:
    """One agency as the directory holds it (without database ids)."""

    code: str
    name: str
    type: AgencyType
    country: str
    region: str | None = None
    city: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    public_key: str | None = None  # base64 X25519
    active: bool = True

    @property
    def area(self) -> Place:
        return Place.of(self.country, self.region, self.city)

    @property
    def specificity(self) -> int:
        return 2 if self.city else 1 if self.region else 0

    def describe_area(self) -> str:
        return self.area.describe()

    def to_row(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "type": self.type.value, "country": self.country,
                "region": self.region or "", "city": self.city or "", "contact_name": self.contact_name or "",
                "contact_email": self.contact_email or "", "contact_phone": self.contact_phone or "",
                "public_key": self.public_key or "", "active": "yes" if self.active else "no"}


@dataclass
class RowProblem:
    line: int  # the CSV line number (the header is line 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


class DirectoryImportError(ValueError):
    """The CSV cannot be imported; `problems` names every bad cell. Nothing was imported."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the agency CSV, "
                         f"nothing was imported: {shown}{more}")


def _bool(value: str) -> bool | None:
    text = value.strip().lower()
    if text in ("", "yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0"):
        return False
    return None


def parse_directory_csv(data: bytes | str) -> list[AgencyRecord]:
    """Every row checked; DirectoryImportError lists each problem (line and column) if any row is bad."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DirectoryImportError([RowProblem(1, "(file)", f"not UTF-8 text ({error.reason} at byte "
                                                               f"{error.start})")]) from None
    else:
        text = data.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems: list[RowProblem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if not header:
        raise DirectoryImportError([RowProblem(1, "(header)", "the file is empty; the first line must name the "
                                                              f"columns: {', '.join(CSV_COLUMNS)}")])
    if missing:
        problems.append(RowProblem(1, "(header)", f"missing column{'s' if len(missing) > 1 else ''} "
                                                  f"{', '.join(missing)}"))
    if unknown:
        problems.append(RowProblem(1, "(header)", f"unknown column{'s' if len(unknown) > 1 else ''} "
                                                  f"{', '.join(unknown)}; the columns are {', '.join(CSV_COLUMNS)}"))
    if problems:
        raise DirectoryImportError(problems)
    reader.fieldnames = header
    records: list[AgencyRecord] = []
    codes: dict[str, int] = {}
    keys: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if len(records) >= MAX_CSV_ROWS:
            problems.append(RowProblem(line, "(file)", f"more than {MAX_CSV_ROWS} agencies"))
            break
        if None in row:
            problems.append(RowProblem(line, "(row)", f"{len(header) + len(row[None])} cells but the header names "
                                                      f"{len(header)} columns"))
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        if not any(values.values()):
            continue
        record, row_problems = check_record(values, line)
        problems += row_problems
        if record is None:
            continue
        if record.code in codes:
            problems.append(RowProblem(line, "code", f"{record.code!r} is also on line {codes[record.code]}"))
        codes.setdefault(record.code, line)
        if record.public_key:
            if record.public_key in keys:
                problems.append(RowProblem(line, "public_key", f"the same key is on line {keys[record.public_key]}; "
                                                               "each agency needs its own"))
            keys.setdefault(record.public_key, line)
        records.append(record)
    if problems:
        raise DirectoryImportError(problems)
    return records


def check_record(values: dict[str, str], line: int = 0) -> tuple[AgencyRecord | None, list[RowProblem]]:
    """One agency's values checked; the record, or None and the problems."""
    problems = []

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    code = values.get("code", "").lower()
    if not CODE.match(code):
        bad("code", f"{values.get('code', '')!r} is not a code: use 2-64 lower-case letters, digits, '.', '_' or '-'")
    name = values.get("name", "")
    if not name:
        bad("name", "the agency's name is required")
    elif len(name) > 200:
        bad("name", "at most 200 characters")
    type_text = values.get("type", "")
    agency_type = next((t for t in AgencyType if type_text in (t.value, t.label)), None)
    if agency_type is None:
        bad("type", f"{type_text!r} is not an agency type; use one of {', '.join(t.value for t in AgencyType)}")
    country = country_code(values.get("country", ""))
    if country is None:
        bad("country", f"{values.get('country', '')!r} is not an ISO 3166-1 country code or country name")
    region = values.get("region") or None
    city = values.get("city") or None
    for column, value in (("region", region), ("city", city)):
        if value is not None and len(value) > 100:
            bad(column, "at most 100 characters")
    email = values.get("contact_email") or None
    if email is not None and not EMAIL.match(email):
        bad("contact_email", f"{email!r} is not an email address")
    key = values.get("public_key") or None
    if key is not None:
        try:
            key = base64.b64encode(public_key_bytes(key)).decode()
        except ValueError as error:
            bad("public_key", str(error))
    active = _bool(values.get("active", ""))
    if active is None:
        bad("active", f"{values.get('active')!r} is not yes or no")
    if problems:
        return None, problems
    assert agency_type is not None and country is not None
    return AgencyRecord(
        code=code, name=name, type=agency_type, country=country, region=region, city=city,
        contact_name=values.get("contact_name") or None, contact_email=email,
        contact_phone=values.get("contact_phone") or None, public_key=key, active=bool(active),
    ), []


def directory_csv(records: Iterable[AgencyRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record.to_row())
    return out.getvalue()


def covers(agency: AgencyRecord, place: Place) -> bool:
    """Whether an agency's area covers a place (a city-level agency needs the place's city)."""
    area = agency.area
    if area.country is None or area.country != place.country:
        return False
    if area.region is not None:
        if place.region is not None:
            if not area.same_region(place):
                return False
        elif not (area.city is not None and area.same_city(place)):
            return False
    return not (area.city is not None and not area.same_city(place))


@dataclass
class Suggestion:
    agency: AgencyRecord | None
    reasoning: list[str] = field(default_factory=list)
    candidates: list[AgencyRecord] = field(default_factory=list)  # every agency covering the location

    def to_dict(self) -> dict[str, Any]:
        return {"agency": self.agency.code if self.agency else None, "reasoning": self.reasoning,
                "candidates": [a.code for a in self.candidates]}


def suggest_agency(resolution: Resolution, agencies: Sequence[AgencyRecord]) -> Suggestion:
    """The agency covering the best location most specifically (city, then region, then the
    country's national agencies); among equals the preferred type, then the name."""
    best = resolution.best
    if best is None:
        return Suggestion(None, ["No location, so no agency can be suggested: choose one."])
    active = [a for a in agencies if a.active]
    candidates = sorted(
        (a for a in active if covers(a, best)),
        key=lambda a: (-a.specificity, TYPE_PREFERENCE.index(a.type), normalise_name(a.name), a.code),
    )
    where = best.describe()
    if not candidates:
        return Suggestion(None, [f"No active agency in the directory covers {country_name(best.country)}: "
                                 "choose one, or add the right agency to the directory."])
    chosen = candidates[0]
    reasoning = [f"Best location: {where} (confidence {resolution.confidence})."]
    level = {2: f"the city {chosen.city}", 1: f"the region {chosen.area.region}",
             0: f"all of {country_name(chosen.country)}"}[chosen.specificity]
    reasoning.append(f"{chosen.name} ({chosen.type.label.lower()}) covers {level}, the most specific area "
                     "in the directory that covers this location.")
    if chosen.specificity == 0 and best.region:
        reasoning.append(f"No agency covers {best.region} itself, so the country's national agency is suggested.")
    if len(candidates) > 1:
        reasoning.append("Also covering it: " + ", ".join(f"{a.name} ({a.describe_area()})"
                                                          for a in candidates[1:5]) + ".")
    if not chosen.public_key:
        reasoning.append(f"{chosen.name} has no package key registered yet: a referral to it cannot be made "
                         "until one is (`tipline agencies import` with its public_key).")
    return Suggestion(chosen, reasoning, candidates)
