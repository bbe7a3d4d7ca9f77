"""The migrations build exactly the schema the code expects, on both backends, and can run again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from support import make_settings

from tipline.instance import Instance
from tipline.store.metadata import Base
from tipline.store.schema import SchemaOutOfDate, current_revision, head_revision, require_current, upgrade


# SQLite cannot reflect an index on an expression (the review queue's by incident type), so only the
# PostgreSQL run compares that one.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_tables_the_code_uses(instance: Instance) -> None:
    with instance.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            # procrastinate's own tables live in the same PostgreSQL database
            "include_name": lambda name, type_, _parent: not (type_ == "table" and name.startswith("procrastinate_")),
        })
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(instance: Instance) -> None:
    before, after = upgrade(instance.db)
    assert before == after == head_revision()


def test_an_instance_refuses_a_database_that_was_never_upgraded(tmp_path: Path) -> None:
    instance = Instance(make_settings(tmp_path / "fresh"))
    assert current_revision(instance.db) is None
    with pytest.raises(SchemaOutOfDate, match="run `tipline db upgrade`"):
        require_current(instance.db)


def _rows_survive_upgrade(url: str | None, tmp_path: Path) -> None:
    from sqlalchemy import text

    instance = Instance(make_settings(tmp_path / "old", url))
    upgrade(instance.db, "0001")
    with instance.db.engine.begin() as connection:
        for report_id in (1, 2):
            connection.execute(text(
                "INSERT INTO reports (id, state, source, incident_type, incident_at, opened_at, updated_at, version, "
                "content, escalated) VALUES (:id, 'received', 'esp_json', 'Child Sex Tourism', '2026-01-01T00:00:00Z', "
                "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1, '{}', false)"), {"id": report_id})
        connection.execute(text("INSERT INTO report_files (id, report_id, position, size, uploaded_at) "
                                "VALUES ('f1', 1, 0, 3, '2026-01-01T00:00:00Z')"))
        connection.execute(text("INSERT INTO identifiers (report_id, kind, value, raw, role, path, valid) "
                                "VALUES (1, 'email', 'a@example.com', 'a@example.com', 'reported', 'p', true)"))
        connection.execute(text("INSERT INTO report_links (report_id, linked_report_id, basis, value, created_at, "
                                "created_by) VALUES (1, 2, 'email', 'a@example.com', '2026-01-01T00:00:00Z', 'x')"))
    upgrade(instance.db)
    with instance.db.engine.connect() as connection:
        counts = {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                  for table in ("reports", "report_files", "identifiers", "report_links")}
    instance.close()
    assert counts == {"reports": 2, "report_files": 1, "identifiers": 1, "report_links": 1}


def test_upgrading_a_sqlite_database_that_holds_reports_keeps_every_row(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it; with foreign keys on, dropping the old table would
    cascade-delete every file, identifier and link of every report."""
    _rows_survive_upgrade(None, tmp_path)


def test_upgrading_a_postgresql_database_that_holds_reports_keeps_every_row(tmp_path: Path) -> None:
    import secrets

    from sqlalchemy import create_engine, text
    from support import POSTGRES_ADMIN_URL, require_postgres

    require_postgres()
    name = f"tipline_upgrade_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _rows_survive_upgrade(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", tmp_path)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
