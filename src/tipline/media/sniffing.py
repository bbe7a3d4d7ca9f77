"""Content sniffing: the real media type from magic bytes, the type a name claims, and header dimensions."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import BinaryIO

SNIFF_BYTES = 8192
"""How many leading bytes sniff_media_type() looks at (more is harmless, fewer may miss text or EBML doctypes)."""


class MediaKind(StrEnum):
    """What tipline does with a file: images and videos get perceptual hashes, archives get inspected."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    ARCHIVE = "archive"
    DOCUMENT = "document"
    TEXT = "text"
    EXECUTABLE = "executable"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class MediaType:
    """A detected or declared type: its MIME name, its kind, and a short human label."""

    mime: str
    kind: MediaKind
    label: str

    def __str__(self) -> str:
        return self.mime


def _t(mime: str, kind: MediaKind, label: str) -> MediaType:
    return MediaType(mime, kind, label)


JPEG = _t("image/jpeg", MediaKind.IMAGE, "JPEG image")
PNG = _t("image/png", MediaKind.IMAGE, "PNG image")
GIF = _t("image/gif", MediaKind.IMAGE, "GIF image")
WEBP = _t("image/webp", MediaKind.IMAGE, "WebP image")
BMP = _t("image/bmp", MediaKind.IMAGE, "BMP image")
TIFF = _t("image/tiff", MediaKind.IMAGE, "TIFF image")
HEIC = _t("image/heic", MediaKind.IMAGE, "HEIC image")
HEIF = _t("image/heif", MediaKind.IMAGE, "HEIF image")
AVIF = _t("image/avif", MediaKind.IMAGE, "AVIF image")
ICO = _t("image/x-icon", MediaKind.IMAGE, "ICO icon")
MP4 = _t("video/mp4", MediaKind.VIDEO, "MP4 video")
MOV = _t("video/quicktime", MediaKind.VIDEO, "QuickTime (MOV) video")
M4V = _t("video/x-m4v", MediaKind.VIDEO, "M4V video")
THREE_GP = _t("video/3gpp", MediaKind.VIDEO, "3GP video")
WEBM = _t("video/webm", MediaKind.VIDEO, "WebM video")
MKV = _t("video/x-matroska", MediaKind.VIDEO, "Matroska (MKV) video")
AVI = _t("video/x-msvideo", MediaKind.VIDEO, "AVI video")
FLV = _t("video/x-flv", MediaKind.VIDEO, "Flash video")
MPEG_TS = _t("video/mp2t", MediaKind.VIDEO, "MPEG transport stream")
MPEG_PS = _t("video/mpeg", MediaKind.VIDEO, "MPEG program stream")
WAV = _t("audio/wav", MediaKind.AUDIO, "WAV audio")
MP3 = _t("audio/mpeg", MediaKind.AUDIO, "MP3 audio")
OGG = _t("audio/ogg", MediaKind.AUDIO, "Ogg media")
FLAC = _t("audio/flac", MediaKind.AUDIO, "FLAC audio")
M4A = _t("audio/mp4", MediaKind.AUDIO, "MPEG-4 audio")
ZIP = _t("application/zip", MediaKind.ARCHIVE, "ZIP archive")
GZIP = _t("application/gzip", MediaKind.ARCHIVE, "gzip archive")
BZIP2 = _t("application/x-bzip2", MediaKind.ARCHIVE, "bzip2 archive")
XZ = _t("application/x-xz", MediaKind.ARCHIVE, "xz archive")
SEVEN_ZIP = _t("application/x-7z-compressed", MediaKind.ARCHIVE, "7-Zip archive")
RAR = _t("application/vnd.rar", MediaKind.ARCHIVE, "RAR archive")
TAR = _t("application/x-tar", MediaKind.ARCHIVE, "tar archive")
PDF = _t("application/pdf", MediaKind.DOCUMENT, "PDF document")
RTF = _t("application/rtf", MediaKind.DOCUMENT, "RTF document")
OLE = _t("application/x-ole-storage", MediaKind.DOCUMENT, "OLE compound document (legacy Office)")
ELF = _t("application/x-elf", MediaKind.EXECUTABLE, "ELF executable")
EXE = _t("application/vnd.microsoft.portable-executable", MediaKind.EXECUTABLE, "Windows executable")
TEXT = _t("text/plain", MediaKind.TEXT, "plain text")
HTML = _t("text/html", MediaKind.TEXT, "HTML document")
XML = _t("application/xml", MediaKind.TEXT, "XML document")
SVG = _t("image/svg+xml", MediaKind.TEXT, "SVG drawing (text)")
JSON = _t("application/json", MediaKind.TEXT, "JSON document")
EMPTY = _t("application/x-empty", MediaKind.UNKNOWN, "empty file")
UNKNOWN = _t("application/octet-stream", MediaKind.UNKNOWN, "unrecognised binary data")

# ISO base media file format (MP4 family) major brands.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_QT_BRANDS = {b"qt  "}
_M4V_BRANDS = {b"M4V ", b"M4VH", b"M4VP"}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_3GP_PREFIXES = (b"3gp", b"3g2", b"3ge", b"3gg")
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _sniff_iso_bmff(head: bytes) -> MediaType | None:
    if len(head) < 12:
        return None
    box_type = head[4:8]
    if box_type != b"ftyp":
        if box_type in _QT_ATOMS:
            return MOV  # old QuickTime files start with an atom and no ftyp
        return None
    box_size = struct.unpack(">I", head[:4])[0]
    major = head[8:12]
    compatible = [head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)]
    brands = [major, *compatible]
    if major in _HEIC_BRANDS:
        return HEIC
    if major in _AVIF_BRANDS:
        return AVIF
    if major in _HEIF_BRANDS:
        # mif1 is the generic HEIF brand: look at the compatible brands for the codec.
        if any(b in _HEIC_BRANDS for b in compatible):
            return HEIC
        if any(b in _AVIF_BRANDS for b in compatible):
            return AVIF
        return HEIF
    if major in _QT_BRANDS:
        return MOV
    if major in _M4V_BRANDS:
        return M4V
    if major in _M4A_BRANDS:
        return M4A
    if major.startswith(_3GP_PREFIXES):
        return THREE_GP
    if any(b in _HEIC_BRANDS for b in brands) and not any(b.startswith((b"iso", b"mp4", b"avc")) for b in brands):
        return HEIC
    return MP4


def _ebml_doctype(head: bytes) -> bytes | None:
    # EBML DocType element id 0x4282 followed by a 1-byte size (vint 0x8N) in practice.
    at = head.find(b"\x42\x82", 4, 64)
    if at < 0 or at + 3 > len(head):
        return None
    size_byte = head[at + 2]
    if size_byte & 0x80:
        size = size_byte & 0x7F
        return head[at + 3 : at + 3 + size]
    return None


def _looks_like_bmp(head: bytes) -> bool:
    if len(head) < 26 or head[:2] != b"BM":
        return False
    dib_size = struct.unpack("<I", head[14:18])[0]
    return dib_size in {12, 16, 40, 52, 56, 64, 108, 124}


def _looks_like_mpeg_ts(head: bytes) -> bool:
    return len(head) >= 188 * 3 and all(head[i] == 0x47 for i in (0, 188, 376))


def _looks_like_mp3(head: bytes) -> bool:
    if head[:3] == b"ID3":
        return True
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0


def _sniff_text(head: bytes, complete: bool) -> MediaType | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return TEXT  # UTF-16 with a byte-order mark
    if b"\x00" in head:
        return None
    sample = head
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is fine; anything else is binary.
        if complete or exc.start < len(sample) - 4:
            return None
        text = sample[: exc.start].decode("utf-8")
    if not text:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v\x1b")
    if controls > max(1, len(text) // 100):
        return None
    stripped = text.lstrip("\ufeff \t\r\n").lower()
    if stripped.startswith("<?xml"):
        return SVG if "<svg" in stripped[:4096] else XML
    if stripped.startswith("<svg"):
        return SVG
    if stripped.startswith(("<!doctype html", "<html")):
        return HTML
    if stripped.startswith("{\\rtf"):
        return RTF
    return TEXT


def sniff_media_type(head: bytes, *, complete: bool = False) -> MediaType:
    """The type of a file from its first bytes (SNIFF_BYTES of them is enough).

    complete=True says `head` is the whole file, so a multi-byte character cut at the end is not
    excused by the sniff window.
    """
    if not head:
        return EMPTY
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP":
            return WEBP
        if form == b"AVI ":
            return AVI
        if form == b"WAVE":
            return WAV
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if _looks_like_bmp(head):
        return BMP
    bmff = _sniff_iso_bmff(head)
    if bmff is not None:
        return bmff
    if head[:4] == b"\x1a\x45\xdf\xa3":
        doctype = _ebml_doctype(head)
        return WEBM if doctype == b"webm" else MKV
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return ZIP
    if head[:5] == b"%PDF-":
        return PDF
    if head[:2] == b"\x1f\x8b":
        return GZIP
    if head[:3] == b"BZh" and len(head) > 3 and head[3:4].isdigit():
        return BZIP2
    if head[:6] == b"\xfd7zXZ\x00":
        return XZ
    if head[:6] == b"7z\xbc\xaf\x27\x1c":
        return SEVEN_ZIP
    if head[:7] == b"Rar!\x1a\x07\x00" or head[:8] == b"Rar!\x1a\x07\x01\x00":
        return RAR
    if len(head) >= 262 and head[257:262] == b"ustar":
        return TAR
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return OLE
    if head[:4] == b"\x7fELF":
        return ELF
    if head[:2] == b"MZ":
        return EXE
    if head[:3] == b"FLV":
        return FLV
    if head[:4] == b"\x00\x00\x01\xba":
        return MPEG_PS
    if head[:4] == b"OggS":
        return OGG
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and head[4:6] != b"\x00\x00":
        return ICO
    if _looks_like_mpeg_ts(head):
        return MPEG_TS
    if _looks_like_mp3(head):
        return MP3
    text = _sniff_text(head, complete)
    if text is not None:
        return text
    return UNKNOWN


def sniff_stream(stream: BinaryIO) -> MediaType:
    """Sniff a seekable stream from its start; leaves the position at the start."""
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    complete = len(head) < SNIFF_BYTES
    stream.seek(0)
    return sniff_media_type(head, complete=complete)


# The types a file name's extension claims. Office and e-book formats are ZIP containers, so
# they claim the ZIP family; an unknown extension claims nothing.
_EXTENSIONS: dict[str, MediaType] = {
    ".jpg": JPEG, ".jpeg": JPEG, ".jpe": JPEG, ".jfif": JPEG, ".pjpeg": JPEG,
    ".png": PNG, ".apng": PNG, ".gif": GIF, ".webp": WEBP, ".bmp": BMP, ".dib": BMP,
    ".tif": TIFF, ".tiff": TIFF, ".heic": HEIC, ".heif": HEIF, ".hif": HEIF, ".avif": AVIF,
    ".ico": ICO,
    ".mp4": MP4, ".m4v": M4V, ".mov": MOV, ".qt": MOV, ".3gp": THREE_GP, ".3g2": THREE_GP,
    ".webm": WEBM, ".mkv": MKV, ".avi": AVI, ".flv": FLV, ".ts": MPEG_TS, ".mts": MPEG_TS,
    ".m2ts": MPEG_TS, ".mpg": MPEG_PS, ".mpeg": MPEG_PS,
    ".wav": WAV, ".mp3": MP3, ".ogg": OGG, ".oga": OGG, ".ogv": OGG, ".flac": FLAC, ".m4a": M4A,
    ".zip": ZIP, ".docx": ZIP, ".xlsx": ZIP, ".pptx": ZIP, ".odt": ZIP, ".ods": ZIP,
    ".odp": ZIP, ".epub": ZIP, ".jar": ZIP, ".apk": ZIP, ".cbz": ZIP,
    ".gz": GZIP, ".tgz": GZIP, ".bz2": BZIP2, ".xz": XZ, ".7z": SEVEN_ZIP, ".rar": RAR,
    ".tar": TAR, ".pdf": PDF, ".rtf": RTF, ".doc": OLE, ".xls": OLE, ".ppt": OLE,
    ".exe": EXE, ".dll": EXE,
    ".txt": TEXT, ".text": TEXT, ".log": TEXT, ".csv": TEXT, ".tsv": TEXT, ".md": TEXT,
    ".html": HTML, ".htm": HTML, ".xml": XML, ".svg": SVG, ".json": JSON,
}  # fmt: skip

# Types that are the same container under different names: a .mov holding an MP4 brand is no lie.
_FAMILIES: list[set[str]] = [
    {MP4.mime, MOV.mime, M4V.mime, THREE_GP.mime, M4A.mime},
    {WEBM.mime, MKV.mime},
    {HEIC.mime, HEIF.mime, AVIF.mime},
    {TEXT.mime, HTML.mime, XML.mime, SVG.mime, JSON.mime, RTF.mime},
    {OGG.mime},
]


def declared_media_type(name: str | None) -> MediaType | None:
    """The type a file name claims through its extension, or None when it claims nothing we know."""
    if not name:
        return None
    suffix = PurePath(name.replace("\\", "/")).suffix.lower()
    return _EXTENSIONS.get(suffix)


def same_family(a: MediaType, b: MediaType) -> bool:
    """Whether two types are the same kind of container (so naming one as the other is not a lie)."""
    if a.mime == b.mime:
        return True
    return any(a.mime in family and b.mime in family for family in _FAMILIES)


def type_discrepancy(name: str | None, detected: MediaType) -> str | None:
    """A sentence describing how the name's extension disagrees with the content, or None."""
    declared = declared_media_type(name)
    if declared is None or detected is EMPTY or same_family(declared, detected):
        return None
    suffix = PurePath(str(name).replace("\\", "/")).suffix
    return (
        f"the name ends in {suffix!r}, which claims {declared.label} ({declared.mime}), "
        f"but the content is {detected.label} ({detected.mime}); it was handled by its content"
    )


# ---------------------------------------------------------------- header dimensions


def _read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    stream.seek(offset)
    return stream.read(size)


def _png_dimensions(stream: BinaryIO) -> tuple[int, int] | None:
    data = _read_at(stream, 8, 16)
    if len(data) < 16 or data[4:8] != b"IHDR":
        return None
    return struct.unpack(">II", data[8:16])


def _gif_dimensions(stream: BinaryIO) -> tuple[int, int] | None:
    data = _read_at(stream, 6, 4)
    if len(data) < 4:
        return None
    return struct.unpack("<HH", data)


def _bmp_dimensions(stream: BinaryIO) -> tuple[int, int] | None:
    data = _read_at(stream, 14, 12)
    if len(data) < 12:
        return None
    dib = struct.unpack("<I", data[:4])[0]
    if dib == 12:
        w, h = struct.unpack("<HH", data[4:8])
        return w, h
    w, h = struct.unpack("<ii", data[4:12])
    return abs(w), abs(h)


def _webp_dimensions(stream: BinaryIO) -> tuple[int, int] | None:
    data = _read_at(stream, 12, 18)
    if len(data) < 18:
        return None
    chunk = data[:4]
    body = data[8:]
    if chunk == b"VP8X":
        w = 1 + int.from_bytes(body[4:7], "little")
        h = 1 + int.from_bytes(body[7:10], "little")
        return w, h
    if chunk == b"VP8L" and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF
    return None


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_dimensions(stream: BinaryIO) -> tuple[int, int] | None:
    offset = 2
    for _ in range(256):  # segments before the frame header: bounded, a JPEG has a few
        marker = _read_at(stream, offset, 4)
        if len(marker) < 4 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xFF:  # fill byte
            offset += 1
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:
            offset += 2
            continue
        length = struct.unpack(">H", marker[2:4])[0]
        if kind in _JPEG_SOF:
            sof = _read_at(stream, offset + 4, 5)
            if len(sof) < 5:
                return None
            h, w = struct.unpack(">HH", sof[1:5])
            return w, h
        if kind == 0xDA or length < 2:
            return None
        offset += 2 + length
    return None


_DIMENSION_READERS = {
    PNG.mime: _png_dimensions,
    GIF.mime: _gif_dimensions,
    BMP.mime: _bmp_dimensions,
    WEBP.mime: _webp_dimensions,
    JPEG.mime: _jpeg_dimensions,
}


def header_dimensions(stream: BinaryIO, media_type: MediaType) -> tuple[int, int] | None:
    """(width, height) as the file's header declares them, read without decoding any pixel.

    Known for PNG, GIF, BMP, WebP and JPEG; None for other formats or an unreadable header.
    Leaves the stream at its start.
    """
    reader = _DIMENSION_READERS.get(media_type.mime)
    if reader is None:
        return None
    try:
        return reader(stream)
    except (struct.error, OSError, ValueError):
        return None
    finally:
        stream.seek(0)
