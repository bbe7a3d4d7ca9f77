"""The review queue on both backends: most urgent first (level, then score, then longest waiting),
unscored reports last, filters and counts over the reports waiting or held only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.incident import IncidentType
from tipline.domain.lifecycle import ReportState
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.store.review import QueueFilter
from tipline.store.tables import ReportRow
from tipline.triage import Priority

ESP = Actor(ActorType.API_ACCOUNT, "1", "chirp")
START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
ENTICEMENT = IncidentType.ONLINE_ENTICEMENT.value
TOURISM = IncidentType.CHILD_SEX_TOURISM.value

# name: (state, level, score, hours after START it was received, incident type, type an analyst corrected it to)
REPORTS = {
    "p1-high": ("awaiting_review", "P1", 140, 30, ENTICEMENT, None),
    "p1-low-old": ("awaiting_review", "P1", 60, 2, TOURISM, None),
    "p1-low-new": ("in_review", "P1", 60, 40, ENTICEMENT, None),
    "p2-top": ("awaiting_review", "P2", 79, 50, TOURISM, ENTICEMENT),
    "p3": ("awaiting_review", "P3", 20, 1, ENTICEMENT, None),
    "p4-old": ("awaiting_review", "P4", 3, 0, TOURISM, None),
    "p4-new": ("awaiting_review", "P4", 3, 10, TOURISM, None),
    "unscored-old": ("awaiting_review", None, None, 5, ENTICEMENT, None),
    "unscored-new": ("awaiting_review", None, None, 60, TOURISM, None),
    "closed-p1": ("closed_no_action", "P1", 200, 3, ENTICEMENT, None),
    "referred-p2": ("referred", "P2", 70, 4, ENTICEMENT, None),
}
URGENT_FIRST = ["p1-high", "p1-low-old", "p1-low-new", "p2-top", "p3", "p4-old", "p4-new", "unscored-old",
                "unscored-new"]


def _load(instance: Instance) -> dict[int, str]:
    names = {}
    with instance.db.transaction() as session:
        for name, (state, level, score, hours, incident_type, corrected) in REPORTS.items():
            content = sample_content()
            content["incidentSummary"]["incidentType"] = incident_type
            row = instance.reports.create(session, ReportContent.model_validate(content), ReportSource.ESP_JSON, ESP)
            row.state, row.received_at = state, START + timedelta(hours=hours)
            row.reviewed_incident_type = corrected
            if level is not None:
                row.priority, row.priority_score = level, score
                row.priority_rank = Priority(level, score, ()).rank
            names[row.id] = name
    return names


def _queue(instance: Instance, names: dict[int, str], filters: QueueFilter, **page: int) -> tuple[list[str], int]:
    with instance.db.transaction() as session:
        rows, total = instance.review.queue(session, filters, **page)
        return [names[row.id] for row, _holder in rows], total


def test_the_queue_is_most_urgent_first_and_unscored_reports_come_last(instance: Instance) -> None:
    names = _load(instance)
    assert _queue(instance, names, QueueFilter()) == (URGENT_FIRST, len(URGENT_FIRST))
    assert _queue(instance, names, QueueFilter(), limit=3, offset=3) == (URGENT_FIRST[3:6], len(URGENT_FIRST))


def test_the_queue_filters_by_level_incident_type_state_and_holder(instance: Instance) -> None:
    names = _load(instance)
    assert _queue(instance, names, QueueFilter(priorities=["P4"])) == (["p4-old", "p4-new"], 2)
    assert _queue(instance, names, QueueFilter(priorities=["P1", "P3"])) == (
        ["p1-high", "p1-low-old", "p1-low-new", "p3"], 4)
    # the type an analyst corrected the report to counts, not the one reported
    assert _queue(instance, names, QueueFilter(incident_type=IncidentType.ONLINE_ENTICEMENT)) == (
        ["p1-high", "p1-low-new", "p2-top", "p3", "unscored-old"], 5)
    assert _queue(instance, names, QueueFilter(incident_type=IncidentType.MISLEADING_DOMAIN_NAME)) == ([], 0)
    assert _queue(instance, names, QueueFilter(priorities=["P1"], incident_type=IncidentType.CHILD_SEX_TOURISM)) == (
        ["p1-low-old"], 1)
    waiting = QueueFilter(states=(ReportState.AWAITING_REVIEW,), unassigned_only=True)
    assert _queue(instance, names, waiting, limit=1) == (["p1-high"], len(URGENT_FIRST) - 1)


def test_only_the_reports_a_person_holds(instance: Instance) -> None:
    names = _load(instance)
    ids = {name: report_id for report_id, name in names.items()}
    with instance.db.transaction() as session:
        ana, _ = instance.accounts.add_user(session, "ana", Role.ANALYST, ESP, password="a long test password")
        bo, _ = instance.accounts.add_user(session, "bo", Role.ANALYST, ESP, password="a long test password")
        session.flush()
        ana_id, bo_id = ana.id, bo.id
        for name, holder in (("p3", ana_id), ("p1-low-new", ana_id), ("p4-new", bo_id), ("referred-p2", ana_id)):
            row = session.get(ReportRow, ids[name])
            row.assigned_to = holder
            if row.state == "awaiting_review":
                row.state = "in_review"
    assert _queue(instance, names, QueueFilter(assigned_to=ana_id)) == (["p1-low-new", "p3"], 2)
    assert _queue(instance, names, QueueFilter(assigned_to=bo_id)) == (["p4-new"], 1)


def test_the_counts_are_by_state_and_level_of_the_reports_in_the_queue(instance: Instance) -> None:
    _load(instance)
    with instance.db.transaction() as session:
        counts = instance.review.queue_counts(session)
    assert counts == {"awaiting_review": {"P1": 2, "P2": 1, "P3": 1, "P4": 2, "unscored": 2},
                      "in_review": {"P1": 1}}
