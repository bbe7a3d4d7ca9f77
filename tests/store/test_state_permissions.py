"""State on disk is the owner's only: the data directory and the file store 0700, the SQLite database
and its -wal and -shm 0600, whatever the umask; state others can read is refused at start with the
`chmod` that fixes it, and `tipline db upgrade` tightens it."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from support import FAST_PASSWORD_HASHING, make_settings

from tipline.cli import main
from tipline.domain.audit import Actor
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.statefiles import StatePermissionError
from tipline.store.schema import upgrade


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems start processes with: files 0644 and directories 0755 unless tipline says."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_sqlite_instance_keeps_its_database_and_wal_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    instance = Instance(make_settings(data))
    upgrade(instance.db)
    with instance.db.transaction() as session:  # a write, so SQLite has made its -wal and -shm
        instance.accounts.add_user(session, "robin", Role.AGENCY, Actor.system("test"))
        session.execute(text("SELECT 1"))
        assert (data / "tipline.db-wal").exists() and (data / "tipline.db-shm").exists()
        assert {name: mode(data / name) for name in ("tipline.db", "tipline.db-wal", "tipline.db-shm")} == {
            "tipline.db": 0o600, "tipline.db-wal": 0o600, "tipline.db-shm": 0o600}
    instance.close()
    assert mode(data) == 0o700
    assert mode(data / "files") == 0o700
    assert mode(data / "keys") == 0o700


def test_the_state_directories_are_private_on_each_backend(instance: Instance) -> None:
    assert mode(instance.settings.data_dir) == 0o700
    assert mode(instance.settings.file_store_dir) == 0o700


def _loose_instance(data: Path) -> None:
    Instance(make_settings(data)).close()
    upgrade(Instance(make_settings(data)).db)
    os.chmod(data, 0o755)
    os.chmod(data / "tipline.db", 0o644)


def test_an_instance_refuses_a_database_others_can_read_and_says_how_to_fix_it(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _loose_instance(data)
    with pytest.raises(StatePermissionError) as refused:
        Instance(make_settings(data))
    message = str(refused.value)
    assert f"{data} has mode 0755" in message and f"{data / 'tipline.db'} has mode 0644" in message
    assert f"chmod 700 {data}" in message and f"chmod 600 {data / 'tipline.db'}" in message
    assert "tipline db upgrade" in message


def test_a_wal_file_others_can_read_is_refused_too(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _loose_instance(data)
    os.chmod(data, 0o700)
    os.chmod(data / "tipline.db", 0o600)
    (data / "tipline.db-wal").touch()
    os.chmod(data / "tipline.db-wal", 0o640)
    with pytest.raises(StatePermissionError, match=rf"chmod 600 {data / 'tipline.db-wal'}"):
        Instance(make_settings(data))


def _cli(data: Path, *args: str) -> tuple[int, str]:
    env = {"TIPLINE_DATA_DIR": str(data), "TIPLINE_DATABASE_URL": "", "TIPLINE_KEY_DIR": "", **FAST_PASSWORD_HASHING}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_commands_refuse_loose_state_and_db_upgrade_tightens_it(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _loose_instance(data)
    code, output = _cli(data, "users", "list")
    assert code == 1 and f"chmod 600 {data / 'tipline.db'}" in output
    code, output = _cli(data, "db", "upgrade", "--json")
    assert code == 0, output
    assert json.loads(output)["permissions_tightened"] == [f"chmod 700 {data}", f"chmod 600 {data / 'tipline.db'}"]
    assert mode(data) == 0o700 and mode(data / "tipline.db") == 0o600
    code, output = _cli(data, "users", "list")
    assert code == 0, output


def test_a_database_outside_the_data_directory_has_its_files_checked_but_not_its_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    settings = make_settings(tmp_path / "var", f"sqlite:///{shared / 'elsewhere.db'}")
    Instance(settings).close()
    assert mode(shared) == 0o755  # not tipline's to change
    assert mode(shared / "elsewhere.db") == 0o600
