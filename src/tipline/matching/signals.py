"""Signal types (pdq, md5, sha1, sha256, video_md5, vpdq): validation, normalisation and PDQ arithmetic."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tipline.domain.labels import LabelledEnum, labels

PDQ_BITS = 256
PDQ_HEX_LENGTH = 64
PDQ_DEFAULT_THRESHOLD = 31
"""Hashes at Hamming distance <= 31 are a match (Meta's PDQ_CONFIDENT_MATCH_THRESHOLD)."""
PDQ_MIN_QUALITY = 50
"""Query hashes of quality below this are kept but never matched (Meta's recommendation)."""


class SignalError(ValueError):
    """A signal value that is not valid for its type; the message says exactly why."""


class SignalType(LabelledEnum):
    """The kinds of signal a bank can hold; the names are python-threatexchange's where it has one."""

    PDQ = "pdq"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    VIDEO_MD5 = "video_md5"
    VPDQ = "vpdq"

    @property
    def is_exact(self) -> bool:
        """True for cryptographic hashes, which match only when equal."""
        return self in _HEX_LENGTHS and self is not SignalType.PDQ


_HEX_LENGTHS: dict[SignalType, int] = {
    SignalType.PDQ: 64,
    SignalType.MD5: 32,
    SignalType.SHA1: 40,
    SignalType.SHA256: 64,
    SignalType.VIDEO_MD5: 32,
}
_LABELS = labels(SignalType, {  # how error messages name a value of each type
    SignalType.PDQ: "pdq hash",
    SignalType.MD5: "md5 hash",
    SignalType.SHA1: "sha1 hash",
    SignalType.SHA256: "sha256 hash",
    SignalType.VIDEO_MD5: "video_md5 hash",
    SignalType.VPDQ: "vpdq signature",
})
_ALIASES: dict[str, SignalType] = {
    "pdq": SignalType.PDQ,
    "hash_pdq": SignalType.PDQ,
    "md5": SignalType.MD5,
    "hash_md5": SignalType.MD5,
    "sha1": SignalType.SHA1,
    "sha-1": SignalType.SHA1,
    "hash_sha1": SignalType.SHA1,
    "sha256": SignalType.SHA256,
    "sha-256": SignalType.SHA256,
    "hash_sha256": SignalType.SHA256,
    "video_md5": SignalType.VIDEO_MD5,
    "hash_video_md5": SignalType.VIDEO_MD5,
    "vpdq": SignalType.VPDQ,
}
EXACT_FAMILY: dict[SignalType, str] = {
    SignalType.MD5: "md5",
    SignalType.VIDEO_MD5: "md5",
    SignalType.SHA1: "sha1",
    SignalType.SHA256: "sha256",
}
"""Exact signals that live in one lookup table: an MD5 of a video file is still an MD5 of its bytes, so
`md5` and `video_md5` entries both match a file whose MD5 is equal."""

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_signal_type(name: str) -> SignalType:
    """The signal type called `name` (case-insensitive; ThreatExchange indicator names accepted)."""
    found = _ALIASES.get(name.strip().lower())
    if found is None:
        known = ", ".join(t.value for t in SignalType)
        raise SignalError(f"unknown signal type {name.strip()!r} (known: {known})")
    return found


_LOWER_HEX = {n: re.compile(f"[0-9a-f]{{{n}}}") for n in set(_HEX_LENGTHS.values())}


def normalize_hex(signal_type: SignalType, value: str) -> str:
    """`value` as lower-case hex of exactly the type's length, or SignalError saying what is wrong."""
    want = _HEX_LENGTHS[signal_type]
    if len(value) == want:
        lowered = value.lower()
        if _LOWER_HEX[want].fullmatch(lowered):
            return lowered  # the common case, without the character-by-character check below
    text = value.strip()
    if len(text) != want:
        raise SignalError(
            f"{signal_type.label} must be {want} hex characters, got {len(text)}"
        )
    for position, char in enumerate(text, start=1):
        if char not in _HEX_DIGITS:
            raise SignalError(
                f"{signal_type.label} must be hex; character {position} is {char!r}"
            )
    return text.lower()


def normalize_signal(signal_type: SignalType | str, value: str) -> str:
    """The canonical form of a signal value: lower-case hex, or canonical vPDQ JSON."""
    kind = signal_type if isinstance(signal_type, SignalType) else parse_signal_type(signal_type)
    if kind is SignalType.VPDQ:
        return format_vpdq(parse_vpdq(value))
    return normalize_hex(kind, value)


def infer_signal_type(value: str) -> SignalType:
    """The signal type a bare hex value must be, from its length (32 md5, 40 sha1).

    A 64-character value could be a PDQ hash or a SHA-256, so it is refused rather than guessed.
    """
    text = value.strip()
    if len(text) == 64:
        raise SignalError("a 64-character value could be pdq or sha256; give the signal type")
    by_length = {32: SignalType.MD5, 40: SignalType.SHA1}
    kind = by_length.get(len(text))
    if kind is None:
        raise SignalError(
            f"cannot tell the signal type of a {len(text)}-character value "
            "(md5 has 32, sha1 40, pdq and sha256 64)"
        )
    normalize_hex(kind, text)
    return kind


# --- PDQ arithmetic -----------------------------------------------------------------------------


def pdq_to_bytes(value: str) -> bytes:
    """The 32 bytes of a PDQ hash given as 64 hex characters (most significant bit first)."""
    return bytes.fromhex(normalize_hex(SignalType.PDQ, value))


def pdq_hashes_to_array(values: Iterable[str]) -> np.ndarray:
    """An (n, 32) uint8 array of PDQ hashes; raises SignalError on the first invalid one."""
    joined = "".join(normalize_hex(SignalType.PDQ, v) for v in values)
    return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, 32).copy()


def pdq_array_to_hex(codes: np.ndarray) -> list[str]:
    """Hex strings of an (n, 32) uint8 array of PDQ hashes."""
    data = np.ascontiguousarray(codes, dtype=np.uint8).tobytes().hex()
    return [data[i : i + 64] for i in range(0, len(data), 64)]


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hashes."""
    return (int(normalize_hex(SignalType.PDQ, a), 16) ^ int(normalize_hex(SignalType.PDQ, b), 16)).bit_count()


# --- vPDQ --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    """One frame of a vPDQ video signature: the frame's PDQ hash, its quality, and when it shows."""

    pdq: str
    quality: int
    timestamp: float
    frame_number: int | None = None


def parse_vpdq(value: str | Sequence[VpdqFrame]) -> list[VpdqFrame]:
    """Frames of a vPDQ signature in python-threatexchange's form: a JSON list of "pdq,quality,seconds"."""
    if not isinstance(value, str):
        return [_checked_frame(f, i) for i, f in enumerate(value, start=1)]
    try:
        items = json.loads(value)
    except json.JSONDecodeError as exc:
        raise SignalError(f"vpdq signature is not JSON: {exc.msg} at character {exc.pos + 1}") from None
    if not isinstance(items, list):
        raise SignalError("vpdq signature must be a JSON list of \"pdq,quality,seconds\" strings")
    if not items:
        raise SignalError("vpdq signature has no frames")
    frames = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, str):
            raise SignalError(f"vpdq frame {number} must be a \"pdq,quality,seconds\" string")
        parts = item.split(",")
        if len(parts) != 3:
            raise SignalError(
                f"vpdq frame {number} must have 3 comma-separated fields, got {len(parts)}"
            )
        pdq_text, quality_text, time_text = parts
        try:
            quality = int(quality_text)
        except ValueError:
            raise SignalError(f"vpdq frame {number}: quality {quality_text!r} is not an integer") from None
        try:
            timestamp = float(time_text)
        except ValueError:
            raise SignalError(f"vpdq frame {number}: timestamp {time_text!r} is not a number") from None
        frames.append(_checked_frame(VpdqFrame(pdq_text, quality, timestamp), number))
    return frames


def _checked_frame(frame: VpdqFrame, number: int) -> VpdqFrame:
    try:
        pdq = normalize_hex(SignalType.PDQ, frame.pdq)
    except SignalError as exc:
        raise SignalError(f"vpdq frame {number}: {exc}") from None
    if not 0 <= frame.quality <= 100:
        raise SignalError(f"vpdq frame {number}: quality must be 0 to 100, got {frame.quality}")
    if not (math.isfinite(frame.timestamp) and frame.timestamp >= 0):
        raise SignalError(f"vpdq frame {number}: timestamp must be a non-negative number")
    return VpdqFrame(pdq, frame.quality, frame.timestamp, frame.frame_number)


def format_vpdq(frames: Sequence[VpdqFrame]) -> str:
    """The canonical vPDQ signature string (timestamps to the millisecond, as python-threatexchange)."""
    if not frames:
        raise SignalError("vpdq signature has no frames")
    checked = [_checked_frame(f, i) for i, f in enumerate(frames, start=1)]
    return json.dumps([f"{f.pdq},{f.quality},{f.timestamp:.3f}" for f in checked])


def is_pdq(value: str) -> bool:
    """True when `value` is already a normalised PDQ hash."""
    return bool(_LOWER_HEX[PDQ_HEX_LENGTH].fullmatch(value))
