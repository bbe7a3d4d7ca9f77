"""Workload and throughput per analyst, from what they hold now and the reports they decided (a decision:
a report leaving review referred, informational or closed with no action). Pure: counts in, figures out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

SHORT_DAYS, LONG_DAYS = 7, 30


@dataclass(frozen=True)
class Analyst:
    user_id: int
    username: str
    name: str


@dataclass(frozen=True)
class Throughput:
    analyst: Analyst
    held: int  # reports held now
    decided_7: int  # decided in the last 7 days
    decided_30: int  # ... in the last 30 days
    median_to_decision: timedelta | None  # from claim to decision, over the last 30 days' decisions


@dataclass(frozen=True)
class Tally:
    """Per person: decisions in the last 7 and 30 days, and the median of the 30 days' claim-to-decision spans
    (seconds; absent for someone with no decision that has a claim time)."""

    decided_7: Mapping[int, int]
    decided_30: Mapping[int, int]
    median_seconds: Mapping[int, float]


def tally(decisions: Iterable[tuple[int | None, datetime | None, datetime]], now: datetime) -> Tally:
    """Count `decisions`: (who, claimed at, decided at), of at least the last 30 days; older ones are ignored."""
    week, month = now - timedelta(days=SHORT_DAYS), now - timedelta(days=LONG_DAYS)
    counts_7: dict[int, int] = {}
    counts_30: dict[int, int] = {}
    spans: dict[int, list[float]] = {}
    for user_id, claimed_at, decided_at in decisions:
        if user_id is None or decided_at < month or decided_at > now:
            continue
        counts_30[user_id] = counts_30.get(user_id, 0) + 1
        if decided_at >= week:
            counts_7[user_id] = counts_7.get(user_id, 0) + 1
        if claimed_at is not None and claimed_at <= decided_at:
            spans.setdefault(user_id, []).append((decided_at - claimed_at).total_seconds())
    return Tally(counts_7, counts_30, {user_id: median(values) for user_id, values in spans.items()})


def throughput(analysts: Iterable[Analyst], held: Mapping[int, int],
               decisions: Iterable[tuple[int | None, datetime | None, datetime]] | Tally,
               now: datetime) -> list[Throughput]:
    """One row per analyst (those given, and anyone else who holds or decided reports is left out: the
    caller lists the people who review), most decided in 30 days first, then most held, then by name.

    `decisions`: (who, claimed at, decided at), of at least the last 30 days (older ones are ignored), or their
    `Tally` already counted (as the store counts them in SQL)."""
    counted = decisions if isinstance(decisions, Tally) else tally(decisions, now)
    rows = [Throughput(a, held.get(a.user_id, 0), counted.decided_7.get(a.user_id, 0),
                       counted.decided_30.get(a.user_id, 0),
                       timedelta(seconds=counted.median_seconds[a.user_id]) if a.user_id in counted.median_seconds
                       else None)
            for a in analysts]
    rows.sort(key=lambda r: (-r.decided_30, -r.held, r.analyst.name.casefold(), r.analyst.username))
    return rows


def duration_words(span: timedelta | None) -> str:
    """A duration as people say it: "under a minute", "45 min", "3 h 20 min", "2 days 4 h"; "—" for none."""
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} day{'s' if days != 1 else ''} {hours} h" if hours else f"{days} day{'s' if days != 1 else ''}"
