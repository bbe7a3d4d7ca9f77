"""The encryption of a referral package to one agency: X25519 + HKDF-SHA256 + chunked AES-256-GCM.

File layout (integers big-endian):

    header   magic "TLREFPKG" | version (1) | reserved (0) | chunk size (u32)
             | recipient key id (8 bytes: SHA-256 of the agency's public key, truncated)
             | ephemeral X25519 public key (32) | salt (32)
    chunks   AES-256-GCM(chunk_i) with its 16-byte tag; every chunk but the last holds exactly
             `chunk size` bytes of plaintext, the last 1..chunk-size (0 only for an empty payload).

The key and nonce base come from HKDF-SHA256 over the X25519 shared secret of a fresh ephemeral
key and the agency's key, salted, with both public keys in the info. Chunk i uses nonce base XOR i
and authenticates the header, i and a final-chunk flag, so a changed byte, a truncation, a reordering
or a changed header all fail. Anyone holding the agency's public key could make such a file: the
hotline's signature on the manifest inside is what proves where a package came from.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipline.media.streams import ChunkedPlaintextReader
from tipline.referral.keys import raw_public

MAGIC = b"TLREFPKG"
VERSION = 1
DEFAULT_CHUNK_SIZE = 1024 * 1024
TAG_BYTES = 16
NONCE_BYTES = 12
KEY_ID_BYTES = 8
_HEADER = struct.Struct(">8sBBI8s32s32s")
HEADER_BYTES = _HEADER.size
INFO = b"tipline referral package v1"


class EnvelopeError(Exception):
    """A package that cannot be opened: altered, truncated, not a package, or another agency's."""


class WrongKeyError(EnvelopeError):
    """The package is encrypted to another agency's key than the one given."""


def recipient_key_id(public_key: bytes) -> bytes:
    return hashlib.sha256(public_key).digest()[:KEY_ID_BYTES]


def _cipher(shared: bytes, salt: bytes, ephemeral: bytes, recipient: bytes) -> tuple[AESGCM, bytes]:
    material = HKDF(algorithm=hashes.SHA256(), length=32 + NONCE_BYTES, salt=salt,
                    info=INFO + ephemeral + recipient).derive(shared)
    return AESGCM(material[:32]), material[32:]


def _nonce(base: bytes, index: int) -> bytes:
    return (int.from_bytes(base, "big") ^ index).to_bytes(NONCE_BYTES, "big")


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if final else 0)


class EnvelopeWriter(io.RawIOBase):
    """Encrypts what is written to it into `target`, chunk by chunk (a non-seekable stream, which
    is what zipfile writes a streamed archive to). close() seals the last chunk."""

    def __init__(self, target: BinaryIO, recipient_public_key: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        super().__init__()
        self._target = target
        recipient = X25519PublicKey.from_public_bytes(recipient_public_key)
        ephemeral_key = X25519PrivateKey.generate()
        ephemeral = raw_public(ephemeral_key.public_key())
        salt = secrets.token_bytes(32)
        self._chunk = chunk_size
        self._header = _HEADER.pack(MAGIC, VERSION, 0, chunk_size, recipient_key_id(recipient_public_key),
                                    ephemeral, salt)
        self._aead, self._nonce_base = _cipher(ephemeral_key.exchange(recipient), salt, ephemeral, recipient_public_key)
        self._buffer = bytearray()
        self._index = 0
        self._digest = hashlib.sha256()
        self._size = 0
        self._emit_raw(self._header)

    def _emit_raw(self, data: bytes) -> None:
        self._target.write(data)
        self._digest.update(data)
        self._size += len(data)

    def _emit(self, plaintext: bytes, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._nonce_base, self._index), plaintext,
                                    _aad(self._header, self._index, final))
        self._emit_raw(sealed)
        self._index += 1

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]  # typeshed says Buffer; what io passes is one of these
        if self.closed:
            raise ValueError("write to a closed package")
        self._buffer += data
        while len(self._buffer) > self._chunk:  # keep a byte back: the final chunk is never empty
            self._emit(bytes(self._buffer[: self._chunk]), final=False)
            del self._buffer[: self._chunk]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._target.flush()
        super().close()

    @property
    def sha256(self) -> str:
        """The SHA-256 of the ciphertext written (the package file as it will be downloaded)."""
        return self._digest.hexdigest()

    @property
    def size(self) -> int:
        return self._size


class EnvelopeReader(ChunkedPlaintextReader):
    """A seekable plaintext view of a package; every chunk is authenticated before it is returned.
    Opening authenticates the last chunk, so a truncated or foreign package fails at once."""

    def __init__(self, source: BinaryIO, private_key: X25519PrivateKey, name: str = "the package") -> None:
        super().__init__()
        self._file = source
        self._name = name
        header = source.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
            raise EnvelopeError(f"{name} is not an encrypted tipline referral package")
        magic, version, _reserved, chunk, key_id, ephemeral, salt = _HEADER.unpack(header)
        if version != VERSION:
            raise EnvelopeError(f"{name} has format version {version}; this tipline reads version {VERSION}")
        mine = raw_public(private_key.public_key())
        if key_id != recipient_key_id(mine):
            raise WrongKeyError(
                f"{name} is encrypted to the agency key {key_id.hex()}, not to the key given "
                f"({recipient_key_id(mine).hex()}): use the private key of the agency it was referred to, the one it "
                f"had then if the agency has since rotated its key")
        if chunk <= 0:
            raise EnvelopeError(f"{name} declares an invalid chunk size")
        self._header = header
        self._chunk = chunk
        try:
            shared = private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        except ValueError:
            raise EnvelopeError(f"{name} has an invalid ephemeral key: it was altered") from None
        self._aead, self._nonce_base = _cipher(shared, salt, ephemeral, mine)
        source.seek(0, os.SEEK_END)
        body = source.tell() - HEADER_BYTES
        if body < TAG_BYTES:
            raise EnvelopeError(f"{name} is truncated: it ends inside its first chunk")
        full = chunk + TAG_BYTES
        self._full_chunks = (body - TAG_BYTES - 1) // full if body > TAG_BYTES else 0
        tail = body - TAG_BYTES - self._full_chunks * full
        self._size = self._full_chunks * chunk + tail
        self._pos = 0
        self._cached_index = -1
        self._cached = b""
        self._chunk_plaintext(self._full_chunks)

    def _decrypt(self, index: int) -> bytes:
        final = index == self._full_chunks
        full = self._chunk + TAG_BYTES
        self._file.seek(HEADER_BYTES + index * full)
        sealed = self._file.read(full)
        try:
            return self._aead.decrypt(_nonce(self._nonce_base, index), sealed, _aad(self._header, index, final))
        except InvalidTag:
            raise EnvelopeError(f"{self._name} was altered or truncated: its encrypted chunk {index} fails "
                                "authentication") from None

    def _plaintext_of(self, index: int) -> bytes:
        return self._decrypt(index)


def is_envelope(head: bytes) -> bool:
    return head.startswith(MAGIC)
