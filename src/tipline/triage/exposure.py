"""Analysts' exposure to media, from the times they revealed a picture or a frame clearly (the audited
`file.revealed` events: who and when, never what). How many today and in the last 7 days, and the
longest run of reveals today without a break; a daily level above which supervisors are told. Pure:
times in, figures out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from tipline.config import ConfigError
from tipline.domain.numbers import parse_whole_number

DEFAULT_DAILY_LIMIT = 100
DEFAULT_BREAK_MINUTES = 15
DEFAULT_SESSION_FILES = 40
DEFAULT_SESSION_MINUTES = 30
WEEK_DAYS = 7


@dataclass(frozen=True)
class ExposureTargets:
    daily_limit: int = DEFAULT_DAILY_LIMIT  # reveals in a (UTC) day above which supervisors are told
    break_minutes: int = DEFAULT_BREAK_MINUTES  # a gap at least this long between reveals is a break
    session_files: int = DEFAULT_SESSION_FILES  # files revealed in one sign-in after which a break is suggested
    session_minutes: int = DEFAULT_SESSION_MINUTES  # minutes with something revealed, likewise

    @classmethod
    def from_settings(cls, env: Mapping[str, str]) -> ExposureTargets:
        values = []
        for name, default, top in (("TIPLINE_EXPOSURE_DAILY_LIMIT", DEFAULT_DAILY_LIMIT, 100_000),
                                   ("TIPLINE_EXPOSURE_BREAK_MINUTES", DEFAULT_BREAK_MINUTES, 24 * 60),
                                   ("TIPLINE_EXPOSURE_SESSION_FILES", DEFAULT_SESSION_FILES, 100_000),
                                   ("TIPLINE_EXPOSURE_SESSION_MINUTES", DEFAULT_SESSION_MINUTES, 24 * 60)):
            text = env.get(name, "").strip()
            value = default if not text else parse_whole_number(text, 1, top)
            if value is None:
                raise ConfigError(f"{name} must be a whole number from 1 to {top}, got {text!r}")
            values.append(value)
        return cls(*values)


@dataclass(frozen=True)
class Run:
    """Reveals with no break between them: the first, the last, how many."""

    start: datetime
    end: datetime
    count: int

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Exposure:
    today: int
    week: int  # the last 7 days, today included
    longest_run_today: Run | None
    over_limit: bool  # more reveals today than the daily level


def longest_run(times: Iterable[datetime], break_after: timedelta) -> Run | None:
    """The longest stretch of reveals in which no gap reached `break_after` (the most reveals breaks a tie)."""
    ordered = sorted(times)
    if not ordered:
        return None
    best = current = Run(ordered[0], ordered[0], 1)
    for when in ordered[1:]:
        current = Run(current.start, when, current.count + 1) if when - current.end < break_after else Run(when, when, 1)
        if (current.length, current.count) > (best.length, best.count):
            best = current
    return best


def day_start(now: datetime) -> datetime:
    """The start of today (UTC), as the supervisor's charts count days."""
    return datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)


def week_start(now: datetime) -> datetime:
    return day_start(now) - timedelta(days=WEEK_DAYS - 1)


def exposure(times: Iterable[datetime], now: datetime, targets: ExposureTargets) -> Exposure:
    """One person's figures from the times they revealed media (at least since `week_start(now)`)."""
    since_week, since_today = week_start(now), day_start(now)
    week = [t for t in times if since_week <= t <= now]
    today = [t for t in week if t >= since_today]
    return Exposure(len(today), len(week), longest_run(today, timedelta(minutes=targets.break_minutes)),
                    len(today) > targets.daily_limit)


@dataclass(frozen=True)
class SessionExposure:
    """What one analyst revealed since signing in: shown to them beside the evidence."""

    files: int  # distinct files revealed (a file revealed in steps counts once)
    reveals: int  # every audited reveal, each step of the viewer's blur included
    revealed_for: timedelta  # how long something could be seen clearly: each reveal's time, overlaps counted once
    break_due: bool  # past the hotline's session level in files or in minutes


def session_exposure(reveals: Iterable[tuple[datetime, str]], now: datetime, targets: ExposureTargets,
                     reveal_lasts: timedelta) -> SessionExposure:
    """From the times and file ids of one sign-in's reveals: each reveal shows the file for at most
    `reveal_lasts` (the token's life), so the time revealed is the union of those spans up to now."""
    ordered = sorted(reveals)
    total = timedelta()
    span_start: datetime | None = None
    span_end: datetime | None = None
    for when, _ in ordered:
        end = min(when + reveal_lasts, now)
        if span_end is None or span_start is None or when > span_end:
            if span_start is not None and span_end is not None:
                total += span_end - span_start
            span_start, span_end = when, end
        else:
            span_end = max(span_end, end)
    if span_start is not None and span_end is not None:
        total += max(span_end - span_start, timedelta())
    files = len({file_id for _, file_id in ordered})
    due = files >= targets.session_files or total >= timedelta(minutes=targets.session_minutes)
    return SessionExposure(files, len(ordered), total, due)
