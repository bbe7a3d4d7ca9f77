"""What a member of the public tells us beyond the schema's fields: their story and how to reach them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tipline.domain.base import DomainModel, ShortText, Text

ReporterRelationship = Literal[
    "child_themself", "parent_or_carer", "other_family", "friend", "professional", "other", "not_said"
]
ChildGender = Literal["female", "male", "other", "unknown"]


class PublicContact(DomainModel):
    """How to reach a public reporter. Every field is optional: anonymous reports are welcome."""

    name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None
    may_contact: bool = False


class PublicReport(DomainModel):
    """The parts of a public report that have no place in the CyberTipline schema."""

    description: Text = Field(min_length=1, description="What happened, in the reporter's own words")
    reporter_relationship: ReporterRelationship = "not_said"
    child_in_danger_now: bool = Field(
        default=False, description="The reporter says a child is in danger right now"
    )
    child_gender: ChildGender | None = None
    other_person_description: Text | None = None
    contact: PublicContact | None = Field(default=None, description="Absent for an anonymous report")
