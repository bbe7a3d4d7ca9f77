"""The detector's statistics and the suppression of published figures, against figures worked out by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from tipline.trends.baseline import Thresholds, baseline, judge, upper_tail
from tipline.trends.dimensions import ReportInputs, facts
from tipline.trends.published import suppress

START = date(2023, 1, 1)


def test_the_poisson_tail() -> None:
    # P(X >= 3) for a mean of 1: 1 - e^-1 (1 + 1 + 1/2)
    assert upper_tail(3, 1.0, 1.0) == pytest.approx(1 - math.exp(-1) * 2.5)
    assert upper_tail(0, 4.0, 4.0) == 1.0


def test_the_negative_binomial_tail_when_counts_are_over_dispersed() -> None:
    # mean 2, variance 6: r = 1, a geometric count with P(X >= k) = (2/3)^k
    assert upper_tail(3, 2.0, 6.0) == pytest.approx((2 / 3) ** 3)
    assert upper_tail(8, 2.0, 6.0) == pytest.approx((2 / 3) ** 8)
    assert upper_tail(8, 2.0, 6.0) > 10 * upper_tail(8, 2.0, 2.0)  # the wider spread makes 8 far less surprising


def test_a_steady_series_expects_its_level() -> None:
    counts = {START + timedelta(days=i): 10 for i in range(800)}
    found = baseline(START + timedelta(days=800), counts, START)
    assert found is not None
    assert found.expected == pytest.approx(10) and found.season == pytest.approx(1) and found.years == 2
    assert not judge(14, found).alert  # within Poisson noise of 10
    assert judge(40, found).alert


def test_a_season_that_comes_every_year_is_expected() -> None:
    # twice as many reports every December, three years running
    counts = {}
    for i in range(3 * 365 + 20):
        day = START + timedelta(days=i)
        counts[day] = 20 if day.month == 12 else 10
    december = date(2025, 12, 8)  # its level is measured on 28 days of November (a week before it)
    found = baseline(december, counts, START)
    assert found is not None and found.season > 1.5 and found.level == pytest.approx(10)
    assert not judge(25, found).alert
    # without earlier years, the same December is a surprise
    assert judge(25, baseline(december, counts, date(2025, 10, 1))).alert  # type: ignore[arg-type]


def test_too_little_history_judges_nothing_and_small_counts_never_alert() -> None:
    counts = {START + timedelta(days=i): 1 for i in range(10)}
    assert baseline(START + timedelta(days=10), counts, START) is None
    quiet = baseline(START + timedelta(days=60), {START + timedelta(days=i): 0 for i in range(60)}, START)
    assert quiet is not None
    assert not judge(9, quiet).alert and judge(10, quiet).alert
    assert not judge(10, quiet, Thresholds(min_count=20)).alert


def test_secondary_suppression_leaves_no_total_with_a_single_hidden_cell() -> None:
    cells = [[5, 20, 30], [40, 50, 60], [12, 13, 3]]
    hidden = suppress(cells, [sum(r) for r in cells], [sum(c) for c in zip(*cells, strict=True)], 10, additive=True)
    assert hidden[0][0] and hidden[2][2]  # primary
    lines = [list(r) for r in hidden] + [list(c) for c in zip(*hidden, strict=True)]
    assert all(sum(line) != 1 for line in lines)
    # multi-valued dimensions: cells do not add up to a total, only primary suppression
    only_primary = suppress(cells, [], [], 10, additive=False)
    assert sum(map(sum, only_primary)) == 2


def test_a_report_counts_once_under_each_of_its_values() -> None:
    found = facts(ReportInputs(received_on=date(2026, 1, 5), incident_type="Child Sex Trafficking", source="public",
                               annotations=["sextortion", "csamSolicitation", "unknownThing"], victim_ages=[14, 15, 9],
                               payment_services=["cashapp"], state="referred", priority="P1"))
    assert ("all", "reports") in found and ("source", "public") in found
    assert {v for d, v in found if d == "annotation"} == {"sextortion", "csamSolicitation"}
    assert {v for d, v in found if d == "age_band"} == {"13-15", "0-12"}
    assert ("decision", "referred") in found and ("country", "unknown") in found
    assert ("victim_sex", "unknown") in found and ("payment_method", "cashapp") in found
