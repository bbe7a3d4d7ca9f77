"""Supervisors' figures per analyst: workload and throughput from the reports they held and decided, and
exposure from the times they revealed media (never what). Each analyst sees their own exposure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import select
from support import build_instance, sample_content
from websupport import Site, build_site, file_report, picture, token_of

from tipline.config import ConfigError
from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.lifecycle import ReportState
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.store.accounts import Principal
from tipline.store.analyst_figures import exposure_figures, own_exposure, throughput_figures
from tipline.store.review_decisions import ReviewDecisionRow, decision_tally
from tipline.store.tables import AuditEventRow, User
from tipline.triage.exposure import ExposureTargets, exposure, longest_run
from tipline.triage.workload import Analyst, duration_words, tally, throughput

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return NOW - timedelta(hours=hours, minutes=minutes)


def test_a_run_ends_at_a_break_and_the_longest_is_kept() -> None:
    times = [at(5), at(4, 50), at(4, 40), at(4, 31),  # 29 minutes, gaps under 15
             at(3), at(2, 58),  # a break before: 2 minutes
             at(1), at(0, 46), at(0, 32), at(0, 18), at(0, 4)]  # 56 minutes, the longest
    run = longest_run(times, timedelta(minutes=15))
    assert run is not None and (run.start, run.end, run.count) == (at(1), at(0, 4), 5)
    assert longest_run([], timedelta(minutes=15)) is None
    single = longest_run([at(2)], timedelta(minutes=15))
    assert single is not None and single.count == 1 and single.length == timedelta(0)
    # a gap of exactly the break length is a break
    split = longest_run([at(1), at(0, 45), at(0, 44)], timedelta(minutes=15))
    assert split is not None and split.count == 2


def test_today_the_week_and_the_daily_level() -> None:
    times = [at(1), at(2), at(3), NOW - timedelta(days=2), NOW - timedelta(days=6, hours=14),
             NOW - timedelta(days=7, hours=1)]  # the last is before the 7 days (today and the 6 before)
    figures = exposure(times, NOW, ExposureTargets(daily_limit=2))
    assert (figures.today, figures.week, figures.over_limit) == (3, 5, True)
    assert not exposure(times, NOW, ExposureTargets(daily_limit=3)).over_limit  # at the level is not above it


def test_exposure_settings_are_read_and_a_bad_one_is_named() -> None:
    assert ExposureTargets.from_settings({}) == ExposureTargets(100, 15)
    assert ExposureTargets.from_settings({"TIPLINE_EXPOSURE_DAILY_LIMIT": "40",
                                          "TIPLINE_EXPOSURE_BREAK_MINUTES": "10"}) == ExposureTargets(40, 10)
    for env in ({"TIPLINE_EXPOSURE_DAILY_LIMIT": "0"}, {"TIPLINE_EXPOSURE_BREAK_MINUTES": "soon"}):
        with pytest.raises(ConfigError, match=next(iter(env))):
            ExposureTargets.from_settings(env)


def test_throughput_counts_7_and_30_days_and_the_median_from_claim_to_decision() -> None:
    ana, bea = Analyst(1, "ana", "Ana"), Analyst(2, "bea", "Bea")
    decisions = [
        (1, at(3), at(1)),  # 2 h
        (1, at(30), at(20)),  # 10 h
        (1, NOW - timedelta(days=10, hours=4), NOW - timedelta(days=10)),  # 4 h, not in the last 7 days
        (1, None, NOW - timedelta(days=40)),  # too old
        (2, None, at(2)),  # decided without a claim time: counted, no duration
        (None, at(5), at(4)),  # nobody held it
    ]
    rows = throughput([bea, ana], {2: 3}, decisions, NOW)
    assert [(r.analyst.username, r.held, r.decided_7, r.decided_30) for r in rows] == [("ana", 0, 2, 3),
                                                                                     ("bea", 3, 1, 1)]
    assert rows[0].median_to_decision == timedelta(hours=4) and rows[1].median_to_decision is None
    assert [duration_words(d) for d in (None, timedelta(seconds=20), timedelta(minutes=45), timedelta(hours=3, minutes=20),
                                        timedelta(days=2, hours=4))] == [
        "—", "under a minute", "45 min", "3 h 20 min", "2 days 4 h"]


def _person(instance: Instance, username: str) -> Principal:
    with instance.db.transaction() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return Principal(Actor(ActorType.USER, str(user.id), user.username), Role(user.role), user_id=user.id,
                         display_name=user.display_name)


def test_decisions_and_reveals_become_each_analysts_figures(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    instance = site.instance
    chirp = site.esp()
    ids = [chirp.post("/api/v1/reports", json=sample_content()).json()["reportId"] for _ in range(4)]
    site.drain()
    analyst, supervisor = _person(instance, "analyst"), _person(instance, "supervisor")
    with instance.db.transaction() as session:
        for report_id in ids[:3]:
            instance.review.claim(session, report_id, analyst)
        # one closed by its holder, one closed by a supervisor (it counts for the holder), one released
        instance.review.close(session, ids[0], analyst, ReportState.INFORMATIONAL, "kept for information")
        instance.review.close(session, ids[1], supervisor, ReportState.CLOSED_NO_ACTION, "nothing to act on")
        instance.review.release(session, ids[2], analyst)
        instance.review.claim(session, ids[3], analyst)  # held now
        now = utc_now()
        for minutes in (50, 40, 31, 5):  # a run of 19 minutes, a break, then one more
            instance.audit.append(session, analyst.actor, "file.revealed", report_id=ids[0],
                                  details={"file_id": "f"}, at=now - timedelta(minutes=minutes))
        instance.audit.append(session, supervisor.actor, "file.revealed", report_id=ids[0], details={"file_id": "f"},
                              at=now - timedelta(days=3))
        instance.audit.append(session, analyst.actor, "report.opened", report_id=ids[0], at=now)  # not a reveal
    with instance.db.transaction() as session:
        decided = session.execute(select(ReviewDecisionRow.report_id, ReviewDecisionRow.user_id,
                                         ReviewDecisionRow.outcome).order_by(ReviewDecisionRow.id)).all()
        assert [tuple(d) for d in decided] == [(ids[0], analyst.user_id, "informational"),
                                              (ids[1], analyst.user_id, "closed_no_action")]
        rows = {r.analyst.username: r for r in throughput_figures(session, utc_now())}
        assert set(rows) == {"analyst", "supervisor"}  # the people who review
        assert (rows["analyst"].held, rows["analyst"].decided_7, rows["analyst"].decided_30) == (1, 2, 2)
        assert rows["analyst"].median_to_decision is not None
        assert rows["analyst"].median_to_decision < timedelta(minutes=5)
        assert (rows["supervisor"].held, rows["supervisor"].decided_30) == (0, 0)
        targets = ExposureTargets(daily_limit=3, break_minutes=15)
        figures = {a.username: e for a, e in exposure_figures(session, now + timedelta(seconds=1), targets)}
        mine = figures["analyst"]
        today_count = sum(1 for m in (50, 40, 31, 5) if now - timedelta(minutes=m) >= now.replace(hour=0, minute=0,
                                                                                                  second=0, microsecond=0))
        assert (mine.today, mine.week, mine.over_limit) == (today_count, 4, today_count > 3)
        if today_count == 4:
            assert mine.longest_run_today is not None and mine.longest_run_today.count == 3
            assert mine.longest_run_today.length == timedelta(minutes=19)
        assert (figures["supervisor"].today, figures["supervisor"].week) == (0, 1)
        own = own_exposure(session, analyst.user_id or 0, now + timedelta(seconds=1), targets)
        assert (own.today, own.week) == (mine.today, mine.week)


def _decision(row: ReviewDecisionRow) -> tuple[int, int | None, datetime | None, datetime, str]:
    return row.report_id, row.user_id, row.claimed_at, row.decided_at, row.outcome


def test_the_upgrade_finds_the_decisions_made_before_it(instance: Instance, tmp_path: Path) -> None:
    """review_decisions is filled from the audit trail's state changes when the upgrade adds it."""
    from alembic import command

    from tipline.store.schema import alembic_config, upgrade

    site = build_site(instance)
    report_id = site.esp().post("/api/v1/reports", json=sample_content()).json()["reportId"]
    site.drain()
    analyst, supervisor = _person(instance, "analyst"), _person(instance, "supervisor")
    analyst_user = instance.accounts.user_by_name
    with instance.db.transaction() as session:
        instance.review.claim(session, report_id, supervisor, for_user=analyst_user(session, "analyst"))
        instance.review.close(session, report_id, supervisor, ReportState.INFORMATIONAL, "kept")
        expected = [_decision(r) for r in session.execute(select(ReviewDecisionRow)).scalars()]
    assert len(expected) == 1 and expected[0][1] == analyst.user_id
    config = alembic_config()
    with instance.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0026")  # the revision before review_decisions
    upgrade(instance.db)
    with instance.db.transaction() as session:
        found = [_decision(r) for r in session.execute(select(ReviewDecisionRow)).scalars()]
        # the event's time and the row's were taken a moment apart within the transaction
        assert [(r[0], r[1], r[4]) for r in found] == [(e[0], e[1], e[4]) for e in expected]
        (_, _, claimed, decided, _), (_, _, claimed_then, decided_then, _) = found[0], expected[0]
        assert abs(decided - decided_then) < timedelta(seconds=5)
        assert claimed is not None and claimed_then is not None and abs(claimed - claimed_then) < timedelta(seconds=5)
        assert session.execute(select(AuditEventRow.seq).where(AuditEventRow.action == "report.state_changed")).first()


def test_the_supervisor_sees_throughput_and_exposure_and_the_analyst_their_own(tmp_path: Path,
                                                                               request: pytest.FixtureRequest) -> None:
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_EXPOSURE_DAILY_LIMIT="1")
    try:
        site = build_site(instance)
        report_id = file_report(site, files={"a.png": picture(1), "b.png": picture(2)})
        analyst = site.signed_in("analyst")
        page = analyst.get(f"/reports/{report_id}")
        token = token_of(page.text)
        files = lxml.html.fromstring(page.text).xpath("//form[contains(@action, '/reveal')]/@action")
        assert len(files) == 2
        for action in files:  # two deliberate reveals, through the page's own forms
            assert analyst.post(action, data={"csrf_token": token}).status_code == 303
        assert analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token}).status_code == 303

        board = lxml.html.fromstring(site.signed_in("supervisor").get("/supervisor").text)
        alert = " ".join(board.get_element_by_id("exposure-alert").text_content().split())
        assert "revealed 2 pictures or video frames today" in alert and "daily level of 1" in alert
        exposure_rows = {" ".join(tr.xpath("th")[0].text_content().split()): [" ".join(td.text_content().split())
                                                                               for td in tr.xpath("td")]
                         for tr in board.xpath("//table[@id='exposure']/tbody/tr")}
        name = next(k for k in exposure_rows if k.endswith("(analyst)"))
        assert exposure_rows[name][0] == "2 above the daily level" and exposure_rows[name][1] == "2"
        assert "2 reveals" in exposure_rows[name][2]
        throughput_rows = {" ".join(tr.xpath("th")[0].text_content().split()): [td.text_content() for td in tr.xpath("td")]
                           for tr in board.xpath("//table[@id='throughput']/tbody/tr")}
        assert throughput_rows[name][0] == "1"  # holding now
        assert board.get_element_by_id("chart-decided").text_content().strip() == \
            "Nobody decided a report in the last 30 days."

        own = lxml.html.fromstring(analyst.get("/settings").text).get_element_by_id("exposure")
        words = " ".join(own.text_content().split())
        assert "You revealed 2 pictures or video frames today" in words and "more than the daily level of 1" in words
        assert site.signed_in("admin").get("/settings").text.count('id="exposure"') == 0  # reads no reports
        assert analyst.get("/supervisor").status_code == 403
    finally:
        instance.close()


def test_the_database_counts_decisions_as_the_rows_would_be_counted(site_on_each_backend: Site) -> None:
    """/supervisor's throughput is counted by the database (a year of decisions would otherwise be read back as
    rows): the same counts and medians as counting the rows themselves, on both backends."""
    site = site_on_each_backend
    instance = site.instance
    report_id = site.esp().post("/api/v1/reports", json=sample_content()).json()["reportId"]
    analyst, supervisor = _person(instance, "analyst"), _person(instance, "supervisor")
    now = utc_now()
    decisions = [
        (analyst.user_id, now - timedelta(hours=3), now - timedelta(hours=1)),
        (analyst.user_id, now - timedelta(days=2, hours=7, minutes=30), now - timedelta(days=2)),
        (analyst.user_id, now - timedelta(days=10, hours=4), now - timedelta(days=10)),  # not in the last 7 days
        (analyst.user_id, now - timedelta(days=41), now - timedelta(days=40)),  # too old
        (supervisor.user_id, None, now - timedelta(days=1)),  # no claim time: counted, no duration
        (supervisor.user_id, now - timedelta(minutes=20), now - timedelta(minutes=5)),
        (None, now - timedelta(hours=5), now - timedelta(hours=4)),  # nobody held it
    ]
    with instance.db.transaction() as session:
        for user_id, claimed_at, decided_at in decisions:
            session.add(ReviewDecisionRow(report_id=report_id, user_id=user_id, claimed_at=claimed_at,
                                          decided_at=decided_at, outcome="informational"))
    with instance.db.transaction() as session:
        counted = decision_tally(session, now)
    expected = tally(decisions, now)
    assert counted.decided_7 == expected.decided_7 == {analyst.user_id: 2, supervisor.user_id: 2}
    assert counted.decided_30 == expected.decided_30 == {analyst.user_id: 3, supervisor.user_id: 2}
    assert set(counted.median_seconds) == set(expected.median_seconds) == {analyst.user_id, supervisor.user_id}
    assert expected.median_seconds[analyst.user_id] == 4 * 3600  # the median of 2 h, 4 h and 7 h 30
    for user_id, seconds in expected.median_seconds.items():
        assert counted.median_seconds[user_id] == pytest.approx(seconds, abs=0.01)
