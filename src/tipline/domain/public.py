"""What a member of the public tells us beyond the schema's fields: their story and how to reach them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tipline.domain.ages import AgeGuess
from tipline.domain.base import DomainModel, ShortText, Text, Timestamp

ReporterRelationship = Literal[
    "child_themself", "parent_or_carer", "other_family", "friend", "professional", "other", "not_said"
]
ChildGender = Literal["female", "male", "other", "unknown"]
# Whether the child knows the other person offline (in person): most reported offenders are strangers met online.
OffenderKnown = Literal["online_only", "known_offline", "unknown"]


class PublicContact(DomainModel):
    """How to reach a public reporter. Every field is optional: anonymous reports are welcome."""

    name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None
    may_contact: bool = False


class PublicAddition(DomainModel):
    """Something the reporter added later, with the report's number and secret code."""

    added_at: Timestamp
    description: Text | None = Field(default=None, description="What is new, in the reporter's own words")
    files: int = Field(default=0, ge=0, le=1000, description="How many files came with it")
    language: str | None = Field(default=None, max_length=20)


class PublicReport(DomainModel):
    """The parts of a public report that have no place in the CyberTipline schema."""

    description: Text = Field(min_length=1, description="What happened, in the reporter's own words")
    reporter_relationship: ReporterRelationship = "not_said"
    child_in_danger_now: bool = Field(
        default=False, description="The reporter says a child is in danger right now"
    )
    child_gender: ChildGender | None = None
    child_age: AgeGuess | None = Field(
        default=None, description="The child's age as the reporter gave it (a range when they were not sure)"
    )
    other_person_age: AgeGuess | None = Field(
        default=None, description="The other person's age as the reporter gave it (a range when they were not sure)"
    )
    other_person_description: Text | None = None
    offender_known: OffenderKnown | None = Field(
        default=None, description="Whether the child knows the other person offline, as the reporter said"
    )
    language: str | None = Field(default=None, max_length=20, description="The language the form was filled in")
    contact: PublicContact | None = Field(default=None, description="Absent for an anonymous report")
    additions: list[PublicAddition] = Field(
        default_factory=list, max_length=100, description="What the reporter added later, oldest first"
    )
