"""The people and accounts in a report: reporter, reported person or user, recipients, victims."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from tipline.domain.base import DomainModel, ShortText, Text, Timestamp, UrlText, items
from tipline.domain.codes import COUNTRIES, US_STATES
from tipline.domain.numbers import INT64_MAX

AddressType = Literal["Home", "Business", "Billing", "Shipping", "Technical"]
EmailType = Literal["Home", "Work", "Business", "Recovery"]
PhoneType = Literal["Mobile", "Home", "Business", "Work", "Fax", "Internet", "Recovery"]
CaptureEventName = Literal["Login", "Registration", "Purchase", "Upload", "Other", "Unknown"]
AssociatedAccountType = Literal["Billing", "Linked", "Business", "Creator", "Parent/Guardian", "Other"]
CtReportNumber = Annotated[int, Field(ge=1, le=INT64_MAX)]


def _country(value: str) -> str:
    if value != "" and value not in COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code known to the schema")
    return value


def _us_state(value: str) -> str:
    if value != "" and value not in US_STATES:
        raise ValueError(f"{value!r} is not a US state or territory postal code")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
"""ISO 3166-1 alpha-2, as enumerated by the schema (the empty string is allowed, as there)."""
UsState = Annotated[str, AfterValidator(_us_state)]


class SimpleContent(DomainModel):
    """An XML element with text and attributes; on the wire a plain value is accepted as shorthand."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, (str, bool, int, float)):
            return {"value": data}
        return data


class Address(DomainModel):
    address: ShortText | None = None
    city: ShortText | None = None
    zip_code: ShortText | None = None
    state: UsState | None = None
    non_usa_state: ShortText | None = None
    country: CountryCode | None = None
    type: AddressType | None = None


class Email(SimpleContent):
    value: ShortText
    type: EmailType | None = None
    verified: bool | None = None
    verification_date: Timestamp | None = None


class Phone(SimpleContent):
    value: ShortText
    type: PhoneType | None = None
    verified: bool | None = None
    verification_date: Timestamp | None = None
    country_calling_code: str | None = Field(default=None, pattern=r"^\+[0-9]{1,3}$")
    extension: str | None = Field(default=None, pattern=r"^[0-9]+$", max_length=20)


class Person(DomainModel):
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    phones: list[Phone] = items("phone")
    emails: list[Email] = items("email")
    addresses: list[Address] = items("address")
    age: int | None = Field(default=None, ge=0, le=130)
    date_of_birth: date | None = None


class ContactPerson(DomainModel):
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    phones: list[Phone] = items("phone")
    emails: list[Email] = items("email")
    addresses: list[Address] = items("address")


class IpCaptureEvent(DomainModel):
    ip_address: str = Field(max_length=256)
    event_name: CaptureEventName | None = None
    date_time: Timestamp | None = None
    possible_proxy: bool | None = None
    port: int | None = Field(default=None, ge=0, le=65535)


class DeviceId(DomainModel):
    id_type: ShortText
    id_value: ShortText
    event_name: CaptureEventName | None = None
    date_time: Timestamp | None = None


class EstimatedLocation(DomainModel):
    city: ShortText | None = None
    region: ShortText | None = None
    country_code: CountryCode | None = None
    verified: bool | None = None
    timestamp: Timestamp | None = None


class AccountTemporarilyDisabled(SimpleContent):
    value: bool
    disabled_date: Timestamp | None = None
    user_notified: bool | None = None
    user_notified_date: Timestamp | None = None
    reenabled_date: Timestamp | None = None


class AccountPermanentlyDisabled(SimpleContent):
    value: bool
    disabled_date: Timestamp | None = None
    user_notified: bool | None = None
    user_notified_date: Timestamp | None = None


class AccountPlatform(SimpleContent):
    value: ShortText
    third_party_user: bool | None = None


class AssociatedAccount(DomainModel):
    """Another account tied to a party (billing, linked, parent/guardian ...)."""

    type: AssociatedAccountType
    platform: AccountPlatform | None = None
    first_name: ShortText | None = None
    middle_name: ShortText | None = None
    last_name: ShortText | None = None
    approximate_age: int | None = Field(default=None, ge=0, le=130)
    date_of_birth: date | None = None
    phones: list[Phone] = items("phone")
    emails: list[Email] = items("email")
    all_emails_reported: bool | None = None
    addresses: list[Address] = items("address")
    esp_service: ShortText | None = None
    esp_identifier: ShortText | None = None
    profile_urls: list[UrlText] = items("profileUrl")
    screen_name: ShortText | None = None
    display_names: list[ShortText] = items("displayName")
    profile_bio: Text | None = None
    group_identifier: ShortText | None = None
    compromised_account: bool | None = None
    account_temporarily_disabled: AccountTemporarilyDisabled | None = None
    account_permanently_disabled: AccountPermanentlyDisabled | None = None
    ip_capture_events: list[IpCaptureEvent] = items("ipCaptureEvent")
    device_ids: list[DeviceId] = items("deviceId")
    prior_ct_reports: list[CtReportNumber] = items("priorCTReport")
    additional_info: Text | None = None


class _Account(DomainModel):
    """The account fields that reported persons, recipients and victims share."""

    esp_identifier: ShortText | None = None
    esp_service: ShortText | None = None
    compromised_account: bool | None = None
    screen_name: ShortText | None = None
    display_names: list[ShortText] = items("displayName")
    profile_urls: list[UrlText] = items("profileUrl")
    profile_bio: Text | None = None
    ip_capture_events: list[IpCaptureEvent] = items("ipCaptureEvent")
    device_ids: list[DeviceId] = items("deviceId")
    prior_ct_reports: list[CtReportNumber] = items("priorCTReports")
    account_temporarily_disabled: AccountTemporarilyDisabled | None = None
    account_permanently_disabled: AccountPermanentlyDisabled | None = None
    estimated_location: EstimatedLocation | None = None
    all_emails_reported: bool | None = None


class PersonOrUserReported(_Account):
    """The person or account the report is about (the suspected offender)."""

    person: Person | None = Field(default=None, alias="personOrUserReportedPerson")
    vehicle_description: ShortText | None = None
    third_party_user_reported: bool | None = None
    group_identifier: ShortText | None = None
    associated_accounts: list[AssociatedAccount] = items("associatedAccount")
    additional_info: Text | None = None


class IntendedRecipient(_Account):
    """Someone the reported content was meant for (often the child being enticed)."""

    person: Person | None = Field(default=None, alias="intendedRecipientPerson")
    group_identifier: ShortText | None = None
    additional_info: list[Text] = items("additionalInfo")


class Victim(_Account):
    """A child victim."""

    person: Person = Field(alias="victimPerson")
    school_name: ShortText | None = None
    associated_accounts: list[AssociatedAccount] = items("associatedAccount")
    additional_info: Text | None = None


class Reporter(DomainModel):
    """Who filed the report: for a service provider, its reporting person and contact."""

    reporting_person: Person = Field(default_factory=Person)
    contact_person: ContactPerson | None = None
    company_template: Text | None = None
    terms_of_service: Text | None = None
    legal_url: UrlText | None = Field(default=None, alias="legalURL")


class ServedLegalProcessInternational(SimpleContent):
    value: bool
    flea_country: CountryCode | None = None


class LawEnforcement(DomainModel):
    """Law enforcement already involved (the report was made to them, or came from them)."""

    agency_name: ShortText
    case_number: ShortText | None = None
    officer_contact: ContactPerson | None = None
    reported_to_le: bool | None = Field(default=None, alias="reportedToLe")
    served_legal_process_domestic: bool | None = None
    served_legal_process_international: ServedLegalProcessInternational | None = None
