"""The base of every domain value: strict, camelCase on the wire (the XSD's names), typed limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
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

    def to_wire(self) -> dict[str, Any]:
        """The JSON form used by the APIs and stored in the database (XSD names, no empty values)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the only clock the domain uses)."""
    return datetime.now(UTC)
