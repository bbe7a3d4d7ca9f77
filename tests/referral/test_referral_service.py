"""Referring reports, on both storage backends: the package, the state change in the same transaction,
custody from the audit trail, refusals that leave nothing behind, outcomes, reminders, trends."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from referralsupport import add_user, install_directory, png_bytes, principal, report_in_review
from sqlalchemy import func, select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.lifecycle import LifecycleError
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.referral.keys import signing_key
from tipline.referral.package import open_package, verify_package
from tipline.referral.service import (
    OutcomeRefused,
    ReferralRefused,
    mark_opened,
    outcome_counts,
    outcome_trend,
    overdue_referrals,
    package_path,
    record_outcome,
    refer,
)
from tipline.store.referrals import ReferralOutcomeRow, ReferralRow, ReportJurisdictionRow
from tipline.store.tables import AuditEventRow, ReportFileRow, ReportRow

CHAT = b"u1: are your parents home?\nu2: no\n"


@pytest.fixture
def setup(instance: Instance, tmp_path: Path):  # type: ignore[no-untyped-def]
    directory = install_directory(instance, tmp_path / "agency-keys")
    add_user(instance, "ana", Role.ANALYST)
    add_user(instance, "sam", Role.SUPERVISOR)
    add_user(instance, "ola", Role.ANALYST)
    add_user(instance, "officer", Role.AGENCY, agency="us-il-tf")
    return directory


def events(instance: Instance, report_id: int, action: str) -> list[AuditEventRow]:
    with instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow).where(AuditEventRow.report_id == report_id,
                                                                AuditEventRow.action == action)
                                    .order_by(AuditEventRow.seq)).scalars())


def test_referring_builds_a_signed_encrypted_package_and_refers_the_report(instance: Instance, setup) -> None:  # type: ignore[no-untyped-def]
    directory = setup
    report_id = report_in_review(instance, "ana", files=[("chat-log.txt", CHAT), ("photo.png", png_bytes())])
    with instance.db.transaction() as session:
        stored = session.get(ReportJurisdictionRow, report_id)
        assert stored is not None and stored.suggestion["agency"] == "us-il-tf"  # the victim lives in Illinois
    result = refer(instance, report_id, principal(instance, "ana"), "us-il-tf", note="Meeting planned Saturday.")
    referral = result.referral
    with instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).state == "referred"
        row = session.get(ReferralRow, referral.id)
        assert row is not None and row.created_by == "ana" and row.note == "Meeting planned Saturday."
        stored_files = {f.id: f for f in session.execute(select(ReportFileRow).where(
            ReportFileRow.report_id == report_id)).scalars()}
    path = package_path(instance.settings, referral)
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert result.path == path and referral.package_size == path.stat().st_size
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() == referral.package_sha256
    hotline = signing_key(instance.settings.key_dir).public_key()
    verification = verify_package(path, hotline, directory.keys["us-il-tf"])
    assert verification.ok, verification.problems
    manifest = verification.manifest
    assert manifest is not None
    assert manifest["agency"]["code"] == "us-il-tf" and manifest["referral"]["report_id"] == report_id
    kinds = sorted(i["kind"] for i in manifest["items"])
    assert kinds == ["evidence", "evidence", "file_details_xml", "file_details_xml", "report_json", "report_xml",
                     "summary_pdf"]
    evidence = [i for i in manifest["items"] if i["kind"] == "evidence"]
    assert {i["file_id"]: i["sha256"] for i in evidence} == {fid: f.sha256 for fid, f in stored_files.items()}
    assert {i["original_name"] for i in evidence} == {"chat-log.txt", "photo.png"}
    for log in manifest["custody"]["files"].values():
        actions = [(e["action"], e.get("purpose"), e["actor"]) for e in log]
        assert actions[0] == ("file.added", None, "chirp")
        assert ("file.read", "referral package", "ana") in actions  # the read that made this package
        assert all(isinstance(e["audit_seq"], int) and len(e["audit_hash"]) == 64 for e in log)
    report_actions = [e["action"] for e in manifest["custody"]["report"]]
    assert report_actions[0] == "report.submitted" and "report.read" in report_actions

    with open_package(path, directory.keys["us-il-tf"]) as contents:
        report = json.loads(contents.read("report.json"))
        xml = etree.fromstring(contents.read("report.xml"))
        pdf = contents.read("summary.pdf")
        chat = next(contents.read(n) for n in contents.names if n.endswith("chat-log.txt"))
    assert report["report"]["content"]["incidentSummary"]["platform"] == "Chirp"
    assert report["location"]["best"] == {"country": "US", "region": "Illinois", "city": "Springfield"}
    assert report["review"]["priority"]["level"] in {"P1", "P2", "P3", "P4"}
    assert any(c["tactics"] for c in report["conversations"])
    assert etree.QName(xml).localname == "report"
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" not in pdf and b"/XObject" not in pdf  # no image
    assert chat == CHAT
    # nothing readable on disk: the store and the package hold ciphertext only
    for stored_path in instance.settings.file_store_dir.rglob("*"):
        if stored_path.is_file():
            assert CHAT not in stored_path.read_bytes()

    created = events(instance, report_id, "referral.created")
    assert len(created) == 1 and created[0].details["agency"] == "us-il-tf"
    assert created[0].details["package_sha256"] == referral.package_sha256
    changed = events(instance, report_id, "report.state_changed")[-1]
    assert changed.details["to"] == "referred" and created[0].seq > changed.seq
    assert [e.details["agency"] for e in events(instance, report_id, "jurisdiction.confirmed")] == ["us-il-tf"]


def test_a_failure_after_the_package_was_written_leaves_no_row_no_file_no_state_change(
        instance: Instance, setup, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    report_id = report_in_review(instance, "ana", files=[("chat-log.txt", CHAT)])
    original = instance.reports.transition

    def failing(session, rid, target, actor, **kwargs):  # type: ignore[no-untyped-def]
        if target.value == "referred":
            raise RuntimeError("the disk filled up")
        return original(session, rid, target, actor, **kwargs)

    monkeypatch.setattr(instance.reports, "transition", failing)
    with pytest.raises(RuntimeError, match="the disk filled up"):
        refer(instance, report_id, principal(instance, "ana"), "us-il-tf")
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(ReferralRow)).scalar_one() == 0
        assert session.get(ReportRow, report_id).state == "in_review"
    assert events(instance, report_id, "referral.created") == []
    abandoned = events(instance, report_id, "referral.abandoned")
    assert [(e.actor_name, e.details["why"]) for e in abandoned] == [("ana", "RuntimeError: the disk filled up")]
    packages = instance.settings.file_store_dir / "referral-packages"
    assert list(packages.iterdir()) == []


def test_referrals_that_cannot_be_made_are_refused_with_the_reason(instance: Instance, setup) -> None:  # type: ignore[no-untyped-def]
    report_id = report_in_review(instance, "ana", files=[])
    ana = principal(instance, "ana")
    with pytest.raises(ReferralRefused, match="Agency Without A Key has no package key registered"):
        refer(instance, report_id, ana, "us-nokey", reason="they asked for it")
    with pytest.raises(ReferralRefused, match="no agency with the code 'nowhere'"):
        refer(instance, report_id, ana, "nowhere")
    with pytest.raises(ReferralRefused, match="say why National Child Safety Unit rather than the suggested "
                                              "Illinois Online Safety Task Force"):
        refer(instance, report_id, ana, "gb-ncsu")
    with pytest.raises(ReferralRefused, match="is held by someone else"):
        refer(instance, report_id, principal(instance, "ola"), "us-il-tf")
    with pytest.raises(ReferralRefused, match="only analysts and supervisors refer"):
        refer(instance, report_id, principal(instance, "officer"), "us-il-tf")
    # an override with a reason is recorded as such, and a supervisor may refer a report someone else holds
    result = refer(instance, report_id, principal(instance, "sam"), "gb-ncsu",
                   reason="The reported person was arrested in the UK last month.")
    assert result.agency.code == "gb-ncsu"
    overridden = events(instance, report_id, "jurisdiction.overridden")
    assert [e.details["reason"] for e in overridden] == ["The reported person was arrested in the UK last month."]
    with pytest.raises(ReferralRefused, match="was already referred"):
        refer(instance, report_id, principal(instance, "sam"), "gb-ncsu", reason="again")
    waiting = report_in_review(instance, "ana", files=[])
    with instance.db.transaction() as session:
        instance.review.release(session, waiting, ana)
    with pytest.raises(LifecycleError, match="'awaiting_review' cannot become 'referred'"):
        refer(instance, waiting, principal(instance, "ana"), "us-il-tf")
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(ReferralRow)).scalar_one() == 1


def test_outcomes_flow_back_to_the_timeline_and_are_counted(instance: Instance, setup) -> None:  # type: ignore[no-untyped-def]
    report_id = report_in_review(instance, "ana", files=[])
    referral = refer(instance, report_id, principal(instance, "ana"), "us-il-tf").referral
    officer = principal(instance, "officer")
    with instance.db.transaction() as session:
        row = session.get(ReferralRow, referral.id)
        record_outcome(instance, session, row, officer, "received")
        record_outcome(instance, session, row, officer, "investigation_opened", note="Case 2026-117")
        with pytest.raises(OutcomeRefused, match="say why no action is possible"):
            record_outcome(instance, session, row, officer, "no_action_possible")
        with pytest.raises(OutcomeRefused, match="name the agency"):
            record_outcome(instance, session, row, officer, "referred_on")
        with pytest.raises(OutcomeRefused, match="'solved' is not an outcome"):
            record_outcome(instance, session, row, officer, "solved")
        record_outcome(instance, session, row, officer, "referred_on", referred_to="Springfield Police (fictional)")
        record_outcome(instance, session, row, officer, "child_identified")
        assert row.opened_at is not None and row.opened_by == "officer"
    reported = events(instance, report_id, "referral.outcome_reported")
    assert [e.details["outcome"] for e in reported] == ["received", "investigation_opened", "referred_on",
                                                        "child_identified"]
    assert reported[2].details["referred_to"] == "Springfield Police (fictional)"
    assert all(e.actor_name == "officer" and e.details["agency"] == "us-il-tf" for e in reported)
    assert events(instance, report_id, "victims.identification_offered") == []  # no series matched
    assert len(events(instance, report_id, "referral.opened")) == 1
    with instance.db.transaction() as session:
        counts = outcome_counts(session)
        assert counts == {"received": 1, "investigation_opened": 1, "child_safeguarded": 0, "child_identified": 1,
                          "arrest": 0, "no_action_possible": 0, "referred_on": 1}
        assert outcome_counts(session, agency_code="gb-ncsu")["received"] == 0
        assert outcome_counts(session, since=utc_now() + timedelta(minutes=1))["received"] == 0
        month = utc_now().strftime("%Y-%m")
        assert {(t["month"], t["outcome"], t["count"]) for t in outcome_trend(session)} == {
            (month, "received", 1), (month, "investigation_opened", 1), (month, "referred_on", 1),
            (month, "child_identified", 1)}
        assert session.execute(select(func.count()).select_from(ReferralOutcomeRow)).scalar_one() == 4


def test_a_child_identified_on_a_report_matching_a_series_is_offered_to_the_series(
        instance: Instance, setup) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    from tipline.matching import BankEntry

    photo = png_bytes()
    with instance.db.transaction() as session:  # a victim-identification series bank holding this photo
        instance.banks.create(session, "vid-bank", "identified_series", Actor.system("test"))
        instance.banks.add_entries(session, "vid-bank", [
            BankEntry("vid-bank", "md5", hashlib.md5(photo).hexdigest(), series="Series 0042")], Actor.system("test"))
    report_id = report_in_review(instance, "ana", files=[("photo.png", photo)])
    referral = refer(instance, report_id, principal(instance, "ana"), "us-il-tf").referral
    officer = principal(instance, "officer")
    with instance.db.transaction() as session:
        record_outcome(instance, session, session.get(ReferralRow, referral.id), officer, "child_identified")
    offered = events(instance, report_id, "victims.identification_offered")
    assert [e.details["series"] for e in offered] == [[{"series": "Series 0042", "bank": "vid-bank",
                                                        "series_identified": False}]]


def test_referrals_not_opened_in_time_raise_a_reminder(instance: Instance, setup) -> None:  # type: ignore[no-untyped-def]
    report_id = report_in_review(instance, "ana", files=[])
    referral = refer(instance, report_id, principal(instance, "ana"), "us-il-tf").referral
    now = utc_now()
    officer = principal(instance, "officer")
    with instance.db.transaction() as session:
        assert overdue_referrals(session, now + timedelta(hours=71), hours=72) == []
        overdue = overdue_referrals(session, now + timedelta(hours=73), hours=72)
        assert [(o.referral.id, o.agency.code, o.hours) for o in overdue] == [(referral.id, "us-il-tf", 73)]
        mark_opened(instance, session, session.get(ReferralRow, referral.id), officer, "page")
    with instance.db.transaction() as session:
        assert overdue_referrals(session, now + timedelta(hours=73), hours=72) == []


def test_the_jurisdiction_stage_runs_again_without_changes_and_keeps_the_analysts_choice(
        instance: Instance, setup) -> None:  # type: ignore[no-untyped-def]
    from tipline.referral.locating import choose_agency, resolve_jurisdiction
    from tipline.store.referrals import agency_by_code

    report_id = report_in_review(instance, "ana", files=[])
    assert len(events(instance, report_id, "jurisdiction.resolved")) == 1
    ana = principal(instance, "ana")
    with instance.db.transaction() as session:
        choose_agency(instance, session, report_id, agency_by_code(session, "us-fcps"), ana,
                      "Federal case already open")
    with instance.db.transaction() as session:
        resolve_jurisdiction(instance, session, report_id)
        resolve_jurisdiction(instance, session, report_id)
    assert len(events(instance, report_id, "jurisdiction.resolved")) == 1
    with instance.db.transaction() as session:
        stored = session.get(ReportJurisdictionRow, report_id)
        assert stored.chosen_by == "ana" and stored.choice_reason == "Federal case already open"
        assert stored.suggestion["agency"] == "us-il-tf"


def test_no_database_lock_is_held_while_the_package_is_built(
        instance: Instance, setup, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """While the PDF is drawn and the evidence encrypted, another writer (one that appends to the audit
    trail, as nearly every write does) goes through at once instead of waiting for the referral."""
    import threading

    from tipline.referral import service

    report_id = report_in_review(instance, "ana", files=[("chat-log.txt", CHAT), ("photo.png", png_bytes())])
    real_write = service.write_package
    outcome: dict[str, object] = {}

    def bystander() -> None:
        try:
            with instance.db.transaction() as session:
                instance.accounts.add_user(session, "bystander", Role.ANALYST, Actor.system("test"),
                                           password="another long passphrase")
            outcome["done"] = True
        except Exception as error:  # noqa: BLE001 - reported below
            outcome["error"] = error

    def write_package_while_someone_writes(*args, **kwargs):  # type: ignore[no-untyped-def]
        other = threading.Thread(target=bystander)
        other.start()
        other.join(10)
        outcome["during_build"] = dict(outcome)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(service, "write_package", write_package_while_someone_writes)
    result = refer(instance, report_id, principal(instance, "ana"), "us-il-tf")
    assert outcome["during_build"] == {"done": True}, outcome
    assert verify_package(package_path(instance.settings, result.referral),
                          signing_key(instance.settings.key_dir).public_key(), setup.keys["us-il-tf"]).ok


def test_a_crash_between_writing_the_package_and_committing_leaves_no_orphan_after_maintenance(
        instance: Instance, setup, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from tipline.pipeline.engine.maintenance import TASKS
    from tipline.referral import service
    from tipline.referral.service import count_referrals, referral_of_report

    report_id = report_in_review(instance, "ana", files=[("chat-log.txt", CHAT)])
    original = instance.reports.transition

    def crashing(session, rid, target, actor, **kwargs):  # type: ignore[no-untyped-def]
        if target.value == "referred":
            raise SystemExit("killed")  # the process dies: no clean-up of ours runs
        return original(session, rid, target, actor, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(instance.reports, "transition", crashing)
        patch.setattr(service, "_abandon", lambda *args: False)
        with pytest.raises(SystemExit):
            refer(instance, report_id, principal(instance, "ana"), "us-il-tf")
    packages = instance.settings.file_store_dir / "referral-packages"
    left = list(packages.iterdir())
    assert [p.suffix for p in left] == [".tlref"]  # the package was written when the process died
    with instance.db.transaction() as session:  # ... but nothing names it: no page, list or count sees it
        assert referral_of_report(session, report_id) is None and count_referrals(session) == 0
        assert session.get(ReportRow, report_id).state == "in_review"
        for row in session.execute(select(ReferralRow).where(ReferralRow.built_at.is_not(None))).scalars():
            assert package_path(instance.settings, row).is_file()
    with pytest.raises(ReferralRefused, match="is being referred by ana"):  # no second package meanwhile
        refer(instance, report_id, principal(instance, "ana"), "us-il-tf")

    assert service.discard_abandoned_referrals(instance) == 0  # a build younger than the limit may be running
    assert len(list(packages.iterdir())) == 1
    assert "discard_abandoned_referrals" in {task.name for task in TASKS}
    stray = packages / "referral-999-report-999.tlref.part"  # a file whose reservation went first
    stray.write_bytes(b"ciphertext")
    later = utc_now() + service.ABANDONED_AFTER + timedelta(minutes=1)
    assert service.discard_abandoned_referrals(instance, now=later) == 2  # the reservation (and its file), the stray
    assert list(packages.iterdir()) == []
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(ReferralRow)).scalar_one() == 0
    abandoned = events(instance, report_id, "referral.abandoned")
    assert [(e.actor_name, e.details["started_by"]) for e in abandoned] == [("maintenance", "ana")]

    result = refer(instance, report_id, principal(instance, "ana"), "us-il-tf")  # and it can be referred again
    assert [p.name for p in packages.iterdir()] == [result.referral.package_name]


def test_a_key_rotated_while_a_package_is_built_refuses_the_referral(
        instance: Instance, setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A key rotated because the old one leaked must not receive one more package: the referral being
    built to the old key is refused and removed, and the next one goes to the new key. A directory
    import that changes a key is audited like the command."""
    import base64

    from referralsupport import TEST_ACTOR, directory_csv

    from tipline.referral import service
    from tipline.referral.directory import import_directory, rotate_key
    from tipline.referral.keys import create_agency_key, fingerprint

    report_id = report_in_review(instance, "ana", files=[("chat-log.txt", CHAT)])
    new_public = create_agency_key(tmp_path / "il-tf-new.key")
    real_write = service.write_package

    def rotated_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        with instance.db.transaction() as session:
            rotate_key(instance, session, "us-il-tf", base64.b64encode(new_public).decode(), TEST_ACTOR, "leaked")
        return real_write(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(service, "write_package", rotated_meanwhile)
        with pytest.raises(ReferralRefused, match="key changed while the package was built"):
            refer(instance, report_id, principal(instance, "ana"), "us-il-tf")
    assert list((instance.settings.file_store_dir / "referral-packages").iterdir()) == []
    with instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(ReferralRow)).scalar_one() == 0
        assert session.get(ReportRow, report_id).state == "in_review"
    result = refer(instance, report_id, principal(instance, "ana"), "us-il-tf")
    assert result.referral.recipient_key_id == fingerprint(new_public)

    # the directory import: the old key back for us-il-tf, as an operator might by mistake
    public = {code: base64.b64encode(public_of(setup.keys[code])).decode()
              for code in ("us-fcps", "us-il-tf", "gb-ncsu")}
    with instance.db.transaction() as session:
        import_directory(instance, session, directory_csv(public), TEST_ACTOR)
    rotations = [(e.details["agency"], e.details["old_key_id"], e.details["new_key_id"], e.details["how"])
                 for e in events_without_report(instance, "agency.key_rotated")]
    old_id = fingerprint(public_of(setup.keys["us-il-tf"]))
    assert rotations == [("us-il-tf", old_id, fingerprint(new_public), "rotate-key"),
                         ("us-il-tf", fingerprint(new_public), old_id, "directory import")]


def public_of(private_key) -> bytes:  # type: ignore[no-untyped-def]
    """The raw public half of an agency's private key."""
    from tipline.referral.keys import raw_public

    return raw_public(private_key.public_key())


def events_without_report(instance: Instance, action: str) -> list[AuditEventRow]:
    with instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow).where(AuditEventRow.action == action)
                                    .order_by(AuditEventRow.seq)).scalars())
