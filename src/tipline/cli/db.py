"""The `tipline db` commands: create and upgrade the database schema."""

from __future__ import annotations

import click

from tipline.cli.common import Failure, emit, json_option
from tipline.config import ConfigError, load_settings


@click.group()
def db() -> None:
    """Create and upgrade the database schema."""


@db.command("upgrade")
@json_option
def db_upgrade(as_json: bool) -> None:
    """Create the database, or bring its schema up to date (safe to run again)."""
    from tipline.instance import Instance
    from tipline.keyfiles import KeyFileError
    from tipline.store.schema import upgrade

    try:
        instance = Instance(load_settings(), tighten_permissions=True)
        before, after = upgrade(instance.db)
        if instance.settings.job_backend == "procrastinate":
            from tipline.pipeline.engine.procrastinate_backend import ensure_schema

            ensure_schema(instance.db)
    except (ConfigError, KeyFileError) as error:
        raise Failure(str(error)) from None
    url = instance.db.engine.url.render_as_string(hide_password=True)
    tightened = "".join(f"\nMade private (others could read it): {command}" for command in instance.tightened)
    emit(as_json, {"database": url, "from": before, "to": after, "permissions_tightened": instance.tightened},
         (f"Database {url}: schema {'created at' if before is None else f'upgraded from {before} to'} {after}."
          if before != after else f"Database {url}: schema already at {after}.") + tightened)


@db.command("status")
@json_option
def db_status(as_json: bool) -> None:
    """Show which database is configured and whether its schema is current."""
    from tipline.instance import Instance
    from tipline.keyfiles import KeyFileError
    from tipline.store.schema import current_revision, head_revision

    try:
        instance = Instance(load_settings())
    except (ConfigError, KeyFileError) as error:
        raise Failure(str(error)) from None
    current, head = current_revision(instance.db), head_revision()
    url = instance.db.engine.url.render_as_string(hide_password=True)
    emit(as_json, {"database": url, "current": current, "head": head, "up_to_date": current == head},
         f"Database {url}: schema {current or 'not created'}; this version needs {head}."
         + ("" if current == head else " Run `tipline db upgrade`."))
