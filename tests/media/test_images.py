"""Images: every format and Pillow mode accepted, EXIF orientation applied, bad images refused precisely."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from tipline.media import HashOptions, decode_for_hashing, hash_file, pdq_distance, pdq_from_image
from tipline.media.errors import DecompressionBombError, MediaError
from tipline.media.images import HEIF_SUPPORTED

from .conftest import encode, scene

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    return scene(320, 240, seed=5)


@pytest.fixture(scope="module")
def picture_pdq(picture: Image.Image) -> str:
    return pdq_from_image(encode(picture, "PNG")).hex


FORMATS = [
    ("JPEG", {"quality": 90}, "image/jpeg"),
    ("PNG", {}, "image/png"),
    ("GIF", {}, "image/gif"),
    ("WEBP", {"quality": 90}, "image/webp"),
    ("WEBP", {"lossless": True}, "image/webp"),
    ("BMP", {}, "image/bmp"),
    ("TIFF", {}, "image/tiff"),
    ("TIFF", {"compression": "tiff_lzw"}, "image/tiff"),
]


@pytest.mark.parametrize(("fmt", "params", "media_type"), FORMATS, ids=lambda v: str(v))
def test_each_image_format_is_hashed_and_matches_the_lossless_original(
    picture: Image.Image, picture_pdq: str, fmt: str, params: dict, media_type: str
) -> None:
    data = encode(picture, fmt, **params)
    result = hash_file(data)
    assert result.ok, result.errors
    assert result.media_type == media_type
    assert (result.width, result.height) == (320, 240)
    assert result.pdq is not None and result.pdq_quality is not None and result.pdq_quality >= 80
    assert pdq_distance(result.pdq, picture_pdq) <= 16


def test_heic_via_pillow_heif(picture: Image.Image, picture_pdq: str) -> None:
    assert HEIF_SUPPORTED
    try:
        data = encode(picture, "HEIF", quality=90)
    except (KeyError, OSError, ValueError) as exc:  # pragma: no cover - depends on the libheif build
        pytest.skip(f"this pillow-heif build cannot write HEIC ({exc}); reading is still registered")
    assert data[4:12] == b"ftypheic"
    result = hash_file(data, name="IMG_0001.HEIC")
    assert result.ok and not result.warnings, (result.errors, result.warnings)
    assert result.media_type == "image/heic"
    assert (result.width, result.height) == (320, 240)
    assert result.pdq is not None and pdq_distance(result.pdq, picture_pdq) <= 16


def test_heic_orientation_is_applied() -> None:
    displayed = scene(400, 240, seed=21)
    exif = Image.Exif()
    exif[0x0112] = 6
    try:
        data = encode(displayed.transpose(Image.Transpose.ROTATE_90), "HEIF", quality=90, exif=exif.tobytes())
    except (KeyError, OSError, ValueError) as exc:  # pragma: no cover
        pytest.skip(f"this pillow-heif build cannot write HEIC ({exc})")
    result = hash_file(data)
    assert (result.width, result.height) == (400, 240)
    assert result.pdq is not None and pdq_distance(result.pdq, pdq_from_image(displayed).hex) <= 16


def test_avif_when_pillow_supports_it(picture: Image.Image, picture_pdq: str) -> None:
    from PIL import features

    if not features.check("avif"):  # pragma: no cover
        pytest.skip("this Pillow has no AVIF support")
    result = hash_file(encode(picture, "AVIF", quality=90))
    assert result.ok and result.media_type == "image/avif"
    assert result.pdq is not None and pdq_distance(result.pdq, picture_pdq) <= 16


def test_animated_gif_hashes_the_first_frame_and_says_so(picture: Image.Image, picture_pdq: str) -> None:
    frames = [picture, scene(320, 240, seed=9)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    result = hash_file(buffer.getvalue())
    assert result.ok
    assert result.pdq is not None and pdq_distance(result.pdq, picture_pdq) <= 16
    assert [w.code.value for w in result.warnings] == ["multi_frame"]
    assert "2 frames" in result.warnings[0].message


# The inverse of what each EXIF orientation asks the viewer to do: how a camera stores the pixels.
STORED_AS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_exif_orientation_is_applied(orientation: int) -> None:
    displayed = scene(400, 240, seed=21)
    upright = pdq_from_image(encode(displayed, "PNG")).hex
    stored = displayed.transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored, "JPEG", quality=92, exif=exif)
    result = hash_file(data)
    assert result.ok
    assert (result.width, result.height) == (400, 240)  # as displayed
    assert result.pdq is not None and pdq_distance(result.pdq, upright) <= 16
    # Without applying the tag, the hash would be the stored (rotated or mirrored) picture's.
    raw = pdq_from_image(encode(stored, "PNG")).hex
    assert pdq_distance(result.pdq, raw) > 31


def test_large_jpeg_is_downscaled_while_decoding() -> None:
    big = scene(2400, 1600, seed=4)
    decoded = decode_for_hashing(encode(big, "JPEG", quality=85))
    assert (decoded.width, decoded.height) == (2400, 1600)
    assert max(decoded.pixels.shape[:2]) == 512
    full = pdq_from_image(encode(big, "JPEG", quality=85), max_dimension=0)
    assert pdq_distance(pdq_from_image(decoded).hex, full.hex) <= 16


MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV",
         "I", "I;16", "I;16L", "I;16B", "I;16N", "F"]  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
def test_every_pillow_mode_is_accepted(picture: Image.Image, picture_pdq: str, mode: str) -> None:
    image = picture.convert(mode)
    assert image.mode == mode
    pdq = pdq_from_image(image)
    assert pdq.quality >= 50
    if mode != "1":  # one bit per pixel dithers the picture; the others keep it
        assert pdq_distance(pdq.hex, picture_pdq) <= 16, mode


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("1", "PNG"), ("I;16", "PNG"), ("RGBA", "PNG"), ("CMYK", "JPEG"),
     ("CMYK", "TIFF"), ("I", "TIFF"), ("F", "TIFF"), ("I;16", "TIFF"), ("LA", "WEBP"), ("P", "GIF"), ("L", "BMP")],
)  # fmt: skip
def test_every_mode_a_format_can_store_is_accepted_from_a_file(
    picture: Image.Image, picture_pdq: str, mode: str, fmt: str
) -> None:
    image = picture.convert("L").convert(mode) if mode in ("I", "F", "I;16") else picture.convert(mode)
    result = hash_file(encode(image, fmt))
    assert result.ok, result.errors
    assert result.pdq is not None
    if mode != "1":
        assert pdq_distance(result.pdq, picture_pdq) <= 16, (mode, fmt)


def test_sixteen_bit_values_are_scaled_not_clipped() -> None:
    ramp = np.asarray(scene(256, 256, seed=8).convert("L"), dtype=np.uint16) * 257  # full 0..65535 range
    image = Image.fromarray(ramp)
    assert image.mode == "I;16"
    eight_bit = pdq_from_image(Image.fromarray((ramp // 257).astype(np.uint8), "L"))
    sixteen = hash_file(encode(image, "PNG"))
    assert sixteen.ok and sixteen.pdq is not None
    assert pdq_distance(sixteen.pdq, eight_bit.hex) <= 8
    assert sixteen.pdq_quality == pytest.approx(eight_bit.quality, abs=5)


# ---------------------------------------------------------------- bad input


def test_zero_byte_file_is_an_error_with_the_empty_hashes() -> None:
    result = hash_file(b"", name="photo.jpg")
    assert [e.code.value for e in result.errors] == ["empty_file"]
    assert result.errors[0].message.startswith("the file is empty (0 bytes)")
    assert (result.size, result.md5, result.sha1, result.sha256) == (0, EMPTY_MD5, EMPTY_SHA1, EMPTY_SHA256)
    assert result.pdq is None
    with pytest.raises(MediaError, match="empty"):
        pdq_from_image(b"")


def test_truncated_jpeg_is_a_precise_error_with_crypto_hashes_kept(picture: Image.Image) -> None:
    data = encode(picture, "JPEG", quality=90)
    cut = data[: len(data) * 6 // 10]
    result = hash_file(cut, name="photo.jpg")
    assert [e.code.value for e in result.errors] == ["truncated"]
    assert "truncated" in result.errors[0].message and "JPEG" in result.errors[0].message
    assert result.pdq is None
    assert result.size == len(cut) and len(result.sha256) == 64 and result.media_type == "image/jpeg"


def test_truncated_png_is_a_precise_error(picture: Image.Image) -> None:
    data = encode(picture, "PNG")
    result = hash_file(data[: len(data) // 2])
    assert [e.code.value for e in result.errors] == ["truncated"]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _huge_png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def test_png_declaring_50_gigapixels_is_refused_before_decoding() -> None:
    data = _huge_png(250_000, 200_000)  # 50,000,000,000 pixels declared in a 100-byte file
    assert len(data) < 200
    tracemalloc.start()
    try:
        result = hash_file(data, name="bomb.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, "nothing the size of the image was allocated"
    assert [e.code.value for e in result.errors] == ["decompression_bomb"]
    message = result.errors[0].message
    assert "250000 x 200000" in message and "50,000,000,000 pixels" in message and "limit" in message
    assert result.media_type == "image/png" and len(result.sha256) == 64


def test_pixel_limit_is_configurable(picture: Image.Image) -> None:
    data = encode(picture, "PNG")
    result = hash_file(data, options=HashOptions(max_image_pixels=320 * 240 - 1))
    assert [e.code.value for e in result.errors] == ["decompression_bomb"]
    assert "320 x 240 = 76,800 pixels, over the limit of 76,799" in result.errors[0].message
    assert hash_file(data, options=HashOptions(max_image_pixels=320 * 240)).ok


def _huge_tiff(width: int, height: int) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 1)]  # fmt: skip
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += (
            struct.pack("<HHII", tag, kind, count, value)
            if kind == 4
            else struct.pack("<HHIHH", tag, kind, count, value, 0)
        )
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 9) + b"\x00" + ifd


def test_pillows_own_decompression_bomb_error_is_mapped() -> None:
    # TIFF sizes are read by Pillow, which refuses this header itself: the refusal is reported the same way.
    result = hash_file(_huge_tiff(100_000, 100_000), name="scan.tif")
    assert [e.code.value for e in result.errors] == ["decompression_bomb"]
    assert "10,000,000,000 pixels" in result.errors[0].message
    with pytest.raises(DecompressionBombError):
        pdq_from_image(_huge_tiff(100_000, 100_000))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_oversized_tiff_under_pillows_limit_is_refused_by_tiplines_limit() -> None:
    result = hash_file(_huge_tiff(10_000, 10_000), name="scan.tif")
    assert [e.code.value for e in result.errors] == ["decompression_bomb"]
    assert "10000 x 10000 = 100,000,000 pixels" in result.errors[0].message


def test_image_with_a_damaged_header_is_a_precise_error() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDX" + bytes(200)
    result = hash_file(data, name="x.png")
    assert [e.code.value for e in result.errors] == ["corrupt"]
    assert "PNG image" in result.errors[0].message and "damaged" in result.errors[0].message


def test_jpeg_with_garbage_data_is_a_precise_error(picture: Image.Image) -> None:
    data = bytearray(encode(picture, "JPEG", quality=90))
    start = data.index(b"\xff\xda") + 20  # inside the entropy-coded scan
    data[start:] = bytes(len(data) - start - 2) + b"\xff\xd9"
    result = hash_file(bytes(data))
    # libjpeg decodes zeros as flat blocks: either an error, or a valid (if flat) hash — never an exception.
    assert result.media_type == "image/jpeg"
    assert result.ok or result.errors[0].code.value in {"corrupt", "truncated"}


def test_tiny_images_are_refused_with_the_pdq_minimum() -> None:
    result = hash_file(encode(Image.new("RGB", (4, 300)), "PNG"))
    assert [e.code.value for e in result.errors] == ["too_small"]
    assert "4 x 300" in result.errors[0].message


def test_a_file_lying_about_its_type_is_handled_by_content(picture: Image.Image, picture_pdq: str) -> None:
    png = encode(picture, "PNG")
    result = hash_file(png, name="holiday.jpg")
    assert result.ok
    assert result.media_type == "image/png" and result.declared_type == "image/jpeg"
    assert [w.code.value for w in result.warnings] == ["type_mismatch"]
    assert "'.jpg'" in result.warnings[0].message and "PNG image (image/png)" in result.warnings[0].message
    assert result.pdq is not None and pdq_distance(result.pdq, picture_pdq) == 0


def test_a_text_file_named_like_an_image_is_not_decoded_as_one() -> None:
    result = hash_file(b"hello, this is not a picture\n", name="photo.jpeg")
    assert result.media_type == "text/plain" and result.kind.value == "text"
    assert result.pdq is None and result.ok
    assert [w.code.value for w in result.warnings] == ["type_mismatch"]
    assert "plain text (text/plain)" in result.warnings[0].message


def test_matching_names_raise_no_warning(picture: Image.Image) -> None:
    assert hash_file(encode(picture, "JPEG"), name="a.JPG").warnings == ()
    assert hash_file(encode(picture, "PNG"), name="a.png").warnings == ()
