"""Locating reports from realistic, sometimes conflicting clues."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipline.domain.report import ReportContent
from tipline.jurisdiction import (
    ClueContext,
    ClueKind,
    Gazetteer,
    GeoIPDatabase,
    GeoIPDatabaseError,
    Place,
    find_clues,
    locate,
    locate_phone,
    open_configured,
)


def content(**parts: object) -> ReportContent:
    data: dict[str, object] = {
        "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts",
                            "incidentDateTime": "2026-10-15T08:00:00Z"},
        "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Team"}},
    }
    data.update(parts)
    return ReportContent.model_validate(data)


@pytest.fixture
def context(geoip_path: Path) -> ClueContext:
    directory_places = [Place.of("US", "IL", "Springfield"), Place.of("US", "MO", "Springfield"),
                        Place.of("US", "TX", "Georgetown"), Place.of("GB", "England", "Leeds")]
    return ClueContext(geoip=GeoIPDatabase(geoip_path), gazetteer=Gazetteer.standard(directory_places))


def test_a_victims_home_address_outweighs_an_offender_abroad_and_the_foreign_clues_stay_in_view(
        context: ClueContext) -> None:
    report = content(
        victim=[{"victimPerson": {"firstName": "Robin", "age": 13, "address": [
            {"address": "12 Example Street", "city": "Springfield", "state": "IL", "country": "US", "type": "Home"}]}}],
        personOrUserReported=[{
            "personOrUserReportedPerson": {"phone": [{"value": "0113 496 0000", "countryCallingCode": "+44"}]},
            "ipCaptureEvent": [{"ipAddress": "198.51.100.23", "eventName": "Login"}],
            "estimatedLocation": {"countryCode": "GB", "verified": False},
        }],
    )
    resolution = locate(report, context)
    assert resolution.best == Place.of("US", "Illinois", "Springfield")
    assert resolution.confidence == 90
    foreign = resolution.conflicts
    assert {c.kind for c in foreign} == {ClueKind.IP_ADDRESS, ClueKind.PHONE, ClueKind.ESTIMATED_LOCATION}
    assert all(c.place.country == "GB" for c in foreign)
    # the United Kingdom's clues corroborate each other: 60 + a tenth of (55 + 45) = 70
    assert "Disagreeing: United Kingdom (70)" in resolution.reasoning[0]
    ip = next(c for c in foreign if c.kind == ClueKind.IP_ADDRESS)
    assert ip.evidence.startswith("198.51.100.23 (Login) → Leeds, England, United Kingdom, within about 10 km")
    assert ip.path == "personOrUserReported[0].ipCaptureEvent[0]"
    phone = next(c for c in foreign if c.kind == ClueKind.PHONE)
    assert phone.place.city == "Leeds" and phone.evidence.startswith("+441134960000")


def test_several_ip_addresses_decide_the_region_and_city_against_a_weaker_estimate(context: ClueContext) -> None:
    report = content(personOrUserReported=[{
        "ipCaptureEvent": [{"ipAddress": "203.0.113.7", "eventName": "Login"},
                           {"ipAddress": "203.0.113.9", "eventName": "Upload"},
                           {"ipAddress": "203.0.113.11", "eventName": "Login"},
                           {"ipAddress": "203.0.113.200", "eventName": "Registration"}],
        "estimatedLocation": {"countryCode": "US", "region": "Oklahoma", "verified": False},
    }])
    resolution = locate(report, context)
    assert resolution.best == Place.of("US", "TX", "Austin")
    region = next(d for d in resolution.decisions if d.level == "region")
    # Texas: three IPs, 60 + a tenth of 120 = 72; Oklahoma: an IP and the estimate, 60 + 6 (5.5 rounded)
    assert (region.value, region.score, region.rivals) == ("Texas", 72, [("Oklahoma", 66)])
    city = next(d for d in resolution.decisions if d.level == "city")
    assert (city.value, city.score, city.rivals) == ("Austin", 72, [])  # Tulsa is not in Texas
    assert [c.place.region for c in resolution.conflicts] == ["Oklahoma", "Oklahoma"]
    assert "Region Texas (score 72)" in resolution.reasoning[1] and "Disagreeing: Oklahoma (66)" in resolution.reasoning[1]


def test_a_verified_estimate_beats_ip_addresses_flagged_as_possible_proxies(context: ClueContext) -> None:
    report = content(personOrUserReported=[{
        "ipCaptureEvent": [{"ipAddress": "198.51.100.4", "possibleProxy": True},
                           {"ipAddress": "198.51.100.5", "possibleProxy": True}],
        "estimatedLocation": {"countryCode": "AU", "region": "NSW", "city": "Sydney", "verified": True},
    }])
    resolution = locate(report, context)
    assert resolution.best == Place.of("AU", "New South Wales", "Sydney")
    assert resolution.confidence == 70
    proxies = resolution.conflicts
    assert [c.confidence for c in proxies] == [15, 15]
    assert all("possible proxy" in c.evidence for c in proxies)


def test_what_a_public_reporter_typed_and_their_phone_place_the_report(context: ClueContext) -> None:
    report = ReportContent.model_validate({
        "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts",
                            "incidentDateTime": "2026-10-15T08:00:00Z"},
        "publicReport": {"description": "A man keeps messaging my daughter. We live in Leeds and he says he "
                                        "is from nearby.",
                         "contact": {"phone": "+44 113 496 0000", "mayContact": True}},
    })
    resolution = locate(report, context)
    assert resolution.best == Place.of("GB", "England", "Leeds")
    kinds = {c.kind for c in resolution.clues}
    assert kinds == {ClueKind.PUBLIC_TEXT, ClueKind.PHONE}
    text = next(c for c in resolution.clues if c.kind == ClueKind.PUBLIC_TEXT)
    assert "We live in Leeds" in text.evidence and text.path == "publicReport.description"


def test_a_name_for_several_places_counts_for_each_at_half_strength(context: ClueContext) -> None:
    report = ReportContent.model_validate({
        "incidentSummary": {"incidentType": "Child Sexual Molestation", "incidentDateTime": "2026-10-15T08:00:00Z"},
        "publicReport": {"description": "It happened at the park in Springfield last week."},
    })
    clues = find_clues(report, context).located
    springfields = [c for c in clues if c.place.city == "Springfield"]
    assert {c.place.region for c in springfields} == {"Illinois", "Missouri"}
    assert all(c.confidence == 18 for c in springfields)  # 35, halved and rounded
    assert all("names several places" in c.evidence for c in springfields)


def test_a_school_name_that_names_a_covered_town_is_a_clue_and_one_that_does_not_is_shown_unplaced(
        context: ClueContext) -> None:
    report = content(victim=[
        {"victimPerson": {"firstName": "Ash"}, "schoolName": "Georgetown Middle School"},
        {"victimPerson": {"firstName": "Bo"}, "schoolName": "Hillcrest Academy"},
    ])
    result = find_clues(report, context)
    school = [c for c in result.located if c.kind == ClueKind.SCHOOL]
    assert [(c.place.city, c.place.region, c.confidence) for c in school] == [("Georgetown", "Texas", 40)]
    assert [(u.party, u.why) for u in result.unlocated] == [
        ("victim 2", "names no place the directory or gazetteer knows")]


def test_lower_case_words_and_first_names_are_not_places(context: ClueContext) -> None:
    gazetteer = context.gazetteer
    assert gazetteer.find("he was reading in leeds") == []
    assert gazetteer.find("Jordan told her to keep it secret") == []
    assert [m.place.country for m in gazetteer.find("he says he lives in Jordan")] == ["JO"]


def test_phone_numbers_give_country_and_the_geocoders_region_or_city() -> None:
    texas = locate_phone("(512) 555-0199", "+1")
    assert texas is not None and texas.place == Place.of("US", "TX") and texas.valid
    mountain_view = locate_phone("+1 650 253 0000")
    assert mountain_view is not None and mountain_view.place == Place.of("US", "California", "Mountain View")
    ontario = locate_phone("+1 416 555 0100")
    assert ontario is not None and ontario.place == Place.of("CA", "Ontario")
    mobile = locate_phone("0491 570 111", "+61")
    assert mobile is not None and mobile.place == Place.of("AU") and mobile.valid
    fictional = locate_phone("07700 900123", "+44")  # Ofcom's drama range: not a valid number
    assert fictional is not None and fictional.place == Place.of("GB") and not fictional.valid
    assert "only the calling code +44" in fictional.detail
    assert locate_phone("not a number") is None


def test_ip_addresses_without_a_database_or_outside_it_are_listed_with_the_reason(geoip_path: Path) -> None:
    report = content(personOrUserReported=[{"ipCaptureEvent": [{"ipAddress": "203.0.113.7"}]}])
    without = find_clues(report, ClueContext())
    assert without.located == []
    assert without.unlocated[0].why == "no GeoIP database is configured (TIPLINE_GEOIP_DATABASE)"
    outside = content(personOrUserReported=[{"ipCaptureEvent": [{"ipAddress": "10.1.2.3"},
                                                                 {"ipAddress": "2001:db8:ff::1"}]}])
    found = find_clues(outside, ClueContext(geoip=GeoIPDatabase(geoip_path)))
    assert [u.why for u in found.unlocated] == ["a private or reserved address", "not in the GeoIP database"]


def test_ipv6_and_country_only_records_are_located(geoip_path: Path) -> None:
    with GeoIPDatabase(geoip_path) as database:
        toronto = database.locate("2001:db8:ca::17")
        assert toronto is not None and toronto.place == Place.of("CA", "ON", "Toronto")
        assert toronto.accuracy_radius_km == 100 and toronto.network == "2001:db8:ca::/48"
        manila = database.locate("192.0.2.200")
        assert manila is not None and manila.place == Place.of("PH") and manila.accuracy_radius_km is None
        mapped = database.locate("::ffff:203.0.113.7")
        assert mapped is not None and mapped.place.city == "Austin"
        with pytest.raises(ValueError):
            database.locate("not-an-ip")


def test_a_missing_or_corrupt_database_gives_a_precise_error(tmp_path: Path, geoip_path: Path) -> None:
    missing = tmp_path / "nowhere.mmdb"
    with pytest.raises(GeoIPDatabaseError, match=f"TIPLINE_GEOIP_DATABASE names {missing}, which does not exist"):
        GeoIPDatabase(missing)
    with pytest.raises(GeoIPDatabaseError, match="which does not exist"):
        open_configured({"TIPLINE_GEOIP_DATABASE": str(missing)})
    garbage = tmp_path / "garbage.mmdb"
    garbage.write_bytes(b"this is not a MaxMind database" * 100)
    with pytest.raises(GeoIPDatabaseError, match=f"{garbage} is not a usable MaxMind DB file"):
        GeoIPDatabase(garbage)
    truncated = tmp_path / "truncated.mmdb"
    truncated.write_bytes(geoip_path.read_bytes()[:40])
    with pytest.raises(GeoIPDatabaseError, match="is not a usable MaxMind DB file"):
        GeoIPDatabase(truncated)
    folder = tmp_path / "folder.mmdb"
    folder.mkdir()
    with pytest.raises(GeoIPDatabaseError, match="which is not a file"):
        GeoIPDatabase(folder)
    assert open_configured({}) is None


def test_a_damaged_search_tree_is_reported_at_lookup(tmp_path: Path, geoip_path: Path) -> None:
    data = bytearray(geoip_path.read_bytes())
    data[0:6] = b"\xff\xff\xff\xff\xff\xff"  # the root's records point far past the tree
    damaged = tmp_path / "damaged.mmdb"
    damaged.write_bytes(bytes(data))
    with GeoIPDatabase(damaged) as database, pytest.raises(GeoIPDatabaseError, match="is damaged: looking up"):
        database.locate("203.0.113.7")


def test_no_clue_means_no_location_and_says_so(context: ClueContext) -> None:
    resolution = locate(content(), context)
    assert resolution.best is None and resolution.confidence == 0
    assert resolution.reasoning == ["No clue in the report places it in a country."]


def test_a_resolution_survives_storage_as_json(context: ClueContext) -> None:
    import json

    report = content(victim=[{"victimPerson": {"address": [{"city": "Leeds", "country": "GB"}]}}],
                     personOrUserReported=[{"ipCaptureEvent": [{"ipAddress": "203.0.113.7"}]}])
    resolution = locate(report, context)
    stored = json.loads(json.dumps(resolution.to_dict()))
    from tipline.jurisdiction import Resolution

    again = Resolution.from_dict(stored)
    assert again.best == resolution.best and again.clues == resolution.clues
    assert again.to_dict() == resolution.to_dict()
    assert [c["agrees"] for c in stored["clues"]] == [True, False]
