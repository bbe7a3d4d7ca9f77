"""Shared fixtures: instances on SQLite and PostgreSQL, and the web application on them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from support import POSTGRES_ADMIN_URL, build_instance, migrated_sqlite_template, require_postgres
from websupport import Site, build_site

from tipline.instance import Instance


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped at the end."""
    require_postgres()
    name = f"tipline_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A SQLite database migrated to head once for the session; each SQLite instance starts as a copy."""
    return migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template") / "data")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on each storage backend."""
    return request.param


@pytest.fixture
def instance(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Instance]:
    """A migrated, empty instance on each backend."""
    built = build_instance(tmp_path / "data", backend, request)
    yield built
    built.close()


@pytest.fixture
def sqlite_instance(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Instance]:
    """A migrated, empty instance on SQLite only (for tests that are not about storage)."""
    built = build_instance(tmp_path / "data", "sqlite", request)
    yield built
    built.close()


@pytest.fixture
def site(sqlite_instance: Instance) -> Iterator[Site]:
    """The web application on SQLite with a user of every role and two service providers."""
    yield build_site(sqlite_instance)


@pytest.fixture
def site_on_each_backend(instance: Instance) -> Iterator[Site]:
    """The same on each storage backend."""
    yield build_site(instance)
