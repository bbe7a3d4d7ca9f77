"""Packages: built as a stream, signed, encrypted to one agency; verification names every kind of tampering."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tipline.referral.envelope import EnvelopeWriter
from tipline.referral.keys import raw_public
from tipline.referral.package import (
    PackageError,
    PackageItem,
    extract_package,
    open_package,
    safe_member_name,
    verify_package,
    write_package,
)

EVIDENCE = bytes(range(256)) * 9000  # 2.3 MB: several encrypted chunks


@pytest.fixture
def keys() -> tuple[X25519PrivateKey, Ed25519PrivateKey]:
    return X25519PrivateKey.generate(), Ed25519PrivateKey.generate()


def build(path: Path, agency: X25519PrivateKey, signer: Ed25519PrivateKey) -> Path:
    items = [
        PackageItem("report.json", "report_json", b'{"report": {"id": 7}}'),
        PackageItem("summary.pdf", "summary_pdf", b"%PDF-1.7 stand-in"),
        PackageItem("evidence/001-f1/chat-log.txt", "evidence", lambda: io.BytesIO(b"u1: hi\n"),
                    {"file_id": "f1"}),
        PackageItem("evidence/002-f2/big.bin", "evidence", lambda: io.BytesIO(EVIDENCE), {"file_id": "f2"}),
    ]
    with open(path, "wb") as handle:
        write_package(handle, items, {"referral": {"id": 1, "report_id": 7}, "agency": {"code": "us-fcps"}},
                      raw_public(agency.public_key()), signer)
    return path


def unpack(path: Path, agency: X25519PrivateKey) -> dict[str, bytes]:
    with open_package(path, agency) as contents:
        return {name: contents.read(name) for name in contents.names}


def repack(members: dict[str, bytes], path: Path, agency: X25519PrivateKey) -> Path:
    """What someone holding only the agency's public key could do: a new, validly encrypted package."""
    with open(path, "wb") as handle:
        envelope = EnvelopeWriter(handle, raw_public(agency.public_key()))
        with zipfile.ZipFile(envelope, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        envelope.close()
    return path


def test_an_intact_package_verifies_and_unpacks(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    package = build(tmp_path / "p.tlref", agency, signer)
    assert not zipfile.is_zipfile(package)  # nothing readable without the key
    assert b"chat-log" not in package.read_bytes()
    result = verify_package(package, signer.public_key(), agency)
    assert result.ok and result.checked == 4 and result.problems == []
    manifest = result.manifest
    assert manifest is not None and manifest["referral"] == {"id": 1, "report_id": 7}
    import hashlib

    evidence = next(i for i in manifest["items"] if i["path"].endswith("big.bin"))
    assert evidence["sha256"] == hashlib.sha256(EVIDENCE).hexdigest() and evidence["size"] == len(EVIDENCE)
    out = tmp_path / "unpacked"
    names = extract_package(package, agency, out)
    assert (out / "evidence/002-f2/big.bin").read_bytes() == EVIDENCE
    assert set(names) == {"report.json", "summary.pdf", "evidence/001-f1/chat-log.txt", "evidence/002-f2/big.bin",
                          "manifest.json", "manifest.sig"}
    assert verify_package(out, signer.public_key()).ok  # the unpacked folder still verifies


def test_a_changed_file_is_named(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    members = unpack(build(tmp_path / "p.tlref", agency, signer), agency)
    members["evidence/001-f1/chat-log.txt"] = b"u1: hello\n"
    result = verify_package(repack(members, tmp_path / "t.tlref", agency), signer.public_key(), agency)
    assert not result.ok and result.signature_valid
    assert [(p.kind, p.item) for p in result.problems] == [("altered", "evidence/001-f1/chat-log.txt")]
    assert "was altered: SHA-256" in result.problems[0].message


def test_a_missing_file_is_named(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    members = unpack(build(tmp_path / "p.tlref", agency, signer), agency)
    del members["evidence/002-f2/big.bin"]
    result = verify_package(repack(members, tmp_path / "t.tlref", agency), signer.public_key(), agency)
    assert [(p.kind, p.item) for p in result.problems] == [("missing", "evidence/002-f2/big.bin")]


def test_an_added_file_is_named(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    members = unpack(build(tmp_path / "p.tlref", agency, signer), agency)
    members["evidence/003-x/extra.txt"] = b"planted"
    result = verify_package(repack(members, tmp_path / "t.tlref", agency), signer.public_key(), agency)
    assert [(p.kind, p.item) for p in result.problems] == [("unexpected", "evidence/003-x/extra.txt")]


def test_a_changed_manifest_breaks_the_signature(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    members = unpack(build(tmp_path / "p.tlref", agency, signer), agency)
    manifest = json.loads(members["manifest.json"])
    manifest["referral"]["report_id"] = 8
    members["manifest.json"] = json.dumps(manifest).encode()
    result = verify_package(repack(members, tmp_path / "t.tlref", agency), signer.public_key(), agency)
    assert not result.signature_valid
    assert [(p.kind, p.item) for p in result.problems] == [("bad_signature", "manifest.json")]
    assert "the manifest was changed, or it was signed with another key" in result.problems[0].message


def test_a_manifest_rewritten_to_cover_a_changed_file_still_fails_its_signature(tmp_path: Path, keys: tuple) -> None:
    import hashlib

    agency, signer = keys
    members = unpack(build(tmp_path / "p.tlref", agency, signer), agency)
    members["report.json"] = b'{"report": {"id": 9}}'
    manifest = json.loads(members["manifest.json"])
    entry = next(i for i in manifest["items"] if i["path"] == "report.json")
    entry["sha256"], entry["size"] = hashlib.sha256(members["report.json"]).hexdigest(), len(members["report.json"])
    members["manifest.json"] = json.dumps(manifest, sort_keys=True, indent=1).encode()
    result = verify_package(repack(members, tmp_path / "t.tlref", agency), signer.public_key(), agency)
    assert [p.kind for p in result.problems] == ["bad_signature"] and not result.ok


def test_a_signature_by_another_key_or_a_missing_one_is_refused(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    members = unpack(build(tmp_path / "p.tlref", agency, signer), agency)
    impostor = Ed25519PrivateKey.generate()
    members["manifest.sig"] = impostor.sign(members["manifest.json"])
    result = verify_package(repack(members, tmp_path / "t.tlref", agency), signer.public_key(), agency)
    assert [p.kind for p in result.problems] == ["bad_signature"]
    del members["manifest.sig"]
    unsigned = verify_package(repack(members, tmp_path / "u.tlref", agency), signer.public_key(), agency)
    assert [(p.kind, p.item) for p in unsigned.problems] == [("missing", "manifest.sig")] and not unsigned.ok


def test_verifying_with_the_wrong_hotline_key_names_both_keys(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    package = build(tmp_path / "p.tlref", agency, signer)
    result = verify_package(package, Ed25519PrivateKey.generate().public_key(), agency)
    kinds = [p.kind for p in result.problems]
    assert kinds == ["bad_signature", "bad_signature"]
    assert "the manifest names the signing key" in result.problems[1].message


def test_another_agencys_key_cannot_open_the_package(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    package = build(tmp_path / "p.tlref", agency, signer)
    with pytest.raises(PackageError, match="is encrypted to the agency key [0-9a-f]{16}, not to the key given"):
        verify_package(package, signer.public_key(), X25519PrivateKey.generate())
    with pytest.raises(PackageError, match="is encrypted: give the agency's private key"):
        verify_package(package, signer.public_key())


def test_a_changed_or_truncated_encrypted_file_fails_authentication(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    package = build(tmp_path / "p.tlref", agency, signer)
    data = bytearray(package.read_bytes())
    flipped = tmp_path / "flipped.tlref"
    data[200_000] ^= 0x01  # inside the first chunk
    flipped.write_bytes(bytes(data))
    result = verify_package(flipped, signer.public_key(), agency)
    # the items stored in the first encrypted chunk cannot be read; each is named
    unreadable = {p.item for p in result.problems if p.kind == "unreadable"}
    assert {"report.json", "summary.pdf", "evidence/001-f1/chat-log.txt"} <= unreadable and not result.ok
    assert all("its encrypted chunk 0 fails authentication" in p.message for p in result.problems)
    truncated = tmp_path / "truncated.tlref"
    truncated.write_bytes(package.read_bytes()[:-100])
    with pytest.raises(PackageError, match="fails authentication"):
        verify_package(truncated, signer.public_key(), agency)
    header = bytearray(package.read_bytes())
    header[12] ^= 0x01  # the declared chunk size is authenticated too
    changed = tmp_path / "header.tlref"
    changed.write_bytes(bytes(header))
    with pytest.raises(PackageError):
        verify_package(changed, signer.public_key(), agency)


def test_content_that_differs_from_the_stores_record_is_never_packaged(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    item = PackageItem("evidence/001/x.bin", "evidence", b"what the disk holds", expected_sha256="0" * 64)
    with open(tmp_path / "p.tlref", "wb") as handle, pytest.raises(PackageError, match="file store is damaged"):
        write_package(handle, [item], {}, raw_public(agency.public_key()), signer)


def test_member_names_are_safe_anywhere() -> None:
    assert safe_member_name("../../etc/passwd", "x") == "passwd"
    assert safe_member_name("C:\\Users\\a\\photo?.png", "x") == "photo_.png"
    assert safe_member_name("..", "file-1") == "file-1"
    assert safe_member_name(None, "file-2") == "file-2"


def test_an_unpacked_folder_must_be_new(tmp_path: Path, keys: tuple) -> None:
    agency, signer = keys
    package = build(tmp_path / "p.tlref", agency, signer)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(PackageError, match="is not empty"):
        extract_package(package, agency, tmp_path / "busy")
    not_a_package = tmp_path / "n.zip"
    not_a_package.write_bytes(b"hello")
    with pytest.raises(PackageError, match="not a referral package"):
        verify_package(not_a_package, signer.public_key())
