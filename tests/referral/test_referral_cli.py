"""`tipline agencies` and `tipline referral`: the directory in and out, nothing half-imported, agency
users tied to their agency, and package verification from the shell with precise failures."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from referralsupport import CHAT_LOG, directory_csv, principal, report_in_review
from support import FAST_PASSWORD_HASHING, make_settings

from tipline.cli import main
from tipline.instance import Instance
from tipline.store.referrals import AgencyRow, agency_of_user

HEADER = "code,name,type,country,region,city,contact_name,contact_email,contact_phone,public_key,active\n"


def run(data_dir: Path, *args: str, ok: bool = True) -> click.testing.Result:
    env = {"TIPLINE_DATA_DIR": str(data_dir), "TIPLINE_DATABASE_URL": "", "TIPLINE_KEY_DIR": "",
           **FAST_PASSWORD_HASHING}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def agency_codes(data_dir: Path) -> list[str]:
    instance = Instance(make_settings(data_dir))
    with instance.db.transaction() as session:
        return sorted(a.code for a in session.query(AgencyRow))


def test_import_list_export_and_a_bad_file_that_changes_nothing(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    keys = {}
    for code in ("us-fcps", "us-il-tf", "gb-ncsu"):
        keys[code] = json.loads(run(tmp_path, "agencies", "keygen", str(tmp_path / f"{code}.key"), "--json").output)
    good = tmp_path / "good.csv"
    good.write_text(directory_csv({code: k["public_key"] for code, k in keys.items()}))
    imported = json.loads(run(tmp_path, "agencies", "import", str(good), "--json").output)
    assert imported == {"ok": True, "added": 4, "updated": 0, "unchanged": 0, "suggestions_changed": 0}
    again = json.loads(run(tmp_path, "agencies", "import", str(good), "--json").output)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 4)
    listed = json.loads(run(tmp_path, "agencies", "list", "--json").output)
    assert {r["code"]: r["key_id"] for r in listed} == {
        "gb-ncsu": keys["gb-ncsu"]["key_id"], "us-fcps": keys["us-fcps"]["key_id"],
        "us-il-tf": keys["us-il-tf"]["key_id"], "us-nokey": None}
    assert "NO KEY" in run(tmp_path, "agencies", "list").output

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "nz-pol,New Zealand Child Safety (fictional),national_police,NZ,,,,,,,yes\n"
                            "us-fcps,Renamed,national_agency,US,,,,,,,perhaps\n"
                            "xx,No country,local_police,Atlantis,,,,,,,yes\n")
    refused = run(tmp_path, "agencies", "import", str(bad), ok=False)
    assert refused.exit_code == 1
    assert "nothing was imported" in refused.output
    assert "line 3, active: 'perhaps' is not yes or no" in refused.output
    assert "line 4, country: 'Atlantis' is not an ISO 3166-1 country code" in refused.output
    as_json = json.loads(run(tmp_path, "agencies", "import", str(bad), "--json", ok=False).output)
    assert as_json["ok"] is False and as_json["imported"] == 0
    assert [(p["line"], p["column"]) for p in as_json["problems"]] == [(3, "active"), (4, "country")]
    assert agency_codes(tmp_path) == ["gb-ncsu", "us-fcps", "us-il-tf", "us-nokey"]  # the good row was not kept

    exported = run(tmp_path, "agencies", "export").output
    assert exported.splitlines()[0] == HEADER.strip()
    out = tmp_path / "out.csv"
    run(tmp_path, "agencies", "export", "-o", str(out))
    assert out.read_text() == exported
    assert "Federal Child Protection Service" in exported


def test_agency_users_are_added_with_their_agency(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    csv_file = tmp_path / "d.csv"
    csv_file.write_text(HEADER + "us-fcps,Federal Child Protection Service,national_agency,US,,,,,,,yes\n")
    run(tmp_path, "agencies", "import", str(csv_file))
    needs = run(tmp_path, "users", "add", "officer", "--role", "agency", ok=False)
    assert needs.exit_code == 1 and "--agency CODE is required for --role agency" in needs.output
    wrong = run(tmp_path, "users", "add", "ana", "--role", "analyst", "--agency", "us-fcps", ok=False)
    assert wrong.exit_code == 1
    unknown = run(tmp_path, "users", "add", "officer", "--role", "agency", "--agency", "nowhere", ok=False)
    assert "no agency with the code 'nowhere'" in unknown.output
    created = json.loads(run(tmp_path, "users", "add", "officer", "--role", "agency", "--agency", "us-fcps",
                             "--json").output)
    assert created["role"] == "agency"
    instance = Instance(make_settings(tmp_path))
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, "officer")
        assert agency_of_user(session, user.id).code == "us-fcps"
        assert instance.accounts.user_by_name(session, "officer") is not None
    assert "1 user(s)" in run(tmp_path, "agencies", "list").output
    run(tmp_path, "users", "add", "ana", "--role", "analyst")
    refused = run(tmp_path, "agencies", "assign-user", "ana", "us-fcps", ok=False)
    assert "ana is a analyst user; only agency users belong to an agency" in refused.output


def test_keygen_refuses_to_overwrite_a_key(tmp_path: Path) -> None:
    key = tmp_path / "agency.key"
    run(tmp_path, "agencies", "keygen", str(key))
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    again = run(tmp_path, "agencies", "keygen", str(key), ok=False)
    assert again.exit_code == 1 and "already exists" in again.output


@pytest.fixture
def referred_package(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A real referral made on an instance in tmp_path/data; returns (data dir, package, agency key)."""
    from referralsupport import add_user, install_directory
    from support import build_instance

    from tipline.domain.roles import Role
    from tipline.referral.service import refer

    instance = build_instance(tmp_path / "data", "sqlite", request)
    directory = install_directory(instance, tmp_path / "keys")
    add_user(instance, "ana", Role.ANALYST)
    report_id = report_in_review(instance, "ana", files=[("chat-log.txt", CHAT_LOG)])
    result = refer(instance, report_id, principal(instance, "ana"), "us-il-tf")
    instance.close()
    return tmp_path / "data", result.path, directory.key_files["us-il-tf"], directory.key_files["gb-ncsu"]


def test_referral_verify_and_decrypt_from_the_shell(tmp_path: Path, referred_package) -> None:  # type: ignore[no-untyped-def]
    data_dir, package, key, other_key = referred_package
    hotline = tmp_path / "hotline.pub"
    run(data_dir, "referral", "signing-key", "-o", str(hotline))
    assert hotline.read_text().startswith("ed25519:")
    ok = run(data_dir, "referral", "verify", str(package), "--key", str(key), "--hotline-key", str(hotline))
    assert "The signature is valid and every item matches its SHA-256." in ok.output
    report = json.loads(run(data_dir, "referral", "verify", str(package), "--key", str(key), "--json").output)
    assert report["ok"] is True and report["agency"]["code"] == "us-il-tf"

    wrong = run(data_dir, "referral", "verify", str(package), "--key", str(other_key), ok=False)
    assert wrong.exit_code == 1 and "use the private key of the agency it was referred to" in wrong.output
    no_key = run(data_dir, "referral", "verify", str(package), ok=False)
    assert "is encrypted: give the agency's private key (--key)" in no_key.output

    folder = tmp_path / "unpacked"
    run(data_dir, "referral", "decrypt", str(package), "--key", str(key), "-o", str(folder))
    evidence = next(folder.glob("evidence/*/chat-log.txt"))
    assert evidence.read_bytes() == CHAT_LOG
    assert "every item matches" in run(data_dir, "referral", "verify", str(folder), "--hotline-key",
                                       str(hotline)).output
    evidence.write_bytes(b"u1: something else\n")
    (folder / "summary.pdf").unlink()
    tampered = run(data_dir, "referral", "verify", str(folder), "--hotline-key", str(hotline), ok=False)
    assert tampered.exit_code == 1
    assert f"ALTERED: {evidence.relative_to(folder).as_posix()} was altered" in tampered.output
    assert "MISSING: summary.pdf is listed in the manifest but missing" in tampered.output
    as_json = json.loads(run(data_dir, "referral", "verify", str(folder), "--hotline-key", str(hotline), "--json",
                             ok=False).output)
    assert sorted(p["kind"] for p in as_json["problems"]) == ["altered", "missing"]

    with zipfile.ZipFile(tmp_path / "decrypted.zip", "w") as archive:  # a decrypted zip is checked too
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    zipped = run(data_dir, "referral", "verify", str(tmp_path / "decrypted.zip"), "--hotline-key", str(hotline),
                 ok=False)
    assert zipped.exit_code == 1 and "ALTERED" in zipped.output


def test_an_agency_rotates_its_key_and_old_packages_still_open_with_the_old_one(
        tmp_path: Path, referred_package, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    from support import build_instance

    from tipline.referral.service import refer
    from tipline.store.tables import AuditEventRow

    data_dir, old_package, old_key, other_key = referred_package
    new_key = tmp_path / "il-tf-2027.key"
    created = json.loads(run(data_dir, "agencies", "keygen", str(new_key), "--json").output)
    public_file = tmp_path / "il-tf-2027.pub"
    public_file.write_text(created["public_key"] + "\n")
    old_key_id = json.loads(run(data_dir, "agencies", "list", "--json").output)
    old_key_id = next(r["key_id"] for r in old_key_id if r["code"] == "us-il-tf")

    rotated = json.loads(run(data_dir, "agencies", "rotate-key", "us-il-tf", "--public-key", str(public_file),
                             "--reason", "yearly renewal", "--json").output)
    assert rotated == {"agency": "us-il-tf", "old_key_id": old_key_id, "new_key_id": created["key_id"]}
    listed = json.loads(run(data_dir, "agencies", "list", "--json").output)
    assert next(r["key_id"] for r in listed if r["code"] == "us-il-tf") == created["key_id"]
    again = run(data_dir, "agencies", "rotate-key", "us-il-tf", "--public-key", created["public_key"], ok=False)
    assert again.exit_code == 1 and "already has the key" in again.output
    taken = run(data_dir, "agencies", "rotate-key", "gb-ncsu", "--public-key", created["public_key"], ok=False)
    assert "each agency needs its own key" in taken.output
    unknown = run(data_dir, "agencies", "rotate-key", "nowhere", "--public-key", created["public_key"], ok=False)
    assert "no agency with the code 'nowhere'" in unknown.output

    # the package made before the rotation still opens with the old key, and names it
    old = json.loads(run(data_dir, "referral", "verify", str(old_package), "--key", str(old_key), "--json").output)
    assert old["ok"] is True and old["agency"]["recipient_key_id"] == old_key_id
    wrong = run(data_dir, "referral", "verify", str(old_package), "--key", str(new_key), ok=False)
    assert "the one it had then if the agency has since rotated its key" in wrong.output

    # a package made after it is encrypted to the new key only
    instance = build_instance(data_dir, "sqlite", request)
    try:
        report_id = report_in_review(instance, "ana", files=[("chat-log.txt", CHAT_LOG)])
        result = refer(instance, report_id, principal(instance, "ana"), "us-il-tf")
        assert result.referral.recipient_key_id == created["key_id"]
        with instance.db.transaction() as session:
            events = [e.details for e in session.query(AuditEventRow).filter(
                AuditEventRow.action == "agency.key_rotated")]
            actor = session.query(AuditEventRow).filter(AuditEventRow.action == "agency.key_rotated").one().actor_name
    finally:
        instance.close()
    assert events == [{"agency": "us-il-tf", "old_key_id": old_key_id, "new_key_id": created["key_id"],
                       "how": "rotate-key", "reason": "yearly renewal"}]
    assert actor  # attributable: the operator who ran the command
    new = json.loads(run(data_dir, "referral", "verify", str(result.path), "--key", str(new_key), "--json").output)
    assert new["ok"] is True and new["agency"]["recipient_key_id"] == created["key_id"]
    assert run(data_dir, "referral", "verify", str(result.path), "--key", str(old_key), ok=False).exit_code == 1
