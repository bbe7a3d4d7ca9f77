"""Searching reports: by identifier, by hash (exact, or PDQ within a distance), by text, type, dates, state."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import String, and_, cast, desc, func, or_, select
from sqlalchemy.orm import Session

from tipline.domain.identifiers import IdentifierKind
from tipline.domain.incident import IncidentType
from tipline.domain.lifecycle import ReportState
from tipline.domain.numbers import parse_whole_number
from tipline.linking import (
    normalise_device_id,
    normalise_email,
    normalise_ip,
    normalise_phone,
    normalise_screen_name,
    normalise_url,
)
from tipline.linking.payments import normalise_payment
from tipline.store.db import FOLD_FUNCTION
from tipline.store.tables import FileSignalRow, IdentifierRow, ReportFileRow, ReportRow

HEX = re.compile(r"^[0-9a-fA-F]+$")


class SearchError(ValueError):
    """A search that cannot be run as asked, and why."""


@dataclass(frozen=True)
class SearchCriteria:
    text: str = ""
    identifier_kind: IdentifierKind | None = None
    identifier_value: str = ""
    hash_value: str = ""
    pdq_distance: int = 31
    incident_type: IncidentType | None = None
    states: tuple[ReportState, ...] = ()
    received_from: datetime | None = None
    received_to: datetime | None = None
    default_phone_region: str = "US"

    def is_empty(self) -> bool:
        return not (self.text or self.identifier_value or self.hash_value or self.incident_type or self.states
                    or self.received_from or self.received_to)


@dataclass
class SearchResult:
    rows: list[ReportRow]
    total: int
    why: dict[int, list[str]] = field(default_factory=dict)  # report id -> what matched
    normalised_identifier: str | None = None


def normalise_identifier(kind: IdentifierKind, value: str, region: str) -> str:
    """The normalised form of what someone typed, as the pipeline stores it."""
    if kind == IdentifierKind.EMAIL:
        return normalise_email(value).value
    if kind == IdentifierKind.PHONE:
        return normalise_phone(value, region).value
    if kind == IdentifierKind.IP_ADDRESS:
        return normalise_ip(value).value
    if kind in (IdentifierKind.URL, IdentifierKind.PROFILE_URL):
        return normalise_url(value).value
    if kind == IdentifierKind.SCREEN_NAME and ":" in value:
        platform, _, name = value.partition(":")
        return normalise_screen_name(name, platform).value
    if kind == IdentifierKind.PAYMENT:
        return normalise_payment(value).value
    if kind == IdentifierKind.DEVICE_ID and ":" in value:
        id_type, _, id_value = value.partition(":")
        return normalise_device_id(id_type, id_value).value
    return value.strip()


_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IP_LIKE = re.compile(r"^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]+)$", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]{7,30}$")
_URL_LIKE = re.compile(r"^(https?://|www\.)\S+$|^[\w.-]+\.[a-z]{2,}/\S*$", re.IGNORECASE)


def recognise_kind(value: str) -> IdentifierKind:
    """The kind of identifier someone typed without choosing one: an email address, a web address, an
    IP address, a payment handle ($cashtag, venmo:…, a wallet), a phone number; else a screen name."""
    text = value.strip()
    if _EMAIL_LIKE.match(text):
        return IdentifierKind.EMAIL
    if _URL_LIKE.match(text):
        return IdentifierKind.URL
    if _IP_LIKE.match(text) and any(ch.isdigit() for ch in text):
        return IdentifierKind.IP_ADDRESS
    if text.startswith("$") or normalise_payment(text).valid:
        return IdentifierKind.PAYMENT
    if _PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 7:
        return IdentifierKind.PHONE
    return IdentifierKind.SCREEN_NAME


def _identifier_condition(kind: IdentifierKind, value: str, region: str) -> tuple[Any, str]:
    """Which stored identifiers what was typed names, and the normalised form shown back. A screen name
    typed without its platform matches it on every platform; a phone number typed in a national format
    matches the same national number in any country (the stored E.164 ends with it), besides its reading
    in the instance's default region."""
    of_kind = IdentifierRow.kind == kind.value
    if kind == IdentifierKind.SCREEN_NAME and ":" not in value:
        name = normalise_screen_name(value, None).value.partition(":")[2]
        return and_(of_kind, or_(IdentifierRow.value == f"unknown:{name}",
                                 IdentifierRow.value.endswith(f":{name}", autoescape=True))), f"*:{name}"
    normalised = normalise_identifier(kind, value, region)
    if kind == IdentifierKind.PHONE and not value.strip().startswith("+"):
        national = re.sub(r"\D", "", value).lstrip("0")
        if len(national) >= 8:
            return and_(of_kind, or_(IdentifierRow.value == normalised,
                                     IdentifierRow.value.endswith(national, autoescape=True))), normalised
    return and_(of_kind, IdentifierRow.value == normalised), normalised


def _pdq_matches(session: Session, query: str, distance: int) -> dict[int, list[str]]:
    target = np.frombuffer(bytes.fromhex(query), dtype=np.uint8)
    found: dict[int, list[str]] = {}
    sources = [
        (session.execute(select(ReportFileRow.report_id, ReportFileRow.id, ReportFileRow.pdq)
                         .where(ReportFileRow.pdq.is_not(None))).all(), "image PDQ"),
        (session.execute(select(FileSignalRow.report_id, FileSignalRow.file_id, FileSignalRow.value)
                         .where(FileSignalRow.signal_type == "vpdq_frame")).all(), "video frame PDQ"),
    ]
    for rows, label in sources:
        if not rows:
            continue
        hashes = np.frombuffer(b"".join(bytes.fromhex(value or "") for _, _, value in rows),
                               dtype=np.uint8).reshape(-1, 32)
        distances = np.unpackbits(hashes ^ target, axis=1).sum(axis=1)
        for index in np.flatnonzero(distances <= distance):
            report_id, file_id, _ = rows[int(index)]
            found.setdefault(report_id, []).append(f"{label} of file {file_id} at distance {int(distances[index])}")
    return found


def content_contains(session: Session, text: str) -> Any:
    """Reports whose content holds `text` as written, in any case: the text is matched inside the
    stored JSON document as it is stored there (quotes, backslashes and control characters escaped
    as JSON escapes them; other characters as written), the LIKE wildcards % and _ in it mean
    themselves (escaped, with an ESCAPE clause), and case is folded for every script: on SQLite by
    tipline_fold() (Python's casefold, registered on each connection), on PostgreSQL by lower(),
    which follows the database's LC_CTYPE (a UTF-8 locale folds every script; "C" folds A-Z only)."""
    needle = json.dumps(text, ensure_ascii=False)[1:-1]
    stored = cast(ReportRow.content, String)
    if session.get_bind().dialect.name == "sqlite":
        return getattr(func, FOLD_FUNCTION)(stored).contains(needle.casefold(), autoescape=True)
    return func.lower(stored).contains(needle.lower(), autoescape=True)


def search_reports(session: Session, criteria: SearchCriteria, *, limit: int = 100, offset: int = 0) -> SearchResult:
    if criteria.is_empty():
        raise SearchError("say what to search for: an identifier, a hash, some text, a type, dates or a state")
    conditions: list[Any] = []
    why: dict[int, list[str]] = {}
    normalised = None
    if criteria.identifier_value:
        kind = criteria.identifier_kind or recognise_kind(criteria.identifier_value)
        condition, normalised = _identifier_condition(kind, criteria.identifier_value, criteria.default_phone_region)
        conditions.append(ReportRow.id.in_(select(IdentifierRow.report_id).where(condition)))
    if criteria.hash_value:
        value = criteria.hash_value.strip().lower()
        if not HEX.match(value) or len(value) not in (32, 40, 64):
            raise SearchError("a hash is 32 (MD5), 40 (SHA-1) or 64 (SHA-256 or PDQ) hexadecimal characters")
        column = {32: ReportFileRow.md5, 40: ReportFileRow.sha1, 64: ReportFileRow.sha256}[len(value)]
        exact = select(ReportFileRow.report_id).where(column == value)
        if len(value) == 64:
            if not 0 <= criteria.pdq_distance <= 128:
                raise SearchError("the PDQ distance is between 0 and 128 bits")
            near = _pdq_matches(session, value, criteria.pdq_distance)
            for report_id, reasons in near.items():
                why.setdefault(report_id, []).extend(reasons)
            conditions.append(or_(ReportRow.id.in_(exact), ReportRow.id.in_(list(near) or [-1])))
        else:
            conditions.append(ReportRow.id.in_(exact))
    if criteria.text:
        text = criteria.text.strip()
        text_match = content_contains(session, text)
        number = parse_whole_number(text, minimum=1)
        conditions.append(or_(text_match, ReportRow.id == number) if number is not None else text_match)
    if criteria.incident_type is not None:
        conditions.append(func.coalesce(ReportRow.reviewed_incident_type, ReportRow.incident_type)
                          == criteria.incident_type.value)
    if criteria.states:
        conditions.append(ReportRow.state.in_([s.value for s in criteria.states]))
    if criteria.received_from is not None:
        conditions.append(ReportRow.received_at >= criteria.received_from)
    if criteria.received_to is not None:
        conditions.append(ReportRow.received_at < criteria.received_to)
    total = session.execute(select(func.count()).select_from(ReportRow).where(*conditions)).scalar_one()
    rows = list(session.execute(
        select(ReportRow).where(*conditions).order_by(desc(ReportRow.received_at), desc(ReportRow.id))
        .limit(limit).offset(offset)
    ).scalars())
    return SearchResult(rows, total, why, normalised)
