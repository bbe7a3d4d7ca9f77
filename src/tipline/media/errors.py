"""The errors of tipline.media: one exception type per failure, each carrying a stable code and a precise message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemCode(StrEnum):
    """Stable machine-readable codes for what went wrong (or looks wrong) with one file."""

    EMPTY_FILE = "empty_file"
    READ_FAILED = "read_failed"
    TOO_LARGE = "too_large"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    UNSUPPORTED = "unsupported"
    DECOMPRESSION_BOMB = "decompression_bomb"
    ZIP_BOMB = "zip_bomb"
    MEMBER_SKIPPED = "member_skipped"
    TYPE_MISMATCH = "type_mismatch"
    TOO_SMALL = "too_small"
    NO_VIDEO_STREAM = "no_video_stream"
    VIDEO_LIMIT = "video_limit"
    LOW_QUALITY = "low_quality"
    MULTI_FRAME = "multi_frame"
    CONFIGURATION = "configuration"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning about one file: a stable code and a sentence for a person."""

    code: ProblemCode
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}


class MediaError(Exception):
    """Base of every error raised by tipline.media for bad content or bad configuration."""

    code: ProblemCode = ProblemCode.CORRUPT

    def __init__(self, message: str, code: ProblemCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code.value

    def problem(self) -> Problem:
        return Problem(self.code, self.message)


class EmptyFileError(MediaError):
    code = ProblemCode.EMPTY_FILE


class TruncatedFileError(MediaError):
    code = ProblemCode.TRUNCATED


class CorruptFileError(MediaError):
    code = ProblemCode.CORRUPT


class UnsupportedFormatError(MediaError):
    code = ProblemCode.UNSUPPORTED


class DecompressionBombError(MediaError):
    """An image or video whose declared dimensions exceed the configured pixel limit."""

    code = ProblemCode.DECOMPRESSION_BOMB


class ZipBombError(MediaError):
    """An archive that would expand far beyond a sane size or ratio."""

    code = ProblemCode.ZIP_BOMB


class ImageTooSmallError(MediaError):
    code = ProblemCode.TOO_SMALL


class VideoError(MediaError):
    code = ProblemCode.CORRUPT
