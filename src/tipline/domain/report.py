"""A report: the facts it holds (everything a CyberTipline report can hold) and its place in the lifecycle."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from tipline.domain.base import DomainModel, Text, items
from tipline.domain.files import ReportFile
from tipline.domain.incident import BatchedReport, IncidentSummary
from tipline.domain.internet import InternetDetails
from tipline.domain.lifecycle import ReportState
from tipline.domain.parties import (
    IntendedRecipient,
    LawEnforcement,
    PersonOrUserReported,
    Reporter,
    Victim,
)
from tipline.domain.public import PublicReport


class ReportSource(StrEnum):
    ESP_XML = "esp_xml"
    ESP_JSON = "esp_json"
    PUBLIC_FORM = "public_form"
    BULK = "bulk"
    PARTNER_HOTLINE = "partner_hotline"  # a referral package imported from a partner hotline


SOURCE_LABELS = {
    ReportSource.ESP_XML: "Service provider (XML API)",
    ReportSource.ESP_JSON: "Service provider (JSON API)",
    ReportSource.PUBLIC_FORM: "Public report form",
    ReportSource.BULK: "Bulk import",
    ReportSource.PARTNER_HOTLINE: "Partner hotline (referral package)",
}


class ReportContent(DomainModel):
    """The facts of one incident, in the shape of the CyberTipline `<report>` (plus public-report fields).

    On the wire every name is the schema's element name and repeatable elements are lists, so the
    same report filed as XML or as JSON is the same value.
    """

    batched_report: BatchedReport | None = None
    incident_summary: IncidentSummary
    internet_details: list[InternetDetails] = items("internetDetails")
    law_enforcement: LawEnforcement | None = None
    reporter: Reporter | None = Field(
        default=None, description="Required from service providers; absent for an anonymous public report"
    )
    persons_or_users_reported: list[PersonOrUserReported] = items("personOrUserReported")
    intended_recipients: list[IntendedRecipient] = items("intendedRecipient")
    victims: list[Victim] = items("victim")
    additional_info: Text | None = None
    public_report: PublicReport | None = None

    @model_validator(mode="after")
    def _someone_reported(self) -> ReportContent:
        if self.reporter is None and self.public_report is None:
            raise ValueError("a report needs a reporter (service providers) or publicReport (public form)")
        return self

    def free_text(self) -> Iterator[tuple[str, str]]:
        """(path, text) of every field written in someone's own words (descriptions, additional
        information, the reason for an escalation), in document order; paths use the wire names."""
        yield from _free_text(self.to_wire(), "")


FREE_TEXT_NAMES = frozenset({"additionalInfo", "description", "otherPersonDescription", "incidentDateTimeDescription",
                             "escalateToHighPriority"})
"""The wire names of the fields that hold free text rather than a value."""


def _free_text(wire: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(wire, dict):
        for key, value in wire.items():
            child = f"{path}.{key}" if path else key
            if key in FREE_TEXT_NAMES and isinstance(value, str):
                yield child, value
            elif key in FREE_TEXT_NAMES and isinstance(value, list):
                yield from ((f"{child}[{n}]", item) for n, item in enumerate(value) if isinstance(item, str))
            else:
                yield from _free_text(value, child)
    elif isinstance(wire, list):
        for n, item in enumerate(wire):
            yield from _free_text(item, f"{path}[{n}]")


class Report(DomainModel):
    """A stored report as staff see it: identity, lifecycle state, source, facts and files."""

    id: int
    state: ReportState
    source: ReportSource
    submitted_by: str | None = Field(default=None, description="The service provider account, if any")
    opened_at: datetime
    received_at: datetime | None = None
    updated_at: datetime
    version: int = 1
    content: ReportContent
    files: list[ReportFile] = Field(default_factory=list)
