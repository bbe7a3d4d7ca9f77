"""XML <-> domain: safe parsing, validation against the shipped XSD, and lossless round trips on
documents that use every element and attribute of the schema."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from intake_documents import DOC_EXAMPLE, ENTICEMENT_XML, FILE_DETAILS_EXAMPLE
from intake_xsdwalk import XSD, Walker, element_and_attribute_names, names_used, to_bytes
from lxml import etree

from tipline.cybertipline.codes import MALFORMED_XML, VALIDATION_FAILED, IspwsError
from tipline.cybertipline.xmlmap import file_details_to_xml, parse_file_details, parse_report, report_to_xml

SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))


def canonical(document: bytes) -> str:
    """The document with insignificant whitespace removed, in canonical form, one element a line."""
    root = etree.fromstring(document, etree.XMLParser(remove_blank_text=True))
    for element in root.iter():
        for name in [a for a in element.attrib if a.startswith("{http://www.w3.org/2001/XMLSchema-instance}")]:
            del element.attrib[name]
    etree.cleanup_namespaces(root)
    canonical_bytes = etree.tostring(root, method="c14n")
    return etree.tostring(etree.fromstring(canonical_bytes), pretty_print=True).decode()


def assert_same_document(expected: bytes, actual: bytes) -> None:
    left, right = canonical(expected), canonical(actual)
    assert left == right, "\n".join(difflib.unified_diff(left.splitlines(), right.splitlines(), lineterm=""))


@pytest.fixture(scope="module")
def walker() -> Walker:
    return Walker()


def test_the_generated_documents_use_every_element_and_attribute_of_the_schema(walker: Walker) -> None:
    for root_name in ("report", "fileDetails"):
        documents = list(walker.documents(root_name))
        for document in documents:
            assert SCHEMA.validate(document), SCHEMA.error_log
        missing = element_and_attribute_names(root_name) - names_used(documents)
        assert missing == set()


def test_every_element_report_round_trips_losslessly(walker: Walker) -> None:
    documents = list(Walker().documents("report"))
    assert len(documents) >= 2  # one per branch of the choices outside repeated elements
    for document in documents:
        original = to_bytes(document)
        exported = report_to_xml(parse_report(original))
        assert SCHEMA.validate(etree.fromstring(exported)), SCHEMA.error_log
        assert_same_document(original, exported)


def test_every_element_file_details_round_trip_losslessly() -> None:
    documents = list(Walker().documents("fileDetails"))
    assert len(documents) == 2  # potentialMeme, or fileAnnotations (the schema's choice)
    for document in documents:
        original = to_bytes(document)
        report_id, file_id, details = parse_file_details(original)
        assert report_id == int(document.findtext("reportId"))
        assert file_id == document.findtext("fileId")
        exported = file_details_to_xml(report_id, file_id, details)
        assert SCHEMA.validate(etree.fromstring(exported)), SCHEMA.error_log
        assert_same_document(original, exported)


def test_the_documentation_example_maps_to_the_facts_it_states() -> None:
    content = parse_report(DOC_EXAMPLE)
    summary = content.incident_summary
    assert summary.incident_type.value == "Child Pornography (possession, manufacture, and distribution)"
    assert summary.incident_date_time == datetime(2012, 10, 15, 8, 0, tzinfo=timezone(timedelta(hours=-7)))
    annotations = summary.report_annotations
    assert annotations is not None
    # <sextortion /> and its siblings are empty elements: presence means true (fixed="true").
    assert (annotations.sextortion, annotations.csam_solicitation, annotations.minor_to_minor_interaction,
            annotations.spam, annotations.sadistic_online_exploitation) == (True, True, True, True, True)
    assert content.internet_details[0].web_page_incident.urls == ["http://badsite.com/baduri.html"]
    person = content.reporter.reporting_person
    assert (person.first_name, person.last_name, person.emails[0].value) == ("John", "Smith", "jsmith@example.com")
    exported = report_to_xml(content)
    assert SCHEMA.validate(etree.fromstring(exported))
    assert_same_document(DOC_EXAMPLE, exported)


def test_a_hand_written_report_round_trips_with_unicode_and_line_breaks() -> None:
    content = parse_report(ENTICEMENT_XML)
    assert content.additional_info == "Ünïcödé note: the account asked for photos — twice."
    assert content.internet_details[0].chat_im_incident.content == "u1: are your parents home?\nu1: don't tell them"
    reported = content.persons_or_users_reported[0]
    assert reported.account_temporarily_disabled.value is True
    assert reported.account_temporarily_disabled.disabled_date == datetime(2026, 10, 15, 9, tzinfo=UTC)
    assert reported.ip_capture_events[0].port == 443
    assert_same_document(ENTICEMENT_XML, report_to_xml(content))


def test_the_documentation_file_details_example_round_trips() -> None:
    document = FILE_DETAILS_EXAMPLE.format(report_id=4564654, file_id="b0754af766b426f2928a02c651ed4b99").encode()
    report_id, file_id, details = parse_file_details(document)
    assert (report_id, file_id) == (4564654, "b0754af766b426f2928a02c651ed4b99")
    assert details.original_file_name == "mypic.jpg"
    assert details.ip_capture_event.ip_address == "63.116.246.17"
    assert details.ip_capture_event.date_time == datetime(2011, 10, 31, 12, tzinfo=UTC)
    assert details.additional_info == ["File was originally posted with 6 others"]
    assert_same_document(document, file_details_to_xml(report_id, file_id, details))


# --- refusals ------------------------------------------------------------------------------------


def refusal(document: bytes) -> IspwsError:
    with pytest.raises(IspwsError) as caught:
        parse_report(document)
    return caught.value


def test_a_timestamp_without_a_zone_is_a_validation_failure_naming_the_element() -> None:
    error = refusal(DOC_EXAMPLE.replace(b"2012-10-15T08:00:00-07:00", b"2012-10-15T08:00:00"))
    assert error.code == VALIDATION_FAILED
    assert "/report/incidentSummary/incidentDateTime" in error.description
    assert "time zone" in error.description
    assert "line 13" in error.description  # where incidentDateTime is in the example


def test_a_schema_violation_gives_the_validators_message_with_line_and_element() -> None:
    error = refusal(DOC_EXAMPLE.replace(b"<incidentType>Child Pornography (possession, manufacture, and distribution)",
                                        b"<incidentType>Something else"))
    assert error.code == VALIDATION_FAILED
    assert "line 5" in error.description
    assert "incidentType" in error.description


def test_a_missing_required_element_is_a_validation_failure() -> None:
    start = DOC_EXAMPLE.index(b"<reporter>")
    end = DOC_EXAMPLE.index(b"</reporter>") + len(b"</reporter>")
    error = refusal(DOC_EXAMPLE[:start] + DOC_EXAMPLE[end:])
    assert error.code == VALIDATION_FAILED
    assert "reporter" in error.description


def test_a_file_details_document_sent_as_a_report_is_refused() -> None:
    error = refusal(FILE_DETAILS_EXAMPLE.format(report_id=1, file_id="a").encode())
    assert error.code == VALIDATION_FAILED
    assert "<fileDetails>" in error.description and "<report>" in error.description


@pytest.mark.parametrize("document", [b"<report><incidentSummary></report>", b"not xml at all", b"<report>",
                                      b"   ", b"<?xml version='1.0'?>"])
def test_malformed_xml_is_refused_with_the_malformed_code(document: bytes) -> None:
    assert refusal(document).code == MALFORMED_XML


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<report><additionalInfo>&lol9;</additionalInfo></report>"""


def test_entity_expansion_is_refused_without_expanding(tmp_path) -> None:  # type: ignore[no-untyped-def]
    error = refusal(BILLION_LAUGHS)
    assert error.code == MALFORMED_XML
    assert "DOCTYPE" in error.description


def test_external_entities_are_refused_without_fetching(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("do-not-leak")
    document = f"""<?xml version="1.0"?>
<!DOCTYPE report [<!ENTITY x SYSTEM "file://{secret}">]>
<report><additionalInfo>&x;</additionalInfo></report>""".encode()
    error = refusal(document)
    assert error.code == MALFORMED_XML
    assert "do-not-leak" not in error.description
    network = b'<!DOCTYPE report SYSTEM "http://127.0.0.1:9/evil.dtd"><report/>'
    assert refusal(network).code == MALFORMED_XML


def test_a_body_that_is_not_utf8_is_refused() -> None:
    latin1 = DOC_EXAMPLE.replace(b"John", "Jörg".encode("latin-1"))
    error = refusal(latin1)
    assert error.code == MALFORMED_XML
    assert "UTF-8" in error.description
    declared = DOC_EXAMPLE.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    assert refusal(declared).code == MALFORMED_XML


def test_the_exporter_writes_reports_from_the_json_api_that_validate() -> None:
    from support import sample_content

    from tipline.domain.report import ReportContent

    exported = report_to_xml(ReportContent.model_validate(sample_content()))
    assert SCHEMA.validate(etree.fromstring(exported)), SCHEMA.error_log
    assert parse_report(exported) == ReportContent.model_validate(sample_content())


def test_a_public_form_report_exports_as_a_valid_report() -> None:
    from tipline.domain.report import ReportContent

    content = ReportContent.model_validate({
        "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts",
                            "incidentDateTime": "2026-01-02T03:04:05Z"},
        "publicReport": {"description": "Someone asked my child for photos", "childInDangerNow": True,
                         "contact": {"name": "Sam Example", "email": "sam@example.org"}},
    })
    exported = report_to_xml(content)
    assert SCHEMA.validate(etree.fromstring(exported)), SCHEMA.error_log
    again = parse_report(exported)
    assert "Someone asked my child for photos" in again.additional_info
    assert again.reporter.reporting_person.emails[0].value == "sam@example.org"


def test_a_reporter_with_only_a_contact_person_exports_with_an_empty_reporting_person() -> None:
    from tipline.domain.report import ReportContent

    content = ReportContent.model_validate({
        "incidentSummary": {"incidentType": "Child Sex Trafficking", "incidentDateTime": "2026-01-02T03:04:05Z"},
        "reporter": {"contactPerson": {"firstName": "Alex"}},
    })
    exported = report_to_xml(content)
    assert SCHEMA.validate(etree.fromstring(exported)), SCHEMA.error_log
    assert parse_report(exported) == content


def test_a_namespaced_root_is_refused_with_the_namespace_named() -> None:
    error = refusal(DOC_EXAMPLE.replace(b"<report ", b'<report xmlns="urn:example:other" '))
    assert error.code == VALIDATION_FAILED
    assert "urn:example:other" in error.description
