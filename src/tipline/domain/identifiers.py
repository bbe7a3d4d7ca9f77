"""Identifiers: the emails, phones, accounts, addresses and devices that tie reports together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tipline.domain.labels import LabelledEnum, labels


class IdentifierKind(LabelledEnum):
    EMAIL = "email"
    PHONE = "phone"
    SCREEN_NAME = "screen_name"  # value is "platform:name"
    ESP_USER_ID = "esp_user_id"  # value is "service:id"
    IP_ADDRESS = "ip_address"
    DEVICE_ID = "device_id"  # value is "type:value"
    PROFILE_URL = "profile_url"
    URL = "url"  # a web page where the incident happened
    PAYMENT = "payment"  # value is "service:handle": a cashtag, Venmo/PayPal handle, wallet, gift-card code


IDENTIFIER_LABELS = labels(IdentifierKind, {
    IdentifierKind.EMAIL: "Email",
    IdentifierKind.PHONE: "Phone",
    IdentifierKind.SCREEN_NAME: "Screen name",
    IdentifierKind.ESP_USER_ID: "Service user id",
    IdentifierKind.IP_ADDRESS: "IP address",
    IdentifierKind.DEVICE_ID: "Device id",
    IdentifierKind.PROFILE_URL: "Profile URL",
    IdentifierKind.URL: "Web page",
    IdentifierKind.PAYMENT: "Payment account",
})


class PartyRole(LabelledEnum):
    REPORTED = "reported"  # the reported person or user
    RECIPIENT = "recipient"  # an intended recipient
    VICTIM = "victim"
    REPORTER = "reporter"  # a public reporter (a service provider's own staff are not extracted)
    INCIDENT = "incident"  # named in the internet details rather than a party
    FILE = "file"  # captured with an uploaded file


PARTY_ROLE_LABELS = labels(PartyRole, {
    PartyRole.REPORTED: "Reported person or user",
    PartyRole.RECIPIENT: "Intended recipient",
    PartyRole.VICTIM: "Victim",
    PartyRole.REPORTER: "Reporter",
    PartyRole.INCIDENT: "Incident",
    PartyRole.FILE: "File",
})


@dataclass(frozen=True, slots=True)
class Identifier:
    """One identifier found in a report, normalised so equal things compare equal across reports."""

    kind: IdentifierKind
    value: str  # the normalised form: the key that links reports
    raw: str  # as the reporter wrote it
    role: PartyRole
    party_index: int | None  # which party of that role (0-based), if any
    path: str  # where in the report it was found, in the schema's names
    valid: bool = True  # False when it could not be parsed (kept, and still linked on its raw form)
    seen_at: datetime | None = None  # for IP capture events and device ids

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind.value, self.value)
