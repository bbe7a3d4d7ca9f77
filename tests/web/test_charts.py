"""tipline.web.charts: bars in proportion to their counts, stacked in the series' order, round axis
ticks, the summary sentence a screen reader announces, the data table, and no chart for no data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from websupport import Site, file_report, token_of

from tipline.domain.base import utc_now
from tipline.store.tables import ReportRow
from tipline.web.charts import Series, horizontal_bars, nice_ticks, priority_series, stacked_columns

DAYS = ["10 Nov", "11 Nov", "12 Nov", "13 Nov"]


def received(values: dict[str, list[int]]):  # type: ignore[no-untyped-def]
    return stacked_columns("chart-received", DAYS, priority_series(), values, noun=("report", "reports"),
                           period="received in the last 4 days", peak_word="most on",
                           empty="No reports were received in the last 4 days.", category_heading="Day")


@pytest.mark.parametrize(("maximum", "ticks"), [
    (1, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]), (31, [0, 10, 20, 30, 40]),
    (100, [0, 20, 40, 60, 80, 100]), (412, [0, 100, 200, 300, 400, 500]), (12_345, [0, 5000, 10_000, 15_000]),
])
def test_ticks_are_round_numbers_from_zero_to_at_least_the_largest_count(maximum: int, ticks: list[int]) -> None:
    assert nice_ticks(maximum) == ticks


def test_column_heights_are_in_proportion_to_the_counts_and_stack_p1_first_from_the_axis() -> None:
    chart = received({"P1": [1, 0, 3, 0], "P3": [0, 4, 1, 0], "unscored": [0, 0, 1, 0]})
    left, top, right, bottom = chart.plot
    unit = (bottom - top) / 5  # the axis ends at 5 (12 Nov's total): one report is a fifth of it
    assert [t.value for t in chart.ticks] == [0, 1, 2, 3, 4, 5]
    assert [(b.value, b.height) for b in chart.bars] == [
        (1, pytest.approx(unit, abs=0.1)), (4, pytest.approx(4 * unit, abs=0.1)),
        (3, pytest.approx(3 * unit, abs=0.1)), (1, pytest.approx(unit, abs=0.1)), (1, pytest.approx(unit, abs=0.1))]
    twelfth = [b for b in chart.bars if b.title.startswith("12 Nov")]
    assert [b.css for b in twelfth] == ["priority-P1", "priority-P3", "priority-unscored"]
    assert twelfth[0].y + twelfth[0].height == pytest.approx(bottom)  # P1 sits on the axis
    for lower, upper in zip(twelfth, twelfth[1:]):
        assert upper.y + upper.height == pytest.approx(lower.y, abs=0.1)  # each segment on the one below
    assert all(left <= b.x and b.x + b.width <= right for b in chart.bars)
    xs = [b.x for b in chart.bars if b.css == "priority-P1"]
    assert xs == sorted(xs)  # the days left to right in their order


def test_the_summary_counts_the_reports_by_level_and_names_the_busiest_day() -> None:
    chart = received({"P1": [1, 0, 3, 0], "P3": [0, 4, 1, 0], "unscored": [0, 0, 1, 0]})
    assert chart.summary == "10 reports received in the last 4 days (P1 4, P3 5, Unscored 1); most on 12 Nov (5)"
    tie = received({"P2": [2, 0, 2, 1]})
    assert tie.summary == "5 reports received in the last 4 days (P2 5); most on 10 Nov and 12 Nov (2 each)"
    assert received({"P4": [0, 0, 0, 1]}).summary.startswith("1 report received")


def test_the_table_holds_every_day_with_the_levels_that_occur_and_the_totals() -> None:
    chart = received({"P1": [1, 0, 2, 0], "P3": [0, 4, 1, 0]})
    assert chart.table_head == ["Day", "P1", "P3", "Total"]
    assert chart.table_rows == [["10 Nov", 1, 0, 1], ["11 Nov", 0, 4, 4], ["12 Nov", 2, 1, 3], ["13 Nov", 0, 0, 0]]
    assert [s.key for s in chart.legend] == ["P1", "P3"]


def test_day_labels_thin_out_but_the_newest_day_is_always_labelled() -> None:
    days = [f"{d} Nov" for d in range(1, 31)]
    chart = stacked_columns("c", days, priority_series(), {"P2": [1] * 30}, noun=("report", "reports"),
                            period="received", peak_word="most on", empty="none")
    labelled = [label.text for label in chart.labels]
    assert "30 Nov" in labelled and len(labelled) <= 6
    assert len(chart.bars) == 30


def test_no_reports_make_a_sentence_not_an_empty_chart() -> None:
    chart = received({"P1": [0, 0, 0, 0]})
    assert chart.empty and chart.summary == "No reports were received in the last 4 days."
    assert chart.bars == [] and chart.table_rows == []
    bars = horizontal_bars("w", [(s, 0) for s in priority_series()], noun=("report", "reports"), period="waiting",
                           empty="Nothing is waiting for review.", headings=("Priority", "Waiting"))
    assert bars.empty and bars.summary == "Nothing is waiting for review."


def test_horizontal_bars_lengths_summary_and_table() -> None:
    levels = priority_series()[:4]
    chart = horizontal_bars("chart-waiting", list(zip(levels, [2, 1, 4, 0], strict=True)), noun=("report", "reports"),
                            period="waiting for review", empty="none", headings=("Priority", "Waiting"))
    assert chart.summary == "7 reports waiting for review: P1 2, P2 1, P3 4, P4 0"
    widths = {b.css: b.width for b in chart.bars}
    assert set(widths) == {"priority-P1", "priority-P2", "priority-P3"}  # no bar drawn for zero
    assert widths["priority-P1"] == pytest.approx(2 * widths["priority-P2"], abs=0.5)
    assert widths["priority-P3"] == pytest.approx(4 * widths["priority-P2"], abs=0.5)
    assert chart.table_head == ["Priority", "Waiting"]
    assert chart.table_rows == [["P1", 2], ["P2", 1], ["P3", 4], ["P4", 0]]
    assert [label.text for label in chart.labels if label.anchor == "end"] == ["P1", "P2", "P3", "P4"]


def test_a_summary_may_leave_out_what_did_not_happen() -> None:
    items = [(Series("received", "Received", "outcome-received"), 3), (Series("arrest", "Arrest", "outcome-arrest"), 0),
             (Series("referred_on", "Referred on", "outcome-referred_on"), 1)]
    chart = horizontal_bars("o", items, noun=("outcome", "outcomes"), period="reported by agencies", empty="none",
                            headings=("Outcome", "Reported"), skip_zero_in_summary=True)
    assert chart.summary == "4 outcomes reported by agencies: Received 3, Referred on 1"
    assert ["Arrest", 0] in chart.table_rows


# --- on the pages ------------------------------------------------------------------------------------


def _set(site: Site, report_id: int, priority: str | None, received_at: datetime) -> None:
    with site.instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        row.priority, row.received_at = priority, received_at


def _table_rows(page: str, chart_id: str) -> dict[str, list[str]]:
    figure = page[page.index(f'id="{chart_id}"'):]
    figure = figure[:figure.index("</figure>")]
    return {m.group(1): re.findall(r"<td>([^<]*)</td>", m.group(2))
            for m in re.finditer(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', figure)}


def test_the_supervisor_sees_reports_received_per_day_and_waiting_by_priority(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    now = utc_now()
    today = now.date()
    start = datetime.combine(today - timedelta(days=29), time(), tzinfo=UTC)  # the first of the 30 days
    ids = [file_report(site) for _ in range(5)]
    _set(site, ids[0], "P1", now - timedelta(seconds=5))
    _set(site, ids[1], "P2", now - timedelta(seconds=5))
    _set(site, ids[2], "P2", start + timedelta(minutes=1))
    _set(site, ids[3], None, start + timedelta(minutes=2))
    _set(site, ids[4], "P3", start - timedelta(minutes=1))  # the day before the window: not counted
    supervisor = site.signed_in("supervisor")
    page = supervisor.get("/supervisor").text

    first, last = f"{start.day} {start:%b}", f"{today.day} {today:%b}"
    summary = f"4 reports received in the last 30 days (P1 1, P2 2, Unscored 1); most on {first} and {last} (2 each)"
    assert f'<title id="chart-received-title">{summary}</title>' in page
    assert 'role="img" aria-labelledby="chart-received-title"' in page
    received = _table_rows(page, "chart-received")
    assert len(received) == 30
    assert received[f"{start:%a} {start.date().isoformat()}"] == ["0", "1", "1", "2"]  # P1, P2, Unscored, total
    assert received[f"{today:%a} {today.isoformat()}"] == ["1", "1", "0", "2"]
    assert sum(int(cells[-1]) for cells in received.values()) == 4

    waiting = "5 reports waiting for review: P1 1, P2 2, P3 1, P4 0, Unscored 1"
    assert f'<title id="chart-waiting-title">{waiting}</title>' in page
    assert _table_rows(page, "chart-waiting") == {"P1": ["1"], "P2": ["2"], "P3": ["1"], "P4": ["0"], "Unscored": ["1"]}
    assert "style=" not in page  # the CSP refuses inline styles: colours come from classes

    analyst = site.signed_in("analyst")
    for report_id in ids:
        analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token_of(analyst.get("/queue").text)})
    page = supervisor.get("/supervisor").text
    assert '<p class="chart-empty" id="chart-waiting">Nothing is waiting for review.</p>' in page
    assert analyst.get("/supervisor").status_code == 403


def test_an_empty_instance_shows_sentences_instead_of_charts(site: Site) -> None:
    page = site.signed_in("supervisor").get("/supervisor").text
    assert "No reports were received in the last 30 days." in page and "Nothing is waiting for review." in page
    assert "<svg" not in page
