"""What every `tipline` command shares: the instance of the environment, the actor a command acts as,
printing for people or as JSON, and failing with a reason."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import click

from tipline.config import ConfigError, load_settings
from tipline.domain.audit import Actor

if TYPE_CHECKING:
    from tipline.instance import Instance

class Failure(click.ClickException):
    """A command that could not do its work; the message says why and what to do."""


def cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "unknown"
    return Actor.system(f"cli:{user}")


def open_instance(*, upgrade: bool = False) -> Instance:
    """The instance named by the environment; refuses an out-of-date schema unless upgrading."""
    from tipline.instance import Instance
    from tipline.keyfiles import KeyFileError
    from tipline.pipeline.engine.backend import connect_job_backend
    from tipline.store.schema import SchemaOutOfDate, require_current
    from tipline.store.schema import upgrade as run_upgrade

    try:
        instance = Instance(load_settings(), tighten_permissions=upgrade)
        for command in instance.tightened:
            click.echo(f"Made private (others could read it): {command}", err=True)
        if upgrade:
            run_upgrade(instance.db)
        require_current(instance.db)
        connect_job_backend(instance)
    except (ConfigError, KeyFileError, SchemaOutOfDate) as error:
        raise Failure(str(error)) from None
    return instance


def emit(as_json: bool, data: Any, text: str | Callable[[], str]) -> None:
    """Print a result for people, or as JSON for scripts."""
    if as_json:
        click.echo(json.dumps(data, default=str))
    else:
        click.echo(text() if callable(text) else text)


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(function)


def handles_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    from tipline.store.accounts import AccountError

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (AccountError, ConfigError) as error:
            raise Failure(str(error)) from None

    return wrapper
