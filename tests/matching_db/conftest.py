"""Fixtures for the tests of hash banks in the database: the `tipline banks` commands and the HMA-compatible
endpoints, on SQLite and PostgreSQL. Helpers live in banks_db_support.py (importable from here)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # banks_db_support

from websupport import Site, build_site  # noqa: E402

from tipline.instance import Instance  # noqa: E402


@pytest.fixture
def site(sqlite_instance: Instance) -> Iterator[Site]:
    yield build_site(sqlite_instance)


@pytest.fixture
def site_on_each_backend(instance: Instance) -> Iterator[Site]:
    yield build_site(instance)
