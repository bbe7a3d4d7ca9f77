"""Every identifier in a report is found, with whose it is and where it was written."""

from __future__ import annotations

from support import sample_content

from tipline.domain.files import FileDetails
from tipline.domain.identifiers import IdentifierKind, PartyRole
from tipline.domain.report import ReportContent
from tipline.linking import ExtractionContext, extract_identifiers


def _found(content: ReportContent, **context: object) -> set[tuple[str, str, str, str]]:
    return {
        (i.kind.value, i.value, i.role.value, i.path)
        for i in extract_identifiers(content, ExtractionContext(**context))  # type: ignore[arg-type]
    }


def test_the_reported_persons_identifiers_are_extracted_and_normalised() -> None:
    content = ReportContent.model_validate(sample_content())
    found = _found(content)
    assert found == {
        ("email", "night.owl@example.com", "reported", "personOrUserReported[0].personOrUserReportedPerson.email[0]"),
        ("phone", "+12025550143", "reported", "personOrUserReported[0].personOrUserReportedPerson.phone[0]"),
        ("esp_user_id", "chirp:88812345", "reported", "personOrUserReported[0].espIdentifier"),
        ("screen_name", "chirp:nightowl77", "reported", "personOrUserReported[0].screenName"),
        ("ip_address", "203.0.113.7", "reported", "personOrUserReported[0].ipCaptureEvent[0]"),
    }


def test_a_service_providers_own_staff_are_never_extracted() -> None:
    content = ReportContent.model_validate(sample_content())
    assert not any(i.role == PartyRole.REPORTER for i in extract_identifiers(content))
    assert "safety@chirp.example" not in {i.value for i in extract_identifiers(content)}


def test_a_public_reporters_contact_details_are_extracted_when_asked() -> None:
    data = sample_content(publicReport={"description": "He keeps asking my son for photos.",
                                        "contact": {"email": "Parent@Example.org", "phone": "202 555 0188"}})
    del data["reporter"]
    found = _found(ReportContent.model_validate(data), include_reporter=True)
    assert ("email", "parent@example.org", "reporter", "publicReport.contact.email") in found
    assert ("phone", "+12025550188", "reporter", "publicReport.contact.phone") in found


def test_every_party_kind_and_place_is_searched() -> None:
    data = sample_content(
        intendedRecipient=[{"screenName": "KidGamer", "espService": "Blockland",
                            "deviceId": [{"idType": "IMEI", "idValue": "35-209900-176148-1"}]}],
        internetDetails=[
            {"webPageIncident": {"url": ["http://www.files.example/u/1/"]}},
            {"emailIncident": {"emailAddress": ["Sender@Example.net"]}},
            {"cellPhoneIncident": {"phoneNumber": {"value": "020 7946 0018", "countryCallingCode": "+44"}}},
            {"peer2peerIncident": {"ipCaptureEvent": [{"ipAddress": "2001:DB8::5"}]}},
        ],
    )
    data["victim"][0]["associatedAccount"] = [
        {"type": "Parent/Guardian", "email": ["guardian@example.com"], "platform": {"value": "Pixelgram"},
         "screenName": "Guardian1", "profileUrl": ["https://pixelgram.example/guardian1"]}
    ]
    found = _found(ReportContent.model_validate(data))
    assert ("screen_name", "blockland:kidgamer", "recipient", "intendedRecipient[0].screenName") in found
    assert ("device_id", "imei:352099001761481", "recipient", "intendedRecipient[0].deviceId[0]") in found
    assert ("url", "https://files.example/u/1", "incident", "internetDetails[0].webPageIncident.url[0]") in found
    assert ("email", "sender@example.net", "incident", "internetDetails[1].emailIncident.emailAddress[0]") in found
    assert ("phone", "+442079460018", "incident", "internetDetails[2].cellPhoneIncident.phoneNumber[0]") in found
    assert ("ip_address", "2001:db8::5", "incident", "internetDetails[3].peer2peerIncident.ipCaptureEvent[0]") in found
    assert ("email", "guardian@example.com", "victim", "victim[0].associatedAccount[0].email[0]") in found
    assert ("screen_name", "pixelgram:guardian1", "victim", "victim[0].associatedAccount[0].screenName") in found


def test_file_capture_events_are_extracted_with_the_file_position() -> None:
    content = ReportContent.model_validate(sample_content())
    details = FileDetails.model_validate({"ipCaptureEvent": {"ipAddress": "198.51.100.9", "eventName": "Upload"}})
    identifiers = extract_identifiers(content, files=[(0, None), (1, details)])
    ip = [i for i in identifiers if i.role == PartyRole.FILE]
    assert [(i.kind, i.value, i.party_index, i.path) for i in ip] == [
        (IdentifierKind.IP_ADDRESS, "198.51.100.9", 1, "files[1].ipCaptureEvent[0]")
    ]


def test_the_same_identifier_twice_on_one_party_is_one_identifier() -> None:
    data = sample_content()
    data["personOrUserReported"][0]["personOrUserReportedPerson"]["email"] = ["a@example.com", "A@Example.com"]
    emails = [i for i in extract_identifiers(ReportContent.model_validate(data)) if i.kind == IdentifierKind.EMAIL]
    assert len(emails) == 1


def test_the_platform_of_the_incident_scopes_screen_names_when_the_party_names_none() -> None:
    data = sample_content()
    del data["personOrUserReported"][0]["espService"]
    found = _found(ReportContent.model_validate(data))
    assert ("screen_name", "chirp:nightowl77", "reported", "personOrUserReported[0].screenName") in found
