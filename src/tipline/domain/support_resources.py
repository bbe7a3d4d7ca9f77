"""The hotline's directory of support services, by country and situation, read from CSV.

The CSV has a header row naming its columns (`country` and `name` required; `situations`, `phone`,
`url`, `email`, `hours`, `languages`, `description` optional). A file with any bad row is refused as a
whole, with every problem named by its line, so nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from typing import Any

SITUATIONS = ("sextortion", "enticement", "images", "child", "parent")
COLUMNS = ("country", "name", "situations", "phone", "url", "email", "hours", "languages", "description")
REQUIRED = ("country", "name")
LIMITS = {"name": 200, "situations": 200, "phone": 40, "url": 500, "email": 254, "hours": 200,
          "languages": 100, "description": 2000}
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024

_PHONE = re.compile(r"^[0-9+ ()\-]+$")
_URL = re.compile(r"^https://\S+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SupportResource:
    country: str  # two letters, or * for every country
    name: str
    situations: tuple[str, ...] = ()  # empty: every situation
    phone: str | None = None
    url: str | None = None
    email: str | None = None
    hours: str | None = None
    languages: str | None = None
    description: str | None = None

    def fits(self, country: str | None, situation: str | None) -> bool:
        country_ok = country is None or self.country in ("*", country.upper())
        return country_ok and (situation is None or not self.situations or situation in self.situations)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "situations": list(self.situations)}


class ResourceFileError(Exception):
    """A directory file that cannot be imported, with every problem as `line N: ...`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_resources(data: bytes) -> list[SupportResource]:
    """The services a CSV file lists, or ResourceFileError naming each bad line."""
    if len(data) > MAX_BYTES:
        raise ResourceFileError([f"the file is {len(data)} bytes; at most {MAX_BYTES} are accepted"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ResourceFileError([f"line {line}: not UTF-8 text (byte {column} of the line); save the file "
                                 "as UTF-8"]) from None
    if "\x00" in text:
        raise ResourceFileError([f"line {text[:text.index(chr(0))].count(chr(10)) + 1}: contains a NUL character"])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ResourceFileError([f"line 1: {error}"]) from None
    if header is None:
        raise ResourceFileError(["the file is empty: it needs a header row (country,name,...)"])
    names = [column.strip().lower() for column in header]
    problems = []
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        problems.append(f"line 1: unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                        f"{', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        problems.append(f"line 1: missing column(s) {', '.join(missing)}")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        problems.append(f"line 1: column(s) named twice: {', '.join(duplicated)}")
    if problems:
        raise ResourceFileError(problems)
    resources: list[SupportResource] = []
    while True:
        line = reader.line_num + 1  # where the row starts (a quoted value may span lines)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(f"line {line}: {error}")
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(resources) + len(problems) >= MAX_ROWS:
            problems.append(f"line {line}: more than {MAX_ROWS} services")
            break
        if len(row) != len(names):
            problems.append(f"line {line}: {len(row)} values for {len(names)} columns")
            continue
        resource, row_problems = _resource(dict(zip(names, (cell.strip() for cell in row), strict=True)))
        problems.extend(f"line {line}: {message}" for message in row_problems)
        if resource is not None:
            resources.append(resource)
    if problems:
        raise ResourceFileError(problems)
    return resources


def _resource(values: dict[str, str]) -> tuple[SupportResource | None, list[str]]:
    problems = []
    for column, limit in LIMITS.items():
        if len(values.get(column, "")) > limit:
            problems.append(f"{column} is longer than {limit} characters")
    for column in REQUIRED:
        if not values.get(column):
            problems.append(f"{column} is empty")
    country = values.get("country", "").upper()
    if country and not (country == "*" or (len(country) == 2 and country.isascii() and country.isalpha())):
        problems.append(f"country {values['country']!r} is not a two-letter country code (or * for every country)")
    situations = tuple(s for s in re.split(r"[;,\s]+", values.get("situations", "").lower()) if s)
    wrong = [s for s in situations if s not in SITUATIONS]
    if wrong:
        problems.append(f"situation(s) {', '.join(map(repr, wrong))} not known; use {', '.join(SITUATIONS)} "
                        "(separated by ;) or leave empty for every situation")
    checks = (("phone", _PHONE, "digits, spaces, +, ( ) and -"), ("url", _URL, "an address starting https://"),
              ("email", _EMAIL, "an email address"))
    for column, pattern, what in checks:
        if values.get(column) and not pattern.match(values[column]):
            problems.append(f"{column} {values[column]!r} is not {what}")
    if problems:
        return None, problems

    def optional(column: str) -> str | None:
        return values.get(column) or None

    return SupportResource(country=country, name=values["name"], situations=situations, phone=optional("phone"),
                           url=optional("url"), email=optional("email"), hours=optional("hours"),
                           languages=optional("languages"), description=optional("description")), []
