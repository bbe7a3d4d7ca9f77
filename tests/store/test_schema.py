"""The migrations build exactly the schema the code expects, on both backends, and can run again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from support import make_settings

from tipline.instance import Instance
from tipline.store.schema import SchemaOutOfDate, current_revision, head_revision, require_current, upgrade
from tipline.store.tables import Base


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
