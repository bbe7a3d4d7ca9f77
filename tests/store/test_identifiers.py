"""Reports that share an identifier are found with one indexed lookup and linked, once."""

from __future__ import annotations

from sqlalchemy import func, select, text
from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.report import ReportContent, ReportSource
from tipline.instance import Instance
from tipline.linking import extract_identifiers
from tipline.store.tables import ReportLinkRow

ESP = Actor(ActorType.API_ACCOUNT, "1", "chirp")
PIPELINE = Actor.system("pipeline")


def _report(instance: Instance, **overrides: object) -> int:
    content = ReportContent.model_validate(sample_content(**overrides))
    with instance.db.transaction() as session:
        row = instance.reports.create(session, content, ReportSource.ESP_JSON, ESP)
        instance.identifiers.replace(session, row.id, extract_identifiers(content))
        return row.id


def _other_person(email: str, screen: str) -> list[dict[str, object]]:
    return [{"personOrUserReportedPerson": {"email": [email]}, "screenName": screen, "espService": "Chirp"}]


def test_reports_sharing_an_identifier_are_found(instance: Instance) -> None:
    first = _report(instance)
    second = _report(instance, personOrUserReported=_other_person("NIGHT.OWL@example.com", "someone_else"))
    unrelated = _report(instance, personOrUserReported=_other_person("other@example.com", "other"))
    with instance.db.transaction() as session:
        assert instance.identifiers.reports_sharing(session, "email", "night.owl@example.com") == [first, second]
        assert instance.identifiers.reports_sharing(session, "email", "other@example.com") == [unrelated]
        counts = {(s.row.kind, s.row.value): s.other_reports for s in instance.identifiers.of_report(session, first)}
    assert counts[("email", "night.owl@example.com")] == 1
    assert counts[("screen_name", "chirp:nightowl77")] == 0


def test_linking_creates_each_link_once_in_both_directions(instance: Instance) -> None:
    first = _report(instance)
    second = _report(instance)
    with instance.db.transaction() as session:
        created = instance.identifiers.link(session, second, PIPELINE, hub_limit=1000)
    assert {(link.linked_report_id, link.basis) for link in created} == {
        (first, "email"), (first, "phone"), (first, "esp_user_id"), (first, "screen_name"), (first, "ip_address")
    }
    with instance.db.transaction() as session:
        assert instance.identifiers.link(session, second, PIPELINE, hub_limit=1000) == []
        assert instance.identifiers.link(session, first, PIPELINE, hub_limit=1000) == []
        assert session.execute(select(func.count()).select_from(ReportLinkRow)).scalar_one() == 10
        linked_from_first = {other.id for _, other in instance.identifiers.links_of(session, first)}
    assert linked_from_first == {second}


def test_linking_is_audited_on_both_reports(instance: Instance) -> None:
    first = _report(instance)
    second = _report(instance)
    with instance.db.transaction() as session:
        instance.identifiers.link(session, second, PIPELINE, hub_limit=1000)
        on_first = [e for e in instance.audit.events_for_report(session, first) if e.action == "report.linked"]
        on_second = [e for e in instance.audit.events_for_report(session, second) if e.action == "report.linked"]
    assert len(on_first) == len(on_second) == 1
    assert {link["report_id"] for link in on_first[0].details["links"]} == {second}
    assert len(on_second[0].details["links"]) == 5


def test_an_identifier_shared_by_too_many_reports_is_not_linked_pairwise(instance: Instance) -> None:
    ids = [_report(instance, personOrUserReported=_other_person(f"p{n}@example.com", f"p{n}")) for n in range(3)]
    shared_ip = [{"screenName": "x", "ipCaptureEvent": [{"ipAddress": "198.51.100.1"}]}]
    hub = [_report(instance, intendedRecipient=shared_ip) for _ in range(3)]
    with instance.db.transaction() as session:
        assert instance.identifiers.link(session, hub[-1], PIPELINE, hub_limit=2) == []
        assert instance.identifiers.reports_sharing(session, "ip_address", "198.51.100.1") == hub
        assert ids  # unrelated reports stay unlinked


def test_the_shared_identifier_lookup_uses_the_index(instance: Instance) -> None:
    _report(instance)
    query = "SELECT DISTINCT report_id FROM identifiers WHERE kind = 'email' AND value = 'x'"
    with instance.db.engine.connect() as connection:
        if instance.db.dialect == "sqlite":
            plan = connection.execute(text(f"EXPLAIN QUERY PLAN {query}")).all()
        else:  # on a tiny table PostgreSQL would rather scan; forbid that to see which index it can use
            connection.execute(text("SET enable_seqscan = off"))
            plan = connection.execute(text(f"EXPLAIN {query}")).all()
    assert "ix_identifiers_kind_value_report" in " ".join(str(row) for row in plan)


def test_a_reports_links_name_the_linked_reports_state_and_type_and_the_rest_still_loads(instance: Instance) -> None:
    first = _report(instance)
    second = _report(instance, incidentSummary={**sample_content()["incidentSummary"],
                                                "incidentType": "Child Sex Tourism"})
    with instance.db.transaction() as session:
        instance.identifiers.link(session, second, PIPELINE, hub_limit=1000)
    with instance.db.transaction() as session:
        links = instance.identifiers.links_of(session, first)
        assert {(other.id, other.state, other.incident_type) for _, other in links} == {
            (second, "received", "Child Sex Tourism")}
        assert links[0][1].content["incidentSummary"]["incidentType"] == "Child Sex Tourism"  # read when touched
