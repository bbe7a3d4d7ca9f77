"""The abuse-contact directory as data: hosting providers' abuse desks, found by the network a URL
is hosted on (its autonomous system number) and/or by the host's domain suffix; CSV in and out with
precise errors (as the agency directory's: every bad cell named by line and column, nothing imported)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pycountry

from tipline.jurisdiction.directory import RowProblem
from tipline.jurisdiction.places import country_code

CSV_COLUMNS = ["code", "name", "asn", "domain_suffix", "email", "web_form", "country", "language", "active"]
REQUIRED_COLUMNS = ["code", "name"]
CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SUFFIX = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
ASN = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)
MAX_CSV_ROWS = 10_000
MAX_ASNS = 50  # of one provider
MAX_SUFFIXES = 50


@dataclass(frozen=True)
class AbuseContact:
    """One hosting provider's abuse desk as the directory holds it (without database ids)."""

    code: str
    name: str
    asns: tuple[int, ...] = ()
    domain_suffixes: tuple[str, ...] = ()
    email: str | None = None
    web_form: str | None = None
    country: str | None = None
    language: str | None = None  # ISO 639-1, the language notices to it are written in
    active: bool = True

    def to_row(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "asn": " ".join(str(a) for a in self.asns),
                "domain_suffix": " ".join(self.domain_suffixes), "email": self.email or "",
                "web_form": self.web_form or "", "country": self.country or "", "language": self.language or "",
                "active": "yes" if self.active else "no"}

    def as_json(self) -> dict[str, object]:
        return {**self.to_row(), "asn": list(self.asns), "domain_suffix": list(self.domain_suffixes),
                "active": self.active}

    @property
    def how_to_reach(self) -> str:
        return " or ".join(x for x in (self.email, self.web_form) if x)


class ContactImportError(ValueError):
    """The CSV cannot be imported; `problems` names every bad cell. Nothing was imported."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the abuse-contact CSV, "
                         f"nothing was imported: {shown}{more}")


def _bool(value: str) -> bool | None:
    text = value.strip().lower()
    if text in ("", "yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0"):
        return False
    return None


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[\s;,|]+", value.strip()) if part]


def parse_contacts_csv(data: bytes | str) -> list[AbuseContact]:
    """Every row checked; ContactImportError lists each problem (line and column) if any row is bad."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ContactImportError([RowProblem(1, "(file)", f"not UTF-8 text ({error.reason} at byte "
                                                              f"{error.start})")]) from None
    else:
        text = data.lstrip("\ufeff")
    if "\x00" in text:
        raise ContactImportError([RowProblem(1, "(file)", "the file holds NUL characters: it is not a CSV text file")])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        raise ContactImportError([RowProblem(1, "(header)", f"not CSV ({error})")]) from None
    if not header:
        raise ContactImportError([RowProblem(1, "(header)", "the file is empty; the first line must name the "
                                                            f"columns: {', '.join(CSV_COLUMNS)}")])
    problems: list[RowProblem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing:
        problems.append(RowProblem(1, "(header)", f"missing column{'s' if len(missing) > 1 else ''} "
                                                  f"{', '.join(missing)}"))
    if unknown:
        problems.append(RowProblem(1, "(header)", f"unknown column{'s' if len(unknown) > 1 else ''} "
                                                  f"{', '.join(unknown)}; the columns are {', '.join(CSV_COLUMNS)}"))
    if not ("asn" in header or "domain_suffix" in header):
        problems.append(RowProblem(1, "(header)", "a contact is found by asn or domain_suffix: name at least one"))
    if not ("email" in header or "web_form" in header):
        problems.append(RowProblem(1, "(header)", "a contact is reached by email or web_form: name at least one"))
    if problems:
        raise ContactImportError(problems)
    reader.fieldnames = header
    records: list[AbuseContact] = []
    codes: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if len(records) >= MAX_CSV_ROWS:
                problems.append(RowProblem(line, "(file)", f"more than {MAX_CSV_ROWS} contacts"))
                break
            if None in row:
                problems.append(RowProblem(line, "(row)", f"{len(header) + len(row[None])} cells but the header "
                                                          f"names {len(header)} columns"))
                continue
            values = {k: (v or "").strip() for k, v in row.items()}
            if not any(values.values()):
                continue
            record, row_problems = check_contact(values, line)
            problems += row_problems
            if record is None:
                continue
            if record.code in codes:
                problems.append(RowProblem(line, "code", f"{record.code!r} is also on line {codes[record.code]}"))
            codes.setdefault(record.code, line)
            records.append(record)
    except csv.Error as error:
        problems.append(RowProblem(reader.line_num, "(row)", f"not CSV ({error})"))
    if problems:
        raise ContactImportError(problems)
    return records


def check_contact(values: dict[str, str], line: int = 0) -> tuple[AbuseContact | None, list[RowProblem]]:
    """One contact's values checked; the record, or None and the problems."""
    problems: list[RowProblem] = []

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    code = values.get("code", "").lower()
    if not CODE.match(code):
        bad("code", f"{values.get('code', '')!r} is not a code: use 2-64 lower-case letters, digits, '.', '_' or '-'")
    name = values.get("name", "")
    if not name:
        bad("name", "the provider's name is required")
    elif len(name) > 200:
        bad("name", "at most 200 characters")
    asns: list[int] = []
    for part in _split(values.get("asn", "")):
        match = ASN.match(part)
        if match is None or not 0 < int(match.group(1)) < 2**32:
            bad("asn", f"{part!r} is not an autonomous system number (like 64500 or AS64500)")
        elif int(match.group(1)) not in asns:
            asns.append(int(match.group(1)))
    if len(asns) > MAX_ASNS:
        bad("asn", f"at most {MAX_ASNS} numbers")
    suffixes: list[str] = []
    for part in _split(values.get("domain_suffix", "")):
        suffix = part.lower().strip(".")
        try:
            suffix = suffix.encode("idna").decode("ascii")
        except UnicodeError:
            suffix = ""
        if not SUFFIX.match(suffix) or "." not in suffix:
            bad("domain_suffix", f"{part!r} is not a domain (like host.example or files.example.net)")
        elif suffix not in suffixes:
            suffixes.append(suffix)
    if len(suffixes) > MAX_SUFFIXES:
        bad("domain_suffix", f"at most {MAX_SUFFIXES} domains")
    if not asns and not suffixes and not any(p.column in ("asn", "domain_suffix") for p in problems):
        bad("asn", "give the provider's network (asn) or its domain (domain_suffix), or both")
    email = values.get("email") or None
    if email is not None and (not EMAIL.match(email) or len(email) > 254):
        bad("email", f"{email!r} is not an email address")
    web_form = values.get("web_form") or None
    if web_form is not None and (not re.match(r"^https?://[^\s/]+", web_form) or len(web_form) > 500):
        bad("web_form", f"{web_form!r} is not a web address (https://...)")
    if email is None and web_form is None:
        bad("email", "give an email address or a web form (web_form) to reach the provider's abuse desk")
    country = None
    if values.get("country"):
        country = country_code(values["country"])
        if country is None:
            bad("country", f"{values['country']!r} is not an ISO 3166-1 country code or country name")
    language = None
    if values.get("language"):
        found = pycountry.languages.get(alpha_2=values["language"].lower()) if len(values["language"]) == 2 else None
        if found is None:
            bad("language", f"{values['language']!r} is not a two-letter ISO 639-1 language code (like en, es, de)")
        else:
            language = values["language"].lower()
    active = _bool(values.get("active", ""))
    if active is None:
        bad("active", f"{values.get('active')!r} is not yes or no")
    if problems:
        return None, problems
    return AbuseContact(code=code, name=name, asns=tuple(asns), domain_suffixes=tuple(suffixes), email=email,
                        web_form=web_form, country=country, language=language, active=bool(active)), []


def contacts_csv(records: Iterable[AbuseContact]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record.to_row())
    return out.getvalue()


@dataclass(frozen=True)
class ContactMatch:
    contact: AbuseContact
    reason: str


class ContactIndex:
    """The directory indexed by domain and by network, so finding a host's desk costs a few dictionary
    lookups (one per label of the host), not a pass over the directory."""

    def __init__(self, contacts: Sequence[AbuseContact]) -> None:
        self.by_suffix: dict[str, AbuseContact] = {}
        self.by_asn: dict[int, AbuseContact] = {}
        for contact in sorted((c for c in contacts if c.active), key=lambda c: c.code):  # a tie: the first code
            for suffix in contact.domain_suffixes:
                self.by_suffix.setdefault(suffix, contact)
            for asn in contact.asns:
                self.by_asn.setdefault(asn, contact)

    def find(self, host: str | None, asn: int | None) -> ContactMatch | None:
        """The provider whose domain is the longest suffix of the host (a site's own desk is more
        precise than its network's), else the provider of the network it is on."""
        if host:
            labels = host.split(".")
            for start in range(len(labels)):  # the longest suffix first; whole labels only
                suffix = ".".join(labels[start:])
                if suffix in self.by_suffix:
                    return ContactMatch(self.by_suffix[suffix], f"{host} is under {suffix}")
        if asn is not None and asn in self.by_asn:
            return ContactMatch(self.by_asn[asn], f"the address is on AS{asn}")
        return None


def find_contact(contacts: Sequence[AbuseContact], host: str | None, asn: int | None) -> ContactMatch | None:
    """The abuse desk for one host (ContactIndex, when there are many to find)."""
    return ContactIndex(contacts).find(host, asn)
