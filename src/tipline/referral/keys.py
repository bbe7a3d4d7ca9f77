"""The keys of referral: the hotline's Ed25519 signing key (in TIPLINE_KEY_DIR, 0600) and each agency's
X25519 key pair (the agency keeps the private half; the directory holds the public half)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tipline.keyfiles import KeyFileError, create_key_file, load_or_create_key, read_key_file

SIGNING_KEY_FILE = "referral-signing.key"


def raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public_key: bytes) -> str:
    """A short id of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signing_key(key_dir: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The hotline's signing key (32 random bytes, the Ed25519 seed), created 0600 on first use."""
    return Ed25519PrivateKey.from_private_bytes(load_or_create_key(Path(key_dir) / SIGNING_KEY_FILE))


def parse_public_key_text(text: str, what: str = "public key") -> bytes:
    """A 32-byte public key from base64 or hex text (a trailing newline and a 'name:' prefix allowed)."""
    value = text.strip()
    if ":" in value and not value.startswith(("ed25519:", "x25519:")):
        raise ValueError(f"the {what} is not base64 or hex text")
    value = value.split(":", 1)[-1].strip()
    try:
        raw = bytes.fromhex(value) if len(value) == 64 else base64.b64decode(value, validate=True)
    except ValueError:
        raise ValueError(f"the {what} is not base64 or hex text") from None
    if len(raw) != 32:
        raise ValueError(f"the {what} holds {len(raw)} bytes; a key is 32")
    return raw


def load_signing_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """The hotline's public signing key from a file as `tipline referral signing-key` prints it."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"cannot read the hotline's public key {path}: {error}") from None
    try:
        return Ed25519PublicKey.from_public_bytes(parse_public_key_text(text, "hotline's public key"))
    except ValueError as error:
        raise KeyFileError(f"{path}: {error}") from None


def create_agency_key(private_path: str | os.PathLike[str]) -> bytes:
    """A new agency key pair: the private key goes to `private_path` (0600, refused if it exists);
    returns the raw public key, which the hotline registers in the directory."""
    seed = create_key_file(private_path)
    return raw_public(X25519PrivateKey.from_private_bytes(seed).public_key())


def load_agency_private_key(path: str | os.PathLike[str]) -> X25519PrivateKey:
    """An agency's private key file (32 bytes or 64 hex digits, mode 0600)."""
    return X25519PrivateKey.from_private_bytes(read_key_file(path))
