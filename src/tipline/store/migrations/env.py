"""Alembic environment: runs migrations on the connection tipline hands over (see tipline.store.schema)."""

from __future__ import annotations

from alembic import context

from tipline.store.metadata import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `tipline db upgrade`, which supplies the connection")

def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    """procrastinate keeps its own tables in the same database; they are not ours to migrate."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_name=_ours,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
