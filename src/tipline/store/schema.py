"""Creating and upgrading the database schema with Alembic, and checking that it is current."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tipline.store.db import Database, make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration this code ships (read once a process: reading the scripts compiles every one)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class MigrationBrokeReferences(RuntimeError):
    pass


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to `revision`; returns (before, after). On SQLite the migration runs with
    foreign keys off (a rebuilt table must not cascade-delete its children) and every reference
    is checked afterwards; a broken one rolls the whole upgrade back."""
    before = current_revision(db)
    config = alembic_config()
    engine = make_engine(db.settings, foreign_keys=False) if db.dialect == "sqlite" else db.engine
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if db.dialect == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationBrokeReferences(
                        f"the upgrade would leave {len(broken)} rows pointing at rows that do not exist "
                        f"(first: {tuple(broken[0])}); nothing was changed"
                    )
    finally:
        if engine is not db.engine:
            engine.dispose()
    return before, current_revision(db) or ""


class SchemaOutOfDate(RuntimeError):
    pass


def require_current(db: Database) -> None:
    """Refuse to run against a schema that `tipline db upgrade` has not brought up to date."""
    current, head = current_revision(db), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at {current or 'nothing'} but this version needs {head}: "
            "run `tipline db upgrade`"
        )
