"""The one multipart reader (web/multipart.py): parts reach the sink their route chose, limits are
refused with a plain message, and a route's own refusal passes through unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tipline.web.multipart import (
    DEFAULT_MAX_PARTS,
    Buffer,
    MultipartError,
    MultipartReader,
    Part,
    PartSink,
    boundary_of,
)

BOUNDARY = b"synthetic-boundary"


def body(*parts: tuple[bytes, bytes], end: bool = True) -> bytes:
    """A multipart body of (headers, content) parts."""
    out = b"".join(b"--" + BOUNDARY + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n" for headers, content in parts)
    return out + (b"--" + BOUNDARY + b"--\r\n" if end else b"")


def field(name: str, value: bytes) -> tuple[bytes, bytes]:
    return f'Content-Disposition: form-data; name="{name}"'.encode(), value


def file(name: str, file_name: bytes, content: bytes) -> tuple[bytes, bytes]:
    return (f'Content-Disposition: form-data; name="{name}"; filename="'.encode() + file_name
            + b'"\r\nContent-Type: image/png', content)


class Collect:
    def __init__(self, limit: int = 1024) -> None:
        self.parts: list[Part] = []
        self.values: dict[str, bytes] = {}
        self.limit = limit

    def __call__(self, part: Part) -> PartSink | None:
        self.parts.append(part)
        if part.name == "skipped":
            return None
        return Buffer(self.limit, on_close=lambda value: self.values.__setitem__(part.name, bytes(value.data)))


def feed(data: bytes, on_part: Callable[[Part], PartSink | None], chunk: int = 7, *, strict: bool = True,
         max_parts: int | None = DEFAULT_MAX_PARTS) -> MultipartReader:
    reader = MultipartReader(BOUNDARY, on_part, strict=strict, max_parts=max_parts)
    for start in range(0, len(data), chunk):
        reader.write(data[start:start + chunk])
    reader.finish()
    return reader


def test_fields_and_files_reach_their_sinks_whatever_the_chunking() -> None:
    data = body(field("id", b"42"), file("file", "\u0635\u0648\u0631\u0629.png".encode(), b"\x89PNG synthetic"),
                field("skipped", b"not read"))
    for chunk in (1, 5, 64, len(data)):
        collect = Collect()
        feed(data, collect, chunk)
        assert collect.values == {"id": b"42", "file": b"\x89PNG synthetic"}
        assert [(p.index, p.name, p.file_name, p.content_type) for p in collect.parts] == [
            (1, "id", None, None), (2, "file", "\u0635\u0648\u0631\u0629.png", "image/png"), (3, "skipped", None, None)]
        assert collect.parts[1].is_file and not collect.parts[0].is_file


def test_a_buffer_refuses_or_truncates_past_its_limit() -> None:
    class TooLong(Exception):
        pass

    refusing = Buffer(4, refuse=TooLong)
    refusing.write(b"1234")
    with pytest.raises(TooLong):
        refusing.write(b"5")
    lenient = Buffer(4)
    lenient.write(b"123")
    lenient.write(b"456")
    assert (bytes(lenient.data), lenient.over) == (b"1234", True)


def test_a_body_without_its_closing_boundary_is_refused_when_strict_and_read_when_lenient() -> None:
    data = body(field("id", b"42"), field("cut", b"short"), end=False)
    with pytest.raises(MultipartError, match="ended before its closing boundary") as refused:
        feed(data, Collect())
    assert refused.value.kind == "unfinished"
    collect = Collect()
    feed(data, collect, strict=False)
    assert collect.values == {"id": b"42"}  # the part that never ended is not passed on as complete


def test_a_part_without_a_form_data_name_is_refused_when_strict() -> None:
    data = body((b"Content-Disposition: attachment", b"x"))
    with pytest.raises(MultipartError, match="lacks Content-Disposition: form-data; name="):
        feed(data, Collect())
    collect = Collect()
    feed(data, collect, strict=False)
    assert collect.parts[0].name == ""


def test_too_many_parts_and_overlong_headers_are_refused_precisely() -> None:
    with pytest.raises(MultipartError, match="more than 3 parts") as parts:
        feed(body(*(field(f"f{n}", b"x") for n in range(4))), Collect(), max_parts=3)
    assert parts.value.kind == "parts"
    with pytest.raises(MultipartError, match="Maximum header size exceeded"):  # python-multipart's own limit
        feed(body(field("n" * 5000, b"x")), Collect())


def test_garbage_is_malformed_and_a_routes_own_refusal_passes_through_unchanged() -> None:
    with pytest.raises(MultipartError, match="malformed"):
        feed(b"garbage that is not multipart at all\r\n\r\n", Collect())

    class Refused(Exception):
        pass

    def refuse(part: Part) -> PartSink | None:
        raise Refused(part.name)

    with pytest.raises(Refused, match="photo"):
        feed(body(field("photo", b"x")), refuse)


@pytest.mark.parametrize(("header", "boundary"), [
    ("multipart/form-data; boundary=abc", b"abc"),
    ('Multipart/Form-Data; boundary="a b"', b"a b"),
    ("multipart/form-data", None),
    ("application/json", None),
    (None, None),
])
def test_the_boundary_is_read_from_the_content_type(header: str | None, boundary: bytes | None) -> None:
    assert boundary_of(header) == boundary
