"""XML <-> domain for the CyberTipline schema.

Parsing is safe by construction: no DTD is loaded, no entity is resolved, nothing is fetched, and a
document that declares a DOCTYPE or an entity is refused before the parser sees it. A document is
validated against the shipped XSD, then mapped element by element (driven by the XSD itself) to
the wire form of the domain model, whose names are the XSD's element names, and validated by the
domain model. The exporter walks the same XSD tree the other way, so what it writes is in schema
order and validates.
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from typing import Any

from lxml import etree
from pydantic import ValidationError

from tipline.cybertipline.codes import MALFORMED_XML, VALIDATION_FAILED, IspwsError
from tipline.cybertipline.schema import ElementSpec, root_spec, validator
from tipline.domain.files import FileDetails
from tipline.domain.paths import describe_value
from tipline.domain.report import ReportContent

XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_FORBIDDEN_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}
_validation_lock = threading.Lock()

Location = tuple[str | int, ...]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
        remove_pis=True,
    )


# --- parsing -------------------------------------------------------------------------------------


def parse_document(body: bytes, root_name: str) -> etree._Element:
    """The root element of a UTF-8 XML document that is well-formed, has no DOCTYPE or entity
    declarations, has the expected root, and validates against the XSD; else IspwsError."""
    if not body.strip():
        raise IspwsError(MALFORMED_XML, f"the request body is empty; send one <{root_name}> document")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise IspwsError(
            MALFORMED_XML,
            f"the body is not UTF-8 (byte 0x{body[error.start]:02x} at offset {error.start}); "
            "send UTF-8 and say so with Content-Type: text/xml; charset=utf-8",
        ) from None
    declared = _XML_DECLARATION.match(body)
    if declared and declared.group(1).decode().lower() not in _UTF8:
        raise IspwsError(
            MALFORMED_XML,
            f"the XML declaration names encoding {declared.group(1).decode()!r}; only UTF-8 is accepted",
        )
    if any(marker in body for marker in _FORBIDDEN_DECLARATIONS):
        raise IspwsError(
            MALFORMED_XML,
            "DOCTYPE and ENTITY declarations are not accepted (the schema needs neither); "
            "nothing in the document was expanded or fetched",
        )
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as error:
        line = error.lineno or (error.position[0] if error.position else "?")
        raise IspwsError(MALFORMED_XML, f"line {line}: {_clean(error.msg)}") from None
    if root is None:
        raise IspwsError(MALFORMED_XML, f"the body holds no element; send one <{root_name}> document")
    if root.tag != root_name:
        found = _local(root.tag)
        namespace = etree.QName(root.tag).namespace if isinstance(root.tag, str) else None
        where = f" in namespace {namespace!r} (the schema's elements have no namespace)" if namespace else ""
        raise IspwsError(
            VALIDATION_FAILED,
            f"line {root.sourceline}: the root element is <{found}>{where}; this endpoint takes <{root_name}>",
        )
    with _validation_lock:
        schema = validator()
        valid = schema.validate(root)
        errors = list(schema.error_log) if not valid else []
    if errors:
        shown = "; ".join(f"line {e.line}: {_clean(e.message)}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise IspwsError(VALIDATION_FAILED, shown + more)
    return root


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def _clean(message: str) -> str:
    return " ".join(str(message).split())


def _text_value(text: str | None, spec_type: str, fixed: str | None) -> Any:
    value = (text or "").strip() if spec_type != "string" else (text or "")
    if fixed is not None and value == "":
        value = fixed
    if spec_type == "boolean":
        return value.strip() in ("true", "1")
    if spec_type in ("int", "long", "integer", "short"):
        return int(value)
    if spec_type in ("double", "decimal", "float"):
        return float(value)
    if spec_type == "token":
        return " ".join(value.split())
    if spec_type in ("dateTime", "date"):
        return value.strip()
    return value


def element_to_wire(element: etree._Element, spec: ElementSpec, where: Location,
                    lines: dict[Location, int]) -> Any:
    """The wire (JSON) value of a validated element; `lines` learns each value's source line."""
    lines[where] = element.sourceline or 0
    if spec.kind == "simple":
        return _text_value(element.text, spec.text_type, spec.fixed)
    result: dict[str, Any] = {}
    for attribute in spec.attributes:
        raw = element.get(attribute.name)
        if raw is not None:
            result[attribute.name] = _text_value(raw, attribute.type, None)
            lines[(*where, attribute.name)] = element.sourceline or 0
    if spec.kind == "simple_content":
        result["value"] = _text_value(element.text, spec.text_type, spec.fixed)
        return result
    counters: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child.tag)
        child_spec = spec.child(name)
        if child_spec is None:  # cannot happen after validation
            raise IspwsError(VALIDATION_FAILED, f"line {child.sourceline}: unexpected element <{name}>")
        if child_spec.repeated:
            index = counters.get(name, 0)
            counters[name] = index + 1
            result.setdefault(name, []).append(element_to_wire(child, child_spec, (*where, name, index), lines))
        else:
            result[name] = element_to_wire(child, child_spec, (*where, name), lines)
    return result


def _domain_problem(error: ValidationError, root_name: str, lines: dict[Location, int]) -> IspwsError:
    problems = []
    for item in error.errors()[:5]:
        location = tuple(part for part in item.get("loc", ()) if not (isinstance(part, str) and "function-" in part))
        line = 0
        for cut in range(len(location), -1, -1):
            if location[:cut] in lines:
                line = lines[location[:cut]]
                break
        path = "/" + "/".join([root_name, *(f"{p}" if isinstance(p, str) else f"[{p + 1}]" for p in location)])
        path = path.replace("/[", "[")
        message = str(item.get("msg", "invalid"))
        if item.get("type") == "timezone_aware":
            message = "the timestamp needs a time zone (Z or +hh:mm), as the API documentation requires"
        elif item.get("type") == "extra_forbidden":
            message = "this element is not kept by tipline"
        problems.append(f"line {line}: {path}: {message}" if line else f"{path}: {message}")
    return IspwsError(VALIDATION_FAILED, "; ".join(problems))


def parse_report(body: bytes) -> ReportContent:
    """A <report> document as the domain's ReportContent (IspwsError with the documented code)."""
    root = parse_document(body, "report")
    lines: dict[Location, int] = {}
    wire = element_to_wire(root, root_spec("report"), (), lines)
    try:
        return ReportContent.model_validate(wire)
    except ValidationError as error:
        raise _domain_problem(error, "report", lines) from None


def parse_file_details(body: bytes) -> tuple[int, str, FileDetails]:
    """A <fileDetails> document: (report id, file id, the details)."""
    root = parse_document(body, "fileDetails")
    lines: dict[Location, int] = {}
    wire = element_to_wire(root, root_spec("fileDetails"), (), lines)
    report_id = wire.pop("reportId")
    file_id = wire.pop("fileId")
    try:
        return report_id, file_id, FileDetails.model_validate(wire)
    except ValidationError as error:
        raise _domain_problem(error, "fileDetails", lines) from None


# --- exporting -----------------------------------------------------------------------------------


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def wire_to_element(name: str, value: Any, spec: ElementSpec) -> etree._Element:
    element = etree.Element(name)
    if spec.kind == "simple":
        if spec.fixed is not None:
            return element  # presence means the fixed value (the annotation flags)
        element.text = _text_of(value)
        return element
    if not isinstance(value, dict):
        value = {"value": value}
    for attribute in spec.attributes:
        if value.get(attribute.name) is not None:
            element.set(attribute.name, _text_of(value[attribute.name]))
    if spec.kind == "simple_content":
        element.text = _text_of(value["value"])
        return element
    for child_spec in spec.children:
        child_value = value.get(child_spec.name)
        if child_value is None:
            continue
        if child_spec.fixed is not None and child_value is not True:
            continue
        for item in child_value if child_spec.repeated else [child_value]:
            element.append(wire_to_element(child_spec.name, item, child_spec))
    return element


def _document(element: etree._Element) -> bytes:
    body: bytes = etree.tostring(element, xml_declaration=False, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def report_to_xml(content: ReportContent) -> bytes:
    """A <report> document that validates against the XSD and carries the same facts."""
    wire = content.to_wire()
    public = wire.pop("publicReport", None)
    if public is not None:
        wire = _public_report_as_schema(wire, public)
    if "reporter" in wire:  # required by the schema; the wire form leaves an empty one out
        wire["reporter"].setdefault("reportingPerson", {})
    return _document(wire_to_element("report", wire, root_spec("report")))


def file_details_to_xml(report_id: int, file_id: str, details: FileDetails | None) -> bytes:
    wire = {"reportId": report_id, "fileId": file_id, **(details.to_wire() if details else {})}
    return _document(wire_to_element("fileDetails", wire, root_spec("fileDetails")))


def _public_report_as_schema(wire: dict[str, Any], public: dict[str, Any]) -> dict[str, Any]:
    """A public report has facts the schema has no element for: they travel in additionalInfo,
    and the reporter is the public contact (or an empty reportingPerson when anonymous)."""
    lines = ["Public report (filed through the hotline's public form)", f"What happened: {public['description']}"]
    for key, label in (("reporterRelationship", "Reporter's relationship"), ("childInDangerNow", "Child in danger now"),
                       ("childGender", "Child's gender"), ("otherPersonDescription", "About the other person"),
                       ("offenderKnown", "Child knows the other person in person")):
        if key in public:
            lines.append(f"{label}: {_text_of(describe_value(key, public[key]))}")
    for key, label in (("childAge", "Child's age as the reporter gave it"),
                       ("otherPersonAge", "Other person's age as the reporter gave it")):
        if key in public:
            guess = public[key]
            span = str(guess["low"]) if guess["low"] == guess["high"] else f"{guess['low']} to {guess['high']}"
            lines.append(f"{label}: {span} (\u201c{guess['words']}\u201d)")
    if public.get("language"):
        lines.append(f"Language of the form: {public['language']}")
    if wire.get("additionalInfo"):
        lines.append(wire["additionalInfo"])
    wire["additionalInfo"] = "\n".join(lines)
    if "reporter" not in wire:
        contact = public.get("contact") or {}
        person: dict[str, Any] = {}
        if contact.get("name"):
            person["firstName"] = contact["name"]
        if contact.get("phone"):
            person["phone"] = [{"value": contact["phone"]}]
        if contact.get("email"):
            person["email"] = [{"value": contact["email"]}]
        wire["reporter"] = {"reportingPerson": person}
    return wire


def validate_document(document: bytes, root_name: str) -> None:
    """Raise IspwsError unless `document` validates (used by the exporter's tests and the CLI)."""
    parse_document(document, root_name)
