"""Video signatures as Meta's vPDQ makes them: PyAV decoding, PDQ of sampled frames, two-way frame matching."""

from __future__ import annotations

import io
import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import BinaryIO

import av
import av.error
import numpy as np
from av.video.reformatter import VideoReformatter

from tipline.media.errors import (
    CorruptFileError,
    DecompressionBombError,
    EmptyFileError,
    ImageTooSmallError,
    MediaError,
    Problem,
    ProblemCode,
    TruncatedFileError,
    VideoError,
)
from tipline.media.images import DEFAULT_MAX_IMAGE_PIXELS, MIN_HASHABLE_DIMENSION
from tipline.media.pdq import (
    PDQ_MATCH_THRESHOLD,
    PDQ_MIN_MATCH_QUALITY,
    hex_to_bytes,
    pdq_from_pixels,
)
from tipline.media.streams import BorrowedStream

DEFAULT_SECONDS_PER_HASH = 1.0
DEFAULT_MAX_FRAME_HASHES = 36_000
DEFAULT_MAX_DECODE_SECONDS = 900.0
"""Wall-clock budget for decoding one video: a hostile file (a long stream of tiny frames at a huge
frame rate) must not hold a pipeline worker for hours."""
"""At one hash a second, ten hours of video; beyond that hashing stops with a warning."""

VPDQ_QUERY_MATCH_PERCENT = 80.0
VPDQ_COMPARED_MATCH_PERCENT = 80.0


@dataclass(frozen=True, slots=True)
class VideoFrameHash:
    """The PDQ of one decoded frame: its number in decode order from 0, its time in seconds, its quality."""

    frame_number: int
    timestamp: float
    pdq: str
    quality: int

    def to_dict(self) -> dict[str, int | float | str]:
        return {
            "frame_number": self.frame_number,
            "timestamp": round(self.timestamp, 3),
            "pdq": self.pdq,
            "quality": self.quality,
        }

    def to_vpdq_line(self) -> str:
        """The line Meta's vPDQ tools write: frame_number,quality,pdq_hex,timestamp."""
        return f"{self.frame_number},{self.quality},{self.pdq},{self.timestamp:.3f}"

    @classmethod
    def from_vpdq_line(cls, line: str) -> VideoFrameHash:
        """Parse one line of vPDQ output (frame_number,quality,pdq_hex,timestamp)."""
        parts = line.strip().split(",")
        if len(parts) != 4:
            raise ValueError(f"a vPDQ line has 4 comma-separated fields, this one has {len(parts)}: {line!r}")
        number, quality, pdq, timestamp = parts
        hex_to_bytes(pdq)
        return cls(int(number), float(timestamp), pdq.lower(), int(quality))


@dataclass(frozen=True, slots=True)
class VideoSignature:
    """A video's frame hashes and what the decoder learned about it."""

    frames: tuple[VideoFrameHash, ...]
    width: int
    height: int
    frame_rate: float | None
    duration: float | None
    frames_decoded: int
    codec: str
    container: str
    seconds_per_hash: float
    problems: tuple[Problem, ...] = field(default=())
    """Errors met after some frames were hashed (the frames before them are kept)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "frame_rate": None if self.frame_rate is None else round(self.frame_rate, 3),
            "duration": None if self.duration is None else round(self.duration, 3),
            "frames_decoded": self.frames_decoded,
            "codec": self.codec,
            "container": self.container,
            "seconds_per_hash": self.seconds_per_hash,
            "frames": [f.to_dict() for f in self.frames],
        }


def _open_source(source: BinaryIO | bytes | str | os.PathLike[str]) -> BinaryIO | str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise EmptyFileError("the file is empty (0 bytes): there is no video to decode")
        return io.BytesIO(source)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.getsize(path) == 0:
            raise EmptyFileError("the file is empty (0 bytes): there is no video to decode")
        return path
    source.seek(0, io.SEEK_END)
    if source.tell() == 0:
        raise EmptyFileError("the file is empty (0 bytes): there is no video to decode")
    source.seek(0)
    return BorrowedStream(source)  # type: ignore[return-value]  # a BorrowedStream reads as the binary stream it wraps


def _rate(stream: av.video.stream.VideoStream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            value = float(Fraction(rate))
            if math.isfinite(value) and value > 0:
                return value
    return None


def hash_video(
    source: BinaryIO | bytes | str | os.PathLike[str],
    *,
    seconds_per_hash: float = DEFAULT_SECONDS_PER_HASH,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    max_frame_hashes: int = DEFAULT_MAX_FRAME_HASHES,
    max_dimension: int = 0,
    max_seconds: float = DEFAULT_MAX_DECODE_SECONDS,
) -> VideoSignature:
    """vPDQ-style signature of the first video stream: PDQ of one frame every seconds_per_hash.

    As Meta's vPDQ does, a frame is hashed when its decode-order number is a multiple of
    int(seconds_per_hash x frame rate), so seconds_per_hash=0 hashes every frame; its timestamp
    is frame_number / frame rate. Frames are hashed at full resolution unless max_dimension is set.
    Raises a MediaError subclass when no frame at all can be hashed; a failure after some frames
    is reported in VideoSignature.problems with the frames before it kept.
    """
    if seconds_per_hash < 0 or not math.isfinite(seconds_per_hash):
        raise ValueError("seconds_per_hash must be a non-negative number (0 hashes every frame)")
    target = _open_source(source)
    try:
        container = av.open(target, mode="r")
    except av.error.FFmpegError as exc:
        raise CorruptFileError(
            f"the video container could not be opened: {_ffmpeg_reason(exc)} (a damaged, truncated or non-video file)"
        ) from exc
    with container:
        if not container.streams.video:
            raise VideoError("the file holds no video stream", ProblemCode.NO_VIDEO_STREAM)
        stream = container.streams.video[0]
        codec_context = stream.codec_context
        width, height = int(codec_context.width or 0), int(codec_context.height or 0)
        if width and height and width * height > max_pixels:
            raise DecompressionBombError(
                f"the video declares frames of {width} x {height} = {width * height:,} pixels, over the limit "
                f"of {max_pixels:,} pixels; refused before decoding"
            )
        stream.thread_type = "AUTO"
        fps = _rate(stream)
        duration = _duration(container, stream)
        declared_frames = int(stream.frames or 0)
        frame_mod = 1
        if seconds_per_hash > 0 and fps is not None:
            frame_mod = max(1, int(seconds_per_hash * fps))
        next_time = 0.0
        last_time: float | None = None
        reformatter = VideoReformatter()  # reused, so the conversion context is built once
        frames: list[VideoFrameHash] = []
        problems: list[Problem] = []
        decoded = 0
        started = time.monotonic()
        try:
            for frame in container.decode(stream):
                if frames and time.monotonic() - started > max_seconds:
                    problems.append(
                        Problem(
                            ProblemCode.VIDEO_LIMIT,
                            f"stopped after {max_seconds:g} s of decoding (the configured limit) at frame "
                            f"{decoded:,}; {len(frames):,} frame hashes kept, the rest of the video is not hashed",
                        )
                    )
                    break
                number = decoded
                decoded += 1
                if frame.time is not None:
                    last_time = float(frame.time)
                if fps is not None:
                    timestamp = number / fps
                elif frame.time is not None:
                    timestamp = float(frame.time)
                else:
                    timestamp = 0.0
                if seconds_per_hash > 0 and fps is None:
                    if timestamp + 1e-9 < next_time:
                        continue
                    next_time = timestamp + seconds_per_hash
                elif number % frame_mod:
                    continue
                if frame.width * frame.height > max_pixels:
                    raise DecompressionBombError(
                        f"frame {number} is {frame.width} x {frame.height} pixels, over the limit of {max_pixels:,}"
                    )
                if min(frame.width, frame.height) < MIN_HASHABLE_DIMENSION:
                    raise ImageTooSmallError(
                        f"the video's frames are {frame.width} x {frame.height} pixels; PDQ needs at least "
                        f"{MIN_HASHABLE_DIMENSION} x {MIN_HASHABLE_DIMENSION}"
                    )
                pixels = _frame_pixels(reformatter, frame, max_dimension)
                pdq = pdq_from_pixels(pixels)
                frames.append(VideoFrameHash(number, timestamp, pdq.hex, pdq.quality))
                if len(frames) >= max_frame_hashes:
                    problems.append(
                        Problem(
                            ProblemCode.VIDEO_LIMIT,
                            f"stopped after {len(frames):,} frame hashes (the configured limit) at "
                            f"{timestamp:.1f} s; the rest of the video is not hashed",
                        )
                    )
                    break
        except MediaError:
            raise
        except (av.error.FFmpegError, ValueError, MemoryError) as exc:
            reason = _ffmpeg_reason(exc)
            if not frames:
                raise CorruptFileError(f"no frame of the video could be decoded: {reason}") from exc
            problems.append(
                Problem(
                    ProblemCode.CORRUPT,
                    f"decoding stopped at frame {decoded} ({reason}); "
                    f"the {len(frames)} frames hashed before it are kept",
                )
            )
        if decoded == 0:
            raise TruncatedFileError(
                "the video stream holds no decodable frame (the file is truncated or its data is damaged)"
            )
        if not problems:
            truncation = _truncation(
                declared_frames, decoded, duration if len(container.streams) == 1 else None, last_time, fps
            )
            if truncation:
                problems.append(Problem(ProblemCode.TRUNCATED, truncation))
        return VideoSignature(
            frames=tuple(frames),
            width=width,
            height=height,
            frame_rate=fps,
            duration=duration,
            frames_decoded=decoded,
            codec=str(codec_context.name or ""),
            container=str(container.format.name or ""),
            seconds_per_hash=seconds_per_hash,
            problems=tuple(problems),
        )


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _truncation(
    declared_frames: int, decoded: int, duration: float | None, last_time: float | None, fps: float | None
) -> str | None:
    """Why the decoded frames fall short of what the container declares, or None when they do not."""
    if declared_frames and decoded < declared_frames:
        return (
            f"the video is truncated: its header declares {declared_frames} frames but only {decoded} could be decoded"
        )
    if declared_frames or duration is None or last_time is None:
        return None
    covered = last_time + (1.0 / fps if fps else 0.0)
    if covered < duration - max(0.5, 0.05 * duration):
        return (
            f"the video is truncated: its header declares {duration:.2f} s but decoding ends at {covered:.2f} s "
            f"({decoded} frames)"
        )
    return None


def _frame_pixels(reformatter: VideoReformatter, frame: av.VideoFrame, max_dimension: int) -> np.ndarray:
    width, height = frame.width, frame.height
    if max_dimension and max(width, height) > max_dimension:
        scale = max_dimension / max(width, height)
        width = max(MIN_HASHABLE_DIMENSION, round(width * scale))
        height = max(MIN_HASHABLE_DIMENSION, round(height * scale))
        converted = reformatter.reformat(frame, width=width, height=height, format="rgb24", interpolation="AREA")
    else:
        converted = reformatter.reformat(frame, format="rgb24")
    return converted.to_ndarray()


def _ffmpeg_reason(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return str(strerror)
    return str(exc) or type(exc).__name__


def to_threatexchange_vpdq(frames: Iterable[VideoFrameHash]) -> str:
    """The vPDQ signal as python-threatexchange and HMA store it: a JSON list of "pdq_hex,quality,timestamp".

    The timestamp keeps python-threatexchange's formatting (three significant digits).
    """
    return json.dumps([f"{f.pdq},{f.quality},{f.timestamp:.3}" for f in frames])


def from_threatexchange_vpdq(signal: str) -> list[VideoFrameHash]:
    """Parse a python-threatexchange/HMA vPDQ signal; frame numbers are not in it, so they count from 0."""
    try:
        items = json.loads(signal or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"a vPDQ signal is a JSON list of strings: {exc}") from None
    if not isinstance(items, list):
        raise ValueError("a vPDQ signal is a JSON list of strings")
    frames = []
    for number, item in enumerate(items):
        parts = str(item).split(",")
        if len(parts) != 3:
            raise ValueError(f"vPDQ feature {number} is not 'pdq_hex,quality,timestamp': {item!r}")
        pdq, quality, timestamp = parts
        hex_to_bytes(pdq)
        if not 0 <= int(quality) <= 100 or float(timestamp) < 0:
            raise ValueError(f"vPDQ feature {number} has an invalid quality or timestamp: {item!r}")
        frames.append(VideoFrameHash(number, float(timestamp), pdq.lower(), int(quality)))
    return frames


# ---------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class VideoMatchPolicy:
    """How two videos' frame hashes decide a match, with vPDQ's defaults.

    A frame of one video matches when some frame of the other is within distance_threshold
    (inclusive, as python-threatexchange's matcher counts). Frames of quality below
    quality_threshold are ignored and identical hashes counted once, as vPDQ does. The videos match
    when query_match_percent of the query's frames match, or compared_match_percent of the other's
    (require_both=True needs both). python-threatexchange's own decision is
    VideoMatchPolicy(query_match_percent=80, compared_match_percent=0, require_both=True).
    """

    distance_threshold: int = PDQ_MATCH_THRESHOLD
    quality_threshold: int = PDQ_MIN_MATCH_QUALITY
    query_match_percent: float = VPDQ_QUERY_MATCH_PERCENT
    compared_match_percent: float = VPDQ_COMPARED_MATCH_PERCENT
    require_both: bool = False


@dataclass(frozen=True, slots=True)
class VideoMatchResult:
    """The two percentages vPDQ reports, the frame counts they are taken over, and the decision."""

    query_match_percent: float
    compared_match_percent: float
    query_frames: int
    compared_frames: int
    is_match: bool


def prepare_frames(
    frames: Iterable[VideoFrameHash], quality_threshold: int = PDQ_MIN_MATCH_QUALITY
) -> list[VideoFrameHash]:
    """vPDQ's preparation: drop frames below the quality threshold and repeats of an identical hash."""
    seen: set[str] = set()
    kept: list[VideoFrameHash] = []
    for frame in frames:
        if frame.quality < quality_threshold or frame.pdq in seen:
            continue
        seen.add(frame.pdq)
        kept.append(frame)
    return kept


def _hash_matrix(frames: Sequence[VideoFrameHash]) -> np.ndarray:
    raw = b"".join(hex_to_bytes(f.pdq) for f in frames)
    return np.frombuffer(raw, dtype=">u8").reshape(len(frames), 4).astype(np.uint64)


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits per uint64 (numpy >= 2 has bitwise_count; the table serves numpy 1.26)."""
    if hasattr(np, "bitwise_count"):
        counted: np.ndarray = np.bitwise_count(words)
        return counted
    as_bytes = words.view(np.uint8).reshape(*words.shape, 8)
    summed: np.ndarray = _BYTE_BITS[as_bytes].sum(axis=-1, dtype=np.uint8)
    return summed


def _matched_rows(a: np.ndarray, b: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of a have some row of b within threshold, and which rows of b have some row of a."""
    a_hit = np.zeros(len(a), dtype=bool)
    b_hit = np.zeros(len(b), dtype=bool)
    block = max(1, 4_000_000 // max(1, len(b)))
    for start in range(0, len(a), block):
        part = a[start : start + block]
        distances = _popcount(part[:, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.int32)
        close = distances <= threshold
        a_hit[start : start + block] = close.any(axis=1)
        b_hit |= close.any(axis=0)
    return a_hit, b_hit


def match_videos(
    query: VideoSignature | Sequence[VideoFrameHash],
    compared: VideoSignature | Sequence[VideoFrameHash],
    policy: VideoMatchPolicy = VideoMatchPolicy(),
) -> VideoMatchResult:
    """Compare two videos as vPDQ does: the share of each side's frames that match some frame of the other."""
    query_frames = prepare_frames(
        query.frames if isinstance(query, VideoSignature) else query, policy.quality_threshold
    )
    compared_frames = prepare_frames(
        compared.frames if isinstance(compared, VideoSignature) else compared, policy.quality_threshold
    )
    if not query_frames or not compared_frames:
        return VideoMatchResult(0.0, 0.0, len(query_frames), len(compared_frames), False)
    q_hit, c_hit = _matched_rows(_hash_matrix(query_frames), _hash_matrix(compared_frames), policy.distance_threshold)
    q_percent = 100.0 * int(q_hit.sum()) / len(query_frames)
    c_percent = 100.0 * int(c_hit.sum()) / len(compared_frames)
    q_ok = q_percent >= policy.query_match_percent
    c_ok = c_percent >= policy.compared_match_percent
    decided = (q_ok and c_ok) if policy.require_both else (q_ok or c_ok)
    return VideoMatchResult(q_percent, c_percent, len(query_frames), len(compared_frames), decided)
