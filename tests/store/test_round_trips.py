"""Reads sent together (store/round_trips.py, the count_trends stage's reads) give what the same SELECTs
give through the ORM: values converted by their columns' types (a timestamp in UTC whatever the
connection's time zone), documents as documents, each read's own rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select, text
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import submit_report
from tipline.store.accounts import Principal
from tipline.store.round_trips import read_together, run_text
from tipline.store.tables import ReportRow

ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP, api_account_id=None)
LATE = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)  # the evening before in New York


def test_reads_together_convert_as_the_orm_does(instance: Instance) -> None:
    with instance.db.transaction() as session:
        ids = [submit_report(instance, session, ReportContent.model_validate(sample_content()), ReportSource.ESP_JSON,
                             ESP, received_at=LATE).id for _ in range(2)]
    by_id = select(ReportRow.id, ReportRow.received_at, ReportRow.content).where(ReportRow.id == bindparam("report"))
    since = select(ReportRow.id).where(ReportRow.received_at >= bindparam("since", type_=ReportRow.received_at.type))
    with instance.db.transaction() as session:
        if instance.db.dialect == "postgresql":
            session.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))
        first, later, none = read_together(session, [(by_id, {"report": ids[0]}), (since, {"since": LATE}),
                                                      (since, {"since": datetime(2026, 3, 11, tzinfo=UTC)})])
        expected = session.execute(by_id, {"report": ids[0]}).one()
    ((report_id, received_at, content),) = first
    assert report_id == ids[0]
    assert received_at == LATE and received_at.tzinfo == UTC and received_at.date().day == 10
    assert (received_at, content) == (expected.received_at, expected.content)
    assert content["incidentSummary"]["platform"] == "Chirp"
    assert sorted(row[0] for row in later) == ids
    assert none == []


def test_a_list_parameter_is_refused(instance: Instance) -> None:
    statement = select(ReportRow.id).where(ReportRow.id.in_(bindparam("ids", expanding=True)))
    with instance.db.transaction() as session:
        if instance.db.dialect != "postgresql":
            assert read_together(session, [(statement, {"ids": [1, 2]})]) == [[]]  # SQLite runs it as it is
            return
        with pytest.raises(ValueError, match="expanding"):
            read_together(session, [(statement, {"ids": [1, 2]})])


def test_a_textual_statement_runs_in_the_callers_transaction(instance: Instance) -> None:
    """run_text (the counting write's way to the driver): its rows as tuples, a literal % kept, and its
    writes part of the caller's transaction: seen by the next statement, gone with a rollback."""
    with instance.db.transaction() as session:
        report_id = submit_report(instance, session, ReportContent.model_validate(sample_content()),
                                  ReportSource.ESP_JSON, ESP, received_at=LATE).id
    change = text("UPDATE reports SET platform = :platform WHERE id = :report")
    read = text("SELECT id, platform, '100%' FROM reports WHERE id = :report")
    with instance.db.transaction() as session:
        assert run_text(session, change, {"platform": "Elsewhere", "report": report_id}) == []
        assert run_text(session, read, {"report": report_id}) == [(report_id, "Elsewhere", "100%")]
        session.rollback()
    with instance.db.transaction() as session:
        assert run_text(session, read, {"report": report_id}) == [(report_id, "Chirp", "100%")]
