"""Enums whose members have labels people read: one StrEnum base and one table per enum, checked whole.

    class Role(LabelledEnum):
        ANALYST = "analyst"

    ROLE_LABELS = labels(Role, {Role.ANALYST: "Analyst"})

`Role.ANALYST.label` is then "Analyst"; a member without a label is an error when the module is
imported, not when a page first shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

_TABLES: dict[type[StrEnum], Mapping[Any, str]] = {}

E = TypeVar("E", bound="LabelledEnum")


class LabelledEnum(StrEnum):
    """A StrEnum whose members' labels are given once, by `labels()`."""

    @property
    def label(self) -> str:
        """How a person reads this member (pages, messages, exports)."""
        return _TABLES[type(self)][self]


def labels(enum: type[E], table: Mapping[E, str]) -> dict[E, str]:
    """Give every member of `enum` its label; returns the table. ValueError if a member has none or a key is foreign."""
    missing = [member.value for member in enum if member not in table]
    foreign = [key for key in table if not isinstance(key, enum)]
    if missing or foreign:
        raise ValueError(f"labels of {enum.__name__}: missing {missing}, not members {foreign}")
    _TABLES[enum] = dict(table)
    return dict(table)
