"""The encrypted blob store: no plaintext on disk, authenticated chunks, keyed dedup addresses, key file rules."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import stat
from pathlib import Path

import pytest

from tipline.media import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobTooLargeError,
    EncryptedBlobStore,
    KeyFileError,
    hash_file,
    load_or_create_key,
    read_key_file,
)
from tipline.media.blobstore import HEADER_BYTES, TAG_BYTES

from .conftest import encode, make_video, scene

CHUNK = 4096


def _plaintext(size: int) -> bytes:
    """Recognisable plaintext: a marker every 64 bytes, so any leak of it would be found on disk."""
    unit = b"PLAINTEXT-MARKER-" + secrets.token_hex(23).encode()  # 63 bytes + newline
    return ((unit + b"\n") * (size // 64 + 1))[:size]


def _disk_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> EncryptedBlobStore:
    return EncryptedBlobStore(tmp_path / "files", secrets.token_bytes(32), chunk_size=CHUNK)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_round_trip_at_chunk_boundaries(store: EncryptedBlobStore, size: int) -> None:
    data = os.urandom(size)
    stored = store.put(io.BytesIO(data))
    assert stored.size == size
    assert stored.md5 == hashlib.md5(data).hexdigest()
    assert stored.sha1 == hashlib.sha1(data).hexdigest()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read_bytes(stored.address) == data
    with store.open(stored.address) as reader:
        assert reader.size == size and reader.sha256 == stored.sha256
    assert store.verify(stored.address).sha256 == stored.sha256


def test_random_access_reads(store: EncryptedBlobStore) -> None:
    data = os.urandom(5 * CHUNK + 100)
    address = store.put(data).address
    with store.open(address) as reader:
        for offset, length in [(0, 10), (CHUNK - 5, 10), (3 * CHUNK, CHUNK + 50), (5 * CHUNK + 90, 100)]:
            reader.seek(offset)
            assert reader.read(length) == data[offset : offset + length]
        assert reader.seek(-7, io.SEEK_END) == len(data) - 7
        assert reader.read() == data[-7:]
        assert reader.read(5) == b""


def test_stored_bytes_never_contain_the_plaintext(tmp_path: Path) -> None:
    store = EncryptedBlobStore(tmp_path / "files", secrets.token_bytes(32))  # default 1 MiB chunks
    data = _plaintext(3 * 1024 * 1024 + 123)
    stored = store.put(io.BytesIO(data))
    on_disk = _disk_bytes(tmp_path / "files")
    assert len(on_disk) > len(data)
    assert b"PLAINTEXT-MARKER" not in on_disk
    for offset in range(0, len(data) - 32, len(data) // 50):
        assert data[offset : offset + 32] not in on_disk
    names = " ".join(str(p) for p in (tmp_path / "files").rglob("*"))
    assert stored.sha256 not in names and stored.md5 not in names and stored.sha1 not in names


def test_no_plaintext_reaches_the_disk_while_a_write_is_in_progress(store: EncryptedBlobStore, tmp_path: Path) -> None:
    data = _plaintext(10 * CHUNK)
    with store.writer() as writer:
        for start in range(0, len(data), 1000):
            writer.write(data[start : start + 1000])
            assert b"PLAINTEXT-MARKER" not in _disk_bytes(tmp_path / "files")
        temp_files = list((tmp_path / "files" / "tmp").iterdir())
        assert len(temp_files) == 1 and temp_files[0].name.endswith(".part")
        stored = writer.commit()
    assert list((tmp_path / "files" / "tmp").iterdir()) == []
    assert store.read_bytes(stored.address) == data


def test_the_address_is_keyed_not_the_bare_sha256(tmp_path: Path) -> None:
    data = b"the same file, held by two stores"
    first = EncryptedBlobStore(tmp_path / "a", secrets.token_bytes(32)).put(data)
    second = EncryptedBlobStore(tmp_path / "b", secrets.token_bytes(32)).put(data)
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert first.address != first.sha256 and first.address != second.address
    assert len(first.address) == 64


def test_identical_content_is_stored_once(store: EncryptedBlobStore, tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK + 5)
    first = store.put(data)
    second = store.put(io.BytesIO(data))
    assert (first.deduplicated, second.deduplicated) == (False, True)
    assert first.address == second.address == store.address_for_sha256(first.sha256)
    assert list(store.addresses()) == [first.address]
    assert sum(1 for p in (tmp_path / "files").rglob("*") if p.is_file()) == 1


def test_files_and_directories_are_private(store: EncryptedBlobStore, tmp_path: Path) -> None:
    address = store.put(b"private").address
    for path in [tmp_path / "files", *(tmp_path / "files").rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert store.stored_size(address) == HEADER_BYTES + len(b"private") + 32 + TAG_BYTES


def test_a_new_blob_survives_a_crash_with_the_directories_made_for_it(
        store: EncryptedBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Acknowledged means durable: the blob's file, the directory it was renamed into, and every
    directory created for it in its parent are synced to disk before the store says it is stored."""
    synced: list[Path] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    address = store.put(b"first report's file").address
    leaf = _blob_path(store, address).parent
    # Both fan-out levels were made for this blob: each one's entry is synced in its parent.
    assert {leaf, leaf.parent, leaf.parent.parent} <= set(synced)
    synced.clear()
    again = store.put(b"first report's file")  # the same content: nothing new on disk to sync
    assert again.deduplicated and not any(p.is_dir() for p in synced)


def _flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))


def _blob_path(store: EncryptedBlobStore, address: str) -> Path:
    return next(p for p in store.directory.rglob(address))


def test_a_flipped_ciphertext_bit_is_detected(store: EncryptedBlobStore) -> None:
    data = os.urandom(3 * CHUNK)
    address = store.put(data).address
    _flip(_blob_path(store, address), HEADER_BYTES + CHUNK + 100)  # inside chunk 1 (not the last)
    with store.open(address) as reader:
        assert reader.read(CHUNK) == data[:CHUNK]  # chunk 0 is intact
        with pytest.raises(BlobIntegrityError, match="failed authentication at chunk 1"):
            reader.read(CHUNK)


def test_a_changed_header_is_detected_at_open(store: EncryptedBlobStore) -> None:
    address = store.put(os.urandom(100)).address
    _flip(_blob_path(store, address), HEADER_BYTES - 1)  # the blob nonce
    with pytest.raises(BlobIntegrityError, match="failed authentication"):
        store.open(address)


@pytest.mark.parametrize("cut", [1, TAG_BYTES, CHUNK + TAG_BYTES + 10])
def test_truncation_is_detected_at_open(store: EncryptedBlobStore, cut: int) -> None:
    address = store.put(os.urandom(3 * CHUNK + 10)).address
    path = _blob_path(store, address)
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(BlobIntegrityError):
        store.open(address)


def test_dropping_whole_final_chunk_is_detected(store: EncryptedBlobStore) -> None:
    address = store.put(os.urandom(2 * CHUNK + 10)).address
    path = _blob_path(store, address)
    raw = path.read_bytes()
    path.write_bytes(raw[: HEADER_BYTES + 2 * (CHUNK + TAG_BYTES)])  # the last full chunk now looks final
    with pytest.raises(BlobIntegrityError):
        store.open(address)


def test_reordered_chunks_are_detected(store: EncryptedBlobStore) -> None:
    address = store.put(os.urandom(3 * CHUNK + 10)).address
    path = _blob_path(store, address)
    raw = path.read_bytes()
    size = CHUNK + TAG_BYTES
    first, second = raw[HEADER_BYTES : HEADER_BYTES + size], raw[HEADER_BYTES + size : HEADER_BYTES + 2 * size]
    path.write_bytes(raw[:HEADER_BYTES] + second + first + raw[HEADER_BYTES + 2 * size :])
    with store.open(address) as reader, pytest.raises(BlobIntegrityError, match="chunk 0"):
        reader.read()


def test_a_blob_moved_to_another_address_is_detected(store: EncryptedBlobStore) -> None:
    a = store.put(b"first file").address
    b = store.put(b"second file").address
    _blob_path(store, b).write_bytes(_blob_path(store, a).read_bytes())
    with pytest.raises(BlobIntegrityError, match="belongs to another address"):
        store.open(b)


def test_a_different_key_cannot_read(tmp_path: Path) -> None:
    address = EncryptedBlobStore(tmp_path / "files", secrets.token_bytes(32)).put(b"secret").address
    other = EncryptedBlobStore(tmp_path / "files", secrets.token_bytes(32))
    with pytest.raises(BlobIntegrityError, match="different key"):
        other.open(address)


def test_a_size_limit_stores_nothing(store: EncryptedBlobStore, tmp_path: Path) -> None:
    with pytest.raises(BlobTooLargeError, match="larger than the 10,000 bytes allowed"):
        store.put(io.BytesIO(os.urandom(20_000)), max_size=10_000)
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


def test_an_interrupted_upload_leaves_nothing(store: EncryptedBlobStore, tmp_path: Path) -> None:
    with pytest.raises(ConnectionError), store.writer() as writer:
        writer.write(os.urandom(3 * CHUNK))
        raise ConnectionError("client went away")
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []


def test_exists_delete_and_missing(store: EncryptedBlobStore) -> None:
    address = store.put(b"x" * 10).address
    assert store.exists(address)
    assert store.delete(address) is True
    assert not store.exists(address)
    assert store.delete(address) is False
    with pytest.raises(BlobNotFoundError, match="no blob at address"):
        store.open(address)
    with pytest.raises(BlobNotFoundError, match="not a blob address"):
        store.open("../../etc/passwd")
    assert not store.exists("nonsense")


def test_hashing_reads_straight_from_the_store(store: EncryptedBlobStore) -> None:
    for data in (encode(scene(300, 200, seed=2), "JPEG"), make_video("mp4", "libx264")):
        stored = store.put(data)
        with store.open(stored.address) as reader:
            from_store = hash_file(reader, known_crypto=stored.crypto)
        direct = hash_file(data)
        assert from_store.ok and direct.ok
        assert from_store.sha256 == direct.sha256 and from_store.media_type == direct.media_type
        assert from_store.pdq == direct.pdq
        assert from_store.video_frames == direct.video_frames


def test_key_must_be_32_bytes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        EncryptedBlobStore(tmp_path, b"short")


# ---------------------------------------------------------------- key file


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # even a permissive umask must not leak the key
    try:
        path = tmp_path / "keys" / "files.key"
        key = load_or_create_key(path)
    finally:
        os.umask(old_umask)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert path.read_bytes() == key
    assert load_or_create_key(path) == key
    store = EncryptedBlobStore.from_key_file(tmp_path / "files", path)
    address = store.put(b"hello").address
    assert EncryptedBlobStore(tmp_path / "files", key).read_bytes(address) == b"hello"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "files.key"
    path.write_bytes(secrets.token_bytes(32))
    path.chmod(mode)
    with pytest.raises(KeyFileError, match=f"mode {mode:04o}.*chmod 600"):
        load_or_create_key(path)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_file_of_the_wrong_length_is_refused(tmp_path: Path, size: int) -> None:
    path = tmp_path / "files.key"
    path.write_bytes(b"\x01" * size)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=f"holds {size} bytes; a key is exactly 32 random bytes"):
        read_key_file(path)


def test_key_file_in_hex_is_accepted(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "files.key"
    path.write_text(key.hex() + "\n")
    path.chmod(0o600)
    assert read_key_file(path) == key


def test_key_file_behind_a_symlink_is_checked_at_its_target(tmp_path: Path) -> None:
    target = tmp_path / "secret" / "files.key"
    key = load_or_create_key(target)
    link = tmp_path / "files.key"
    link.symlink_to(target)
    assert read_key_file(link) == key
    target.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_key_file(link)


def test_an_oversized_key_file_reports_its_real_size(tmp_path: Path) -> None:
    path = tmp_path / "files.key"
    path.write_bytes(b"\x01" * 5000)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="holds 5000 bytes"):
        read_key_file(path)


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        read_key_file(tmp_path / "nope.key")
