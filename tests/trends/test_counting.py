"""Counting one report (the count_trends stage's write): whatever the report's facts were counted as
before, after counting the daily counts hold its facts as they are now, once. On PostgreSQL the facts
and counts are written by one statement, on SQLite by several: both are held to the same behaviour."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.store.accounts import Principal
from tipline.store.referrals import ReportJurisdictionRow
from tipline.store.tables import ConversationAnalysisRow, IdentifierRow, ReportRow, TextFindingRow
from tipline.trends.counting import count_report, rebuild
from tipline.trends.tables import TrendCountRow, TrendFactRow

ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP, api_account_id=None)
DAY = date(2026, 3, 10)


def _report(instance: Instance, on: date = DAY) -> int:
    with instance.db.transaction() as session:
        row = submit_report(instance, session, ReportContent.model_validate(sample_content()), ReportSource.ESP_JSON,
                            ESP, received_at=datetime.combine(on, datetime.min.time(), UTC) + timedelta(hours=9))
        return row.id


def _count(instance: Instance, report_id: int) -> set[tuple[str, str]] | None:
    with instance.db.transaction() as session:
        counted = count_report(session, report_id)
    return None if counted is None else counted.added


def _counts(instance: Instance, *dimensions: str) -> dict[tuple[date, str, str], int]:
    with instance.db.transaction() as session:
        return {(day, dimension, value): count for day, dimension, value, count in session.execute(
            select(TrendCountRow.day, TrendCountRow.dimension, TrendCountRow.value, TrendCountRow.count)
            .where(TrendCountRow.dimension.in_(dimensions), TrendCountRow.count != 0))}


def _facts(instance: Instance, report_id: int) -> set[tuple[date, str, str]]:
    with instance.db.transaction() as session:
        return {(day, dimension, value) for day, dimension, value in session.execute(
            select(TrendFactRow.day, TrendFactRow.dimension, TrendFactRow.value).where(TrendFactRow.report_id == report_id))}


def _change(instance: Instance, report_id: int, **values: object) -> None:
    with instance.db.transaction() as session:
        session.execute(update(ReportRow).where(ReportRow.id == report_id).values(**values))


def test_a_report_counted_twice_counts_once(instance: Instance) -> None:
    first, second = _report(instance), _report(instance)
    added = _count(instance, first)
    assert added is not None and ("all", "reports") in added and ("annotation", "sextortion") in added
    _count(instance, second)
    assert _count(instance, first) == set()  # nothing new the second time
    assert _counts(instance, "all", "annotation") == {(DAY, "all", "reports"): 2, (DAY, "annotation", "sextortion"): 2}
    facts = _facts(instance, first)
    assert (DAY, "all", "reports") in facts and all(day == DAY for day, _, _ in facts)


def test_recounting_after_a_change_moves_the_counts(instance: Instance) -> None:
    report_id, other = _report(instance), _report(instance)
    _change(instance, report_id, priority="P3")
    _change(instance, other, priority="P3")
    _count(instance, report_id)
    _count(instance, other)
    assert _counts(instance, "priority") == {(DAY, "priority", "P3"): 2}

    _change(instance, report_id, priority="P1", reviewed_annotations={"annotations": ["spam"]})
    assert _count(instance, report_id) == {("priority", "P1"), ("annotation", "spam")}
    assert _counts(instance, "priority", "annotation", "all") == {
        (DAY, "priority", "P3"): 1, (DAY, "priority", "P1"): 1, (DAY, "annotation", "sextortion"): 2,
        (DAY, "annotation", "spam"): 1, (DAY, "all", "reports"): 2}


def test_a_report_whose_day_changed_moves_to_it(instance: Instance) -> None:
    report_id = _report(instance)
    _count(instance, report_id)
    later = DAY + timedelta(days=3)
    _change(instance, report_id, received_at=datetime.combine(later, datetime.min.time(), UTC))
    _count(instance, report_id)
    assert _counts(instance, "all") == {(later, "all", "reports"): 1}
    assert {day for day, _, _ in _facts(instance, report_id)} == {later}


def test_a_report_no_longer_received_leaves_the_counts(instance: Instance) -> None:
    report_id, other = _report(instance), _report(instance)
    _count(instance, report_id)
    _count(instance, other)
    _change(instance, report_id, received_at=None)
    assert _count(instance, report_id) is None
    assert _counts(instance, "all") == {(DAY, "all", "reports"): 1}
    assert _facts(instance, report_id) == set()


def test_the_pipelines_results_count_as_when_rebuilt(instance: Instance) -> None:
    """What the pipeline found (a conversation's analysis, free-text findings, a payment handle, the
    jurisdiction) counts under its dimensions, the same when one report is counted (one statement on
    PostgreSQL) as when every report is rebuilt in batches."""
    report_id, plain = _report(instance), _report(instance)
    at = datetime.combine(DAY, datetime.min.time(), UTC)
    with instance.db.transaction() as session:
        analysis = {"source": "file", "source_ref": "1", "conversation_id": "c1", "suggested_annotations": {},
                    "analysed_at": at}
        session.add_all([
            ConversationAnalysisRow(report_id=report_id, suggested_incident_type="Online Enticement of Children",
                                    result={"tactics": [{"tactic": "flattery"}, {"tactic": "isolation"}],
                                            "disclosure": True}, **analysis),
            ConversationAnalysisRow(report_id=report_id, suggested_incident_type="Child Sex Trafficking",
                                    result={}, error="not a conversation", **analysis),  # a failed analysis: none
            TextFindingRow(report_id=report_id, path="p", kind="child_age", quote="I am 14", value="14", found_at=at),
            TextFindingRow(report_id=report_id, path="p", kind="meeting_request", quote="q", value="v", found_at=at),
            IdentifierRow(report_id=report_id, kind="payment", value="cashapp:$benignhandle", raw="$benignhandle",
                          role="subject", path="p"),
            ReportJurisdictionRow(report_id=report_id, resolution={"best": {"country": "GB", "region": "Wales"}},
                                  suggestion={}, computed_at=at),
        ])
    _count(instance, report_id)
    _count(instance, plain)
    found = {(d, v) for _, d, v in _facts(instance, report_id)}
    assert {("suggested_incident_type", "Online Enticement of Children"), ("tactic", "flattery"),
            ("tactic", "isolation"), ("tactic", "meeting_request"), ("disclosure", "disclosed"),
            ("age_band", "13-15"), ("payment_method", "cashapp"), ("country", "GB"), ("region", "GB: Wales")} <= found
    assert ("suggested_incident_type", "Child Sex Trafficking") not in found
    assert ("country", "GB") not in {(d, v) for _, d, v in _facts(instance, plain)}
    counted = {rid: _facts(instance, rid) for rid in (report_id, plain)}
    counts = _counts(instance, "tactic", "country", "all")
    rebuild(instance)
    assert {rid: _facts(instance, rid) for rid in (report_id, plain)} == counted
    assert _counts(instance, "tactic", "country", "all") == counts
