"""Reading a referral package on the server, for the agency it was encrypted to, with the private key
an agency user supplies for their session.

The hotline never holds an agency's private key (docs/referral.md, "Encryption: a key pair per
agency"). To read a referral in the browser, an agency user gives their agency's key once per
session; the server keeps it only in the user's browser, sealed (AES-256-GCM) with a key derived from
the instance's secret key and bound to that sign-in (the session's own random token and the agency),
so the cookie alone opens nothing, is useless in another session, and is gone when the person signs
out or the session ends. Nothing about the key is written to the database or the disk: the audit
trail records its key id only.

Every read opens the stored package (ciphertext), checks the hotline's signature on the manifest and
each item against it, and only then shows anything. An evidence file is served from the package, its
SHA-256 checked against the signed manifest."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipline.keyfiles import KeyFileError, parse_key
from tipline.referral.envelope import EnvelopeError
from tipline.referral.keys import fingerprint, parse_public_key_text, raw_public
from tipline.referral.package import (
    COPY_CHUNK,
    MANIFEST,
    SIGNATURE,
    PackageError,
    Verification,
    open_package,
    verify_contents,
)

KEY_COOKIE = "tipline_agency_key"
MAX_KEYS = 4  # an agency that rotated its key may hold packages to older keys
MAX_PREVIEW_BYTES = 256 * 1024 * 1024  # a larger evidence file is read from the downloaded package
_COOKIE_INFO = b"tipline agency key cookie v1"


class KeyRefused(ValueError):
    """A key an agency user supplied that cannot be used, with the reason in plain words."""


def parse_agency_key(data: bytes) -> X25519PrivateKey:
    """An agency private key as its key file holds it (32 raw bytes or 64 hex digits), or pasted text."""
    try:
        raw = parse_key(data, "the key you gave")
    except KeyFileError:
        raise KeyRefused("that is not an agency key: give the file `tipline agencies keygen` made (64 hex digits "
                         "or 32 bytes)") from None
    return X25519PrivateKey.from_private_bytes(raw)


def key_id(key: X25519PrivateKey) -> str:
    return fingerprint(raw_public(key.public_key()))


def agency_key_ids(public_key_text: str | None) -> set[str]:
    """The key id of the agency's current registered public key (empty when it has none)."""
    if not public_key_text:
        return set()
    try:
        return {fingerprint(parse_public_key_text(public_key_text))}
    except ValueError:
        return set()


# --- the sealed cookie ------------------------------------------------------------------------------------


def _cookie_cipher(secret: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_COOKIE_INFO).derive(secret))


def _binding(session_secret: str, user_id: int, agency_id: int) -> bytes:
    return f"{hashlib.sha256(session_secret.encode()).hexdigest()}:{user_id}:{agency_id}".encode()


def seal_keys(secret: bytes, keys: list[X25519PrivateKey], *, session_secret: str, user_id: int,
              agency_id: int) -> str:
    """The cookie value holding these keys (newest first, at most MAX_KEYS), bound to one sign-in."""
    raw = b"".join(k.private_bytes_raw() for k in keys[:MAX_KEYS])
    nonce = secrets.token_bytes(12)
    sealed = _cookie_cipher(secret).encrypt(nonce, raw, _binding(session_secret, user_id, agency_id))
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal_keys(secret: bytes, value: str | None, *, session_secret: str, user_id: int,
                agency_id: int) -> list[X25519PrivateKey]:
    """The keys in a cookie sealed for this very sign-in and agency; none for anything else."""
    if not value or len(value) > 1024:
        return []
    try:
        data = base64.urlsafe_b64decode(value.encode("ascii"))
        raw = _cookie_cipher(secret).decrypt(data[:12], data[12:], _binding(session_secret, user_id, agency_id))
    except (ValueError, InvalidTag, UnicodeEncodeError):
        return []
    if len(raw) % 32:
        return []
    return [X25519PrivateKey.from_private_bytes(raw[i:i + 32]) for i in range(0, len(raw), 32)]


def key_for(keys: list[X25519PrivateKey], recipient_key_id: str) -> X25519PrivateKey | None:
    return next((k for k in keys if key_id(k) == recipient_key_id), None)


# --- reading ------------------------------------------------------------------------------------------------


@dataclass
class ReadReferral:
    """What a verified package says, for the reading page."""

    verification: Verification
    document: dict[str, Any] = field(default_factory=dict)  # report.json
    evidence: list[dict[str, Any]] = field(default_factory=list)  # the manifest's evidence items

    @property
    def ok(self) -> bool:
        return self.verification.ok


def read_package(path: str | os.PathLike[str], key: X25519PrivateKey, hotline_key: Ed25519PublicKey) -> ReadReferral:
    """Open the package with the agency's key, check it completely against the hotline's signature,
    and return its report document; a package that fails any check returns its problems and nothing
    of its content."""
    with open_package(path, key) as contents:
        try:
            verification = verify_contents(contents, hotline_key)
            if not verification.ok:
                return ReadReferral(verification)
            document = json.loads(contents.read("report.json"))
        except EnvelopeError as error:
            raise PackageError(str(error)) from None
    manifest = verification.manifest or {}
    evidence = [item for item in manifest.get("items", []) if item.get("kind") == "evidence"]
    return ReadReferral(verification, document, evidence)


@dataclass
class EvidenceFile:
    file_id: str
    name: str
    media_type: str
    data: bytes


def read_evidence(path: str | os.PathLike[str], key: X25519PrivateKey, hotline_key: Ed25519PublicKey,
                  file_id: str) -> EvidenceFile:
    """One evidence file from the package, after the manifest's signature is checked and the file's
    SHA-256 found equal to the manifest's. PackageError when it is not in the package or fails a check."""
    with open_package(path, key) as contents:
        try:
            manifest_bytes = contents.read(MANIFEST)
            try:
                hotline_key.verify(contents.read(SIGNATURE), manifest_bytes)
            except (InvalidSignature, KeyError):
                raise PackageError("the package's manifest does not match the hotline's signature") from None
            manifest = json.loads(manifest_bytes)
            item = next((i for i in manifest.get("items", [])
                         if i.get("kind") == "evidence" and i.get("file_id") == file_id), None)
            if item is None:
                raise PackageError(f"file {file_id} is not in this package")
            if int(item.get("size", 0)) > MAX_PREVIEW_BYTES:
                raise PackageError("this file is too large to show here: download the package to see it")
            digest, out = hashlib.sha256(), io.BytesIO()
            with contents.open(item["path"]) as stream:
                while chunk := stream.read(COPY_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except EnvelopeError as error:
            raise PackageError(str(error)) from None
    if digest.hexdigest() != item.get("sha256"):
        raise PackageError(f"file {file_id} in the package was altered: its SHA-256 differs from the manifest's")
    return EvidenceFile(file_id, str(item.get("original_name") or Path(item["path"]).name),
                        str(item.get("media_type") or ""), out.getvalue())


__all__ = ["KEY_COOKIE", "EvidenceFile", "KeyRefused", "ReadReferral", "agency_key_ids", "key_for", "key_id",
           "parse_agency_key", "read_evidence", "read_package", "seal_keys", "unseal_keys"]
