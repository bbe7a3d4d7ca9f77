"""ZIP archives: ordinary ones described, bombs (ratio, nesting, overlapping entries, entry count) refused precisely."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from tipline.media import HashOptions, ZipLimits, hash_file, inspect_zip
from tipline.media.errors import ZipBombError

from .conftest import encode, scene


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _zeros_zip(total: int, name: str = "zeros.bin") -> bytes:
    buffer = io.BytesIO()
    block = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(name, "w", force_zip64=True) as member,
    ):
        for _ in range(total // len(block)):
            member.write(block)
    return buffer.getvalue()


def test_an_ordinary_archive_is_described() -> None:
    photo = encode(scene(200, 150), "JPEG")
    data = _zip({"a.jpg": photo, "notes.txt": b"meeting at noon\n" * 20})
    result = hash_file(data, name="evidence.zip")
    assert result.ok and result.media_type == "application/zip"
    assert result.archive is not None
    assert result.archive.entries == 2
    assert result.archive.uncompressed_bytes == len(photo) + 16 * 20


def test_office_documents_are_zip_containers_without_a_type_warning() -> None:
    result = hash_file(_zip({"[Content_Types].xml": b"<Types/>"}), name="report.docx")
    assert result.ok and result.warnings == ()


def test_a_zip_bomb_by_expansion_ratio_is_refused() -> None:
    data = _zeros_zip(200 * 1024 * 1024)  # 200 MiB of zeros in a few hundred kilobytes
    assert len(data) < 1024 * 1024
    result = hash_file(data, name="archive.zip")
    assert [e.code.value for e in result.errors] == ["zip_bomb"]
    message = result.errors[0].message
    assert "209,715,200 bytes" in message and ":1 over the limit of 100:1" in message
    assert len(result.sha256) == 64 and result.size == len(data)


def test_a_nested_zip_bomb_is_refused_by_adding_up_its_layers() -> None:
    inner = _zeros_zip(20 * 1024 * 1024, "zeros.bin")
    layer = _zip({f"inner{i}.zip": inner for i in range(4)}, compression=zipfile.ZIP_STORED)
    outer = _zip({f"layer{i}.zip": layer for i in range(4)})
    # Each archive alone stays under the limits (at most 80 MiB); together they expand to 16 x 20 MiB.
    inspect_zip(layer)
    with pytest.raises(ZipBombError, match="counting 20 nested archives") as caught:
        inspect_zip(outer)
    assert "335,544,320 bytes" in str(caught.value)
    result = hash_file(outer, name="photos.zip")
    assert [e.code.value for e in result.errors] == ["zip_bomb"]


def test_overlapping_entries_are_refused() -> None:
    # A non-recursive bomb reuses one compressed body for many central-directory entries.
    data = bytearray(_zip({"a.txt": b"A" * 5000}))
    eocd = data.rindex(b"PK\x05\x06")
    central_offset = struct.unpack("<I", data[eocd + 16 : eocd + 20])[0]
    central = bytes(data[central_offset:eocd])
    duplicate = central.replace(b"a.txt", b"b.txt")
    new_central = central + duplicate
    tail = bytearray(data[eocd:])
    struct.pack_into("<HHI", tail, 8, 2, 2, len(new_central))
    forged = bytes(data[:central_offset]) + new_central + bytes(tail)
    assert zipfile.ZipFile(io.BytesIO(forged)).namelist() == ["a.txt", "b.txt"]
    result = hash_file(forged, name="x.zip")
    assert [e.code.value for e in result.errors] == ["zip_bomb"]
    assert "overlapping entries" in result.errors[0].message


def test_too_many_entries_are_refused() -> None:
    data = _zip({f"{i}.txt": b"" for i in range(30)})
    result = hash_file(data, options=HashOptions(zip_limits=ZipLimits(max_entries=20)))
    assert [e.code.value for e in result.errors] == ["zip_bomb"]
    assert "30 entries, over the limit of 20" in result.errors[0].message


def test_a_truncated_zip_is_a_precise_error() -> None:
    data = _zip({"a.txt": b"hello" * 1000})
    result = hash_file(data[: len(data) // 2], name="a.zip")
    assert [e.code.value for e in result.errors] == ["truncated"]
    assert "central directory" in result.errors[0].message
