"""Is the queue healthy? The share of waiting reports ranked most urgent against a target, and how
long each priority has waited against its limit. Pure: the counts come from the store.

Settings (docs/review.md): `TIPLINE_TRIAGE_P1_SHARE` (percent, default 10): when more of the waiting
reports than this are P1, P1 no longer singles out the most urgent and the weights want a look;
`TIPLINE_QUEUE_LIMITS` (default `P1=4,P2=24,P3=72,P4=168`, hours): a report of that priority waiting
longer is overdue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tipline.config import ConfigError
from tipline.domain.numbers import parse_whole_number

LEVELS = ("P1", "P2", "P3", "P4")
DEFAULT_P1_SHARE = 10
DEFAULT_LIMITS = {"P1": 4, "P2": 24, "P3": 72, "P4": 168}


@dataclass(frozen=True)
class QueueTargets:
    p1_share: int = DEFAULT_P1_SHARE  # percent of the waiting reports
    limit_hours: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))

    @classmethod
    def from_settings(cls, env: Mapping[str, str]) -> QueueTargets:
        share_text = env.get("TIPLINE_TRIAGE_P1_SHARE", "")
        share = DEFAULT_P1_SHARE if not share_text else parse_whole_number(share_text.strip(), 1, 100)
        if share is None:
            raise ConfigError(f"TIPLINE_TRIAGE_P1_SHARE must be a whole percent from 1 to 100, got {share_text!r}")
        limits = dict(DEFAULT_LIMITS)
        for part in filter(None, (p.strip() for p in env.get("TIPLINE_QUEUE_LIMITS", "").split(","))):
            level, _sep, hours_text = part.partition("=")
            hours = parse_whole_number(hours_text.strip(), 1, 24 * 365)
            if level.strip().upper() not in LEVELS or hours is None:
                raise ConfigError(f"TIPLINE_QUEUE_LIMITS: {part!r} is not LEVEL=HOURS (P1 to P4, 1 to 8760 hours)")
            limits[level.strip().upper()] = hours
        return cls(share, limits)


@dataclass(frozen=True)
class Overdue:
    level: str
    limit_hours: int
    count: int
    oldest: datetime


@dataclass(frozen=True)
class QueueHealth:
    waiting: int
    p1: int
    p1_share: float  # percent
    p1_target: int
    overdue: list[Overdue]

    @property
    def p1_over_target(self) -> bool:
        return self.waiting > 0 and self.p1_share > self.p1_target


def judge(waiting_by_level: Mapping[str, int], overdue: Mapping[str, tuple[int, datetime]],
          targets: QueueTargets) -> QueueHealth:
    """The queue's health from the waiting counts per level and, per level, how many waited past its
    limit and since when the oldest."""
    waiting = sum(waiting_by_level.values())
    p1 = waiting_by_level.get("P1", 0)
    late = [Overdue(level, targets.limit_hours[level], *overdue[level]) for level in LEVELS
            if level in overdue and overdue[level][0] > 0]
    return QueueHealth(waiting, p1, 100.0 * p1 / waiting if waiting else 0.0, targets.p1_share, late)


def cutoffs(targets: QueueTargets, now: datetime) -> dict[str, datetime]:
    """For each level, reports received before this are overdue."""
    return {level: now - timedelta(hours=hours) for level, hours in targets.limit_hours.items()}
