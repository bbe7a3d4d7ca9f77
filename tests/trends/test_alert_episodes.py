"""An alert is one episode of a rise: a report judged for a day long before an open alert (a late report, a day
detected again) starts its own alert instead of stretching today's back to that day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tipline.instance import Instance
from tipline.trends.detector import _record
from tipline.trends.tables import TrendAlertRow

TODAY = date(2026, 12, 7)


def _raise(instance: Instance, day: date, report_id: int) -> None:
    with instance.db.transaction() as session:
        _record(instance, session, "rise", "annotation", "sextortion", since=day, day=day, observed=40, expected=4.0,
                details={}, report_ids=[report_id])


def test_a_day_long_before_an_open_alert_is_its_own_episode(instance: Instance) -> None:
    _raise(instance, TODAY, 1)
    _raise(instance, TODAY - timedelta(days=60), 2)
    with instance.db.read_session() as session:
        alerts = session.execute(select(TrendAlertRow).order_by(TrendAlertRow.since)).scalars().all()
        assert [(a.since, a.last_day, a.report_ids["ids"]) for a in alerts] == [
            (TODAY - timedelta(days=60), TODAY - timedelta(days=60), [2]), (TODAY, TODAY, [1])]


def test_the_next_day_continues_the_alert(instance: Instance) -> None:
    _raise(instance, TODAY, 1)
    _raise(instance, TODAY + timedelta(days=1), 3)
    _raise(instance, TODAY - timedelta(days=1), 4)  # a late report of the day before it began joins it too
    with instance.db.read_session() as session:
        alerts = session.execute(select(TrendAlertRow)).scalars().all()
        assert [(a.since, a.last_day, a.report_ids["ids"]) for a in alerts] == [
            (TODAY - timedelta(days=1), TODAY + timedelta(days=1), [1, 3, 4])]
