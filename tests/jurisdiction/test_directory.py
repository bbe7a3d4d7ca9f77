"""The agency directory as data: CSV checks with precise errors, and the suggested agency."""

from __future__ import annotations

import base64

import pytest

from tipline.jurisdiction import (
    AgencyRecord,
    AgencyType,
    DirectoryImportError,
    Place,
    Resolution,
    directory_csv,
    parse_directory_csv,
    suggest_agency,
)

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()
HEADER = "code,name,type,country,region,city,contact_name,contact_email,contact_phone,public_key,active\n"
GOOD = HEADER + (
    f"us-fcps,Federal Child Protection Service,national_agency,US,,,Duty Desk,duty@fcps.example,,{KEY_A},yes\n"
    "us-tx-tf,Texas Online Safety Task Force,state_task_force,US,TX,,,,,,yes\n"
    "us-tx-gtown,Georgetown Police,local_police,US,Texas,Georgetown,,,,,\n"
    f"gb-ncs,National Child Safety Unit,national_police,United Kingdom,,,,,,{KEY_B},yes\n"
    "gb-old,Retired Unit,national_police,GB,,,,,,,no\n"
)


def records() -> list[AgencyRecord]:
    return parse_directory_csv(GOOD)


def resolution(place: Place | None) -> Resolution:
    return Resolution(best=place, confidence=80 if place else 0)


def test_a_good_directory_parses_with_codes_names_and_keys_normalised() -> None:
    parsed = records()
    assert [r.code for r in parsed] == ["us-fcps", "us-tx-tf", "us-tx-gtown", "gb-ncs", "gb-old"]
    assert parsed[3].country == "GB" and parsed[3].type == AgencyType.NATIONAL_POLICE
    assert parsed[2].area == Place.of("US", "TX", "Georgetown") and parsed[2].active
    assert parsed[4].active is False
    assert parse_directory_csv(directory_csv(parsed)) == parsed


def test_every_bad_cell_is_named_by_line_and_column_and_nothing_is_returned() -> None:
    bad = HEADER + (
        "us-fcps,Federal Child Protection Service,national_agency,US,,,,,,,yes\n"
        "US FCPS!,Bad code,national_agency,US,,,,,,,yes\n"
        "us-x,No type,sheriff,US,,,,,,,yes\n"
        "us-y,No country,local_police,Atlantis,,,,,,,yes\n"
        "us-fcps,Duplicate,local_police,US,,,,not-an-email,,abc,maybe\n"
    )
    with pytest.raises(DirectoryImportError) as raised:
        parse_directory_csv(bad)
    problems = [(p.line, p.column) for p in raised.value.problems]
    assert problems == [(3, "code"), (4, "type"), (5, "country"), (6, "contact_email"), (6, "public_key"),
                        (6, "active")]
    assert "6 problems in the agency CSV, nothing was imported" in str(
        raised.value)
    assert "'sheriff' is not an agency type" in str(raised.value)


def test_a_duplicate_code_or_shared_key_is_an_error_naming_the_first_line() -> None:
    bad = HEADER + (f"a-one,One,local_police,US,,,,,,{KEY_A},\n"
                    f"a-two,Two,local_police,US,,,,,,{KEY_A},\n"
                    "a-one,Three,local_police,US,,,,,,,\n")
    with pytest.raises(DirectoryImportError) as raised:
        parse_directory_csv(bad)
    assert [str(p) for p in raised.value.problems] == [
        "line 3, public_key: the same key is on line 2; each agency needs its own",
        "line 4, code: 'a-one' is also on line 2",
    ]


def test_header_problems_and_ragged_rows_are_precise() -> None:
    with pytest.raises(DirectoryImportError, match=r"line 1, \(header\): missing columns type, country"):
        parse_directory_csv("code,name\nx1,X\n")
    with pytest.raises(DirectoryImportError, match=r"unknown column colour"):
        parse_directory_csv("code,name,type,country,colour\n")
    with pytest.raises(DirectoryImportError, match=r"line 2, \(row\): 12 cells but the header names 11 columns"):
        parse_directory_csv(HEADER + "a1,A,local_police,US,,,,,,,yes,extra\n")
    with pytest.raises(DirectoryImportError, match="not UTF-8"):
        parse_directory_csv(HEADER.encode() + b"a1,\xff\xfe,local_police,US\n")
    with pytest.raises(DirectoryImportError, match="the file is empty"):
        parse_directory_csv("")


def test_the_most_specific_covering_agency_is_suggested() -> None:
    city = suggest_agency(resolution(Place.of("US", "TX", "Georgetown")), records())
    assert city.agency is not None and city.agency.code == "us-tx-gtown"
    assert [a.code for a in city.candidates] == ["us-tx-gtown", "us-tx-tf", "us-fcps"]
    assert "covers the city Georgetown" in city.reasoning[1]
    region = suggest_agency(resolution(Place.of("US", "Texas", "Austin")), records())
    assert region.agency is not None and region.agency.code == "us-tx-tf"
    assert "covers the region Texas" in region.reasoning[1]


def test_a_region_without_its_own_agency_goes_to_the_national_one() -> None:
    suggestion = suggest_agency(resolution(Place.of("US", "Oklahoma", "Tulsa")), records())
    assert suggestion.agency is not None and suggestion.agency.code == "us-fcps"
    assert "No agency covers Oklahoma itself" in suggestion.reasoning[2]


def test_inactive_agencies_and_uncovered_countries_are_not_suggested() -> None:
    gb = suggest_agency(resolution(Place.of("GB", "England", "Leeds")), records())
    assert gb.agency is not None and gb.agency.code == "gb-ncs"  # not the retired unit
    nowhere = suggest_agency(resolution(Place.of("NZ")), records())
    assert nowhere.agency is None
    assert nowhere.reasoning == ["No active agency in the directory covers New Zealand: choose one, or add the "
                                 "right agency to the directory."]
    unknown = suggest_agency(resolution(None), records())
    assert unknown.agency is None and "No location" in unknown.reasoning[0]


def test_an_agency_without_a_package_key_is_suggested_with_a_warning() -> None:
    suggestion = suggest_agency(resolution(Place.of("US", "TX")), records())
    assert suggestion.agency is not None and suggestion.agency.public_key is None
    assert "has no package key registered yet" in suggestion.reasoning[-1]
