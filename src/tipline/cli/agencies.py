"""The `tipline agencies` commands: the agency directory, its users and its keys."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tipline.cli.common import Failure, cli_actor, emit, open_instance


@click.group("agencies")
def agencies_group() -> None:
    """The agency directory: the agencies reports are referred to and the areas they cover."""


@agencies_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def agencies_import(csv_file: str, as_json: bool) -> None:
    """Add or update agencies from a CSV file (columns: code, name, type, country, region, city,
    contact_name, contact_email, contact_phone, public_key, active). Every row is checked first; if
    any is bad, each problem is named by line and column and nothing is imported."""
    from tipline.jurisdiction import DirectoryImportError
    from tipline.referral.directory import import_directory

    instance = open_instance()
    data = Path(csv_file).read_bytes()
    try:
        with instance.db.transaction() as session:
            counts = import_directory(instance, session, data, cli_actor())
    except DirectoryImportError as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "imported": 0, "problems": [
                {"line": p.line, "column": p.column, "problem": p.message} for p in error.problems]}))
            sys.exit(1)
        raise Failure("nothing was imported; fix these rows and import the file again:\n"
                          + "\n".join(f"  {p}" for p in error.problems)) from None
    emit(as_json, {"ok": True, **counts},
             f"Imported {csv_file}: {counts['added']} added, {counts['updated']} updated, "
             f"{counts['unchanged']} unchanged; {counts['suggestions_changed']} open report(s) got a new suggestion.")


@agencies_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def agencies_list(as_json: bool) -> None:
    """List the directory."""
    from tipline.jurisdiction import public_key_bytes
    from tipline.referral.keys import fingerprint
    from tipline.store.referrals import agency_user_counts, list_agencies

    instance = open_instance()
    with instance.db.transaction() as session:
        users = agency_user_counts(session)
        rows = [{**a.record().to_row(), "active": a.active, "users": users.get(a.id, 0),
                 "key_id": fingerprint(public_key_bytes(a.public_key)) if a.public_key else None}
                for a in list_agencies(session)]
    emit(as_json, rows, lambda: "\n".join(
        f"{r['code']:<20} {r['country']:<3}{(r['region'] or '-'):<12}{(r['city'] or '-'):<14}"
        f"{'active' if r['active'] else 'inactive':<9}{'key ' + str(r['key_id']) if r['key_id'] else 'NO KEY':<21}"
        f"{r['users']} user(s)  {r['name']}" for r in rows) or "The directory is empty: `tipline agencies import FILE`.")


@agencies_group.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the CSV here instead of to standard output.")
def agencies_export(output: str | None) -> None:
    """Write the directory as CSV (the format `tipline agencies import` reads)."""
    from tipline.referral.directory import export_directory

    instance = open_instance()
    with instance.db.transaction() as session:
        text = export_directory(session)
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)


@agencies_group.command("assign-user")
@click.argument("username")
@click.argument("agency_code")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def agencies_assign_user(username: str, agency_code: str, as_json: bool) -> None:
    """Make an agency user a member of an agency (they see only its referrals)."""
    from tipline.referral.directory import assign_user
    from tipline.store.referrals import DirectoryError

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            agency = assign_user(instance, session, username, agency_code, cli_actor())
            name = agency.name
    except DirectoryError as error:
        raise Failure(str(error)) from None
    emit(as_json, {"username": username, "agency": agency_code}, f"{username} now belongs to {name}.")


@agencies_group.command("rotate-key")
@click.argument("agency_code")
@click.option("--public-key", "public_key", required=True,
              help="The agency's new public key: the text `tipline agencies keygen` printed, or a file holding it.")
@click.option("--reason", default=None, help="Why the key changes (kept in the audit trail).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def agencies_rotate_key(agency_code: str, public_key: str, reason: str | None, as_json: bool) -> None:
    """Register an agency's new public key. Packages referred from now on are encrypted to it; those
    referred before keep naming the key they were encrypted to and still open with its private key
    (`tipline referral verify PACKAGE --key OLD.key`), so the agency keeps its old private key for
    them. Audited as agency.key_rotated."""
    from tipline.referral.directory import rotate_key
    from tipline.store.referrals import DirectoryError

    text = public_key
    candidate = Path(public_key)
    if len(public_key) < 4096 and candidate.is_file():
        try:
            text = candidate.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise Failure(f"cannot read the public key {public_key}: {error}") from None
    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            old, new = rotate_key(instance, session, agency_code, text, cli_actor(), reason)
    except DirectoryError as error:
        raise Failure(str(error)) from None
    emit(as_json, {"agency": agency_code, "old_key_id": old, "new_key_id": new},
             f"{agency_code}: new packages are encrypted to key {new}"
             + (f"; packages referred before stay encrypted to key {old} (keep its private key)." if old else "."))


@agencies_group.command("keygen")
@click.argument("private_key_file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def agencies_keygen(private_key_file: str, as_json: bool) -> None:
    """Create an agency's key pair. Run it at the agency: the private key is written to
    PRIVATE_KEY_FILE (mode 0600; keep it there), and the public key printed goes into the hotline's
    directory (the public_key column). Needs no database."""
    from tipline.referral.keys import b64, create_agency_key, fingerprint

    try:
        public = create_agency_key(private_key_file)
    except FileExistsError:
        raise Failure(f"{private_key_file} already exists: a new key would make packages encrypted to the "
                             "old one unreadable; choose another file name") from None
    emit(as_json, {"private_key_file": private_key_file, "public_key": b64(public),
                          "key_id": fingerprint(public)},
                f"Private key written to {private_key_file} (keep it safe and secret).\n"
                f"Public key for the hotline's directory: {b64(public)}\nKey id: {fingerprint(public)}")
