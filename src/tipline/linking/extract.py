"""Finding every identifier in a report, normalised, with the party and the place it came from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tipline.domain.files import FileDetails
from tipline.domain.identifiers import Identifier, IdentifierKind, PartyRole
from tipline.domain.parties import (
    AssociatedAccount,
    DeviceId,
    Email,
    IntendedRecipient,
    IpCaptureEvent,
    Person,
    PersonOrUserReported,
    Phone,
    Victim,
)
from tipline.domain.report import ReportContent
from tipline.linking.normalize import (
    Normalised,
    normalise_device_id,
    normalise_email,
    normalise_esp_user_id,
    normalise_ip,
    normalise_phone,
    normalise_screen_name,
    normalise_url,
)
from tipline.linking.payments import find_payment_handles


@dataclass(frozen=True)
class ExtractionContext:
    """What the extractor needs beyond the report: where phone numbers default to, whose service it is."""

    default_phone_region: str = "US"
    provider_service: str | None = None  # the service provider's name, when it filed the report
    include_reporter: bool = False  # a public reporter's own contact details (never an ESP's staff)


class _Collector:
    def __init__(self, context: ExtractionContext, platform: str | None) -> None:
        self.context = context
        self.platform = platform
        self.found: list[Identifier] = []

    def add(
        self,
        kind: IdentifierKind,
        normalised: Normalised,
        raw: str,
        role: PartyRole,
        index: int | None,
        path: str,
        seen_at: object = None,
    ) -> None:
        if not raw or not raw.strip():
            return
        self.found.append(
            Identifier(
                kind=kind,
                value=normalised.value,
                raw=raw,
                role=role,
                party_index=index,
                path=path,
                valid=normalised.valid,
                seen_at=seen_at,  # type: ignore[arg-type]  # a datetime or None, as the caller gives it (typed object for the keyword pass-through)
            )
        )

    def emails(self, emails: Iterable[Email], role: PartyRole, index: int | None, path: str) -> None:
        for n, email in enumerate(emails):
            self.add(IdentifierKind.EMAIL, normalise_email(email.value), email.value, role, index, f"{path}[{n}]")

    def phones(self, phones: Iterable[Phone], role: PartyRole, index: int | None, path: str) -> None:
        for n, phone in enumerate(phones):
            normalised = normalise_phone(phone.value, self.context.default_phone_region, phone.country_calling_code)
            self.add(IdentifierKind.PHONE, normalised, phone.value, role, index, f"{path}[{n}]")

    def person(self, person: Person | None, role: PartyRole, index: int | None, path: str) -> None:
        if person is None:
            return
        self.emails(person.emails, role, index, f"{path}.email")
        self.phones(person.phones, role, index, f"{path}.phone")

    def ips(self, events: Iterable[IpCaptureEvent], role: PartyRole, index: int | None, path: str) -> None:
        for n, event in enumerate(events):
            self.add(
                IdentifierKind.IP_ADDRESS,
                normalise_ip(event.ip_address),
                event.ip_address,
                role,
                index,
                f"{path}[{n}]",
                seen_at=event.date_time,
            )

    def devices(self, devices: Iterable[DeviceId], role: PartyRole, index: int | None, path: str) -> None:
        for n, device in enumerate(devices):
            self.add(
                IdentifierKind.DEVICE_ID,
                normalise_device_id(device.id_type, device.id_value),
                f"{device.id_type}: {device.id_value}",
                role,
                index,
                f"{path}[{n}]",
                seen_at=device.date_time,
            )

    def urls(self, kind: IdentifierKind, urls: Iterable[str], role: PartyRole, index: int | None, path: str) -> None:
        for n, url in enumerate(urls):
            self.add(kind, normalise_url(url), url, role, index, f"{path}[{n}]")

    def payments(self, text: str, role: PartyRole, index: int | None, path: str) -> None:
        for handle in find_payment_handles(text):
            self.add(IdentifierKind.PAYMENT, Normalised(handle.value, True), handle.raw, role, index, path)

    def account(
        self,
        party: PersonOrUserReported | IntendedRecipient | Victim | AssociatedAccount,
        role: PartyRole,
        index: int | None,
        path: str,
        service: str | None,
    ) -> None:
        service = party.esp_service or service
        if party.esp_identifier:
            self.add(
                IdentifierKind.ESP_USER_ID,
                normalise_esp_user_id(party.esp_identifier, service),
                party.esp_identifier,
                role,
                index,
                f"{path}.espIdentifier",
            )
        if party.screen_name:
            self.add(
                IdentifierKind.SCREEN_NAME,
                normalise_screen_name(party.screen_name, service),
                party.screen_name,
                role,
                index,
                f"{path}.screenName",
            )
        self.urls(IdentifierKind.PROFILE_URL, party.profile_urls, role, index, f"{path}.profileUrl")
        self.ips(party.ip_capture_events, role, index, f"{path}.ipCaptureEvent")
        self.devices(party.device_ids, role, index, f"{path}.deviceId")


def extract_identifiers(
    content: ReportContent,
    context: ExtractionContext | None = None,
    files: Iterable[tuple[int, FileDetails | None]] = (),
) -> list[Identifier]:
    """Every identifier in the report, in document order. `files` gives (position, details) per file."""
    context = context or ExtractionContext()
    platform = content.incident_summary.platform or context.provider_service
    out = _Collector(context, platform)

    for role, index, party in _parties(content):
        base = {
            PartyRole.REPORTED: "personOrUserReported",
            PartyRole.RECIPIENT: "intendedRecipient",
            PartyRole.VICTIM: "victim",
        }[role]
        path = f"{base}[{index}]"
        person_field = {
            PartyRole.REPORTED: "personOrUserReportedPerson",
            PartyRole.RECIPIENT: "intendedRecipientPerson",
            PartyRole.VICTIM: "victimPerson",
        }[role]
        service = party.esp_service or platform
        out.person(party.person, role, index, f"{path}.{person_field}")
        out.account(party, role, index, path, service)
        for n, associated in enumerate(getattr(party, "associated_accounts", [])):
            apath = f"{path}.associatedAccount[{n}]"
            aservice = associated.esp_service or (associated.platform.value if associated.platform else None)
            out.emails(associated.emails, role, index, f"{apath}.email")
            out.phones(associated.phones, role, index, f"{apath}.phone")
            out.account(associated, role, index, apath, aservice or service)

    for n, details in enumerate(content.internet_details):
        path = f"internetDetails[{n}]"
        if details.web_page_incident:
            out.urls(IdentifierKind.URL, details.web_page_incident.urls, PartyRole.INCIDENT, None, f"{path}.webPageIncident.url")
        for kind_name in ("email_incident", "newsgroup_incident"):
            incident = getattr(details, kind_name)
            if incident:
                wire = "emailIncident" if kind_name == "email_incident" else "newsgroupIncident"
                out.emails(incident.email_addresses, PartyRole.INCIDENT, None, f"{path}.{wire}.emailAddress")
        if details.cell_phone_incident and details.cell_phone_incident.phone_number:
            out.phones([details.cell_phone_incident.phone_number], PartyRole.INCIDENT, None, f"{path}.cellPhoneIncident.phoneNumber")
        if details.peer2peer_incident:
            out.ips(details.peer2peer_incident.ip_capture_events, PartyRole.INCIDENT, None, f"{path}.peer2peerIncident.ipCaptureEvent")

    if context.include_reporter:
        if content.reporter is not None:
            out.person(content.reporter.reporting_person, PartyRole.REPORTER, 0, "reporter.reportingPerson")
        contact = content.public_report.contact if content.public_report else None
        if contact is not None:
            if contact.email:
                out.add(IdentifierKind.EMAIL, normalise_email(contact.email), contact.email, PartyRole.REPORTER, 0, "publicReport.contact.email")
            if contact.phone:
                normalised = normalise_phone(contact.phone, context.default_phone_region)
                out.add(IdentifierKind.PHONE, normalised, contact.phone, PartyRole.REPORTER, 0, "publicReport.contact.phone")

    for role, party_index, path, text in _free_text(content):
        if role == PartyRole.REPORTER and not context.include_reporter:
            continue
        out.payments(text, role, party_index, path)

    for position, file_details in files:
        if file_details is None:
            continue
        path = f"files[{position}]"
        for n, info in enumerate(file_details.additional_info):
            out.payments(info, PartyRole.FILE, position, f"{path}.additionalInfo[{n}]")
        if file_details.ip_capture_event:
            out.ips([file_details.ip_capture_event], PartyRole.FILE, position, f"{path}.ipCaptureEvent")
        out.devices(file_details.device_ids, PartyRole.FILE, position, f"{path}.deviceId")

    return _dedupe(out.found)


_PARTY_PATH = re.compile(r"^(personOrUserReported|intendedRecipient|victim)\[(\d+)\]|^(reporter)\.")
_PARTY_ROLES = {"personOrUserReported": PartyRole.REPORTED, "intendedRecipient": PartyRole.RECIPIENT,
                "victim": PartyRole.VICTIM, "reporter": PartyRole.REPORTER}


def _free_text(content: ReportContent) -> Iterator[tuple[PartyRole, int | None, str, str]]:
    """(role, party index, path, text) of every free-text field: a party's own notes are that party's,
    the rest (descriptions, the public report) describe the incident."""
    for path, text in content.free_text():
        match = _PARTY_PATH.match(path)
        if match is None:
            yield PartyRole.INCIDENT, None, path, text
        elif match.group(3):
            yield PartyRole.REPORTER, 0, path, text
        else:
            yield _PARTY_ROLES[match.group(1)], int(match.group(2)), path, text


def _parties(content: ReportContent) -> Iterator[tuple[PartyRole, int, PersonOrUserReported | IntendedRecipient | Victim]]:
    for index, reported in enumerate(content.persons_or_users_reported):
        yield PartyRole.REPORTED, index, reported
    for index, recipient in enumerate(content.intended_recipients):
        yield PartyRole.RECIPIENT, index, recipient
    for index, victim in enumerate(content.victims):
        yield PartyRole.VICTIM, index, victim


def _dedupe(found: list[Identifier]) -> list[Identifier]:
    """One row per (kind, value, role, party): the same email twice on one person is one identifier."""
    seen: set[tuple[str, str, str, int | None]] = set()
    unique = []
    for identifier in found:
        key = (identifier.kind.value, identifier.value, identifier.role.value, identifier.party_index)
        if key not in seen:
            seen.add(key)
            unique.append(identifier)
    return unique
