"""Partner hotlines: a referral package from one tipline imported at another as a report that goes
through the pipeline, and the outcome sent back as a signed file onto the sender's referral timeline.
Two instances (two data folders) in one process; the one under test runs on each backend."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from referralsupport import add_user, claim, png_bytes, principal, report_in_review
from sqlalchemy import func, select, update
from support import CommandRun, build_instance, instance_env, run_tipline
from websupport import Site, build_site

from tipline.domain.audit import Actor
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.referral.directory import import_directory
from tipline.referral.envelope import EnvelopeWriter
from tipline.referral.importing import ImportRefused, import_package
from tipline.referral.keys import b64, create_agency_key, load_agency_private_key, raw_public, signing_key
from tipline.referral.package import open_package
from tipline.referral.partner_outcomes import OutcomeFileRefused, export_outcomes, import_outcomes
from tipline.referral.partners import add_partner
from tipline.referral.service import outcomes_of, record_outcome, refer
from tipline.store.partners import ImportedReferralRow, PartnerOutcomeFileRow
from tipline.store.referrals import AgencyRow, ReferralOutcomeRow
from tipline.store.tables import AuditEventRow, PipelineJob, ReportFileRow, ReportRow

ADMIN = Actor.system("test-admin")
FILES = [("profile-picture.png", png_bytes((200, 40, 90))), ("chat-export.txt", b"u1: where do you live?\nu2: no\n")]


@dataclass
class Pair:
    sender: Instance
    receiver: Instance
    package: Path
    key_file: Path  # the receiver's private package key
    sender_report: int
    sender_referral: int
    sender_site: Site
    receiver_site: Site


def _signing_text(instance: Instance) -> str:
    return "ed25519:" + b64(raw_public(signing_key(instance.settings.key_dir).public_key()))


def _register_sender(receiver: Instance, sender: Instance) -> None:
    with receiver.db.transaction() as session:
        add_partner(receiver, session, "us-hotline", _signing_text(sender), "US", ADMIN, name="Example US Hotline")


def _build_pair(sender: Instance, receiver: Instance, tmp_path: Path, *, register_sender: bool = True) -> Pair:
    """The sender refers a report (two files) to the receiver, a partner hotline in the Netherlands;
    the receiver knows the sender's signing key (unless told not to) and has a national police agency."""
    key_file = tmp_path / "receiver-package.key"
    package_key = b64(create_agency_key(key_file))
    police_key = b64(create_agency_key(tmp_path / "nl-police.key"))
    sender_site, receiver_site = build_site(sender), build_site(receiver)
    with sender.db.transaction() as session:
        add_partner(sender, session, "nl-meldpunt", _signing_text(receiver), "NL", ADMIN,
                    name="Meldpunt Example", public_key_text=package_key)
    with receiver.db.transaction() as session:
        import_directory(receiver, session, "code,name,type,country,public_key\n"
                                            f"nl-police,Example National Police,national_police,NL,{police_key}\n",
                         ADMIN)
    add_user(receiver, "agency", Role.AGENCY, agency="nl-police")
    if register_sender:
        _register_sender(receiver, sender)
    report_id = report_in_review(sender, "analyst", files=FILES)
    result = refer(sender, report_id, principal(sender, "analyst"), "nl-meldpunt",
                   reason="the material is hosted in the Netherlands")
    return Pair(sender, receiver, result.path, key_file, report_id, result.referral.id, sender_site, receiver_site)


@pytest.fixture(params=["receiver", "sender"])
def pair(request: pytest.FixtureRequest, instance: Instance, tmp_path: Path) -> Iterator[Pair]:
    """The instance on each backend plays the receiver, then the sender; the other is on SQLite."""
    other = build_instance(tmp_path / "other", "sqlite", request)
    try:
        if request.param == "receiver":
            yield _build_pair(other, instance, tmp_path)
        else:
            yield _build_pair(instance, other, tmp_path)
    finally:
        other.close()


@pytest.fixture
def receiving(instance: Instance, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pair]:
    """The receiver on each backend; it does not know the sender yet (the test registers it)."""
    sender = build_instance(tmp_path / "sender", "sqlite", request)
    try:
        yield _build_pair(sender, instance, tmp_path, register_sender=False)
    finally:
        sender.close()


def _sha256s(instance: Instance, report_id: int) -> list[str]:
    """The SHA-256 of each file the report was sent with, read back from the encrypted store."""
    with instance.db.transaction() as session:
        rows = list(session.execute(select(ReportFileRow).where(
            ReportFileRow.report_id == report_id, ReportFileRow.parent_file_id.is_(None)).order_by(
            ReportFileRow.position)).scalars())
        digests = []
        for row in rows:
            with instance.files.open_for_system(session, row.id, ADMIN, "test") as reader:
                digests.append(hashlib.sha256(reader.read()).hexdigest())
    return digests


def _import(pair: Pair, package: Path | None = None) -> int:
    result = import_package(pair.receiver, package or pair.package, load_agency_private_key(pair.key_file), ADMIN)
    return result.report_id


def _actions(instance: Instance, report_id: int) -> list[str]:
    with instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow.action).where(AuditEventRow.report_id == report_id)
                                    .order_by(AuditEventRow.seq)).scalars())


def test_round_trip_refer_import_pipeline_outcome_back(pair: Pair) -> None:
    sender, receiver = pair.sender, pair.receiver
    report_id = _import(pair)
    assert InProcessWorker(receiver).drain(timeout=60)

    with receiver.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        assert row is not None and row.source == "partner_hotline" and row.state == "awaiting_review"
        files = list(session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report_id)
                                     .order_by(ReportFileRow.position)).scalars())
        assert [f.file_name for f in files] == [name for name, _ in FILES]
        assert all(f.media_type and f.hashed_at for f in files)  # the pipeline's hashing ran
        assert files[0].pdq  # a picture: perceptual hash as for any report
        provenance = session.execute(select(ImportedReferralRow)).scalar_one()
        assert (provenance.sender_report_id, provenance.sender_referral_id) == (pair.sender_report, pair.sender_referral)
    assert _sha256s(receiver, report_id) == _sha256s(sender, pair.sender_report) == [
        hashlib.sha256(data).hexdigest() for _, data in FILES]
    assert "referral.imported" in _actions(receiver, report_id)

    # the report page says where it came from, in words
    page = pair.receiver_site.signed_in("analyst").get(f"/reports/{report_id}")
    assert page.status_code == 200
    assert "From partner hotline" in page.text and "Example US Hotline" in page.text
    assert f"their report #{pair.sender_report}" in page.text and "Imported from the partner hotline" in page.text

    # the receiver refers it on to its national police, which reports an arrest
    claim(receiver, report_id, "analyst")
    onward = refer(receiver, report_id, principal(receiver, "analyst"), "nl-police",
                   reason="the suspect lives in the Netherlands")
    with receiver.db.transaction() as session:
        record_outcome(receiver, session, onward.referral, principal(receiver, "agency"), "arrest")
    written = export_outcomes(receiver, report_id, ADMIN)
    assert [o["outcome"] for o in written.outcomes] == ["received", "referred_on", "arrest"]

    result = import_outcomes(sender, written.data, ADMIN)
    assert len(result.added) == 3 and result.referral_id == pair.sender_referral
    with sender.db.transaction() as session:
        outcomes = outcomes_of(session, pair.sender_referral)
        assert [o.outcome for o in outcomes] == ["received", "referred_on", "arrest"]
        assert outcomes[1].referred_to == "Example National Police"
        assert all(o.recorded_by.startswith("Meldpunt Example") for o in outcomes)
    assert _actions(sender, pair.sender_report).count("referral.outcome_reported") == 3

    # the sender's report page timeline shows it in words
    page = pair.sender_site.signed_in("analyst").get(f"/reports/{pair.sender_report}")
    assert "Meldpunt Example reported: Arrest" in page.text

    # a later file repeats the earlier outcomes: each is added once
    with receiver.db.transaction() as session:
        record_outcome(receiver, session, onward.referral, principal(receiver, "agency"), "child_safeguarded")
    second = import_outcomes(sender, export_outcomes(receiver, report_id, ADMIN).data, ADMIN)
    assert second.added == [f"outcome-{_last_outcome_id(receiver)}"] and second.already_known == 3


def _last_outcome_id(instance: Instance) -> int:
    with instance.db.transaction() as session:
        return session.execute(select(func.max(ReferralOutcomeRow.id))).scalar_one()


# --- refusals: nothing created ------------------------------------------------------------------------


def _footprint(instance: Instance) -> tuple[int, ...]:
    """What an import could have created: reports, files, jobs, imports, and blobs in the store."""
    with instance.db.transaction() as session:
        counts = tuple(session.execute(select(func.count()).select_from(table)).scalar_one()
                       for table in (ReportRow, ReportFileRow, PipelineJob, ImportedReferralRow))
    blobs = sum(1 for _ in instance.files.blobs.addresses())
    return (*counts, blobs)


def _repack(pair: Pair, target: Path, change: dict[str, bytes]) -> Path:
    """The package with some members replaced (re-encrypted to the receiver, as a forger could)."""
    with open_package(pair.package, load_agency_private_key(pair.key_file)) as contents:
        members = {name: contents.read(name) for name in contents.names}
    members.update(change)
    public = raw_public(load_agency_private_key(pair.key_file).public_key())
    with open(target, "wb") as handle:
        envelope = EnvelopeWriter(handle, public)
        with zipfile.ZipFile(envelope, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        envelope.close()
    return target


def _evidence_name(pair: Pair) -> str:
    with open_package(pair.package, load_agency_private_key(pair.key_file)) as contents:
        return next(name for name in contents.names if name.startswith("evidence/") and name.endswith(".png"))


def test_unknown_sender_refused_then_accepted_once_registered(receiving: Pair) -> None:
    before = _footprint(receiving.receiver)
    with pytest.raises(ImportRefused, match="unknown sender") as refused:
        _import(receiving)
    assert refused.value.kind == "unknown_sender"
    assert _footprint(receiving.receiver) == before
    _register_sender(receiving.receiver, receiving.sender)
    assert _import(receiving) > 0


def test_bad_signature_refused(receiving: Pair, tmp_path: Path) -> None:
    _register_sender(receiving.receiver, receiving.sender)
    with open_package(receiving.package, load_agency_private_key(receiving.key_file)) as contents:
        manifest = contents.read("manifest.json")
    forged = _repack(receiving, tmp_path / "forged.tlref",
                     {"manifest.json": manifest.replace(b'"analyst"', b'"someone else"')})
    before = _footprint(receiving.receiver)
    with pytest.raises(ImportRefused, match="does not match its signature") as refused:
        _import(receiving, forged)
    assert refused.value.kind == "bad_signature"
    assert _footprint(receiving.receiver) == before

    # signed with another key than the partner's, naming the partner's key: also refused
    rogue = Ed25519PrivateKey.generate()
    resigned = _repack(receiving, tmp_path / "resigned.tlref", {"manifest.sig": rogue.sign(manifest)})
    with pytest.raises(ImportRefused) as refused:
        _import(receiving, resigned)
    assert refused.value.kind == "bad_signature"
    assert _footprint(receiving.receiver) == before


def test_changed_file_refused(receiving: Pair, tmp_path: Path) -> None:
    _register_sender(receiving.receiver, receiving.sender)
    changed = _repack(receiving, tmp_path / "changed.tlref", {_evidence_name(receiving): png_bytes((1, 2, 3))})
    before = _footprint(receiving.receiver)
    with pytest.raises(ImportRefused, match="was altered") as refused:
        _import(receiving, changed)
    assert refused.value.kind == "altered"
    assert _footprint(receiving.receiver) == before


def test_duplicate_import_refused(receiving: Pair) -> None:
    _register_sender(receiving.receiver, receiving.sender)
    first = _import(receiving)
    before = _footprint(receiving.receiver)
    with pytest.raises(ImportRefused, match=f"already imported, as report #{first}") as refused:
        _import(receiving)
    assert refused.value.kind == "duplicate"
    assert _footprint(receiving.receiver) == before


def test_failure_midway_leaves_nothing(receiving: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the report and its first file were written in the transaction: all of it rolls
    back, and the ciphertext already put in the store is deleted again."""
    _register_sender(receiving.receiver, receiving.sender)
    before = _footprint(receiving.receiver)
    register = receiving.receiver.files.register
    calls = []

    def failing(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk gone")
        return register(*args, **kwargs)  # type: ignore[arg-type]  # passed through unchanged

    monkeypatch.setattr(receiving.receiver.files, "register", failing)
    with pytest.raises(OSError, match="disk gone"):
        _import(receiving)
    assert _footprint(receiving.receiver) == before
    monkeypatch.undo()
    assert _import(receiving) > 0  # and the same package imports cleanly afterwards


def test_wrong_package_key_refused(receiving: Pair, tmp_path: Path) -> None:
    _register_sender(receiving.receiver, receiving.sender)
    other_key = tmp_path / "someone-else.key"
    create_agency_key(other_key)
    before = _footprint(receiving.receiver)
    with pytest.raises(ImportRefused, match="encrypted to the agency key"):
        import_package(receiving.receiver, receiving.package, load_agency_private_key(other_key), ADMIN)
    assert _footprint(receiving.receiver) == before


# --- outcome files: replays and forgeries -------------------------------------------------------------


def _sender_outcomes(pair: Pair) -> tuple[int, int]:
    with pair.sender.db.transaction() as session:
        return (session.execute(select(func.count()).select_from(ReferralOutcomeRow)).scalar_one(),
                session.execute(select(func.count()).select_from(PartnerOutcomeFileRow)).scalar_one())


@pytest.fixture
def sending(instance: Instance, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pair]:
    """The sender on each backend, with its package imported at the receiver (on SQLite)."""
    receiver = build_instance(tmp_path / "receiver", "sqlite", request)
    try:
        built = _build_pair(instance, receiver, tmp_path)
        _import(built)
        yield built
    finally:
        receiver.close()


def _imported_report(pair: Pair) -> int:
    with pair.receiver.db.transaction() as session:
        return session.execute(select(ImportedReferralRow.report_id)).scalar_one()


def test_replayed_outcome_file_refused(sending: Pair) -> None:
    report_id = _imported_report(sending)
    first = export_outcomes(sending.receiver, report_id, ADMIN)
    second = export_outcomes(sending.receiver, report_id, ADMIN)
    third = export_outcomes(sending.receiver, report_id, ADMIN)
    assert import_outcomes(sending.sender, first.data, ADMIN).added == ["received"]
    before = _sender_outcomes(sending)
    with pytest.raises(OutcomeFileRefused, match="already imported") as refused:
        import_outcomes(sending.sender, first.data, ADMIN)
    assert refused.value.kind == "replay"
    import_outcomes(sending.sender, third.data, ADMIN)
    after_third = _sender_outcomes(sending)
    with pytest.raises(OutcomeFileRefused, match="number 3 was already imported") as refused:
        import_outcomes(sending.sender, second.data, ADMIN)  # an older file, never imported, comes late
    assert refused.value.kind == "replay"
    assert _sender_outcomes(sending) == after_third == (before[0], before[1] + 1)


def test_forged_outcome_file_refused(sending: Pair) -> None:
    report_id = _imported_report(sending)
    genuine = json.loads(export_outcomes(sending.receiver, report_id, ADMIN).data)
    before = _sender_outcomes(sending)

    altered = dict(genuine, document=genuine["document"].replace('"received"', '"arrest"'))
    with pytest.raises(OutcomeFileRefused, match="forged or altered") as refused:
        import_outcomes(sending.sender, json.dumps(altered).encode(), ADMIN)
    assert refused.value.kind == "forged"

    rogue = Ed25519PrivateKey.generate()
    resigned = dict(genuine, signature=base64.b64encode(rogue.sign(genuine["document"].encode())).decode())
    with pytest.raises(OutcomeFileRefused, match="forged or altered"):
        import_outcomes(sending.sender, json.dumps(resigned).encode(), ADMIN)

    with pytest.raises(OutcomeFileRefused, match="not a tipline outcome file"):
        import_outcomes(sending.sender, b"not json at all", ADMIN)
    assert _sender_outcomes(sending) == before

    # the partner's signing key withdrawn at the sender: the genuine file now comes from an unknown sender
    with sending.sender.db.transaction() as session:
        session.execute(update(AgencyRow).where(AgencyRow.code == "nl-meldpunt").values(signing_key=None))
    with pytest.raises(OutcomeFileRefused, match="unknown sender") as refused:
        import_outcomes(sending.sender, json.dumps(genuine).encode(), ADMIN)
    assert refused.value.kind == "unknown_sender"
    assert _sender_outcomes(sending) == before


def test_outcome_export_of_a_report_not_imported_refused(sending: Pair) -> None:
    with pytest.raises(OutcomeFileRefused, match="did not come from a partner hotline"):
        export_outcomes(sending.sender, sending.sender_report, ADMIN)


# --- the commands -------------------------------------------------------------------------------------


def test_commands_round_trip(sqlite_instance: Instance, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """`tipline partners add`, `referral import --json`, `outcome-export`, `outcome-import`, as an operator runs them."""
    receiver = build_instance(tmp_path / "receiver", "sqlite", request)
    try:
        pair = _build_pair(sqlite_instance, receiver, tmp_path, register_sender=False)

        def run(instance: Instance, *args: str) -> CommandRun:
            return run_tipline(instance_env(instance), *args)

        key = tmp_path / "sender-signing.pub"
        key.write_text(_signing_text(pair.sender) + "\n")
        added = run(receiver, "partners", "add", "us-hotline", "--signing-key", str(key), "--country", "US",
                    "--name", "Example US Hotline", "--json")
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["created"] is True
        listed = run(receiver, "partners", "list")
        assert "us-hotline" in listed.stdout and "Example US Hotline" in listed.stdout

        imported = run(receiver, "referral", "import", str(pair.package), "--key", str(pair.key_file), "--json")
        assert imported.returncode == 0, imported.stderr
        result = json.loads(imported.stdout)
        assert result["sender_referral_id"] == pair.sender_referral and result["files"] == 2
        again = run(receiver, "referral", "import", str(pair.package), "--key", str(pair.key_file))
        assert again.returncode == 1 and "already imported" in again.stderr

        outcome_file = tmp_path / "outcomes.json"
        exported = run(receiver, "referral", "outcome-export", str(result["report_id"]), "-o", str(outcome_file))
        assert exported.returncode == 0, exported.stderr
        assert outcome_file.stat().st_mode & 0o077 == 0
        back = run(pair.sender, "referral", "outcome-import", str(outcome_file), "--json")
        assert back.returncode == 0, back.stderr
        assert json.loads(back.stdout)["added"] == ["received"]
        replay = run(pair.sender, "referral", "outcome-import", str(outcome_file), "--json")
        assert replay.returncode == 1 and json.loads(replay.stdout)["refused"] == "replay"
    finally:
        receiver.close()


def test_partner_registration_refusals(sqlite_instance: Instance, tmp_path: Path) -> None:
    from tipline.store.referrals import DirectoryError

    other = b64(raw_public(Ed25519PrivateKey.generate().public_key()))
    with sqlite_instance.db.transaction() as session:
        add_partner(sqlite_instance, session, "de-partner", other, "DE", ADMIN)
    with sqlite_instance.db.transaction() as session, pytest.raises(DirectoryError, match="already"):
        add_partner(sqlite_instance, session, "at-partner", other, "AT", ADMIN)
    with sqlite_instance.db.transaction() as session, pytest.raises(DirectoryError, match="own signing key"):
        add_partner(sqlite_instance, session, "self", _signing_text(sqlite_instance), "US", ADMIN)
    with sqlite_instance.db.transaction() as session, pytest.raises(DirectoryError, match="country"):
        add_partner(sqlite_instance, session, "xx-partner", b64(bytes(32)), "Atlantis", ADMIN)
