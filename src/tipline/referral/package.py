"""Referral packages: a ZIP of the report (JSON, CyberTipline XML, a PDF summary), its evidence files
and a manifest with the SHA-256 of every item and a chain-of-custody log, signed by the hotline
(Ed25519) and encrypted to the agency (see envelope.py). Built as a stream: evidence goes from the
encrypted file store through the ZIP writer into the encrypted package, never to disk in plaintext.

Inside the ZIP:

    manifest.json   what the package holds: every item's path, kind, size and SHA-256, the referral,
                    the agency, the hotline's signing key, and the custody log from the audit trail
    manifest.sig    the Ed25519 signature of manifest.json's exact bytes (64 raw bytes)
    report.json, report.xml, summary.pdf, file-details/<file id>.xml, evidence/<n>-<file id>/<name>
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tipline.referral.envelope import EnvelopeError, EnvelopeReader, EnvelopeWriter, WrongKeyError, is_envelope
from tipline.referral.keys import b64, fingerprint, raw_public

FORMAT = "tipline-referral-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
COPY_CHUNK = 1024 * 1024
COMPRESSED_KINDS = {"report_json", "report_xml", "file_details_xml"}


class PackageError(Exception):
    """A package that cannot be read at all (not a package, wrong key, unreadable)."""


@dataclass
class PackageItem:
    """One item to put in the package: its path inside, its kind, and its content (bytes, or a
    function that opens a stream, so large evidence is read only while it is written)."""

    path: str
    kind: str
    content: bytes | Callable[[], BinaryIO]
    meta: dict[str, Any] = field(default_factory=dict)
    expected_sha256: str | None = None  # refuse to package content that differs (the store's record)


@dataclass
class BuiltPackage:
    manifest: dict[str, Any]
    manifest_sha256: str
    package_sha256: str
    package_size: int


def safe_member_name(name: str | None, fallback: str) -> str:
    """A file name that is safe inside a ZIP on any system: no paths, no control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip().strip(".")
    return base[:200] or fallback


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8")


def write_package(target: BinaryIO, items: Iterable[PackageItem],
                  manifest_base: dict[str, Any] | Callable[[], dict[str, Any]],
                  recipient_public_key: bytes, signer: Ed25519PrivateKey) -> BuiltPackage:
    """Write the encrypted package to `target` (an open binary file); returns the manifest and hashes.
    `manifest_base` may be a function, called after every item was written (so a custody log taken
    from the audit trail includes the reads that made the package)."""
    envelope = EnvelopeWriter(target, recipient_public_key)
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(envelope, "w", allowZip64=True) as archive:
        for item in items:
            compression = zipfile.ZIP_DEFLATED if item.kind in COMPRESSED_KINDS else zipfile.ZIP_STORED
            info = zipfile.ZipInfo(item.path, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            digest, size = hashlib.sha256(), 0
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in _chunks(item.content):
                    member.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            sha256 = digest.hexdigest()
            if item.expected_sha256 is not None and sha256 != item.expected_sha256:
                raise PackageError(f"{item.path}: the stored content's SHA-256 is {sha256}, but the report "
                                   f"records {item.expected_sha256}; the file store is damaged, nothing was sent")
            entries.append({"path": item.path, "kind": item.kind, "size": size, "sha256": sha256, **item.meta})
        public = raw_public(signer.public_key())
        if callable(manifest_base):
            manifest_base = manifest_base()
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            **manifest_base,
            "hotline": {**manifest_base.get("hotline", {}), "signing_key_id": fingerprint(public),
                        "signing_public_key": b64(public)},
            "items": entries,
        }
        manifest_bytes = _canonical(manifest)
        archive.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)), manifest_bytes,
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo(SIGNATURE, date_time=(1980, 1, 1, 0, 0, 0)), signer.sign(manifest_bytes))
    envelope.close()
    return BuiltPackage(manifest, hashlib.sha256(manifest_bytes).hexdigest(), envelope.sha256, envelope.size)


def _chunks(content: bytes | Callable[[], BinaryIO]) -> Iterator[bytes]:
    if isinstance(content, (bytes, bytearray)):
        for start in range(0, len(content), COPY_CHUNK):
            yield bytes(content[start:start + COPY_CHUNK])
        return
    with content() as stream:
        while chunk := stream.read(COPY_CHUNK):
            yield chunk


# --- reading and verifying ---------------------------------------------------------------------------


class PackageContents:
    """The members of a package, whether encrypted, a decrypted ZIP, or a folder it was extracted to."""

    def __init__(self, names: list[str], opener: Callable[[str], IO[bytes]], closer: Callable[[], None]) -> None:
        self.names = names
        self._open = opener
        self._close = closer

    def open(self, name: str) -> IO[bytes]:
        return self._open(name)

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def close(self) -> None:
        self._close()

    def __enter__(self) -> PackageContents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_package(path: str | os.PathLike[str], private_key: X25519PrivateKey | None = None) -> PackageContents:
    """Open an encrypted package (needs the agency's private key), a decrypted ZIP, or a folder."""
    location = Path(path)
    if location.is_dir():
        root = location.resolve()
        names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        return PackageContents(names, lambda name: open(root / name, "rb"), lambda: None)  # noqa: SIM115
    try:
        handle = open(location, "rb")  # noqa: SIM115 - closed by PackageContents
    except OSError as error:
        raise PackageError(f"cannot open {location}: {error.strerror or error}") from None
    head = handle.read(8)
    handle.seek(0)
    source: BinaryIO = handle
    if is_envelope(head):
        if private_key is None:
            handle.close()
            raise PackageError(f"{location} is encrypted: give the agency's private key (--key)")
        try:
            source = EnvelopeReader(handle, private_key, name=str(location))  # type: ignore[assignment]  # an EnvelopeReader reads as a binary file (io.RawIOBase)
        except WrongKeyError as error:
            handle.close()
            raise PackageError(str(error)) from None
        except EnvelopeError as error:
            handle.close()
            raise PackageError(str(error)) from None
    try:
        archive = zipfile.ZipFile(source)
        names = archive.namelist()
    except EnvelopeError as error:
        source.close()
        raise PackageError(str(error)) from None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        source.close()
        raise PackageError(f"{location} is not a referral package (not a readable ZIP: {error})") from None

    def close() -> None:
        archive.close()
        source.close()

    return PackageContents(names, lambda name: archive.open(name), close)


@dataclass
class Problem:
    kind: str  # bad_signature, missing, altered, unexpected, unreadable, manifest
    item: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "item": self.item, "message": self.message}


@dataclass
class Verification:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    signature_valid: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and self.signature_valid

    def to_dict(self) -> dict[str, Any]:
        manifest = self.manifest or {}
        return {"ok": self.ok, "signature_valid": self.signature_valid, "items_checked": self.checked,
                "referral": manifest.get("referral"), "agency": manifest.get("agency"),
                "problems": [p.to_dict() for p in self.problems]}


def verify_contents(contents: PackageContents, hotline_key: Ed25519PublicKey,
                    deferred_kinds: frozenset[str] = frozenset()) -> Verification:
    """Check the manifest's signature with the hotline's key and every item's SHA-256; name every
    item that was altered, is missing, or was added. Items of `deferred_kinds` are only checked to be
    present: the caller checks their SHA-256 and size as it reads them (an import reads evidence once)."""
    result = Verification()
    names = set(contents.names)
    if MANIFEST not in names:
        result.problems.append(Problem("missing", MANIFEST, "manifest.json is missing: nothing can be checked"))
        return result
    manifest_bytes = contents.read(MANIFEST)
    key_id = fingerprint(raw_public(hotline_key))
    if SIGNATURE not in names:
        result.problems.append(Problem("missing", SIGNATURE, "manifest.sig is missing: the manifest is unsigned"))
    else:
        signature = contents.read(SIGNATURE)
        try:
            hotline_key.verify(signature, manifest_bytes)
            result.signature_valid = True
        except InvalidSignature:
            result.problems.append(Problem(
                "bad_signature", MANIFEST,
                f"the manifest does not match its signature under the hotline key {key_id}: the manifest was "
                "changed, or it was signed with another key"))
    try:
        manifest = json.loads(manifest_bytes)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("items"), list):
            raise ValueError("no list of items")
    except ValueError as error:
        result.problems.append(Problem("manifest", MANIFEST, f"manifest.json is not a package manifest ({error})"))
        return result
    result.manifest = manifest
    declared = manifest.get("hotline", {}).get("signing_key_id")
    if declared and declared != key_id and not result.signature_valid:
        result.problems.append(Problem("bad_signature", MANIFEST,
                                       f"the manifest names the signing key {declared}, but the hotline key "
                                       f"given is {key_id}"))
    listed = set()
    for entry in manifest["items"]:
        path = str(entry.get("path", ""))
        listed.add(path)
        result.checked += 1
        if path not in names:
            result.problems.append(Problem("missing", path, f"{path} is listed in the manifest but missing"))
            continue
        if entry.get("kind") in deferred_kinds:
            continue
        digest, size = hashlib.sha256(), 0
        try:
            with contents.open(path) as stream:
                while chunk := stream.read(COPY_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, EnvelopeError, OSError) as error:
            result.problems.append(Problem("unreadable", path, f"{path} cannot be read ({error})"))
            continue
        if digest.hexdigest() != entry.get("sha256") or size != entry.get("size"):
            result.problems.append(Problem(
                "altered", path, f"{path} was altered: SHA-256 {digest.hexdigest()} ({size} bytes), the manifest "
                                 f"says {entry.get('sha256')} ({entry.get('size')} bytes)"))
    for extra in sorted(names - listed - {MANIFEST, SIGNATURE}):
        result.problems.append(Problem("unexpected", extra, f"{extra} is not listed in the manifest"))
    return result


def verify_package(path: str | os.PathLike[str], hotline_key: Ed25519PublicKey,
                   private_key: X25519PrivateKey | None = None) -> Verification:
    with open_package(path, private_key) as contents:
        try:
            return verify_contents(contents, hotline_key)
        except EnvelopeError as error:
            raise PackageError(str(error)) from None


def extract_package(path: str | os.PathLike[str], private_key: X25519PrivateKey | None,
                    output: str | os.PathLike[str]) -> list[str]:
    """Decrypt and unpack a package into a new folder (for the agency's own systems)."""
    target = Path(output)
    if target.exists() and any(target.iterdir()):
        raise PackageError(f"{target} is not empty: give a new folder")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    with open_package(path, private_key) as contents:
        for name in contents.names:
            destination = (target / name).resolve()
            if target.resolve() not in destination.parents:
                raise PackageError(f"{name} would be written outside {target}: refused")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with contents.open(name) as source, open(destination, "wb") as out:
                while chunk := source.read(COPY_CHUNK):
                    out.write(chunk)
            written.append(name)
    return written


def read_manifest(contents: PackageContents) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(contents.read(MANIFEST))
    return manifest


__all__ = ["BuiltPackage", "PackageContents", "PackageError", "PackageItem", "Problem", "Verification",
           "extract_package", "open_package", "read_manifest", "safe_member_name", "verify_contents",
           "verify_package", "write_package"]
