"""Column types that behave the same on SQLite and PostgreSQL (UTC timestamps, JSON documents)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, CursorResult, DateTime, Integer, Result
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def json_text(value: Any) -> str:
    """How a JSON document is written to SQLite (the engine's json_serializer): text as written, not
    as \\u escapes (json.dumps' default), so that a search for "Zoë" finds it in the stored text.
    A string with a lone surrogate (which JSON input may carry and UTF-8 cannot) keeps the escaped
    form, as before, rather than failing the write."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value)
    return text


def fold_case(value: str | None) -> str | None:
    """Case-insensitive comparison for any script: SQLite's lower() and LIKE fold only A-Z, so a
    search for "zoë" would miss "ZOË". Registered on every SQLite connection as tipline_fold()."""
    return value.casefold() if isinstance(value, str) else value
BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER keys


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both backends (SQLite keeps no zone, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def changed_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (what `Session.execute` returns for one is a CursorResult)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)
