"""PDQ perceptual hashes through the pdqhash package: hex format, quality, the eight dihedral variants, distances."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pdqhash
from PIL import Image

from tipline.media.images import (
    DEFAULT_MAX_IMAGE_PIXELS,
    DecodedImage,
    decode_for_hashing,
)

PDQ_HEX_LENGTH = 64
PDQ_BITS = 256

PDQ_MATCH_THRESHOLD = 31
"""The Hamming distance at or under which two PDQ hashes are taken as the same picture (Meta's default)."""

PDQ_MIN_MATCH_QUALITY = 50
"""Hashes whose quality is below this are kept and shown, but never matched: they are too flat to tell apart."""

PDQ_REFERENCE_MAX_DIMENSION = 512
"""Images are downscaled to fit 512 x 512 before hashing, as Meta's reference implementations do."""

DIHEDRAL_NAMES: tuple[str, ...] = (
    "original",
    "rotate_90",
    "rotate_180",
    "rotate_270",
    "flip_x",
    "flip_y",
    "flip_plus_1",
    "flip_minus_1",
)
"""The order of dihedral variants, as Meta's C++ reference and pdqhash produce them.

rotate_90 is the hash the image would have after a 90-degree counter-clockwise rotation, flip_x
a mirror across the horizontal axis (top to bottom), flip_y a mirror left to right, flip_plus_1
a transpose and flip_minus_1 a transverse.
"""


@dataclass(frozen=True, slots=True)
class PdqHash:
    """One PDQ hash: 64 hex digits, most significant bit first (as HMA and ThreatExchange print it), quality 0-100."""

    hex: str
    quality: int

    @property
    def matchable(self) -> bool:
        """Quality high enough to be matched (see PDQ_MIN_MATCH_QUALITY)."""
        return self.quality >= PDQ_MIN_MATCH_QUALITY

    def distance(self, other: PdqHash | str) -> int:
        return pdq_distance(self.hex, other.hex if isinstance(other, PdqHash) else other)


@dataclass(frozen=True, slots=True)
class DihedralPdq:
    """The PDQ hashes of an image's eight rotations and flips (one quality for all)."""

    hashes: tuple[str, ...]  # in DIHEDRAL_NAMES order; hashes[0] is the image as it is
    quality: int

    @property
    def original(self) -> PdqHash:
        return PdqHash(self.hashes[0], self.quality)

    def as_dict(self) -> dict[str, str]:
        return dict(zip(DIHEDRAL_NAMES, self.hashes, strict=True))

    def min_distance(self, other_hex: str) -> tuple[int, str]:
        """The smallest distance from any variant to other_hex, and that variant's name."""
        best = min(
            ((pdq_distance(h, other_hex), name) for h, name in zip(self.hashes, DIHEDRAL_NAMES, strict=True)),
            key=lambda pair: pair[0],
        )
        return best


def vector_to_hex(bits: np.ndarray) -> str:
    """A 256-element 0/1 vector (pdqhash's output) to 64 hex digits, first element as most significant bit."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hex_to_bytes(hex_hash: str) -> bytes:
    """Validate and convert 64 hex digits to the 32 bytes they spell."""
    if len(hex_hash) != PDQ_HEX_LENGTH:
        raise ValueError(f"a PDQ hash has {PDQ_HEX_LENGTH} hex digits, this one has {len(hex_hash)}")
    try:
        return bytes.fromhex(hex_hash)
    except ValueError:
        raise ValueError(f"a PDQ hash is hexadecimal; {hex_hash!r} is not") from None


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hashes given as hex."""
    return (int.from_bytes(hex_to_bytes(a), "big") ^ int.from_bytes(hex_to_bytes(b), "big")).bit_count()


def _rgb_array(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, np.newaxis], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        raise ValueError(f"PDQ needs an H x W x 3 RGB array, not shape {pixels.shape}")
    if pixels.shape[2] > 3:
        pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def pdq_from_pixels(pixels: np.ndarray) -> PdqHash:
    """PDQ of an RGB (or greyscale) uint8 array exactly as given: no downscaling."""
    vector, quality = pdqhash.compute(_rgb_array(pixels))
    return PdqHash(vector_to_hex(vector), int(quality))


# The pixel operation behind each dihedral variant, in DIHEDRAL_NAMES order.
_PIXEL_TRANSFORMS: tuple[Callable[[np.ndarray], np.ndarray], ...] = (
    lambda a: a,
    lambda a: np.rot90(a, 1),
    lambda a: np.rot90(a, 2),
    lambda a: np.rot90(a, 3),
    lambda a: a[::-1],
    lambda a: a[:, ::-1],
    lambda a: a.transpose(1, 0, 2),
    lambda a: np.rot90(a, 2).transpose(1, 0, 2),
)


def dihedral_from_pixels(pixels: np.ndarray, *, exact: bool = False) -> DihedralPdq:
    """The eight dihedral PDQ hashes of an RGB uint8 array.

    By default they come from one pass, with the rotations and flips applied to the DCT as Meta's
    reference does (pdqhash.compute_dihedral). That is exact only for some image sizes: PDQ's
    box filters are not symmetric, so a variant can sit 10-20 bits (sometimes more) from the hash
    of the really rotated image. exact=True hashes the eight rotated and flipped pixel arrays
    instead (eight times the work), so each variant is the hash the transformed image really has.
    """
    rgb = _rgb_array(pixels)
    if not exact:
        vectors, quality = pdqhash.compute_dihedral(rgb)
        return DihedralPdq(tuple(vector_to_hex(v) for v in vectors), int(quality))
    hashes = [pdq_from_pixels(np.ascontiguousarray(transform(rgb))) for transform in _PIXEL_TRANSFORMS]
    return DihedralPdq(tuple(h.hex for h in hashes), hashes[0].quality)


def pdq_from_image(
    source: BinaryIO | bytes | Image.Image | DecodedImage,
    *,
    max_dimension: int = PDQ_REFERENCE_MAX_DIMENSION,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> PdqHash:
    """PDQ of an image file (bytes or binary stream), a Pillow image, or an already decoded image.

    Raises a tipline.media.errors.MediaError subclass for bad content.
    """
    decoded = (
        source
        if isinstance(source, DecodedImage)
        else decode_for_hashing(source, max_dimension=max_dimension, max_pixels=max_pixels)
    )
    return pdq_from_pixels(decoded.pixels)


def dihedral_from_image(
    source: BinaryIO | bytes | Image.Image | DecodedImage,
    *,
    max_dimension: int = PDQ_REFERENCE_MAX_DIMENSION,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> DihedralPdq:
    """The eight dihedral PDQ hashes of an image file, Pillow image or decoded image."""
    decoded = (
        source
        if isinstance(source, DecodedImage)
        else decode_for_hashing(source, max_dimension=max_dimension, max_pixels=max_pixels)
    )
    return dihedral_from_pixels(decoded.pixels)
