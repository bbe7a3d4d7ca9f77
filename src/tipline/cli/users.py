"""The `tipline users` commands: people's logins and their roles."""

from __future__ import annotations

import click

from tipline.cli.common import Failure, cli_actor, emit, handles_errors, json_option, open_instance
from tipline.domain.roles import USER_ROLES, Role


@click.group()
def users() -> None:
    """Manage people's logins (analysts, supervisors, victim-identification, agency users, admins)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in USER_ROLES]), help="What they may do.")
@click.option("--display-name", default=None, help="Their full name, shown in the workspace.")
@click.option("--agency", "agency_code", default=None,
              help="For --role agency: the code of their agency in the directory (required).")
@json_option
@handles_errors
def users_add(name: str, role: str, display_name: str | None, agency_code: str | None, as_json: bool) -> None:
    """Create a login; prints its generated password once."""
    if (role == Role.AGENCY.value) != (agency_code is not None):
        raise Failure("--agency CODE is required for --role agency (an agency user sees only its agency's referrals) "
                      "and only for it")
    instance = open_instance()
    with instance.db.transaction() as session:
        user, password = instance.accounts.add_user(session, name, Role(role), cli_actor(), display_name=display_name)
        if agency_code is not None:
            from tipline.referral.directory import assign_user
            from tipline.store.referrals import DirectoryError

            try:
                assign_user(instance, session, user.username, agency_code, cli_actor())
            except DirectoryError as error:
                raise Failure(str(error)) from None
    emit(as_json, {"username": user.username, "role": user.role, "password": password},
         f"Created {role} {user.username}. Password (shown once): {password}")


@users.command("set-role")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in USER_ROLES]), help="Their new role.")
@json_option
@handles_errors
def users_set_role(name: str, role: str, as_json: bool) -> None:
    """Change a login's role at once and end its sessions. On the web a role that reads reports waits
    for a second person's approval; here (host access) it is granted at once, audited as
    user.role_granted and shown to supervisors."""
    instance = open_instance()
    with instance.db.transaction() as session:
        instance.accounts.change_role(session, name, Role(role), cli_actor(), None, via="cli")
    emit(as_json, {"username": name.strip().lower(), "role": role}, f"{name.strip().lower()} is now {role}.")


@users.command("list")
@json_option
def users_list(as_json: bool) -> None:
    """List logins."""
    instance = open_instance()
    with instance.db.transaction() as session:
        rows = [{"username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active,
                 "pending_approval": u.pending_approval} for u in instance.accounts.list_users(session)]
    emit(as_json, rows, lambda: "\n".join(
        f"{r['username']:<24} {r['role']:<11} "
        f"{'pending' if r['pending_approval'] else 'active' if r['active'] else 'disabled':<9} {r['display_name']}"
        for r in rows) or "No users.")


@users.command("disable")
@click.argument("name")
@json_option
@handles_errors
def users_disable(name: str, as_json: bool) -> None:
    """Disable a login and end its sessions."""
    instance = open_instance()
    with instance.db.transaction() as session:
        user = instance.accounts.set_active(session, name, False, cli_actor())
    emit(as_json, {"username": user.username, "active": False}, f"Disabled {user.username}.")


@users.command("reset-password")
@click.argument("name")
@json_option
@handles_errors
def users_reset_password(name: str, as_json: bool) -> None:
    """Give a login a new generated password (printed once) and end its sessions."""
    instance = open_instance()
    with instance.db.transaction() as session:
        password = instance.accounts.reset_password(session, name, cli_actor())
    emit(as_json, {"username": name, "password": password}, f"New password for {name} (shown once): {password}")


@users.command("reset-second-factor")
@click.argument("name")
@json_option
@handles_errors
def users_reset_second_factor(name: str, as_json: bool) -> None:
    """Remove a login's second factor (a lost phone and lost recovery codes) and end its sessions; they
    set up a new one at their next sign-in if their role requires one. Host access, audited."""
    instance = open_instance()
    with instance.db.transaction() as session:
        user = instance.accounts.user_by_name(session, name)
        if user is None:
            raise Failure(f"no user named {name!r}")
        removed = instance.second_factors.remove(session, user, cli_actor(), by_operator=True)
        instance.accounts.revoke_sessions(session, user.id)
    emit(as_json, {"username": user.username, "removed": removed},
         f"Removed {user.username}'s second factor." if removed else f"{user.username} had no second factor.")
