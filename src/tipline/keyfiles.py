"""Secret key files: 32 random bytes created with mode 0600, refused when their length or mode is wrong."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32


class KeyFileError(Exception):
    """A key file that cannot be used, with the reason and the fix in the message."""


def _check_permissions(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    loose = stat.S_IMODE(st.st_mode) & 0o077
    if loose:
        raise KeyFileError(
            f"key file {path} has mode {stat.S_IMODE(st.st_mode):04o}: it must not be readable or writable by "
            f"group or others; run `chmod 600 {path}`"
        )


def parse_key(content: bytes, path: Path | str = "<key>", file_size: int | None = None) -> bytes:
    """A key from a key file's content: 32 raw bytes, or 64 hex digits (a trailing newline allowed)."""
    if len(content) == KEY_BYTES and (file_size is None or file_size == KEY_BYTES):
        return bytes(content)
    text = content.strip()
    if len(text) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    size = len(content) if file_size is None else file_size
    raise KeyFileError(
        f"key file {path} holds {size} bytes; a key is exactly {KEY_BYTES} random bytes "
        f"(or {2 * KEY_BYTES} hex digits). Restore the right file: a new key cannot read files stored with the old one"
    )


def read_key_file(path: str | os.PathLike[str]) -> bytes:
    """Read an existing key file, refusing wrong permissions (group/other access) or a wrong length.

    A symbolic link is followed (secret mounts use them); the permissions checked are the target's.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be opened: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        _check_permissions(path, status)
        content = handle.read(4 * KEY_BYTES + 1)
    return parse_key(content, path, status.st_size)


def create_key_file(path: str | os.PathLike[str]) -> bytes:
    """Create a new key file with 32 random bytes and mode 0600; fails if the file already exists."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        view = memoryview(key)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return key


def load_or_create_key(path: str | os.PathLike[str]) -> bytes:
    """The key in `path`, creating the file (32 random bytes, mode 0600) if it does not exist yet."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        try:
            return create_key_file(path)
        except FileExistsError:
            pass  # another process created it first: read theirs
    return read_key_file(path)
