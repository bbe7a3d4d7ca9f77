"""The resource directory's CSV: what it accepts, and every bad line named."""

from __future__ import annotations

import pytest

from tipline.domain.roles import Permission, Role, has_permission, needs_second_person, reads_reports
from tipline.domain.support_resources import ResourceFileError, SupportResource, parse_resources

GOOD = ("\ufeffcountry,name,situations,phone,url,hours\n"
        "US,Family Line,parent;child,+1 555 0100 300,https://family.example.org,Mon-Fri 9-5\n"
        "*,Take It Down,sextortion images,,https://takeitdown.ncmec.org/,\n"
        "\n"
        'mx,"Línea de Apoyo, 24 horas",,800 555 0100,,siempre\n')


def test_a_good_file_gives_its_services() -> None:
    resources = parse_resources(GOOD.encode("utf-8"))
    assert resources == [
        SupportResource("US", "Family Line", ("parent", "child"), phone="+1 555 0100 300",
                        url="https://family.example.org", hours="Mon-Fri 9-5"),
        SupportResource("*", "Take It Down", ("sextortion", "images"), url="https://takeitdown.ncmec.org/"),
        SupportResource("MX", "Línea de Apoyo, 24 horas", (), phone="800 555 0100", hours="siempre"),
    ]


def test_every_bad_line_is_named_and_nothing_is_returned() -> None:
    data = (b"country,name,situations,phone,url\n"
            b"US,Family Line,,,\n"
            b"USA,Youth Chat,,,\n"
            b"US,,grooming,,\n"
            b'"US","Two\nlines",,call me,http://plain.example.org\n'
            b"US,Short row\n")
    with pytest.raises(ResourceFileError) as raised:
        parse_resources(data)
    assert raised.value.problems == [
        "line 3: country 'USA' is not a two-letter country code (or * for every country)",
        "line 4: name is empty",
        "line 4: situation(s) 'grooming' not known; use sextortion, enticement, images, child, parent "
        "(separated by ;) or leave empty for every situation",
        "line 5: phone 'call me' is not digits, spaces, +, ( ) and -",
        "line 5: url 'http://plain.example.org' is not an address starting https://",
        "line 7: 2 values for 5 columns",
    ]


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "the file is empty: it needs a header row (country,name,...)"),
    (b"country,title\nUS,x\n", "line 1: unknown column(s) 'title'; the columns are country, name, situations, "
                               "phone, url, email, hours, languages, description"),
    (b"name\nx\n", "line 1: missing column(s) country"),
    (b"country,name\nUS,caf\xe9\n", "line 2: not UTF-8 text (byte 7 of the line); save the file as UTF-8"),
])
def test_a_file_that_is_not_a_directory_is_refused_with_its_reason(data: bytes, problem: str) -> None:
    with pytest.raises(ResourceFileError) as raised:
        parse_resources(data)
    assert raised.value.problems[0] == problem


def test_the_advocate_reads_no_report_and_its_grant_needs_a_second_person() -> None:
    assert has_permission(Role.ADVOCATE, Permission.FOLLOW_UP)
    assert not reads_reports(Role.ADVOCATE)
    assert not any(has_permission(Role.ADVOCATE, p) for p in Permission if p != Permission.FOLLOW_UP)
    assert needs_second_person(Role.ADVOCATE)
    assert not any(has_permission(role, Permission.FOLLOW_UP) for role in Role if role != Role.ADVOCATE)
