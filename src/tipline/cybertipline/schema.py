"""The shipped CyberTipline XSD, loaded once: the lxml validator, and the element tree it describes
(names, order, repetition, attributes and value types) that drives the XML <-> wire mapping."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

SCHEMA_PATH = Path(__file__).parent / "cybertipline-report.xsd"
"""The shipped XSD (package data)."""
XS = "{http://www.w3.org/2001/XMLSchema}"


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    type: str  # the built-in XSD type it derives from: "string", "boolean", "dateTime" ...
    required: bool = False


@dataclass
class ElementSpec:
    """One element of the schema, as the mapping needs it.

    kind: "simple" (text only), "simple_content" (text plus attributes) or "complex" (children
    and/or attributes). `text_type` is the built-in type of the text for the first two kinds.
    """

    name: str
    kind: str = "complex"
    text_type: str = "string"
    fixed: str | None = None
    repeated: bool = False
    required: bool = False
    children: list[ElementSpec] = field(default_factory=list)
    attributes: list[AttributeSpec] = field(default_factory=list)
    unordered: bool = False  # xs:all
    enumeration: tuple[str, ...] = ()

    def child(self, name: str) -> ElementSpec | None:
        for candidate in self.children:
            if candidate.name == name:
                return candidate
        return None

    def attribute(self, name: str) -> AttributeSpec | None:
        for candidate in self.attributes:
            if candidate.name == name:
                return candidate
        return None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@cache
def schema_document() -> etree._ElementTree:
    return etree.parse(str(SCHEMA_PATH), _parser())


@cache
def validator() -> etree.XMLSchema:
    """The lxml validator for the shipped XSD (built once per process)."""
    return etree.XMLSchema(schema_document())


def schema_bytes() -> bytes:
    return SCHEMA_PATH.read_bytes()


class _Walker:
    def __init__(self, root: etree._Element) -> None:
        self.elements = {e.get("name"): e for e in root.findall(f"{XS}element")}
        self.complex_types = {e.get("name"): e for e in root.findall(f"{XS}complexType")}
        self.simple_types = {e.get("name"): e for e in root.findall(f"{XS}simpleType")}

    def builtin_of_simple(self, type_name: str) -> tuple[str, tuple[str, ...]]:
        """The built-in base of a named or built-in simple type, and its enumeration if any."""
        if type_name.startswith("xs:"):
            return type_name[3:], ()
        node = self.simple_types[type_name]
        restriction = node.find(f"{XS}restriction")
        assert restriction is not None, type_name
        base, _ = self.builtin_of_simple(restriction.get("base"))
        values = tuple(e.get("value") for e in restriction.findall(f"{XS}enumeration"))
        return base, values

    def element(self, node: etree._Element, depth: int = 0) -> ElementSpec:
        ref = node.get("ref")
        source = self.elements[ref] if ref else node
        spec = ElementSpec(name=ref or node.get("name"))
        spec.repeated = node.get("maxOccurs", "1") not in ("0", "1")
        spec.required = node.get("minOccurs", "1") != "0"
        spec.fixed = source.get("fixed")
        type_name = source.get("type")
        if type_name is not None and (type_name.startswith("xs:") or type_name in self.simple_types):
            spec.kind = "simple"
            spec.text_type, spec.enumeration = self.builtin_of_simple(type_name)
            return spec
        complex_node = self.complex_types[type_name] if type_name else source.find(f"{XS}complexType")
        if complex_node is None:  # an element declared without a type is xs:anyType; the schema has none
            spec.kind = "simple"
            return spec
        self.complex(complex_node, spec, depth)
        return spec

    def complex(self, node: etree._Element, spec: ElementSpec, depth: int) -> None:
        simple_content = node.find(f"{XS}simpleContent")
        if simple_content is not None:
            extension = simple_content.find(f"{XS}extension")
            assert extension is not None
            spec.text_type, spec.enumeration = self.builtin_of_simple(extension.get("base"))
            spec.attributes = [self.attribute(a) for a in extension.findall(f"{XS}attribute")]
            spec.kind = "simple_content" if spec.attributes else "simple"
            return
        spec.kind = "complex"
        spec.attributes = [self.attribute(a) for a in node.findall(f"{XS}attribute")]
        for group in node:
            if group.tag in (f"{XS}sequence", f"{XS}all", f"{XS}choice"):
                spec.unordered = group.tag == f"{XS}all"
                self.particles(group, spec, depth)

    def particles(self, group: etree._Element, spec: ElementSpec, depth: int) -> None:
        for particle in group:
            if particle.tag == f"{XS}element":
                spec.children.append(self.element(particle, depth + 1))
            elif particle.tag in (f"{XS}sequence", f"{XS}choice"):
                self.particles(particle, spec, depth)

    def attribute(self, node: etree._Element) -> AttributeSpec:
        base, _ = self.builtin_of_simple(node.get("type", "xs:string"))
        return AttributeSpec(node.get("name"), base, node.get("use") == "required")


@cache
def root_spec(name: str) -> ElementSpec:
    """The element tree of a root element of the schema ("report", "fileDetails", ...)."""
    walker = _Walker(schema_document().getroot())
    return walker.element(walker.elements[name])
