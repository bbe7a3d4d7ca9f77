"""Safe image decoding with Pillow and pillow-heif: pixel limits before decoding, EXIF orientation, any mode to RGB."""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from tipline.media.errors import (
    CorruptFileError,
    DecompressionBombError,
    EmptyFileError,
    ImageTooSmallError,
    MediaError,
    TruncatedFileError,
    UnsupportedFormatError,
)
from tipline.media.sniffing import MediaType, header_dimensions, sniff_stream
from tipline.media.streams import BorrowedStream

try:  # HEIC/HEIF through libheif; registering adds an opener to Pillow and changes nothing else.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    HEIF_SUPPORTED = False

DEFAULT_MAX_IMAGE_PIXELS = 89_478_485
"""Pillow's own default limit (about 9,500 x 9,500): larger images are refused as decompression bombs.

A limit above twice PIL.Image.MAX_IMAGE_PIXELS also needs that Pillow setting raised, since Pillow
refuses such images itself when it reads the header (tipline reports that refusal the same way).
"""

MIN_HASHABLE_DIMENSION = 5
"""PDQ's minimum: smaller images carry too little information to hash."""

_ORIENTATION_TAG = 0x0112


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """An image decoded for hashing: RGB pixels (possibly downscaled) and what the file declared."""

    pixels: np.ndarray  # height x width x 3, uint8, C-contiguous
    width: int  # full size as displayed (after EXIF orientation)
    height: int
    format: str  # Pillow's format name: JPEG, PNG, HEIF, ...
    mode: str  # the Pillow mode the file decoded to, before conversion to RGB
    orientation: int  # the EXIF orientation that was applied (1 = none)
    frames: int  # frames in the file (animated GIF/WebP/PNG, multi-page TIFF); the first is hashed


def _check_pixels(width: int, height: int, limit: int, where: str) -> None:
    if width <= 0 or height <= 0:
        raise CorruptFileError(f"the {where} declares an empty image ({width} x {height} pixels)")
    pixels = width * height
    if pixels > limit:
        raise DecompressionBombError(
            f"the {where} declares {width} x {height} = {pixels:,} pixels, over the limit of "
            f"{limit:,} pixels; refused before decoding (a possible decompression bomb)"
        )


_PILLOW_BOMB = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+) pixels")


def _bomb_from_pillow(exc: Exception) -> DecompressionBombError:
    match = _PILLOW_BOMB.search(str(exc))
    if match:
        declared, limit = (int(g) for g in match.groups())
        return DecompressionBombError(
            f"the image header declares {declared:,} pixels, over Pillow's limit of {limit:,} pixels; "
            "refused before decoding (a possible decompression bomb)"
        )
    return DecompressionBombError(f"refused before decoding as a possible decompression bomb: {exc}")


def _decode_error(exc: BaseException, label: str) -> MediaError:
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, EOFError) or "truncated" in lowered or "premature end" in lowered:
        detail = f" ({text})" if text else ""
        return TruncatedFileError(f"the {label} ends before its image data does: the file is truncated{detail}")
    return CorruptFileError(f"the {label} could not be decoded: {text or type(exc).__name__}")


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB; alpha is dropped as Meta's reference hashers drop it."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I", "F") or mode.startswith("I;16"):
        return Image.fromarray(_scale_to_8bit(np.asarray(image)), "L").convert("RGB")
    if mode in ("RGBA", "RGBX", "RGBa"):
        return image.convert("RGB") if mode != "RGBa" else image.convert("RGBA").convert("RGB")
    if mode in ("LA", "La", "PA"):
        base = image.getchannel(0) if mode != "PA" else image.convert("RGBA")
        return base.convert("RGB")
    try:
        return image.convert("RGB")
    except (ValueError, OSError):
        # Modes Pillow cannot convert directly (e.g. LAB): the first band carries lightness.
        return image.getchannel(0).convert("L").convert("RGB")


def _scale_to_8bit(array: np.ndarray) -> np.ndarray:
    """32-bit integer, 16-bit and float pixels to 0..255.

    PDQ compares DCT coefficients against their median, so a linear rescale keeps the hash;
    values already within 0..255 are kept as they are.
    """
    values = array.astype(np.float32, copy=False)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(array.shape, dtype=np.uint8)
    low, high = float(finite.min()), float(finite.max())
    if low >= 0 and high <= 255:
        scaled = values
    elif low >= 0 and high <= 65535 and array.dtype != np.float32:
        scaled = values / 257.0
    else:
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def open_image(
    source: BinaryIO | bytes,
    *,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    media_type: MediaType | None = None,
) -> Image.Image:
    """Open an image lazily (header only) after checking its declared size against max_pixels.

    Raises EmptyFileError, DecompressionBombError, UnsupportedFormatError, TruncatedFileError or
    CorruptFileError. No pixel is decoded yet: call load(), or use decode_for_hashing().
    """
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    stream.seek(0, io.SEEK_END)
    if stream.tell() == 0:
        stream.seek(0)
        raise EmptyFileError("the file is empty (0 bytes): there is no image to decode")
    detected = media_type or sniff_stream(stream)
    dims = header_dimensions(stream, detected)
    if dims is not None and dims[0] * dims[1] > max_pixels:  # (empty sizes are left for Pillow to judge)
        _check_pixels(dims[0], dims[1], max_pixels, f"{detected.label} header")
    stream.seek(0)
    try:
        image = Image.open(BorrowedStream(stream))
    except Image.DecompressionBombError as exc:
        raise _bomb_from_pillow(exc) from exc
    except UnidentifiedImageError as exc:
        if detected.kind.value == "image":
            raise CorruptFileError(
                f"the content starts like a {detected.label} but its header is damaged or incomplete, "
                "so it cannot be read as an image"
            ) from exc
        raise UnsupportedFormatError(f"not an image format tipline can decode ({detected.label})") from exc
    except (OSError, EOFError, SyntaxError, ValueError, struct.error) as exc:
        raise _decode_error(exc, f"{detected.label} header") from exc
    try:
        _check_pixels(image.width, image.height, max_pixels, f"{image.format or detected.label} header")
    except MediaError:
        image.close()
        raise
    return image


def _fit(size: tuple[int, int], max_dimension: int) -> tuple[int, int]:
    width, height = size
    scale = max_dimension / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode_for_hashing(
    source: BinaryIO | bytes | Image.Image,
    *,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    max_dimension: int = 512,
    media_type: MediaType | None = None,
    max_decoded_pixels: int | None = None,
) -> DecodedImage:
    """Decode the first frame to RGB, scaled to fit max_dimension x max_dimension, EXIF orientation applied.

    The downscale keeps the aspect ratio, as Meta's Python PDQ reference does (Pillow's thumbnail
    to 512 x 512). It averages areas (a box filter) where the reference's thumbnail is bicubic: on
    Meta's reference photos the two differ by at most 4 bits and are equally close to the C++
    reference hashes, and the box filter is twice as fast. JPEGs are decoded directly at a reduced
    scale (DCT scaling) when they are large enough. max_dimension=0 hashes the full resolution.
    max_decoded_pixels bounds the pixels actually held while decoding (after that reduced-scale
    decoding, which only JPEG offers): a PNG of 9,400 x 9,400 is within max_pixels but needs
    265 MB to decode, which a server hashing on request cannot give to everyone at once.
    The caller's Image (if given) is not closed.
    """
    given = isinstance(source, Image.Image)
    if isinstance(source, Image.Image):
        image = source
        _check_pixels(image.width, image.height, max_pixels, "image")
    else:
        image = open_image(source, max_pixels=max_pixels, media_type=media_type)
    try:
        return _decode(image, max_dimension, image.format or (media_type.label if media_type else "image"),
                       max_decoded_pixels)
    finally:
        if not given:
            image.close()


def _decode(image: Image.Image, max_dimension: int, label: str,
            max_decoded_pixels: int | None = None) -> DecodedImage:
    full_width, full_height = image.size
    if min(full_width, full_height) < MIN_HASHABLE_DIMENSION:
        raise ImageTooSmallError(
            f"the image is {full_width} x {full_height} pixels; PDQ needs at least "
            f"{MIN_HASHABLE_DIMENSION} x {MIN_HASHABLE_DIMENSION}"
        )
    try:
        frames = int(getattr(image, "n_frames", 1) or 1)
    except (OSError, EOFError, ValueError, struct.error):
        frames = 1
    source_mode = image.mode
    try:
        if frames > 1:
            image.seek(0)
        if max_dimension and max(full_width, full_height) > max_dimension:
            image.draft("RGB", _fit((full_width, full_height), max_dimension))
    except (OSError, EOFError, SyntaxError, ValueError, IndexError, struct.error) as exc:
        raise _decode_error(exc, label) from exc
    # before anything decodes (a PNG's getexif() decodes the whole image to find a late eXIf chunk)
    if max_decoded_pixels is not None and image.width * image.height > max_decoded_pixels:
        raise DecompressionBombError(
            f"the {label} is {full_width:,} x {full_height:,} pixels; decoding it needs "
            f"{image.width * image.height:,} pixels in memory (a {label} cannot be decoded at a reduced "
            f"scale), over the {max_decoded_pixels:,} allowed here; send a smaller copy (hashing scales "
            f"pictures down to {max_dimension or 512} pixels anyway)"
        )
    try:
        orientation = int(image.getexif().get(_ORIENTATION_TAG, 1) or 1)
    except Exception:  # a damaged EXIF block must not stop hashing: the pixels decide
        orientation = 1
    if orientation not in _TRANSPOSE:
        orientation = 1
    try:
        image.load()
        rgb = _to_rgb(image)
        if max_dimension and max(rgb.size) > max_dimension:
            rgb.thumbnail((max_dimension, max_dimension), resample=Image.Resampling.BOX)
    except Image.DecompressionBombError as exc:
        raise _bomb_from_pillow(exc) from exc
    except MemoryError as exc:
        raise DecompressionBombError(f"the {label} needs more memory to decode than is available") from exc
    except (OSError, EOFError, SyntaxError, ValueError, IndexError, struct.error) as exc:
        raise _decode_error(exc, label) from exc
    if orientation != 1:
        rgb = rgb.transpose(_TRANSPOSE[orientation])
    pixels = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    width, height = (full_width, full_height) if orientation < 5 else (full_height, full_width)
    return DecodedImage(
        pixels=pixels,
        width=width,
        height=height,
        format=str(image.format or label),
        mode=source_mode,
        orientation=orientation,
        frames=frames,
    )


def load_truncated_images_enabled() -> bool:
    """Whether Pillow's global LOAD_TRUNCATED_IMAGES is set (it hides truncation, so errors go unreported)."""
    return bool(ImageFile.LOAD_TRUNCATED_IMAGES)
