"""Documents that use every element and every attribute of the shipped XSD, built by walking the
XSD file itself (independently of tipline's own schema code).

Each element gets a value of its type in canonical lexical form (so that a lossless round trip
gives back the same text): enumerations are cycled so that different values appear, repeatable
elements appear twice, and each branch of a choice gets its own document (or, inside a repeatable
parent, its own occurrence).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

XSD = Path(__file__).resolve().parents[2] / "src/tipline/cybertipline/cybertipline-report.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"


class Walker:
    def __init__(self) -> None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        self.root = etree.parse(str(XSD), parser).getroot()
        self.elements = {e.get("name"): e for e in self.root.findall(f"{XS}element")}
        self.complex_types = {e.get("name"): e for e in self.root.findall(f"{XS}complexType")}
        self.simple_types = {e.get("name"): e for e in self.root.findall(f"{XS}simpleType")}
        self.counter = itertools.count(1)
        self.enum_turn: dict[str, int] = {}

    # --- values ---------------------------------------------------------------------------------

    def base_and_facets(self, type_name: str) -> tuple[str, list[str], str | None]:
        if type_name.startswith("xs:"):
            return type_name[3:], [], None
        restriction = self.simple_types[type_name].find(f"{XS}restriction")
        base, _, _ = self.base_and_facets(restriction.get("base"))
        values = [e.get("value") for e in restriction.findall(f"{XS}enumeration")]
        pattern = restriction.find(f"{XS}pattern")
        return base, values, pattern.get("value") if pattern is not None else None

    def value(self, type_name: str, name: str) -> str:
        base, values, pattern = self.base_and_facets(type_name)
        if values:
            # country/state lists: skip the empty string and cycle through real values
            values = [v for v in values if v]
            turn = self.enum_turn.get(type_name, 0)
            self.enum_turn[type_name] = turn + 1
            if type_name == "incidentType":
                return values[turn % len(values)]
            return values[turn % len(values)]
        n = next(self.counter)
        if pattern == r"\+[0-9]{1,3}":
            return "+44"
        if pattern == "[0-9]+":
            return f"{100 + n}"
        if base == "boolean":
            return "true" if n % 2 else "false"
        if base in ("int", "long") and name == "port":
            return str(1000 + n)
        if base in ("int", "long"):
            return str(10 + n % 60) if "age" in name.lower() or "Age" in name else str(4_000_000 + n)
        if base == "double":
            return f"{(n % 80) + 0.25}"
        if base == "dateTime":
            return f"2026-0{1 + n % 9}-1{n % 10}T0{n % 10}:15:30Z" if n % 2 else \
                f"2026-0{1 + n % 9}-1{n % 10}T1{n % 10}:45:00-05:00"
        if base == "date":
            return f"201{n % 10}-0{1 + n % 9}-2{n % 8}"
        lowered = name.lower()
        if "ipaddress" in lowered:
            return f"198.51.100.{n % 250}"
        if "email" in lowered:
            return f"person{n}@example.org"
        if "url" in lowered:
            return f"https://www.example.com/page/{n}"
        if lowered in ("phone", "phonenumber"):
            return f"(555) 010-{1000 + n}"
        return f"synthetic {name} {n}"

    # --- elements ------------------------------------------------------------------------------

    def element_node(self, node: etree._Element) -> tuple[str, etree._Element]:
        ref = node.get("ref")
        return (ref, self.elements[ref]) if ref else (node.get("name"), node)

    def complex_of(self, source: etree._Element) -> etree._Element | None:
        type_name = source.get("type")
        if type_name and type_name in self.complex_types:
            return self.complex_types[type_name]
        return source.find(f"{XS}complexType")

    def build(self, node: etree._Element, choice_pick: dict[int, int]) -> etree._Element:
        """One occurrence of an element; `choice_pick` selects branches by choice-node id."""
        name, source = self.element_node(node)
        element = etree.Element(name)
        complex_node = self.complex_of(source)
        if complex_node is None:
            if source.get("fixed") is not None:
                return element  # presence means the fixed value
            element.text = self.value(source.get("type", "xs:string"), name)
            return element
        simple = complex_node.find(f"{XS}simpleContent")
        if simple is not None:
            extension = simple.find(f"{XS}extension")
            for attribute in extension.findall(f"{XS}attribute"):
                element.set(attribute.get("name"),
                            self.value(attribute.get("type", "xs:string"), attribute.get("name")))
            element.text = self.value(extension.get("base"), name)
            return element
        for attribute in complex_node.findall(f"{XS}attribute"):
            element.set(attribute.get("name"), self.value(attribute.get("type", "xs:string"), attribute.get("name")))
        for group in complex_node:
            if group.tag in (f"{XS}sequence", f"{XS}all", f"{XS}choice"):
                self.fill(element, group, choice_pick)
        return element

    def fill(self, element: etree._Element, group: etree._Element, choice_pick: dict[int, int]) -> None:
        if group.tag == f"{XS}choice":
            branches = [p for p in group if p.tag == f"{XS}element"]
            self.emit(element, branches[choice_pick.get(id(group), 0) % len(branches)], choice_pick)
            return
        for particle in group:
            if particle.tag == f"{XS}element":
                self.emit(element, particle, choice_pick)
            elif particle.tag in (f"{XS}sequence", f"{XS}choice"):
                self.fill(element, particle, choice_pick)

    def emit(self, parent: etree._Element, particle: etree._Element, choice_pick: dict[int, int]) -> None:
        name, source = self.element_node(particle)
        repeated = particle.get("maxOccurs", "1") not in ("0", "1")
        complex_node = self.complex_of(source)
        inner_choice = complex_node.find(f"{XS}choice") if complex_node is not None else None
        if repeated and inner_choice is not None:
            # a repeatable element whose content is a choice: one occurrence per branch
            branches = [p for p in inner_choice if p.tag == f"{XS}element"]
            for index in range(len(branches)):
                parent.append(self.build(particle, {**choice_pick, id(inner_choice): index}))
            return
        for _ in range(2 if repeated else 1):
            parent.append(self.build(particle, choice_pick))

    def choices_outside_repeats(self, root_name: str) -> list[tuple[etree._Element, int]]:
        """Choice groups that need a document per branch (those not inside a repeatable element
        whose own content is the choice)."""
        found = []
        for choice in self.root.iter(f"{XS}choice"):
            owner = choice.getparent()
            holder = owner.getparent() if owner is not None else None
            if holder is not None and holder.tag == f"{XS}element" and holder.get("maxOccurs") == "unbounded":
                continue
            if holder is not None and holder.tag == f"{XS}element" and holder.get("name") in self.elements:
                # a global element: repeated when referenced with maxOccurs
                refs = [e for e in self.root.iter(f"{XS}element") if e.get("ref") == holder.get("name")]
                if refs and all(r.get("maxOccurs") == "unbounded" for r in refs):
                    continue
            found.append((choice, len([p for p in choice if p.tag == f"{XS}element"])))
        return found

    def documents(self, root_name: str) -> Iterator[etree._Element]:
        """Enough documents that every branch of every choice appears in one of them."""
        choices = self.choices_outside_repeats(root_name)
        widest = max((count for _, count in choices), default=1)
        for turn in range(widest):
            picks = {id(choice): turn % count for choice, count in choices}
            yield self.build(self.elements[root_name], picks)


def element_and_attribute_names(root_name: str) -> set[str]:
    """Every element path segment and attribute reachable from a root, as 'elem' and 'elem@attr'
    names qualified by their parent element (from the XSD)."""
    walker = Walker()
    names: set[str] = set()

    def visit(node: etree._Element, parent: str, seen: tuple[str, ...]) -> None:
        name, source = walker.element_node(node)
        key = f"{parent}/{name}"
        names.add(key)
        complex_node = walker.complex_of(source)
        if complex_node is None or len(seen) > 12:
            return
        for attribute in complex_node.iter(f"{XS}attribute"):
            if _owner_complex(attribute) is complex_node:
                names.add(f"{key}@{attribute.get('name')}")
        for particle in complex_node.iter(f"{XS}element"):
            if particle.getparent() is not None and _owner_complex(particle) is complex_node:
                visit(particle, name, (*seen, name))

    visit(walker.elements[root_name], "", ())
    return names


def _owner_complex(particle: etree._Element) -> etree._Element | None:
    node = particle.getparent()
    while node is not None and node.tag != f"{XS}complexType":
        node = node.getparent()
    return node


def names_used(documents: list[etree._Element]) -> set[str]:
    used: set[str] = set()
    for document in documents:
        for element in document.iter():
            parent = element.getparent()
            key = f"{parent.tag if parent is not None else ''}/{element.tag}"
            used.add(key)
            for attribute in element.attrib:
                used.add(f"{key}@{attribute}")
    return used


def to_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)
