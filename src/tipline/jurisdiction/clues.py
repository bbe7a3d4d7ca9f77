"""Every clue a report holds about where it happened, each with a confidence and the evidence read.

Confidences are whole numbers from 0 to 100, fixed per kind of clue (docs/referral.md explains each):
an address someone gave outranks what a service estimated, which outranks an IP address, a phone
number or a place named in free text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tipline.domain.files import FileDetails
from tipline.domain.labels import LabelledEnum, labels
from tipline.domain.parties import Address, EstimatedLocation, IpCaptureEvent, Phone
from tipline.domain.report import ReportContent
from tipline.jurisdiction.gazetteer import Gazetteer
from tipline.jurisdiction.geoip import GeoIPDatabase, GeoIPDatabaseError
from tipline.jurisdiction.phones import locate_phone
from tipline.jurisdiction.places import Place, country_code


class ClueKind(LabelledEnum):
    VICTIM_ADDRESS = "victim_address"
    INCIDENT_ADDRESS = "incident_address"
    REPORTED_ADDRESS = "reported_address"
    RECIPIENT_ADDRESS = "recipient_address"
    ESTIMATED_LOCATION = "estimated_location"
    IP_ADDRESS = "ip_address"
    PHONE = "phone"
    SCHOOL = "school"
    LAW_ENFORCEMENT = "law_enforcement"
    PUBLIC_TEXT = "public_text"


CLUE_LABELS = labels(ClueKind, {
    ClueKind.VICTIM_ADDRESS: "Victim's address",
    ClueKind.INCIDENT_ADDRESS: "Where it happened (address)",
    ClueKind.REPORTED_ADDRESS: "Reported person's address",
    ClueKind.RECIPIENT_ADDRESS: "Intended recipient's address",
    ClueKind.ESTIMATED_LOCATION: "Service provider's estimated location",
    ClueKind.IP_ADDRESS: "IP address",
    ClueKind.PHONE: "Phone number",
    ClueKind.SCHOOL: "School name",
    ClueKind.LAW_ENFORCEMENT: "Law enforcement already involved",
    ClueKind.PUBLIC_TEXT: "What the public reporter wrote",
})

# The confidence of each kind of clue (0-100). One table, documented in docs/referral.md.
CONFIDENCE = {
    "victim_home_address": 90,
    "victim_address": 80,
    "incident_address": 85,
    "reported_home_address": 85,
    "reported_address": 75,
    "recipient_address": 75,
    "estimated_location_verified": 70,
    "estimated_location": 55,
    "ip_address": 60,
    "ip_address_possible_proxy": 15,
    "phone_valid": 45,
    "phone_calling_code_only": 25,
    "public_reporter_phone": 30,
    "school": 40,
    "law_enforcement": 50,
    "public_text": 35,
}
AMBIGUOUS_FACTOR = 0.5  # a name that stands for several places counts for half, for each of them


@dataclass(frozen=True)
class LocationClue:
    """One clue that places the report: where, how sure, and what was read to say so."""

    kind: ClueKind
    party: str  # "victim 1", "reported person 1", "incident", "reporter" ...
    place: Place
    confidence: int
    evidence: str
    path: str  # where in the report (the schema's names)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "party": self.party, "place": self.place.to_dict(),
                "confidence": self.confidence, "evidence": self.evidence, "path": self.path}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LocationClue:
        return cls(ClueKind(data["kind"]), data["party"], Place.from_dict(data["place"]), int(data["confidence"]),
                   data["evidence"], data["path"])


@dataclass(frozen=True)
class UnlocatedClue:
    """A clue that was read but could not be placed (and why), shown so nobody wonders."""

    kind: ClueKind
    party: str
    evidence: str
    path: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "party": self.party, "evidence": self.evidence, "path": self.path,
                "why": self.why}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnlocatedClue:
        return cls(ClueKind(data["kind"]), data["party"], data["evidence"], data["path"], data["why"])


@dataclass
class ClueContext:
    """What clue-finding may use: the GeoIP database (optional), a gazetteer, the default phone region."""

    geoip: GeoIPDatabase | None = None
    gazetteer: Gazetteer = field(default_factory=Gazetteer.standard)
    default_phone_region: str = "US"
    geoip_problem: str | None = None  # why IP addresses could not be located, if they could not


@dataclass
class Clues:
    located: list[LocationClue] = field(default_factory=list)
    unlocated: list[UnlocatedClue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _address_text(address: Address) -> str:
    parts = [address.address, address.city, address.state or address.non_usa_state, address.zip_code,
             address.country]
    return ", ".join(p for p in parts if p)


class _Finder:
    def __init__(self, context: ClueContext) -> None:
        self.context = context
        self.out = Clues()
        self._seen_ips: dict[str, list[str]] = {}

    def add(self, kind: ClueKind, party: str, place: Place, confidence: int, evidence: str, path: str) -> None:
        self.out.located.append(LocationClue(kind, party, place, max(0, min(100, confidence)), evidence, path))

    def unlocated(self, kind: ClueKind, party: str, evidence: str, path: str, why: str) -> None:
        self.out.unlocated.append(UnlocatedClue(kind, party, evidence, path, why))

    def addresses(self, addresses: Sequence[Address], kind: ClueKind, party: str, path: str,
                  home: str, other: str) -> None:
        for n, address in enumerate(addresses):
            where = f"{path}[{n}]"
            text = _address_text(address)
            country = country_code(address.country) if address.country else ("US" if address.state else None)
            if country is None:
                if text:
                    self.unlocated(kind, party, text, where, "the address gives no country")
                continue
            place = Place.of(country, address.state or address.non_usa_state, address.city)
            confidence = CONFIDENCE[home] if address.type in (None, "Home") else CONFIDENCE[other]
            label = f"{address.type.lower()} address" if address.type else "address"
            self.add(kind, party, place, confidence, f"{label}: {text}", where)

    def estimated(self, location: EstimatedLocation | None, party: str, path: str) -> None:
        if location is None:
            return
        text = ", ".join(p for p in (location.city, location.region, location.country_code) if p)
        if not location.country_code:
            if text:
                self.unlocated(ClueKind.ESTIMATED_LOCATION, party, text, path, "the estimate gives no country")
            return
        verified = bool(location.verified)
        confidence = CONFIDENCE["estimated_location_verified" if verified else "estimated_location"]
        when = f" at {location.timestamp.isoformat()}" if location.timestamp else ""
        self.add(ClueKind.ESTIMATED_LOCATION, party, Place.of(location.country_code, location.region, location.city),
                 confidence, f"{'verified' if verified else 'unverified'} estimate{when}: {text}", path)

    def ips(self, events: Sequence[IpCaptureEvent], party: str, path: str) -> None:
        for n, event in enumerate(events):
            where = f"{path}[{n}]"
            raw = event.ip_address.strip()
            detail = ", ".join(x for x in (event.event_name,
                                            event.date_time.isoformat() if event.date_time else None) if x)
            what = f"{raw} ({detail})" if detail else raw
            try:
                ip = ipaddress.ip_address(raw.strip("[]"))
            except ValueError:
                self.unlocated(ClueKind.IP_ADDRESS, party, raw, where, "not an IP address")
                continue
            if self.context.geoip is None:
                self.unlocated(ClueKind.IP_ADDRESS, party, what, where,
                               self.context.geoip_problem or "no GeoIP database is configured (TIPLINE_GEOIP_DATABASE)")
                continue
            try:
                located = self.context.geoip.locate(str(ip))
            except GeoIPDatabaseError as error:
                self.unlocated(ClueKind.IP_ADDRESS, party, what, where, str(error))
                continue
            if located is None:
                why = ("a private or reserved address" if (ip.is_private or ip.is_reserved or ip.is_loopback)
                       and not _documentation(ip) else "not in the GeoIP database")
                self.unlocated(ClueKind.IP_ADDRESS, party, what, where, why)
                continue
            proxy = bool(event.possible_proxy)
            radius = f", within about {located.accuracy_radius_km} km" if located.accuracy_radius_km else ""
            evidence = f"{what} → {located.place.describe()}{radius}" + (
                "; the service flagged it as a possible proxy" if proxy else "")
            self.add(ClueKind.IP_ADDRESS, party, located.place,
                     CONFIDENCE["ip_address_possible_proxy" if proxy else "ip_address"], evidence, where)

    def phones(self, phones: Sequence[Phone], party: str, path: str, confidence_key: str = "phone_valid") -> None:
        for n, phone in enumerate(phones):
            self.phone(phone.value, phone.country_calling_code, party, f"{path}[{n}]", confidence_key)

    def phone(self, value: str, calling_code: str | None, party: str, where: str,
              confidence_key: str = "phone_valid") -> None:
        located = locate_phone(value, calling_code, self.context.default_phone_region)
        shown = f"{calling_code} {value}" if calling_code and not value.strip().startswith("+") else value
        if located is None:
            self.unlocated(ClueKind.PHONE, party, shown, where, "the number cannot be placed in a country")
            return
        confidence = CONFIDENCE[confidence_key] if located.valid else CONFIDENCE["phone_calling_code_only"]
        self.add(ClueKind.PHONE, party, located.place, confidence, f"{located.e164}: {located.detail}", where)

    def text(self, text: str | None, kind: ClueKind, party: str, path: str, confidence_key: str) -> None:
        if not text or not text.strip():
            return
        mentions = self.context.gazetteer.find(text)
        if not mentions:
            if kind in (ClueKind.SCHOOL, ClueKind.LAW_ENFORCEMENT):
                self.unlocated(kind, party, text, path, "names no place the directory or gazetteer knows")
            return
        seen: set[tuple[str | None, str | None, str | None]] = set()
        for mention in mentions:
            key = (mention.place.country, mention.place.region, mention.place.city)
            if key in seen:
                continue
            seen.add(key)
            confidence = CONFIDENCE[confidence_key]
            note = ""
            if mention.ambiguous:
                confidence = round(confidence * AMBIGUOUS_FACTOR)
                note = f" ('{mention.text}' names several places)"
            self.add(kind, party, mention.place, confidence,
                     f"“{_snippet(text, mention.start, len(mention.text))}” names {mention.place.describe()}{note}",
                     path)


def _documentation(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    ranges = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
    return any(ip in ipaddress.ip_network(r) for r in ranges if ipaddress.ip_network(r).version == ip.version)


def _snippet(text: str, start: int, length: int, context: int = 40) -> str:
    begin = max(0, start - context)
    end = min(len(text), start + length + context)
    return ("…" if begin else "") + " ".join(text[begin:end].split()) + ("…" if end < len(text) else "")


def find_clues(content: ReportContent, context: ClueContext,
               files: Iterable[FileDetails | None] = ()) -> Clues:
    """Read every location clue in a report (and its files' details)."""
    f = _Finder(context)
    if context.geoip_problem:
        f.out.warnings.append(context.geoip_problem)
    for n, victim in enumerate(content.victims):
        party, path = f"victim {n + 1}", f"victim[{n}]"
        f.addresses(victim.person.addresses, ClueKind.VICTIM_ADDRESS, party, f"{path}.victimPerson.address",
                    "victim_home_address", "victim_address")
        f.estimated(victim.estimated_location, party, f"{path}.estimatedLocation")
        f.ips(victim.ip_capture_events, party, f"{path}.ipCaptureEvent")
        f.phones(victim.person.phones, party, f"{path}.victimPerson.phone")
        f.text(victim.school_name, ClueKind.SCHOOL, party, f"{path}.schoolName", "school")
    for n, reported in enumerate(content.persons_or_users_reported):
        party, path = f"reported person {n + 1}", f"personOrUserReported[{n}]"
        if reported.person is not None:
            f.addresses(reported.person.addresses, ClueKind.REPORTED_ADDRESS, party,
                        f"{path}.personOrUserReportedPerson.address", "reported_home_address", "reported_address")
            f.phones(reported.person.phones, party, f"{path}.personOrUserReportedPerson.phone")
        f.estimated(reported.estimated_location, party, f"{path}.estimatedLocation")
        f.ips(reported.ip_capture_events, party, f"{path}.ipCaptureEvent")
        for m, account in enumerate(reported.associated_accounts):
            where = f"{path}.associatedAccount[{m}]"
            f.addresses(account.addresses, ClueKind.REPORTED_ADDRESS, party, f"{where}.address",
                        "reported_address", "reported_address")
            f.phones(account.phones, party, f"{where}.phone")
            f.ips(account.ip_capture_events, party, f"{where}.ipCaptureEvent")
    for n, recipient in enumerate(content.intended_recipients):
        party, path = f"intended recipient {n + 1}", f"intendedRecipient[{n}]"
        if recipient.person is not None:
            f.addresses(recipient.person.addresses, ClueKind.RECIPIENT_ADDRESS, party,
                        f"{path}.intendedRecipientPerson.address", "recipient_address", "recipient_address")
            f.phones(recipient.person.phones, party, f"{path}.intendedRecipientPerson.phone")
        f.estimated(recipient.estimated_location, party, f"{path}.estimatedLocation")
        f.ips(recipient.ip_capture_events, party, f"{path}.ipCaptureEvent")
    for n, details in enumerate(content.internet_details):
        path = f"internetDetails[{n}]"
        if details.non_internet_incident is not None:
            incident = details.non_internet_incident
            f.addresses(incident.incident_addresses, ClueKind.INCIDENT_ADDRESS, "incident",
                        f"{path}.nonInternetIncident.incidentAddress", "incident_address", "incident_address")
            if content.public_report is not None:
                f.text(incident.location_name, ClueKind.PUBLIC_TEXT, "reporter",
                       f"{path}.nonInternetIncident.locationName", "public_text")
        if details.peer2peer_incident is not None:
            f.ips(details.peer2peer_incident.ip_capture_events, "incident", f"{path}.peer2peerIncident.ipCaptureEvent")
        if details.cell_phone_incident is not None:
            cell = details.cell_phone_incident
            if cell.phone_number is not None:
                f.phone(cell.phone_number.value, cell.phone_number.country_calling_code, "incident",
                        f"{path}.cellPhoneIncident.phoneNumber")
            if cell.latitude is not None and cell.longitude is not None:
                f.unlocated(ClueKind.PHONE, "incident", f"{cell.latitude}, {cell.longitude}",
                            f"{path}.cellPhoneIncident", "coordinates are not placed offline; look them up on a map")
    if content.law_enforcement is not None:
        f.text(content.law_enforcement.agency_name, ClueKind.LAW_ENFORCEMENT, "law enforcement",
               "lawEnforcement.agencyName", "law_enforcement")
        international = content.law_enforcement.served_legal_process_international
        if international is not None and international.value and international.flea_country:
            f.add(ClueKind.LAW_ENFORCEMENT, "law enforcement", Place.of(international.flea_country),
                  CONFIDENCE["law_enforcement"], f"legal process served by law enforcement in "
                  f"{international.flea_country}", "lawEnforcement.servedLegalProcessInternational")
    public = content.public_report
    if public is not None:
        f.text(public.description, ClueKind.PUBLIC_TEXT, "reporter", "publicReport.description", "public_text")
        f.text(public.other_person_description, ClueKind.PUBLIC_TEXT, "reporter",
               "publicReport.otherPersonDescription", "public_text")
        if public.contact is not None and public.contact.phone:
            f.phone(public.contact.phone, None, "reporter", "publicReport.contact.phone", "public_reporter_phone")
        f.text(content.additional_info, ClueKind.PUBLIC_TEXT, "reporter", "additionalInfo", "public_text")
    for n, file_details in enumerate(files):
        if file_details is not None and file_details.ip_capture_event is not None:
            f.ips([file_details.ip_capture_event], f"file {n + 1} uploader", f"file[{n}].ipCaptureEvent")
    return f.out
