"""The report model holds everything a CyberTipline report can hold, under the schema's own names,
and rejects what the schema or the API documentation forbids."""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

import pytest
from lxml import etree
from pydantic import BaseModel, ValidationError
from support import sample_content

from tipline.cybertipline.schema import SCHEMA_PATH
from tipline.domain.files import FileDetails
from tipline.domain.incident import IncidentType
from tipline.domain.report import ReportContent

XS = "{http://www.w3.org/2001/XMLSchema}"
SCHEMA = etree.parse(str(SCHEMA_PATH)).getroot()
TOP_ELEMENTS = {node.get("name"): node for node in SCHEMA.findall(f"{XS}element")}
NAMED_TYPES = {node.get("name"): node for node in SCHEMA if node.tag in (f"{XS}complexType", f"{XS}simpleType")}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside Optional[...], list[...], Annotated[...] (or None for scalars)."""
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for argument in get_args(annotation):
            found = _model_of(argument)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _fields_by_alias(model: type[BaseModel]) -> dict[str, Any]:
    return {(info.alias or name): info for name, info in model.model_fields.items()}


def _complex_type(element: etree._Element) -> etree._Element | None:
    if element.get("ref"):
        element = TOP_ELEMENTS[element.get("ref")]
    inline = element.find(f"{XS}complexType")
    if inline is not None:
        return inline
    type_name = element.get("type")
    if type_name and not type_name.startswith("xs:"):
        node = NAMED_TYPES[type_name]
        return node if node.tag == f"{XS}complexType" else None
    return None


def _children(complex_type: etree._Element) -> tuple[list[etree._Element], list[str], bool]:
    """(child elements, attribute names, has simple content)."""
    elements = [
        node
        for node in complex_type.iter(f"{XS}element")
        if node.getparent().tag in (f"{XS}sequence", f"{XS}all", f"{XS}choice")
        and _owning_type(node) is complex_type
    ]
    attributes = [node.get("name") for node in complex_type.iter(f"{XS}attribute") if _owning_type(node) is complex_type]
    simple = complex_type.find(f"{XS}simpleContent") is not None
    return elements, attributes, simple


def _owning_type(node: etree._Element) -> etree._Element:
    parent = node.getparent()
    while parent.tag != f"{XS}complexType":
        parent = parent.getparent()
    return parent


def _missing(element: etree._Element, model: type[BaseModel], path: str, skip: set[str] = frozenset()) -> list[str]:
    complex_type = _complex_type(element)
    if complex_type is None:
        return []
    children, attributes, simple = _children(complex_type)
    fields = _fields_by_alias(model)
    problems = []
    if simple and "value" not in fields:
        problems.append(f"{path}: element text has no 'value' field")
    for attribute in attributes:
        if attribute not in fields:
            problems.append(f"{path}/@{attribute}")
    for child in children:
        name = child.get("name") or child.get("ref")
        if name in skip:
            continue
        if name not in fields:
            problems.append(f"{path}/{name}")
            continue
        nested = _model_of(fields[name].annotation)
        if nested is not None:
            problems += _missing(child, nested, f"{path}/{name}")
        elif _complex_type(child) is not None and _children(_complex_type(child))[0]:
            problems.append(f"{path}/{name}: has child elements but the model field is a plain value")
    return problems


def test_every_element_and_attribute_of_a_report_has_a_place_in_the_model() -> None:
    assert _missing(TOP_ELEMENTS["report"], ReportContent, "report") == []


def test_every_element_of_file_details_has_a_place_in_the_model() -> None:
    # reportId and fileId say which file the details belong to; the file record itself holds them.
    assert _missing(TOP_ELEMENTS["fileDetails"], FileDetails, "fileDetails", skip={"reportId", "fileId"}) == []


def test_incident_types_are_exactly_the_eight_of_the_schema() -> None:
    enumerated = {
        node.get("value") for node in NAMED_TYPES["incidentType"].iter(f"{XS}enumeration")
    }
    assert len(enumerated) == 8
    assert {t.value for t in IncidentType} == enumerated


def test_a_report_survives_the_wire_form_unchanged() -> None:
    content = ReportContent.model_validate(sample_content())
    assert ReportContent.model_validate(content.to_wire()) == content
    wire = content.to_wire()
    assert wire["personOrUserReported"][0]["screenName"] == "@NightOwl77"
    assert wire["incidentSummary"]["incidentType"] == "Online Enticement of Children for Sexual Acts"


def test_plain_values_are_accepted_for_elements_with_attributes() -> None:
    content = ReportContent.model_validate(sample_content())
    email = content.persons_or_users_reported[0].person.emails[0]
    assert email.value == "Night.Owl@Example.com" and email.type is None


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        ReportContent.model_validate(data)
    return [(".".join(str(p) for p in error["loc"]), error["type"]) for error in caught.value.errors()]


def test_a_timestamp_without_a_zone_is_rejected_naming_the_field() -> None:
    data = sample_content()
    data["incidentSummary"]["incidentDateTime"] = "2026-10-15T08:00:00"
    assert _problems(data) == [("incidentSummary.incidentDateTime", "timezone_aware")]


def test_an_unknown_incident_type_is_rejected() -> None:
    data = sample_content()
    data["incidentSummary"]["incidentType"] = "Child Pornography"
    assert _problems(data) == [("incidentSummary.incidentType", "enum")]


def test_unknown_fields_are_rejected_where_they_appear() -> None:
    data = sample_content()
    data["victim"][0]["victimPerson"]["favouriteColour"] = "blue"
    assert _problems(data) == [("victim.0.victimPerson.favouriteColour", "extra_forbidden")]


def test_internet_details_must_hold_exactly_one_kind() -> None:
    data = sample_content(internetDetails=[{"webPageIncident": {"url": ["https://a.example"]},
                                            "chatImIncident": {"chatClient": "x"}}])
    assert _problems(data)[0][0] == "internetDetails.0"
    data = sample_content(internetDetails=[{}])
    assert _problems(data)[0][0] == "internetDetails.0"


@pytest.mark.parametrize(
    ("path", "value", "expected_field"),
    [
        (("victim", 0, "victimPerson", "age"), -1, "victim.0.victimPerson.age"),
        (("victim", 0, "victimPerson", "age"), "thirteen", "victim.0.victimPerson.age"),
        (("victim", 0, "victimPerson", "address"), [{"country": "XX"}], "victim.0.victimPerson.address.0.country"),
        (("victim", 0, "victimPerson", "address"), [{"state": "ZZ"}], "victim.0.victimPerson.address.0.state"),
        (("personOrUserReported", 0, "ipCaptureEvent", 0, "port"), 70000,
         "personOrUserReported.0.ipCaptureEvent.0.port"),
        (("personOrUserReported", 0, "personOrUserReportedPerson", "phone", 0, "countryCallingCode"), "44",
         "personOrUserReported.0.personOrUserReportedPerson.phone.0.countryCallingCode"),
    ],
)
def test_wrong_values_are_rejected_naming_the_field(path: tuple[Any, ...], value: Any, expected_field: str) -> None:
    data = sample_content()
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    fields = [field for field, _ in _problems(data)]
    assert any(field.startswith(expected_field) for field in fields), fields


def test_a_report_needs_a_reporter_or_a_public_account() -> None:
    data = sample_content()
    del data["reporter"]
    assert _problems(data) == [("", "value_error")]
    data["publicReport"] = {"description": "Someone keeps messaging my son and asking for photos."}
    assert ReportContent.model_validate(data).reporter is None


def test_oversized_text_is_rejected() -> None:
    data = sample_content(additionalInfo="x" * 200_001)
    assert _problems(data) == [("additionalInfo", "string_too_long")]


def test_file_details_take_potential_meme_or_annotations_but_not_both() -> None:
    FileDetails.model_validate({"potentialMeme": True})
    FileDetails.model_validate({"fileAnnotations": {"infant": True, "viral": True}})
    with pytest.raises(ValidationError):
        FileDetails.model_validate({"potentialMeme": True, "fileAnnotations": {"viral": True}})
