"""Content sniffing: the real type from magic bytes whatever the name says, and header dimensions without decoding."""

from __future__ import annotations

import io
import zipfile

import pytest

from tipline.media import declared_media_type, sniff_media_type
from tipline.media.sniffing import header_dimensions, type_discrepancy

from .conftest import encode, make_video, scene


@pytest.fixture(scope="module")
def picture():  # noqa: ANN201
    return scene(120, 90, seed=2)


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp"),
     ("BMP", "image/bmp"), ("TIFF", "image/tiff"), ("HEIF", "image/heic"), ("AVIF", "image/avif"),
     ("ICO", "image/x-icon"), ("PDF", "application/pdf")],
)  # fmt: skip
def test_images_written_by_pillow_are_recognised(picture, fmt: str, mime: str) -> None:  # noqa: ANN001
    data = encode(picture, fmt)
    assert sniff_media_type(data[:8192]).mime == mime


@pytest.mark.parametrize(
    ("container", "codec", "mime"),
    [("mp4", "libx264", "video/mp4"), ("mov", "libx264", "video/quicktime"), ("webm", "libvpx-vp9", "video/webm"),
     ("matroska", "libx264", "video/x-matroska"), ("avi", "mpeg4", "video/x-msvideo")],
)  # fmt: skip
def test_videos_are_recognised(container: str, codec: str, mime: str) -> None:
    data = make_video(container, codec, seconds=0.5)
    assert sniff_media_type(data[:8192]).mime == mime


def test_other_kinds() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    cases = {
        buffer.getvalue(): "application/zip",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n": "application/pdf",
        b"\x1f\x8b\x08\x00" + bytes(20): "application/gzip",
        b"7z\xbc\xaf\x27\x1c" + bytes(20): "application/x-7z-compressed",
        b"Rar!\x1a\x07\x01\x00" + bytes(20): "application/vnd.rar",
        b"\x7fELF\x02\x01\x01" + bytes(20): "application/x-elf",
        b"MZ\x90\x00" + bytes(60): "application/vnd.microsoft.portable-executable",
        b"RIFF\x24\x00\x00\x00WAVEfmt ": "audio/wav",
        b"ID3\x04\x00" + bytes(20): "audio/mpeg",
        b"OggS\x00\x02" + bytes(20): "audio/ogg",
        "Bonjour, ceci est un texte accentué.\n".encode(): "text/plain",
        b"<!DOCTYPE html><html><body>hi</body></html>": "text/html",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>': "image/svg+xml",
        b"\x00\x01\x02\x03\x04\x05\xfe\xfd" * 10: "application/octet-stream",
        b"": "application/x-empty",
    }
    for data, mime in cases.items():
        assert sniff_media_type(data, complete=True).mime == mime, data[:20]


def test_a_multibyte_character_cut_by_the_window_is_still_text() -> None:
    text = ("é" * 5000).encode()
    assert sniff_media_type(text[:8191]).mime == "text/plain"


def test_declared_types_and_families() -> None:
    assert declared_media_type("IMG_0001.JPG").mime == "image/jpeg"
    assert declared_media_type("C:\\Users\\x\\clip.MOV").mime == "video/quicktime"
    assert declared_media_type("notes") is None and declared_media_type(None) is None
    mp4 = sniff_media_type(make_video("mp4", "libx264", seconds=0.5)[:8192])
    assert type_discrepancy("clip.mov", mp4) is None  # same ISO container family
    assert type_discrepancy("clip.m4v", mp4) is None
    assert type_discrepancy("unknown.xyz", mp4) is None
    message = type_discrepancy("clip.avi", mp4)
    assert message is not None and "AVI video (video/x-msvideo)" in message and "MP4 video (video/mp4)" in message


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "JPEG", "WEBP"])
def test_header_dimensions_without_decoding(fmt: str) -> None:
    data = encode(scene(123, 45, seed=1), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    mime = sniff_media_type(data[:8192])
    assert header_dimensions(io.BytesIO(data), mime) == (123, 45)


def test_jpeg_dimensions_after_a_large_exif_block() -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = "x" * 60000  # ImageDescription: a 60 kB APP1 segment before the frame header
    data = encode(scene(99, 77), "JPEG", exif=exif)
    assert header_dimensions(io.BytesIO(data), sniff_media_type(data[:8192])) == (99, 77)
