"""Secret key files: created once with 0600 permissions, refused when the wrong size or readable by others."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


class KeyFileError(RuntimeError):
    """A key file that cannot be trusted or used, and why."""


def load_or_create_key(path: Path, length: int = 32) -> bytes:
    """Return the key in `path`, creating a random one (mode 0600, directory 0700) if it is missing."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(path.parent, 0o700)
        except PermissionError:
            pass
        key = secrets.token_bytes(length)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        return key
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )
    key = path.read_bytes()
    if len(key) != length:
        raise KeyFileError(f"key file {path} holds {len(key)} bytes; a {length}-byte key is required")
    return key
