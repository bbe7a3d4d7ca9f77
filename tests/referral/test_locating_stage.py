"""The resolve_jurisdiction stage with the operator's GeoIP database, and the directory in storage
(both backends): an import with bad rows changes nothing; a good one refreshes open reports' suggestions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from referralsupport import TEST_ACTOR, add_user, install_directory, report_in_review
from sqlalchemy import func, select
from support import build_instance

from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.jurisdiction import DirectoryImportError
from tipline.referral.directory import import_directory
from tipline.store.referrals import AgencyRow, ReportJurisdictionRow
from tipline.store.tables import AuditEventRow, ReportRow

sys.path.insert(0, str(Path(__file__).parents[1] / "jurisdiction"))
from mmdb_writer import city_record, write_mmdb  # noqa: E402


def jurisdiction(instance: Instance, report_id: int) -> ReportJurisdictionRow:
    with instance.db.transaction() as session:
        row = session.get(ReportJurisdictionRow, report_id)
        assert row is not None
        return row


def test_the_stage_locates_ip_addresses_with_the_configured_database(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    database = write_mmdb(tmp_path / "city.mmdb", {
        "203.0.113.0/24": city_record("US", "United States", "IL", "Illinois", "Springfield", radius=20)})
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_GEOIP_DATABASE=str(database))
    try:
        install_directory(instance, tmp_path / "keys")
        add_user(instance, "ana", Role.ANALYST)
        report_id = report_in_review(instance, "ana", files=[])
        stored = jurisdiction(instance, report_id)
        ip = [c for c in stored.resolution["clues"] if c["kind"] == "ip_address"]
        assert [(c["place"]["city"], c["agrees"]) for c in ip] == [("Springfield", True)]
        assert stored.resolution["warnings"] == []
    finally:
        instance.close()


def test_a_corrupt_geoip_database_is_named_on_the_report_and_the_report_still_reaches_review(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    corrupt = tmp_path / "corrupt.mmdb"
    corrupt.write_bytes(b"\x00" * 4096)
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_GEOIP_DATABASE=str(corrupt))
    try:
        install_directory(instance, tmp_path / "keys")
        add_user(instance, "ana", Role.ANALYST)
        report_id = report_in_review(instance, "ana", files=[])
        stored = jurisdiction(instance, report_id)
        warning = f"IP addresses were not located: {corrupt} is not a usable MaxMind DB file"
        assert stored.resolution["warnings"][0].startswith(warning)
        unplaced = [u for u in stored.resolution["unlocated"] if u["kind"] == "ip_address"]
        assert unplaced and unplaced[0]["why"].startswith(warning)
        assert stored.suggestion["agency"] == "us-il-tf"  # the other clues still decide
        with instance.db.transaction() as session:
            assert session.get(ReportRow, report_id).state == "in_review"
    finally:
        instance.close()


def test_an_import_with_a_bad_row_changes_nothing_and_a_good_one_refreshes_suggestions(
        instance: Instance, tmp_path: Path) -> None:
    install_directory(instance, tmp_path / "keys")
    add_user(instance, "ana", Role.ANALYST)
    texan = {"incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts",
                                 "incidentDateTime": "2026-10-15T08:00:00Z"},
             "reporter": {"reportingPerson": {"firstName": "Trust"}},
             "victim": [{"victimPerson": {"address": [{"city": "Georgetown", "state": "TX", "country": "US"}]}}]}
    report_id = report_in_review(instance, "ana", content=texan, files=[])
    assert jurisdiction(instance, report_id).suggestion["agency"] == "us-fcps"  # no Texas agency yet

    header = "code,name,type,country,region,city,contact_name,contact_email,contact_phone,public_key,active\n"
    bad = header + ("us-tx-tf,Texas Online Safety Task Force,state_task_force,US,TX,,,,,,yes\n"
                    "us-fcps,Federal Child Protection Service,national_agency,US,,,,bad-email,,,yes\n")
    with instance.db.transaction() as session:
        before = session.execute(select(func.count()).select_from(AgencyRow)).scalar_one()
        events = session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()
    with pytest.raises(DirectoryImportError, match="line 3, contact_email: 'bad-email' is not an email address"):
        with instance.db.transaction() as session:
            import_directory(instance, session, bad, TEST_ACTOR)
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(AgencyRow)).scalar_one() == before
        assert session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one() == events
        fcps = session.execute(select(AgencyRow).where(AgencyRow.code == "us-fcps")).scalar_one()
        assert fcps.contact_email == "duty@fcps.example"

    good = header + "us-tx-tf,Texas Online Safety Task Force,state_task_force,US,TX,,,,,,yes\n"
    with instance.db.transaction() as session:
        counts = import_directory(instance, session, good, TEST_ACTOR)
    assert counts == {"added": 1, "updated": 0, "unchanged": 0, "suggestions_changed": 1}
    assert jurisdiction(instance, report_id).suggestion["agency"] == "us-tx-tf"


def test_the_demo_directory_loads_twice_with_the_same_keys_and_ties_the_demo_agency_user(
        sqlite_instance: Instance) -> None:
    from tipline.referral.directory import DEMO_AGENCY_USER_CODE, demo_key_path, load_demo_directory
    from tipline.referral.keys import b64, load_agency_private_key, raw_public
    from tipline.store.referrals import agency_of_user, list_agencies

    add_user(sqlite_instance, "agency", Role.AGENCY)
    with sqlite_instance.db.transaction() as session:
        load_demo_directory(sqlite_instance, session, TEST_ACTOR)
    with sqlite_instance.db.transaction() as session:
        first = {a.code: a.public_key for a in list_agencies(session)}
    with sqlite_instance.db.transaction() as session:
        load_demo_directory(sqlite_instance, session, TEST_ACTOR)
    with sqlite_instance.db.transaction() as session:
        agencies = list_agencies(session)
        assert {a.code: a.public_key for a in agencies} == first and len(first) == 9
        for agency in agencies:
            private = load_agency_private_key(demo_key_path(sqlite_instance, agency.code))
            assert b64(raw_public(private.public_key())) == agency.public_key
        user = sqlite_instance.accounts.user_by_name(session, "agency")
        assert agency_of_user(session, user.id).code == DEMO_AGENCY_USER_CODE
