"""The statistics of the surge detector (pure: counts in, a verdict out).

A day's count of one series (a dimension's value) is compared with what its own history predicts:

* the **level** is the mean of 28 days ending a week before the day (recent growth or decline is
  followed; the week between is a guard band, so a surge that began a few days ago does not raise its
  own baseline and hide its continuation: the practice of the EARS and Farrington detectors);
* the **season** is how this time of year compared, in each earlier year the series has (up to three),
  with the 28 days before it: the ratio of the mean of the 29 days centred on the same date to the
  mean of the 28 days before that window. The mean of these ratios, held between 0.5 and 3,
  multiplies the level (a December that is always busier does not alert every December);
* the **spread** is the variance of those 28 days. Report counts are over-dispersed (a viral
  image, a platform's batch), so when the variance exceeds the mean the tail is negative binomial with
  that mean and variance (moments), else Poisson;
* an alert needs the day's count to be at least `min_count` (a rise from 1 to 4 is noise to a
  supervisor), at least `min_ratio` times the expectation, and its upper tail probability
  P(X >= observed) below `alpha` (0.001: with some hundred series tested daily, about one false
  alarm in ten days at most; in practice fewer, since most series never reach `min_count`).

This is the approach of the Farrington family of outbreak detectors used in public-health
surveillance (seasonal baseline from earlier years, over-dispersed count tail, minimum count),
simplified to what a day's counts can carry. See docs/trends.md."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

RECENT_DAYS = 28
GUARD_DAYS = 7
SEASON_HALF_WIDTH = 14
YEARS = 3
FLOOR = 0.5  # the smallest expectation: a value never seen before is expected at most every other day


@dataclass(frozen=True)
class Thresholds:
    min_count: int = 10
    min_ratio: float = 1.5
    alpha: float = 0.001


@dataclass(frozen=True)
class Baseline:
    expected: float
    variance: float
    level: float
    season: float
    years: int  # earlier years the season was measured in (0: none)
    days: int  # recent days the level was measured on

    def describe(self) -> str:
        season = (f", times {self.season:.2f} for the time of year ({self.years} earlier "
                  f"year{'s' if self.years != 1 else ''})") if self.years else ""
        return f"mean of {self.days} days ending a week before ({self.level:.1f} a day){season}"


def _mean(counts: dict[date, int], first: date, last: date, start: date) -> tuple[float, int] | None:
    """The mean daily count from first to last (inclusive), counting only days from `start` on."""
    first = max(first, start)
    if last < first:
        return None
    days = (last - first).days + 1
    return sum(counts.get(first + timedelta(days=i), 0) for i in range(days)) / days, days


def baseline_ranges(day: date) -> list[tuple[date, date]]:
    """The days (first, last) whose counts `baseline` reads for `day`."""
    recent_last = day - timedelta(days=GUARD_DAYS + 1)
    ranges = [(recent_last - timedelta(days=RECENT_DAYS - 1), recent_last)]
    for year in range(1, YEARS + 1):
        same = day - timedelta(days=365 * year)
        ranges.append((same - timedelta(days=SEASON_HALF_WIDTH + RECENT_DAYS), same + timedelta(days=SEASON_HALF_WIDTH)))
    return ranges


def baseline(day: date, counts: dict[date, int], start: date) -> Baseline | None:
    """What the series should count on `day`, from its counts before it; `start` is the first day the
    instance counted anything (days before it are unknown, not zero). None with under 14 days of history
    before the guard band."""
    recent_last = day - timedelta(days=GUARD_DAYS + 1)
    measured = _mean(counts, recent_last - timedelta(days=RECENT_DAYS - 1), recent_last, start)
    if measured is None or measured[1] < 14:
        return None
    level, days = measured
    values = [counts.get(recent_last - timedelta(days=i), 0) for i in range(days)]
    variance = sum((v - level) ** 2 for v in values) / max(1, days - 1)
    ratios = []
    for year in range(1, YEARS + 1):
        same = day - timedelta(days=365 * year)
        window_first, window_last = same - timedelta(days=SEASON_HALF_WIDTH), same + timedelta(days=SEASON_HALF_WIDTH)
        before_first = window_first - timedelta(days=RECENT_DAYS)
        if before_first < start:
            break
        window = _mean(counts, window_first, window_last, start)
        before = _mean(counts, before_first, window_first - timedelta(days=1), start)
        if window and before and before[0] > 0:
            ratios.append(window[0] / before[0])
    season = min(3.0, max(0.5, sum(ratios) / len(ratios))) if ratios else 1.0
    expected = max(FLOOR, level * season)
    return Baseline(expected, variance * season * season, level, season, len(ratios), days)


def upper_tail(observed: int, mean: float, variance: float) -> float:
    """P(X >= observed) for a count with this mean and variance: negative binomial when over-dispersed,
    else Poisson."""
    if observed <= 0:
        return 1.0
    if variance > mean * 1.05:
        r = mean * mean / (variance - mean)
        p = r / (r + mean)
        log_terms = [math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1) + r * math.log(p)
                     + k * math.log1p(-p) for k in range(observed)]
    else:
        log_terms = [-mean + k * math.log(mean) - math.lgamma(k + 1) for k in range(observed)]
    below = math.fsum(math.exp(t) for t in log_terms)
    return max(0.0, 1.0 - below)


@dataclass(frozen=True)
class Verdict:
    alert: bool
    observed: int
    expected: float
    p_value: float
    baseline: Baseline


def judge(observed: int, base: Baseline, thresholds: Thresholds = Thresholds()) -> Verdict:
    p_value = upper_tail(observed, base.expected, max(base.variance, base.expected))
    alert = (observed >= thresholds.min_count and observed >= thresholds.min_ratio * base.expected
             and p_value < thresholds.alpha)
    return Verdict(alert, observed, base.expected, p_value, base)
