"""Follow-up requests and the resource directory, stored on each backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.follow_up import FollowUpRequest
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.domain.support_resources import SupportResource
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.store import follow_ups
from tipline.store.accounts import PUBLIC, Principal
from tipline.store.tables import AuditEventRow, FollowUpActionRow, FollowUpRow, SupportResourceRow

ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP)
ADVOCATE = Actor(ActorType.USER, "7", "advocate")


def _report(instance: Instance) -> int:
    with instance.db.transaction() as session:
        return submit_report(instance, session, ReportContent.model_validate(sample_content()),
                             ReportSource.ESP_JSON, ESP).id


def _ask(instance: Instance, report_id: int, contact: str = "+1 555 0100 200", when: str = "weekdays after 4pm",
         channel: str = "phone", now=None) -> int | None:  # type: ignore[no-untyped-def]
    with instance.db.transaction() as session:
        return follow_ups.request(session, instance.audit, FollowUpRequest(
            report_id, channel, contact, when, "es", "sextortion"), PUBLIC.actor, now=now)


def test_a_request_is_stored_once_per_report_and_audited_without_the_contact_detail(instance: Instance) -> None:
    report = _report(instance)
    first = _ask(instance, report)
    again = _ask(instance, report, contact="ana@example.org", channel="email", when="only evenings")
    assert first is not None and again == first
    with instance.db.transaction() as session:
        row = session.get(FollowUpRow, first)
        assert row is not None
        assert (row.channel, row.contact, row.safe_times, row.language, row.situation, row.state) == (
            "email", "ana@example.org", "only evenings", "es", "sextortion", "open")
        assert row.due_at - row.requested_at == timedelta(hours=24)
        kinds = list(session.execute(select(FollowUpActionRow.kind).order_by(FollowUpActionRow.id)).scalars())
        assert kinds == ["requested", "changed"]
        events = session.execute(select(AuditEventRow).where(AuditEventRow.action.like("follow_up.%"))
                                 .order_by(AuditEventRow.seq)).scalars().all()
        assert [(e.action, e.report_id, e.actor_name) for e in events] == [
            ("follow_up.requested", report, "public"), ("follow_up.changed", report, "public")]
        assert all("ana@example.org" not in str(e.details) and "0100" not in str(e.details) for e in events)


def test_a_request_for_a_report_that_does_not_exist_stores_nothing(instance: Instance) -> None:
    assert _ask(instance, 987_654_321) is None
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(FollowUpRow)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(AuditEventRow)
                               .where(AuditEventRow.action.like("follow_up.%"))).scalar_one() == 0


def test_requests_come_by_due_date_overdue_first_and_advocates_move_and_close_them(instance: Instance) -> None:
    now = utc_now()
    old = _ask(instance, _report(instance), now=now - timedelta(hours=50))  # due 26 h ago
    late = _ask(instance, _report(instance), now=now - timedelta(hours=30))  # due 6 h ago
    fresh = _ask(instance, _report(instance), now=now - timedelta(hours=1))  # due in 23 h
    with instance.db.transaction() as session:
        listed = follow_ups.list_requests(session, now)
        assert [(r.id, r.overdue) for r in listed] == [(old, True), (late, True), (fresh, False)]
        assert [r.id for r in follow_ups.due(session, now)] == [old, late]

    with instance.db.transaction() as session:
        follow_ups.record(session, instance.audit, old, ADVOCATE, kind="contact", outcome="no_answer",
                          note="Rang once, no voicemail left as asked.", next_due=now + timedelta(hours=48), now=now)
        follow_ups.record(session, instance.audit, late, ADVOCATE, kind="referral", service="Family Line",
                          close=True, now=now)
    with instance.db.transaction() as session:
        assert [r.id for r in follow_ups.due(session, now)] == []
        assert [r.id for r in follow_ups.list_requests(session, now)] == [fresh, old]
        assert [r.id for r in follow_ups.list_requests(session, now, closed=True)] == [fresh, old, late]
        detail = follow_ups.get(session, old, now)
        assert detail is not None
        assert [(a.kind, a.outcome, a.note, a.actor_name) for a in detail.actions][-1] == (
            "contact", "no_answer", "Rang once, no voicemail left as asked.", "advocate")
        closed = follow_ups.get(session, late, now)
        assert closed is not None and closed.state == "closed"
        assert [(a.kind, a.service) for a in closed.actions][1:] == [("referral", "Family Line"), ("closed", None)]
        actions = list(session.execute(select(AuditEventRow.action).where(AuditEventRow.actor_name == "advocate")
                                       .order_by(AuditEventRow.seq)).scalars())
        assert actions == ["follow_up.contact", "follow_up.referral", "follow_up.closed"]
    with instance.db.transaction() as session, pytest.raises(follow_ups.FollowUpError, match="closed"):
        follow_ups.record(session, instance.audit, late, ADVOCATE, kind="note", note="too late")


def test_importing_the_directory_replaces_it_whole_and_lists_by_country_and_situation(instance: Instance) -> None:
    first = [SupportResource("US", "Old Line")]
    second = [SupportResource("US", "Family Line", ("parent",), phone="+1 555 0100 300"),
              SupportResource("*", "Take It Down", ("sextortion", "images"), url="https://takeitdown.ncmec.org/"),
              SupportResource("MX", "Línea de Apoyo", ("sextortion", "child")),
              SupportResource("US", "Youth Chat")]
    with instance.db.transaction() as session:
        follow_ups.replace_resources(session, instance.audit, first, ADVOCATE, source="a.csv")
    with instance.db.transaction() as session:
        assert follow_ups.replace_resources(session, instance.audit, second, ADVOCATE, source="b.csv") == 4
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(SupportResourceRow)).scalar_one() == 4
        everything = follow_ups.list_resources(session)
        assert [r.name for r in everything] == ["Línea de Apoyo", "Family Line", "Youth Chat", "Take It Down"]
        assert [r.name for r in follow_ups.list_resources(session, "us", "sextortion")] == ["Youth Chat",
                                                                                             "Take It Down"]
        assert [r.name for r in follow_ups.list_resources(session, "MX", "child")] == ["Línea de Apoyo"]
        assert everything[1] == second[0]
