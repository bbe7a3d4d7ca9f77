"""The instance's state on disk is private to the account that runs tipline: the data directory and
the file store 0700, the SQLite database and its -wal, -shm and -journal files 0600 (victims' names
are in them). New ones are created so; existing ones that others can read are refused at start with
the `chmod` that fixes them, or tightened by `tipline db upgrade` (and `tipline demo`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from tipline.config import ConfigError, Settings

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class StatePermissionError(ConfigError):
    """State on disk that group or others can reach, with each path and the command that fixes it."""


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file the settings name (None for PostgreSQL or an in-memory database)."""
    if not settings.is_sqlite:
        return None
    name = make_url(settings.database_url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).expanduser().absolute()


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def private_dirs(settings: Settings) -> list[Path]:
    """Directories that hold state: the data directory (when something tipline keeps lives in it),
    the SQLite database's directory when it is inside the data directory (a database kept elsewhere,
    say in a shared folder, has only its files checked) and the file store."""
    database = sqlite_file(settings)
    dirs: list[Path] = []
    held = [p for p in (database, settings.key_dir, settings.file_store_dir) if p is not None]
    if any(_inside(p, settings.data_dir) for p in held):
        dirs.append(settings.data_dir)
    if database is not None and _inside(database.parent, settings.data_dir):
        dirs.append(database.parent)
    dirs.append(settings.file_store_dir)
    unique: list[Path] = []
    for directory in dirs:
        if directory not in unique:
            unique.append(directory)
    return unique


def private_files(settings: Settings) -> list[Path]:
    database = sqlite_file(settings)
    if database is None:
        return []
    return [database] + [database.with_name(database.name + suffix) for suffix in SQLITE_COMPANIONS]


def _make_private_dir(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)  # parents keep the umask's mode: they may be shared
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:
        return
    os.chmod(path, PRIVATE_DIR)  # whatever the umask


def _make_private_file(path: Path) -> None:
    """Create an empty SQLite database file 0600 before SQLite does (SQLite would make it 0644);
    SQLite gives its -wal, -shm and -journal files the database file's mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def _loose(path: Path) -> int | None:
    """The mode of `path` if group or others have any access to it, else None (also when missing)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None
    return mode if mode & 0o077 else None


def loose_paths(settings: Settings) -> list[tuple[Path, int, int]]:
    """(path, its mode, the mode it should have) for each piece of state others can reach."""
    found = []
    for directory in private_dirs(settings):
        mode = _loose(directory)
        if mode is not None:
            found.append((directory, mode, PRIVATE_DIR))
    for file in private_files(settings):
        mode = _loose(file)
        if mode is not None:
            found.append((file, mode, PRIVATE_FILE))
    return found


def secure_state(settings: Settings, *, tighten: bool = False) -> list[str]:
    """Create the state directories 0700 and the SQLite file 0600 where they do not exist yet, then
    refuse (StatePermissionError) any that group or others can reach; with `tighten`, change their
    mode instead and return what was changed ("chmod 700 /path", ...)."""
    for directory in private_dirs(settings):
        _make_private_dir(directory)
    database = sqlite_file(settings)
    if database is not None:
        _make_private_file(database)
    loose = loose_paths(settings)
    if not loose:
        return []
    commands = [f"chmod {wanted:o} {path}" for path, _, wanted in loose]
    if tighten:
        for path, _, wanted in loose:
            os.chmod(path, wanted)
        return commands
    listed = "; ".join(f"{path} has mode {mode:04o}" for path, mode, _ in loose)
    raise StatePermissionError(
        f"tipline's state must not be readable by group or others (it holds victims' names): {listed}. "
        f"Run `{' && '.join(commands)}` (or `tipline db upgrade`, which makes the same change), then start again"
    )
