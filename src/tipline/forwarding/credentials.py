"""A destination's password sealed with the instance's forwarding key (`forwarding.key` in
TIPLINE_KEY_DIR, 32 random bytes, mode 0600, created on first use like the instance's other keys).

AES-256-GCM with a random nonce; the destination's name is the associated data, so a sealed password
copied onto another destination's row does not open. Without the key file, the database alone gives
no password."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tipline.keyfiles import load_or_create_key

KEY_FILE = "forwarding.key"
_PREFIX = "v1:"
_NONCE = 12


class CredentialError(Exception):
    """A sealed password that does not open: altered, or sealed under another key."""


class Secret:
    """A password held in memory that never shows itself in a log, a repr or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


def forwarding_key(key_dir: str | os.PathLike[str]) -> bytes:
    return load_or_create_key(Path(key_dir) / KEY_FILE)


def _aad(name: str, purpose: str = "forwarding") -> bytes:
    return f"tipline {purpose} credential".encode() + b"\x00" + name.encode("utf-8")


def seal_secret(key: bytes, purpose: str, name: str, text: str) -> str:
    """`text` sealed for the owner `name` of kind `purpose` (a sealed secret opens only for both)."""
    nonce = secrets.token_bytes(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, text.encode("utf-8"), _aad(name, purpose))
    return _PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def open_secret(key: bytes, purpose: str, name: str, sealed: str) -> Secret | None:
    """The secret, or None when it does not open (altered, another owner, another key)."""
    if not sealed.startswith(_PREFIX):
        return None
    try:
        raw = base64.b64decode(sealed[len(_PREFIX):], validate=True)
        plain = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(name, purpose))
    except (ValueError, InvalidTag):
        return None
    return Secret(plain.decode("utf-8"))


def seal_password(key: bytes, destination_name: str, password: str) -> str:
    return seal_secret(key, "forwarding", destination_name, password)


def open_password(key: bytes, destination_name: str, sealed: str) -> Secret:
    if not sealed.startswith(_PREFIX):
        raise CredentialError(f"the password of destination {destination_name!r} is not sealed in a known format")
    secret = open_secret(key, "forwarding", destination_name, sealed)
    if secret is None:
        raise CredentialError(
            f"the password of destination {destination_name!r} does not open with this instance's "
            f"{KEY_FILE}: it was altered or sealed under another key; set it again with "
            f"`tipline destinations set-password {destination_name} --password-stdin`"
        )
    return secret
