"""The `tipline esp` commands: service providers' API accounts."""

from __future__ import annotations

import click

from tipline.cli.common import cli_actor, emit, handles_errors, json_option, open_instance


@click.group()
def esp() -> None:
    """Manage service providers' API accounts (HTTP Basic credentials for the reporting APIs)."""


@esp.command("add")
@click.argument("name")
@click.option("--display-name", default=None, help="The organisation's name.")
@json_option
@handles_errors
def esp_add(name: str, display_name: str | None, as_json: bool) -> None:
    """Create an API account; prints its generated credentials once."""
    instance = open_instance()
    with instance.db.transaction() as session:
        account, secret = instance.accounts.add_api_account(session, name, cli_actor(), display_name=display_name)
    emit(as_json, {"username": account.username, "password": secret},
         f"Created API account {account.username}.\nUsername: {account.username}\nPassword (shown once): {secret}")


@esp.command("list")
@json_option
def esp_list(as_json: bool) -> None:
    """List service providers' API accounts."""
    instance = open_instance()
    with instance.db.transaction() as session:
        rows = [{"username": a.username, "display_name": a.display_name, "active": a.active,
                 "last_used_at": a.last_used_at} for a in instance.accounts.list_api_accounts(session)]
    emit(as_json, rows, lambda: "\n".join(
        f"{r['username']:<24} {'active' if r['active'] else 'disabled':<9} {r['display_name']}" for r in rows)
        or "No API accounts.")
