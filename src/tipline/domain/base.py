"""The base of every domain value: strict, camelCase on the wire (the XSD's names), typed limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

# Limits keep one report from exhausting memory or storage; they are generous for real reports.
MAX_SHORT_TEXT = 1_024
MAX_URL = 8_192
MAX_TEXT = 200_000
MAX_CONTENT = 2_000_000
MAX_ITEMS = 1_000

ShortText = Annotated[str, StringConstraints(max_length=MAX_SHORT_TEXT)]
UrlText = Annotated[str, StringConstraints(max_length=MAX_URL)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
ContentText = Annotated[str, StringConstraints(max_length=MAX_CONTENT)]
Timestamp = AwareDatetime
"""An ISO 8601 date and time that must carry a zone (Z or +hh:mm), as the CyberTipline API requires."""


STORED = {"stored": True}
"""Validation context for content read back from storage: checked as it was when it was taken in."""


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False  # numbers, dates, and nested models (which check their own fields)


def items(alias: str | None = None, max_length: int = MAX_ITEMS, **kwargs: Any) -> Any:
    """A repeatable element: a list, empty by default, bounded in length."""
    return Field(default_factory=list, alias=alias, max_length=max_length, **kwargs)


class DomainModel(BaseModel):
    """Every domain value: unknown fields are errors, names on the wire are the XSD's element names."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_assignment=True,
        str_strip_whitespace=False,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_character(cls, value: Any, info: ValidationInfo) -> Any:
        """No text may hold the NUL character: PostgreSQL can store it neither in text nor in JSONB,
        so it is refused here, where every source's report enters, on every backend alike. Content
        stored before this rule (SQLite kept it) still reads back (context STORED)."""
        if _has_nul(value) and not (info.context or {}).get("stored"):
            raise ValueError("text must not contain the NUL character (U+0000)")
        return value

    def to_wire(self) -> dict[str, Any]:
        """The JSON form used by the APIs and stored in the database (XSD names, no empty values)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the only clock the domain uses)."""
    return datetime.now(UTC)
