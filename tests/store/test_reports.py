"""Reports are stored whole on both backends, move only through the lifecycle, and every step is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.incident import IncidentType
from tipline.domain.lifecycle import LifecycleError, ReportState
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.store.accounts import Principal
from tipline.store.reports import ReportFilter, ReportNotFound, StaleReport
from tipline.store.tables import AuditEventRow

ESP = Actor(ActorType.API_ACCOUNT, "1", "chirp")
ANALYST = Principal(Actor(ActorType.USER, "7", "ana"), Role.ANALYST, user_id=7)


def _create(instance: Instance, **overrides: object) -> int:
    with instance.db.transaction() as session:
        row = instance.reports.create(
            session, ReportContent.model_validate(sample_content(**overrides)), ReportSource.ESP_JSON, ESP
        )
        return row.id


def test_a_stored_report_reads_back_equal(instance: Instance) -> None:
    content = ReportContent.model_validate(sample_content())
    report_id = _create(instance)
    with instance.db.transaction() as session:
        report = instance.reports.load(session, report_id)
    assert report.content == content
    assert report.state == ReportState.RECEIVED
    assert report.source == ReportSource.ESP_JSON
    assert report.received_at is not None and report.received_at.tzinfo is not None
    assert report.content.incident_summary.incident_date_time == datetime(2026, 10, 15, 15, 0, tzinfo=UTC)


def test_reading_a_report_is_an_audit_event_naming_the_reader(instance: Instance) -> None:
    report_id = _create(instance)
    with instance.db.transaction() as session:
        instance.reports.read(session, report_id, ANALYST, purpose="test")
    with instance.db.transaction() as session:
        events = instance.audit.events_for_report(session, report_id)
    assert [(e.action, e.actor_name) for e in events] == [("report.submitted", "chirp"), ("report.read", "ana")]
    assert events[1].details == {"purpose": "test"}


def test_transitions_follow_the_lifecycle_and_are_audited(instance: Instance) -> None:
    report_id = _create(instance)
    system = Actor.system("pipeline")
    with instance.db.transaction() as session:
        instance.reports.transition(session, report_id, ReportState.PROCESSING, system)
        instance.reports.transition(session, report_id, ReportState.AWAITING_REVIEW, system)
    with pytest.raises(LifecycleError):
        with instance.db.transaction() as session:
            instance.reports.transition(session, report_id, ReportState.RETRACTED, system)
    with instance.db.transaction() as session:
        row = instance.reports.row(session, report_id)
        assert row.state == ReportState.AWAITING_REVIEW and row.version == 3
        changes = [e.details for e in instance.audit.events_for_report(session, report_id)
                   if e.action == "report.state_changed"]
    assert changes == [{"from": "received", "to": "processing"}, {"from": "processing", "to": "awaiting_review"}]


def test_a_decision_on_a_stale_version_changes_nothing(instance: Instance) -> None:
    report_id = _create(instance)
    system = Actor.system("pipeline")
    with pytest.raises(StaleReport, match="changed by someone else"):
        with instance.db.transaction() as session:
            instance.reports.transition(session, report_id, ReportState.PROCESSING, system, expected_version=99)
    with instance.db.transaction() as session:
        assert instance.reports.row(session, report_id).state == ReportState.RECEIVED


def test_a_failed_transaction_leaves_no_half_written_report(instance: Instance) -> None:
    with pytest.raises(RuntimeError):
        with instance.db.transaction() as session:
            instance.reports.create(session, ReportContent.model_validate(sample_content()), ReportSource.ESP_JSON, ESP)
            raise RuntimeError("crash before commit")
    with instance.db.transaction() as session:
        assert instance.reports.list(session, ReportFilter())[1] == 0
        assert session.execute(select(AuditEventRow)).first() is None


def test_reports_list_newest_first_and_filter(instance: Instance) -> None:
    now = datetime.now(UTC)
    ids = []
    for days, kind in ((3, IncidentType.ONLINE_ENTICEMENT), (1, IncidentType.CHILD_PORNOGRAPHY),
                       (2, IncidentType.ONLINE_ENTICEMENT)):
        data = sample_content()
        data["incidentSummary"]["incidentType"] = kind.value
        with instance.db.transaction() as session:
            row = instance.reports.create(session, ReportContent.model_validate(data), ReportSource.ESP_JSON, ESP,
                                          at=now - timedelta(days=days))
            ids.append(row.id)
    with instance.db.transaction() as session:
        rows, total = instance.reports.list(session, ReportFilter())
        assert total == 3 and [r.id for r in rows] == [ids[1], ids[2], ids[0]]
        rows, total = instance.reports.list(session, ReportFilter(incident_type=IncidentType.ONLINE_ENTICEMENT))
        assert [r.id for r in rows] == [ids[2], ids[0]]
        rows, total = instance.reports.list(session, ReportFilter(), limit=1, offset=1)
        assert total == 3 and [r.id for r in rows] == [ids[2]]


def test_a_service_provider_sees_only_its_own_reports(instance: Instance) -> None:
    with instance.db.transaction() as session:
        mine, _ = instance.accounts.add_api_account(session, "mine", Actor.system())
        theirs, _ = instance.accounts.add_api_account(session, "theirs", Actor.system())
        row = instance.reports.create(session, ReportContent.model_validate(sample_content()), ReportSource.ESP_JSON,
                                      ESP, api_account_id=mine.id)
    me = Principal(Actor(ActorType.API_ACCOUNT, str(mine.id), "mine"), Role.ESP, api_account_id=mine.id)
    them = Principal(Actor(ActorType.API_ACCOUNT, str(theirs.id), "theirs"), Role.ESP, api_account_id=theirs.id)
    agency = Principal(Actor(ActorType.USER, "9", "officer"), Role.AGENCY, user_id=9)
    with instance.db.transaction() as session:
        assert instance.reports.read(session, row.id, me).id == row.id
        for outsider in (them, agency):
            with pytest.raises(ReportNotFound, match=f"report {row.id} does not exist"):
                instance.reports.read(session, row.id, outsider)
