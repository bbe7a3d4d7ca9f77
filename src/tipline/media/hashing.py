"""The entry point hash_file(): crypto hashes always, then PDQ, vPDQ or archive checks by content, never raising."""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass, field
from typing import BinaryIO

from tipline.media.archives import ArchiveInfo, ZipLimits, inspect_zip
from tipline.media.crypto_hashes import READ_CHUNK, CryptoHashes, StreamingHasher
from tipline.media.errors import MediaError, Problem, ProblemCode
from tipline.media.images import (
    DEFAULT_MAX_IMAGE_PIXELS,
    decode_for_hashing,
    load_truncated_images_enabled,
)
from tipline.media.pdq import (
    PDQ_MIN_MATCH_QUALITY,
    PDQ_REFERENCE_MAX_DIMENSION,
    DihedralPdq,
    dihedral_from_pixels,
    pdq_from_pixels,
)
from tipline.media.sniffing import (
    OGG,
    SNIFF_BYTES,
    ZIP,
    MediaKind,
    MediaType,
    declared_media_type,
    sniff_media_type,
    type_discrepancy,
)
from tipline.media.video import (
    DEFAULT_MAX_DECODE_SECONDS,
    DEFAULT_MAX_FRAME_HASHES,
    DEFAULT_SECONDS_PER_HASH,
    VideoFrameHash,
    VideoSignature,
    hash_video,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_IN_MEMORY = 512 * 1024 * 1024
"""A non-seekable source is read into memory (never to disk) up to this size."""


@dataclass(frozen=True, slots=True)
class HashOptions:
    """What hash_file computes and the limits it enforces."""

    pdq: bool = True
    dihedral: bool = True
    """Also compute the eight rotations/flips of the image's PDQ (one pass, little extra cost)."""
    dihedral_exact: bool = False
    """Hash the really rotated/flipped pixels (8x the PDQ work) instead of Meta's DCT shortcut, which can be
    10-20 bits off for some image sizes; see benchmarks/robustness.py."""
    pdq_max_dimension: int = PDQ_REFERENCE_MAX_DIMENSION
    """Images are downscaled to fit this square before PDQ, as Meta's reference does; 0 = full resolution."""
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    max_decoded_pixels: int | None = None
    """The most pixels held while decoding an image (after JPEG's reduced-scale decoding); None: no
    limit beyond max_image_pixels. The web process sets it (TIPLINE_DECODE_MAX_PIXELS)."""
    video: bool = True
    seconds_per_hash: float = DEFAULT_SECONDS_PER_HASH
    """One video frame hashed per this many seconds; 0 hashes every frame."""
    video_max_frame_hashes: int = DEFAULT_MAX_FRAME_HASHES
    video_max_seconds: float = DEFAULT_MAX_DECODE_SECONDS
    """Wall-clock budget for decoding one video; the frames hashed before it runs out are kept."""
    video_max_dimension: int = 0
    """Downscale video frames to fit this square before PDQ (faster on 4K); 0 = full frames, as vPDQ does."""
    zip_limits: ZipLimits = field(default_factory=ZipLimits)
    max_in_memory: int = DEFAULT_MAX_IN_MEMORY


@dataclass(frozen=True, slots=True)
class FileHashes:
    """Everything tipline measures about one file. Crypto hashes are always there; the rest depends on the content."""

    name: str | None
    size: int
    md5: str
    sha1: str
    sha256: str
    media_type: str
    """The MIME type found in the content (not the name)."""
    kind: MediaKind
    declared_type: str | None = None
    """The MIME type the file name's extension claims, if it claims one."""
    width: int | None = None
    height: int | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    dihedral: DihedralPdq | None = None
    video: VideoSignature | None = None
    archive: ArchiveInfo | None = None
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """No error: every hash the content calls for was computed."""
        return not self.errors

    @property
    def pdq_matchable(self) -> bool:
        """A PDQ hash exists and its quality is high enough to match (>= 50)."""
        return self.pdq is not None and (self.pdq_quality or 0) >= PDQ_MIN_MATCH_QUALITY

    @property
    def video_frames(self) -> tuple[VideoFrameHash, ...]:
        return self.video.frames if self.video else ()

    @property
    def crypto(self) -> CryptoHashes:
        return CryptoHashes(self.size, self.md5, self.sha1, self.sha256)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form (what `tipline hash --json` prints)."""
        out: dict[str, object] = {
            "name": self.name,
            "size": self.size,
            "media_type": self.media_type,
            "kind": self.kind.value,
            "declared_type": self.declared_type,
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
        }
        if self.width is not None:
            out["width"] = self.width
            out["height"] = self.height
        if self.pdq is not None:
            out["pdq"] = self.pdq
            out["pdq_quality"] = self.pdq_quality
        if self.dihedral is not None:
            out["dihedral"] = self.dihedral.as_dict()
        if self.video is not None:
            out["video"] = self.video.to_dict()
        if self.archive is not None:
            out["archive"] = self.archive.to_dict()
        out["errors"] = [p.to_dict() for p in self.errors]
        out["warnings"] = [p.to_dict() for p in self.warnings]
        return out


Source = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO


@dataclass(slots=True)
class _Opened:
    stream: BinaryIO | None  # None when a non-seekable source was too large to hold in memory
    owned: bool
    crypto: CryptoHashes | None = None
    head: bytes = b""


def _open(source: Source, max_in_memory: int) -> _Opened:
    """A seekable binary stream over the source, and whether we opened it (and must close it)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _Opened(io.BytesIO(source), True)
    if isinstance(source, (str, os.PathLike)):
        return _Opened(open(os.fspath(source), "rb"), True)  # noqa: SIM115 - closed by hash_file
    try:
        seekable = bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        source.seek(0)
        return _Opened(source, False)
    # Not seekable (a socket, a pipe): decoders need to seek, so it is read into memory, never to
    # disk. Past max_in_memory it is still read to its end for the crypto hashes, but not kept.
    hasher = StreamingHasher()
    buffer: bytearray | None = bytearray()
    head = b""
    while chunk := source.read(READ_CHUNK):
        hasher.update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        if buffer is not None:
            buffer.extend(chunk)
            if len(buffer) > max_in_memory:
                buffer = None
    crypto = hasher.result()
    if buffer is None:
        return _Opened(None, False, crypto, head)
    return _Opened(io.BytesIO(bytes(buffer)), True, crypto, head)


def _crypto(stream: BinaryIO) -> tuple[CryptoHashes, bytes]:
    hasher = StreamingHasher()
    head = b""
    stream.seek(0)
    while chunk := stream.read(READ_CHUNK):
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        hasher.update(chunk)
    stream.seek(0)
    return hasher.result(), head


def hash_file(
    source: Source,
    name: str | None = None,
    options: HashOptions | None = None,
    *,
    known_crypto: CryptoHashes | None = None,
) -> FileHashes:
    """Hash one file: bytes, a path, or a binary stream (read from its start).

    Never raises for bad content: every problem becomes an entry in FileHashes.errors (or
    .warnings) with a stable code and a precise message, and the crypto hashes are always
    returned. It raises only for a source that cannot be read at all (OSError, e.g. a missing
    path) or a bad option. `name` (the original file name) is used only to report a type that
    the content contradicts. Pass `known_crypto` when the caller already has the crypto hashes
    (the blob store's put() returns them), to skip one pass over the data.
    """
    options = options or HashOptions()
    if name is None and isinstance(source, (str, os.PathLike)):
        name = os.path.basename(os.fspath(source))
    opened = _open(source, options.max_in_memory)
    if opened.stream is None:
        assert opened.crypto is not None
        detected = sniff_media_type(opened.head, complete=opened.crypto.size <= len(opened.head))
        declared = declared_media_type(name)
        message = (
            f"the stream is not seekable and larger than {options.max_in_memory:,} bytes, the most held in memory "
            "(nothing is ever written to disk), so only its crypto hashes were computed; pass a path or a seekable "
            "stream to hash its content"
        )
        return FileHashes(
            name=name, size=opened.crypto.size, md5=opened.crypto.md5, sha1=opened.crypto.sha1,
            sha256=opened.crypto.sha256, media_type=detected.mime, kind=detected.kind,
            declared_type=declared.mime if declared else None, errors=(Problem(ProblemCode.TOO_LARGE, message),),
        )  # fmt: skip
    try:
        return _hash_stream(opened.stream, name, options, known_crypto or opened.crypto)
    finally:
        if opened.owned:
            opened.stream.close()


def _hash_stream(
    stream: BinaryIO, name: str | None, options: HashOptions, known_crypto: CryptoHashes | None
) -> FileHashes:
    if known_crypto is None:
        crypto, head = _crypto(stream)
    else:
        crypto = known_crypto
        stream.seek(0)
        head = stream.read(SNIFF_BYTES)
        stream.seek(0)
    detected = sniff_media_type(head, complete=crypto.size <= len(head))
    declared = declared_media_type(name)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    found: dict[str, object] = {}

    if crypto.size == 0:
        errors.append(Problem(ProblemCode.EMPTY_FILE, "the file is empty (0 bytes): only its crypto hashes exist"))
    discrepancy = type_discrepancy(name, detected)
    if discrepancy:
        warnings.append(Problem(ProblemCode.TYPE_MISMATCH, discrepancy))

    if crypto.size > 0:
        try:
            if detected.kind is MediaKind.IMAGE and options.pdq:
                found.update(_image_hashes(stream, detected, options, warnings))
            elif (detected.kind is MediaKind.VIDEO or detected is OGG) and options.video:
                found.update(_video_hashes(stream, detected, options, errors, warnings))
            elif detected is ZIP:
                found["archive"] = inspect_zip(stream, options.zip_limits)
        except MediaError as exc:
            errors.append(exc.problem())
        except Exception as exc:  # a decoder bug must not lose the file's crypto hashes
            log.exception("unexpected failure hashing %s (%s)", name or "a file", detected.mime)
            errors.append(
                Problem(
                    ProblemCode.INTERNAL, f"unexpected {type(exc).__name__} while hashing the {detected.label}: {exc}"
                )
            )
        finally:
            stream.seek(0)

    return FileHashes(
        name=name,
        size=crypto.size,
        md5=crypto.md5,
        sha1=crypto.sha1,
        sha256=crypto.sha256,
        media_type=detected.mime,
        kind=detected.kind,
        declared_type=declared.mime if declared else None,
        errors=tuple(errors),
        warnings=tuple(warnings),
        **found,  # type: ignore[arg-type]  # the optional results by field name, each of its field's type
    )


def _image_hashes(
    stream: BinaryIO, detected: MediaType, options: HashOptions, warnings: list[Problem]
) -> dict[str, object]:
    decoded = decode_for_hashing(
        stream,
        max_pixels=options.max_image_pixels,
        max_dimension=options.pdq_max_dimension,
        media_type=detected,
        max_decoded_pixels=options.max_decoded_pixels,
    )
    found: dict[str, object] = {"width": decoded.width, "height": decoded.height}
    if options.dihedral:
        dihedral = dihedral_from_pixels(decoded.pixels, exact=options.dihedral_exact)
        found.update(pdq=dihedral.hashes[0], pdq_quality=dihedral.quality, dihedral=dihedral)
    else:
        pdq = pdq_from_pixels(decoded.pixels)
        found.update(pdq=pdq.hex, pdq_quality=pdq.quality)
    quality = int(found["pdq_quality"])  # type: ignore[call-overload]  # set just above to an int
    if quality < PDQ_MIN_MATCH_QUALITY:
        warnings.append(
            Problem(
                ProblemCode.LOW_QUALITY,
                f"PDQ quality {quality} is below {PDQ_MIN_MATCH_QUALITY}: the hash is kept but never matched "
                "(the image is too flat to tell apart)",
            )
        )
    if decoded.frames > 1:
        warnings.append(
            Problem(ProblemCode.MULTI_FRAME, f"the image has {decoded.frames} frames; only the first is hashed")
        )
    if load_truncated_images_enabled():
        warnings.append(
            Problem(
                ProblemCode.CONFIGURATION,
                "Pillow's LOAD_TRUNCATED_IMAGES is on in this process, so truncated images cannot be detected",
            )
        )
    return found


def _video_hashes(
    stream: BinaryIO, detected: MediaType, options: HashOptions, errors: list[Problem], warnings: list[Problem]
) -> dict[str, object]:
    try:
        signature = hash_video(
            stream,
            seconds_per_hash=options.seconds_per_hash,
            max_pixels=options.max_image_pixels,
            max_frame_hashes=options.video_max_frame_hashes,
            max_seconds=options.video_max_seconds,
            max_dimension=options.video_max_dimension,
        )
    except MediaError as exc:
        if exc.code is ProblemCode.NO_VIDEO_STREAM and detected is OGG:
            return {}  # Ogg audio: nothing to hash beyond the crypto hashes
        raise
    for problem in signature.problems:
        (warnings if problem.code is ProblemCode.VIDEO_LIMIT else errors).append(problem)
    return {"video": signature, "width": signature.width or None, "height": signature.height or None}
