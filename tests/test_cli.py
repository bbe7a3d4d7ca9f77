"""The `tipline` command: every command helps, results print as JSON on request, state stays in its folder."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from support import FAST_PASSWORD_HASHING, make_settings

from tipline.cli import main
from tipline.instance import Instance
from tipline.referral.service import package_path, referrals_for_agency
from tipline.store.referrals import AgencyRow, ReferralOutcomeRow
from tipline.store.tables import AuditEventRow, AuditHead, ReportRow, User


def run(data_dir: Path, *args: str, ok: bool = True) -> click.testing.Result:
    env = {"TIPLINE_DATA_DIR": str(data_dir), "TIPLINE_DATABASE_URL": "", "TIPLINE_KEY_DIR": "",
           **FAST_PASSWORD_HASHING}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=lambda p: " ".join(p) or "tipline")
def test_every_command_explains_itself(tmp_path: Path, path: tuple[str, ...]) -> None:
    result = run(tmp_path, *path, "--help")
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_db_upgrade_creates_then_reports_nothing_to_do(tmp_path: Path) -> None:
    first = json.loads(run(tmp_path, "db", "upgrade", "--json").output)
    assert first["from"] is None and first["to"]
    second = json.loads(run(tmp_path, "db", "upgrade", "--json").output)
    assert second["from"] == second["to"] == first["to"]
    assert (tmp_path / "tipline.db").exists()


def test_commands_refuse_a_database_that_was_not_upgraded(tmp_path: Path) -> None:
    result = run(tmp_path, "users", "list", ok=False)
    assert result.exit_code == 1
    assert "run `tipline db upgrade`" in result.output


def test_users_add_prints_the_generated_password_once_and_it_works(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    created = json.loads(run(tmp_path, "users", "add", "--role", "analyst", "ana", "--json").output)
    assert created["username"] == "ana" and created["role"] == "analyst" and len(created["password"]) >= 16
    instance = Instance(make_settings(tmp_path))
    with instance.db.transaction() as session:
        assert instance.accounts.check_password(session, "ana", created["password"]) is not None
    listed = json.loads(run(tmp_path, "users", "list", "--json").output)
    assert listed == [{"username": "ana", "display_name": "ana", "role": "analyst", "active": True,
                       "pending_approval": False}]
    assert created["password"] not in run(tmp_path, "users", "list").output


def test_users_add_refuses_bad_input_with_a_reason(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    wrong_role = run(tmp_path, "users", "add", "--role", "boss", "ana", ok=False)
    assert wrong_role.exit_code == 2 and "boss" in wrong_role.output
    bad_name = run(tmp_path, "users", "add", "--role", "analyst", "Ana Smith!", ok=False)
    assert bad_name.exit_code == 1 and "is not allowed" in bad_name.output
    run(tmp_path, "users", "add", "--role", "analyst", "ana")
    duplicate = run(tmp_path, "users", "add", "--role", "admin", "ana", ok=False)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output


def test_esp_add_prints_exactly_the_credentials_as_json(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    credentials = json.loads(run(tmp_path, "esp", "add", "chirp", "--display-name", "Chirp Social", "--json").output)
    assert set(credentials) == {"username", "password"} and credentials["username"] == "chirp"
    instance = Instance(make_settings(tmp_path))
    with instance.db.transaction() as session:
        assert instance.accounts.principal_for_api(session, "chirp", credentials["password"]) is not None
        assert instance.accounts.principal_for_api(session, "chirp", "wrong") is None
    listed = json.loads(run(tmp_path, "esp", "list", "--json").output)
    assert [(a["username"], a["display_name"]) for a in listed] == [("chirp", "Chirp Social")]


def test_audit_verify_passes_then_names_the_tampered_event(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    run(tmp_path, "users", "add", "--role", "analyst", "ana")
    run(tmp_path, "esp", "add", "chirp")
    intact = json.loads(run(tmp_path, "audit", "verify", "--json").output)
    assert intact["ok"] and intact["events_checked"] == 3  # user.created, user.role_granted, api_account.created
    instance = Instance(make_settings(tmp_path))
    with instance.db.transaction() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == 1).values(actor_name="someone-else"))
    tampered = run(tmp_path, "audit", "verify", ok=False)
    assert tampered.exit_code == 1
    assert "TAMPERED: event 1 (user.created) does not match its seal" in tampered.output


def test_audit_verify_expect_head_and_checkpoints(tmp_path: Path) -> None:
    """Exit 0 when the chain contains the head kept elsewhere and agrees with the checkpoint file;
    exit 1, naming it, when it does not (the JSON verdict is what scripts read)."""
    run(tmp_path, "db", "upgrade")
    run(tmp_path, "users", "add", "--role", "analyst", "ana")  # user.created, user.role_granted
    kept = json.loads(run(tmp_path, "audit", "checkpoint", "--json").output)
    assert kept["seq"] == 2 and (tmp_path / "audit-checkpoints.log").stat().st_mode & 0o777 == 0o600
    run(tmp_path, "esp", "add", "chirp")
    grown = json.loads(run(tmp_path, "audit", "verify", "--json", "--expect-head", kept["hash"]).output)
    assert grown["ok"] and grown["head_seq"] == 3 and grown["checkpoints_checked"] == 1
    unknown = run(tmp_path, "audit", "verify", "--json", "--expect-head", "e" * 64, ok=False)
    assert unknown.exit_code == 1
    assert [p["kind"] for p in json.loads(unknown.output)["problems"]] == ["expected_head"]
    run(tmp_path, "audit", "checkpoint")
    instance = Instance(make_settings(tmp_path))
    with instance.db.transaction() as session:  # the newest event deleted and the head row put back
        session.execute(delete(AuditEventRow).where(AuditEventRow.chain_seq == 3))
        session.execute(update(AuditHead).values(seq=2, hash=kept["hash"]))
    cut = run(tmp_path, "audit", "verify", ok=False)
    assert cut.exit_code == 1
    assert ("TAMPERED: the checkpoint of" in cut.output
            and "records event 3 but the chain ends at event 2: events at the end were removed" in cut.output)


def test_two_data_directories_never_touch_each_other(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for folder in (first, second):
        run(folder, "db", "upgrade")
    run(first, "users", "add", "--role", "admin", "ada")
    assert json.loads(run(second, "users", "list", "--json").output) == []
    for folder in (first, second):
        assert (folder / "tipline.db").exists()
        assert (folder / "keys" / "audit.key").exists()
    assert (first / "keys" / "audit.key").read_bytes() != (second / "keys" / "audit.key").read_bytes()


def test_key_files_are_private(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    for key in (tmp_path / "keys").iterdir():
        assert key.stat().st_mode & 0o077 == 0, key
    (tmp_path / "keys" / "audit.key").chmod(0o644)
    refused = run(tmp_path, "users", "list", ok=False)
    assert refused.exit_code == 1 and "must not be readable" in refused.output


def test_jobs_status_reports_counts(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    status = json.loads(run(tmp_path, "jobs", "status", "--json").output)
    assert status == {"counts": {}, "failed": []}
    assert run(tmp_path, "jobs", "retry", "99", ok=False).exit_code == 1


def test_the_demo_loads_once_and_prints_fresh_logins(tmp_path: Path) -> None:
    # without the years of history (tests/trends load it): these figures are the dataset's own
    first = json.loads(run(tmp_path, "demo", "--no-serve", "--reports", "24", "--history-years", "0", "--json").output)
    assert {login["role"] for login in first["logins"]} >= {"analyst", "supervisor", "admin"}
    assert first["loaded"] == 24 and first["reports"] == 24
    assert first["referred"] == 4 and first["awaiting_review"] == 20  # the demo agency's portal is not empty
    second = json.loads(run(tmp_path, "demo", "--no-serve", "--json").output)
    assert second["loaded"] == 0 and second["reports"] == 24 and second["referred"] == 4  # nothing referred twice
    assert {l["password"] for l in first["logins"]}.isdisjoint({l["password"] for l in second["logins"]})
    instance = Instance(make_settings(tmp_path))
    with instance.db.transaction() as session:
        analyst = next(l for l in second["logins"] if l["role"] == "analyst")
        assert instance.accounts.check_password(session, "analyst", analyst["password"]) is not None
        officer = session.execute(select(User).where(User.username == "agency")).scalar_one()
        agency = session.get(AgencyRow, officer.agency_id)
        referrals = referrals_for_agency(session, agency)
        assert len(referrals) == 4
        outcomes = session.execute(select(ReferralOutcomeRow.outcome)).scalars().all()
        assert sorted(outcomes) == ["investigation_opened", "received", "received"]
        assert all(package_path(instance.settings, r).is_file() for r, _ in referrals)
        # the dataset is a history: a report that came with files (finished after its uploads) keeps
        # its place in it instead of looking as if it had arrived while the demo loaded
        opened = {row.id: row.opened_at for row in session.execute(select(ReportRow)).scalars()}
        received = {row.id: row.received_at for row in session.execute(select(ReportRow)).scalars()}
        assert all(received[report_id] == opened[report_id] for report_id in received)


def test_the_demo_refuses_a_folder_holding_real_reports(tmp_path: Path) -> None:
    from support import sample_content

    from tipline.domain.audit import Actor
    from tipline.domain.report import ReportContent, ReportSource

    run(tmp_path, "db", "upgrade")
    instance = Instance(make_settings(tmp_path))
    with instance.db.transaction() as session:
        instance.reports.create(session, ReportContent.model_validate(sample_content()), ReportSource.ESP_JSON,
                                Actor.system("test"))
    refused = run(tmp_path, "demo", "--no-serve", ok=False)
    assert refused.exit_code == 1 and "not demo data" in refused.output
