"""The encrypted, content-addressed blob store: chunked AES-256-GCM at rest, no plaintext on disk, keyed addresses.

On-disk format of one blob (all integers big-endian):

    header   magic "TLBLOB" | version (1) | reserved (0) | chunk size (u32) | key id (8) | blob nonce (32)
    chunks   AES-256-GCM(chunk_i) with its 16-byte tag, every chunk but the last exactly `chunk size`
             bytes of plaintext; the last one carries the remaining 0..chunk-size bytes followed by the
             32-byte SHA-256 of the whole plaintext.

Each blob has its own key and nonce base, derived by HKDF-SHA256 from the master key and the blob's
random 32-byte nonce; chunk i uses nonce base XOR i. The associated data of chunk i is the header,
i (u64) and a final-chunk flag, so truncation, reordering, splicing between blobs and header edits all
fail authentication. The address is HMAC-SHA256 of the plaintext's SHA-256 under a key derived from
the master key, so the directory listing does not reveal which known files the store holds, yet
identical content always lands at the same address (deduplication). The SHA-256 sealed in the last
chunk ties a blob to its address: a blob moved to another address is detected on open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipline.keyfiles import KEY_BYTES, load_or_create_key
from tipline.media.crypto_hashes import CryptoHashes, StreamingHasher
from tipline.media.streams import ChunkedPlaintextReader

MAGIC = b"TLBLOB"
VERSION = 1
DEFAULT_CHUNK_SIZE = 1024 * 1024
TAG_BYTES = 16
DIGEST_BYTES = 32
NONCE_BYTES = 12
BLOB_NONCE_BYTES = 32
KEY_ID_BYTES = 8
_HEADER = struct.Struct(f">6sBBI{KEY_ID_BYTES}s{BLOB_NONCE_BYTES}s")
HEADER_BYTES = _HEADER.size
_FINAL_OVERHEAD = DIGEST_BYTES + TAG_BYTES
_ADDRESS_HEX = 64


class BlobStoreError(Exception):
    """Base of the blob store's errors."""


class BlobNotFoundError(BlobStoreError, KeyError):
    """No blob at that address."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "blob not found"


class BlobIntegrityError(BlobStoreError):
    """A stored blob failed authentication: tampered, truncated, reordered, moved, or another key's."""


class BlobTooLargeError(BlobStoreError):
    """The stream exceeded the size the caller allowed; nothing was stored."""


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """What put() stored: the address to keep in the database, the plaintext's hashes and size."""

    address: str
    size: int
    md5: str
    sha1: str
    sha256: str
    deduplicated: bool
    """True when identical content was already stored (nothing new was written)."""

    @property
    def crypto(self) -> CryptoHashes:
        return CryptoHashes(self.size, self.md5, self.sha1, self.sha256)


@dataclass(frozen=True, slots=True)
class _Keys:
    master: bytes
    address: bytes
    key_id: bytes


def _derive(master: bytes, info: bytes, length: int, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(master)


def _blob_cipher(keys: _Keys, blob_nonce: bytes) -> tuple[AESGCM, bytes]:
    material = _derive(keys.master, b"tipline blob chunk key v1", 32 + NONCE_BYTES, salt=blob_nonce)
    return AESGCM(material[:32]), material[32:]


def _nonce(base: bytes, index: int) -> bytes:
    return (int.from_bytes(base, "big") ^ index).to_bytes(NONCE_BYTES, "big")


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if final else 0)


def _check_address(address: str) -> str:
    if len(address) != _ADDRESS_HEX or any(c not in "0123456789abcdef" for c in address):
        raise BlobNotFoundError(f"{address!r} is not a blob address (64 lowercase hex digits)")
    return address


class BlobWriter:
    """Push-style encryption of one blob: write() chunks as they arrive, then commit() (or abort()).

    Only ciphertext reaches the disk: a temporary file inside the store, renamed into place
    atomically on commit. Use as a context manager to abort on error.
    """

    def __init__(self, store: EncryptedBlobStore, max_size: int | None = None) -> None:
        self._store = store
        self._max_size = max_size
        self._hasher = StreamingHasher()
        self._buffer = bytearray()
        self._index = 0
        blob_nonce = secrets.token_bytes(BLOB_NONCE_BYTES)
        self._header = _HEADER.pack(MAGIC, VERSION, 0, store.chunk_size, store._keys.key_id, blob_nonce)
        self._aead, self._nonce_base = _blob_cipher(store._keys, blob_nonce)
        self._temp_path = store._temp_dir / f"{secrets.token_hex(16)}.part"
        fd = os.open(self._temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._file.write(self._header)
        self._done = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._done or self._file is None:
            raise BlobStoreError("this blob writer is already committed or aborted")
        self._hasher.update(data)
        if self._max_size is not None and self._hasher.size > self._max_size:
            self.abort()
            raise BlobTooLargeError(f"the file is larger than the {self._max_size:,} bytes allowed; nothing was stored")
        self._buffer += data
        chunk = self._store.chunk_size
        # Keep at least one byte back so the final chunk is never empty unless the blob is.
        while len(self._buffer) > chunk:
            self._emit(bytes(self._buffer[:chunk]), final=False)
            del self._buffer[:chunk]
        return len(data)

    def _emit(self, plaintext: bytes, final: bool) -> None:
        assert self._file is not None
        sealed = self._aead.encrypt(
            _nonce(self._nonce_base, self._index), plaintext, _aad(self._header, self._index, final)
        )
        self._file.write(sealed)
        self._index += 1

    def commit(self) -> StoredBlob:
        """Seal the last chunk, move the blob into place (or drop it if already stored), return its address."""
        if self._done or self._file is None:
            raise BlobStoreError("this blob writer is already committed or aborted")
        digest = self._hasher.sha256_digest()
        try:
            self._emit(bytes(self._buffer) + digest, final=True)
            self._buffer.clear()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            address = self._store._address_of(digest)
            final_path = self._store._path(address)
            deduplicated = final_path.exists()
            if deduplicated:
                self._temp_path.unlink(missing_ok=True)
            else:
                made_top = _private_dir(final_path.parent.parent)
                made_leaf = _private_dir(final_path.parent)
                os.replace(self._temp_path, final_path)
                _fsync_dir(final_path.parent)
                # A directory made here is durable only once its parent's entry is: without this a
                # crash could lose an acknowledged blob on a filesystem that does not journal the
                # mkdir with the rename (ext4 and XFS do; POSIX does not promise it).
                if made_leaf:
                    _fsync_dir(final_path.parent.parent)
                if made_top:
                    _fsync_dir(final_path.parent.parent.parent)
        except BaseException:
            self.abort()
            raise
        self._done = True
        result = self._hasher.result()
        return StoredBlob(address, result.size, result.md5, result.sha1, result.sha256, deduplicated)

    def abort(self) -> None:
        """Forget everything written; the temporary ciphertext is deleted."""
        if self._done:
            return
        self._done = True
        self._buffer.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
        self._temp_path.unlink(missing_ok=True)

    @property
    def size(self) -> int:
        return self._hasher.size

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None or not self._done:
            self.abort()


def _private_dir(path: Path) -> bool:
    """Create one directory level readable by the owner only (pathlib's parents=True ignores the
    mode); whether it was created now."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return False
    return True


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BlobReader(ChunkedPlaintextReader):
    """A seekable, read-only plaintext view of one blob; every chunk is authenticated before it is returned.

    Opening it already authenticates the last chunk and checks that the content belongs to the
    address, so a blob swapped, truncated or encrypted under another key fails at open().
    """

    def __init__(self, path: Path, keys: _Keys, address: str) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            self._setup(keys, address)
        except BaseException:
            self._file.close()
            raise

    def _setup(self, keys: _Keys, address: str) -> None:
        self._address = address
        header = self._file.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES:
            raise BlobIntegrityError(f"blob {address} is truncated: its header is incomplete")
        magic, version, _reserved, chunk_size, key_id, blob_nonce = _HEADER.unpack(header)
        if magic != MAGIC:
            raise BlobIntegrityError(f"blob {address} is not a tipline blob (bad magic bytes)")
        if version != VERSION:
            raise BlobIntegrityError(f"blob {address} has format version {version}; this tipline reads {VERSION}")
        if not hmac.compare_digest(key_id, keys.key_id):
            raise BlobIntegrityError(f"blob {address} was encrypted with a different key than the one configured")
        if chunk_size <= 0:
            raise BlobIntegrityError(f"blob {address} declares an invalid chunk size")
        self._header = header
        self._chunk = chunk_size
        self._aead, self._nonce_base = _blob_cipher(keys, blob_nonce)
        body = os.fstat(self._file.fileno()).st_size - HEADER_BYTES
        if body < _FINAL_OVERHEAD:
            raise BlobIntegrityError(f"blob {address} is truncated: it is shorter than its final chunk")
        full = chunk_size + TAG_BYTES
        self._full_chunks = (body - _FINAL_OVERHEAD - 1) // full if body > _FINAL_OVERHEAD else 0
        tail = body - _FINAL_OVERHEAD - self._full_chunks * full
        self._size = self._full_chunks * chunk_size + tail
        self._pos = 0
        self._cached_index = -1
        self._cached = b""
        last = self._decrypt(self._full_chunks)
        self._digest = last[-DIGEST_BYTES:]
        self._cached = last[:-DIGEST_BYTES]
        self._cached_index = self._full_chunks
        expected = hmac.new(keys.address, self._digest, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, address):
            raise BlobIntegrityError(f"blob {address} holds content that belongs to another address (moved or swapped)")

    def _decrypt(self, index: int) -> bytes:
        final = index == self._full_chunks
        full = self._chunk + TAG_BYTES
        self._file.seek(HEADER_BYTES + index * full)
        sealed = self._file.read(full if not final else full + DIGEST_BYTES)
        try:
            return self._aead.decrypt(_nonce(self._nonce_base, index), sealed, _aad(self._header, index, final))
        except InvalidTag:
            raise BlobIntegrityError(
                f"blob {self._address} failed authentication at chunk {index}: it was altered, truncated or reordered"
            ) from None

    def _plaintext_of(self, index: int) -> bytes:
        data = self._decrypt(index)
        return data[:-DIGEST_BYTES] if index == self._full_chunks else data

    @property
    def sha256(self) -> str:
        """The plaintext's SHA-256 as sealed in the blob (authenticated)."""
        return self._digest.hex()


class EncryptedBlobStore:
    """Files encrypted at rest in `directory`, stored once per content.

    The store never sees a report: reference counting, audit of every read, and deciding when a
    blob may be deleted belong to the caller (the database layer).
    """

    def __init__(self, directory: str | os.PathLike[str], key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
            raise ValueError(f"the blob store key must be exactly {KEY_BYTES} bytes")
        if chunk_size < 1024 or chunk_size > 64 * 1024 * 1024:
            raise ValueError("chunk_size must be between 1 KiB and 64 MiB")
        master = bytes(key)
        self._keys = _Keys(
            master=master,
            address=_derive(master, b"tipline blob address v1", 32),
            key_id=_derive(master, b"tipline blob key id v1", KEY_ID_BYTES),
        )
        self.chunk_size = chunk_size
        self.directory = Path(directory)
        self._blob_dir = self.directory / "blobs"
        self._temp_dir = self.directory / "tmp"
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        for path in (self.directory, self._blob_dir, self._temp_dir):
            _private_dir(path)

    @classmethod
    def from_key_file(
        cls, directory: str | os.PathLike[str], key_file: str | os.PathLike[str], **kwargs: int
    ) -> EncryptedBlobStore:
        """A store whose key lives in key_file (created with 32 random bytes and mode 0600 if missing)."""
        return cls(directory, load_or_create_key(key_file), **kwargs)

    # ------------------------------------------------------------ addressing

    def _address_of(self, sha256_digest: bytes) -> str:
        return hmac.new(self._keys.address, sha256_digest, hashlib.sha256).hexdigest()

    def address_for_sha256(self, sha256_hex: str) -> str:
        """The address content with this SHA-256 has (or would have) in this store."""
        digest = bytes.fromhex(sha256_hex)
        if len(digest) != DIGEST_BYTES:
            raise ValueError("a SHA-256 is 64 hex digits")
        return self._address_of(digest)

    def _path(self, address: str) -> Path:
        _check_address(address)
        return self._blob_dir / address[:2] / address[2:4] / address

    # ------------------------------------------------------------ operations

    def writer(self, *, max_size: int | None = None) -> BlobWriter:
        """A push-style writer for an upload arriving chunk by chunk (write(), then commit())."""
        return BlobWriter(self, max_size=max_size)

    def put(self, stream: IO[bytes] | bytes, *, max_size: int | None = None) -> StoredBlob:
        """Encrypt a stream (read to its end) or bytes into the store, computing its crypto hashes on the way."""
        with self.writer(max_size=max_size) as writer:
            if isinstance(stream, (bytes, bytearray, memoryview)):
                view = memoryview(stream)
                for start in range(0, len(view), self.chunk_size):
                    writer.write(view[start : start + self.chunk_size])
            else:
                while chunk := stream.read(self.chunk_size):
                    writer.write(chunk)
            return writer.commit()

    def open(self, address: str) -> BlobReader:
        """A seekable plaintext reader (close it, or use it as a context manager)."""
        path = self._path(address)
        try:
            return BlobReader(path, self._keys, address)
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob at address {address}") from None

    def read_bytes(self, address: str) -> bytes:
        """The whole plaintext in memory (for small files)."""
        with self.open(address) as reader:
            return reader.readall()

    def exists(self, address: str) -> bool:
        try:
            return self._path(address).is_file()
        except BlobNotFoundError:
            return False

    def delete(self, address: str) -> bool:
        """Remove a blob; True if it existed. The caller decides when no report holds it any more."""
        path = self._path(address)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        for parent in (path.parent, path.parent.parent):
            try:
                parent.rmdir()
            except OSError:
                break
        return True

    def stored_size(self, address: str) -> int:
        """Bytes the blob takes on disk (ciphertext, header and tags)."""
        try:
            return self._path(address).stat().st_size
        except FileNotFoundError:
            raise BlobNotFoundError(f"no blob at address {address}") from None

    def verify(self, address: str) -> CryptoHashes:
        """Decrypt the whole blob, authenticating every chunk, and return the plaintext's crypto hashes."""
        hasher = StreamingHasher()
        with self.open(address) as reader:
            while chunk := reader.read(self.chunk_size):
                hasher.update(chunk)
            sealed = reader.sha256
        result = hasher.result()
        if result.sha256 != sealed:
            raise BlobIntegrityError(f"blob {address} decrypts to content whose SHA-256 differs from the sealed one")
        return result

    def addresses(self) -> Iterator[str]:
        """Every stored address (to reconcile with the database's references)."""
        for path in sorted(self._blob_dir.glob("*/*/*")):
            name = path.name
            if len(name) == _ADDRESS_HEX and path.is_file():
                yield name

    def remove_stale_temporary_files(self, older_than_seconds: float = 3600.0) -> int:
        """Delete leftovers of interrupted writes (ciphertext only); returns how many were removed."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self._temp_dir.glob("*.part"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
