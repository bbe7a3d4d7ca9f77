"""A minimal MaxMind DB writer for tests: IPv6 tree (IPv4 under ::/96), 24-bit records, the data
types GeoIP2 City records use. Written from the MaxMind DB format specification, version 2.0."""

from __future__ import annotations

import ipaddress
import struct
import time
from pathlib import Path
from typing import Any

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
DATA_SEPARATOR = b"\x00" * 16


def _control(type_number: int, size: int) -> bytes:
    extended = type_number > 7
    first_type = 0 if extended else type_number
    if size < 29:
        head, tail = size, b""
    elif size < 29 + 256:
        head, tail = 29, bytes([size - 29])
    elif size < 285 + 65536:
        head, tail = 30, (size - 285).to_bytes(2, "big")
    else:
        head, tail = 31, (size - 65821).to_bytes(3, "big")
    out = bytes([(first_type << 5) | head])
    if extended:
        out += bytes([type_number - 7])
    return out + tail


class Typed:
    """An unsigned integer of a given MaxMind type (5 uint16, 6 uint32, 9 uint64), as metadata requires."""

    def __init__(self, value: int, type_number: int) -> None:
        self.value, self.type_number = value, type_number


def encode(value: Any) -> bytes:
    if isinstance(value, Typed):
        raw = value.value.to_bytes((value.value.bit_length() + 7) // 8, "big") if value.value else b""
        return _control(value.type_number, len(raw)) + raw
    if isinstance(value, bool):
        return _control(14, int(value))
    if isinstance(value, str):
        raw = value.encode()
        return _control(2, len(raw)) + raw
    if isinstance(value, bytes):
        return _control(4, len(value)) + value
    if isinstance(value, float):
        return _control(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        if value < 0:
            return _control(8, 4) + struct.pack(">i", value)
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        type_number = 5 if value < 1 << 16 else 6 if value < 1 << 32 else 9
        return _control(type_number, len(raw)) + raw
    if isinstance(value, dict):
        return _control(7, len(value)) + b"".join(encode(str(k)) + encode(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return _control(11, len(value)) + b"".join(encode(v) for v in value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _bits(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[int]:
    if network.version == 4:
        value, length = int(network.network_address), 96 + network.prefixlen
        total = 128
    else:
        value, length, total = int(network.network_address), network.prefixlen, 128
    return [(value >> (total - 1 - i)) & 1 for i in range(length)]


def write_mmdb(path: Path, records: dict[str, dict[str, Any]], database_type: str = "Test-City") -> Path:
    """Write `records` ({"203.0.113.0/24": {...GeoIP2 City record...}}) as a MaxMind DB file."""
    data = b""
    offsets = []
    for record in records.values():
        offsets.append(len(data))
        data += encode(record)
    nodes: list[list[Any]] = [[None, None]]
    for (network_text, _), offset in zip(records.items(), offsets, strict=True):
        bits = _bits(ipaddress.ip_network(network_text))
        node = 0
        for depth, bit in enumerate(bits):
            if depth == len(bits) - 1:
                nodes[node][bit] = ("data", offset)
                break
            child = nodes[node][bit]
            if child is None:
                nodes.append([None, None])
                child = ("node", len(nodes) - 1)
                nodes[node][bit] = child
            assert child[0] == "node", "overlapping networks are not supported by this test writer"
            node = child[1]
    count = len(nodes)

    def record_value(entry: Any) -> int:
        if entry is None:
            return count
        kind, number = entry
        return number if kind == "node" else count + 16 + number

    tree = b"".join(record_value(left).to_bytes(3, "big") + record_value(right).to_bytes(3, "big")
                    for left, right in nodes)
    metadata = {
        "node_count": Typed(count, 6), "record_size": Typed(24, 5), "ip_version": Typed(6, 5),
        "database_type": database_type, "languages": ["en"], "binary_format_major_version": Typed(2, 5),
        "binary_format_minor_version": Typed(0, 5), "build_epoch": Typed(int(time.time()), 9),
        "description": {"en": "tipline test database"},
    }
    path.write_bytes(tree + DATA_SEPARATOR + data + METADATA_MARKER + encode(metadata))
    return path


def city_record(country: str, country_name: str, region_code: str | None = None, region_name: str | None = None,
                city: str | None = None, radius: int = 20) -> dict[str, Any]:
    """A record shaped like GeoIP2 City's."""
    record: dict[str, Any] = {"country": {"iso_code": country, "names": {"en": country_name}},
                              "location": {"accuracy_radius": radius}}
    if region_code:
        record["subdivisions"] = [{"iso_code": region_code, "names": {"en": region_name or region_code}}]
    if city:
        record["city"] = {"names": {"en": city}}
    return record
