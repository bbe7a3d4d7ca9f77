"""The `tipline agencies` and `tipline referral` commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tipline.keyfiles import KeyFileError


def _cli() -> Any:
    from tipline import cli

    return cli


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

    cli = _cli()
    instance = cli.open_instance()
    data = Path(csv_file).read_bytes()
    try:
        with instance.db.transaction() as session:
            counts = import_directory(instance, session, data, cli.cli_actor())
    except DirectoryImportError as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "imported": 0, "problems": [
                {"line": p.line, "column": p.column, "problem": p.message} for p in error.problems]}))
            sys.exit(1)
        raise cli.Failure("nothing was imported; fix these rows and import the file again:\n"
                          + "\n".join(f"  {p}" for p in error.problems)) from None
    cli.emit(as_json, {"ok": True, **counts},
             f"Imported {csv_file}: {counts['added']} added, {counts['updated']} updated, "
             f"{counts['unchanged']} unchanged; {counts['suggestions_changed']} open report(s) got a new suggestion.")


@agencies_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def agencies_list(as_json: bool) -> None:
    """List the directory."""
    from tipline.jurisdiction import public_key_bytes
    from tipline.referral.keys import fingerprint
    from tipline.store.referrals import agency_user_counts, list_agencies

    cli = _cli()
    instance = cli.open_instance()
    with instance.db.transaction() as session:
        users = agency_user_counts(session)
        rows = [{**a.record().to_row(), "active": a.active, "users": users.get(a.id, 0),
                 "key_id": fingerprint(public_key_bytes(a.public_key)) if a.public_key else None}
                for a in list_agencies(session)]
    cli.emit(as_json, rows, lambda: "\n".join(
        f"{r['code']:<20} {r['country']:<3}{(r['region'] or '-'):<12}{(r['city'] or '-'):<14}"
        f"{'active' if r['active'] else 'inactive':<9}{'key ' + r['key_id'] if r['key_id'] else 'NO KEY':<21}"
        f"{r['users']} user(s)  {r['name']}" for r in rows) or "The directory is empty: `tipline agencies import FILE`.")


@agencies_group.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the CSV here instead of to standard output.")
def agencies_export(output: str | None) -> None:
    """Write the directory as CSV (the format `tipline agencies import` reads)."""
    from tipline.referral.directory import export_directory

    cli = _cli()
    instance = cli.open_instance()
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

    cli = _cli()
    instance = cli.open_instance()
    try:
        with instance.db.transaction() as session:
            agency = assign_user(instance, session, username, agency_code, cli.cli_actor())
            name = agency.name
    except DirectoryError as error:
        raise cli.Failure(str(error)) from None
    cli.emit(as_json, {"username": username, "agency": agency_code}, f"{username} now belongs to {name}.")


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

    cli = _cli()
    text = public_key
    candidate = Path(public_key)
    if len(public_key) < 4096 and candidate.is_file():
        try:
            text = candidate.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise cli.Failure(f"cannot read the public key {public_key}: {error}") from None
    instance = cli.open_instance()
    try:
        with instance.db.transaction() as session:
            old, new = rotate_key(instance, session, agency_code, text, cli.cli_actor(), reason)
    except DirectoryError as error:
        raise cli.Failure(str(error)) from None
    cli.emit(as_json, {"agency": agency_code, "old_key_id": old, "new_key_id": new},
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
        raise _cli().Failure(f"{private_key_file} already exists: a new key would make packages encrypted to the "
                             "old one unreadable; choose another file name") from None
    _cli().emit(as_json, {"private_key_file": private_key_file, "public_key": b64(public),
                          "key_id": fingerprint(public)},
                f"Private key written to {private_key_file} (keep it safe and secret).\n"
                f"Public key for the hotline's directory: {b64(public)}\nKey id: {fingerprint(public)}")


@click.group("referral")
def referral_group() -> None:
    """Referral packages: check and open them (at an agency), the hotline's public key, reminders, outcomes."""


def _hotline_key(path: str | None) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tipline.config import ConfigError, load_settings
    from tipline.keyfiles import read_key_file
    from tipline.referral.keys import SIGNING_KEY_FILE, load_signing_public_key

    if path is not None:
        return load_signing_public_key(path)
    try:
        own = load_settings().key_dir / SIGNING_KEY_FILE
    except ConfigError as error:
        raise _cli().Failure(str(error)) from None
    if not own.exists():
        raise _cli().Failure("give the hotline's public signing key with --hotline-key FILE (the hotline prints it "
                             "with `tipline referral signing-key`)")
    return Ed25519PrivateKey.from_private_bytes(read_key_file(own)).public_key()


@referral_group.command("verify")
@click.argument("package", type=click.Path(exists=True))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The agency's private key (needed for an encrypted package).")
@click.option("--hotline-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The hotline's public signing key (default: this instance's own key).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def referral_verify(package: str, key_file: str | None, hotline_key: str | None, as_json: bool) -> None:
    """Check a package's signature and every item's SHA-256; names anything altered, missing or added
    and exits 1. PACKAGE is the encrypted .tlref file, a decrypted ZIP, or the folder it was unpacked to."""
    from tipline.referral.keys import load_agency_private_key
    from tipline.referral.package import PackageError, verify_package

    cli = _cli()
    try:
        private = load_agency_private_key(key_file) if key_file else None
        result = verify_package(package, _hotline_key(hotline_key), private)
    except (PackageError, KeyFileError) as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "error": str(error), "problems": []}))
            sys.exit(1)
        raise cli.Failure(str(error)) from None
    manifest = result.manifest or {}
    referral = manifest.get("referral") or {}

    def text() -> str:
        head = (f"Referral {referral.get('id', '?')} of report #{referral.get('report_id', '?')} to "
                f"{(manifest.get('agency') or {}).get('name', '?')}: {result.checked} item(s) checked.")
        if result.ok:
            return head + "\nThe signature is valid and every item matches its SHA-256."
        return "\n".join([head] + [f"{p.kind.upper()}: {p.message}" for p in result.problems])

    cli.emit(as_json, result.to_dict(), text)
    if not result.ok:
        sys.exit(1)


@referral_group.command("decrypt")
@click.argument("package", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The agency's private key.")
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="A new folder to unpack into.")
def referral_decrypt(package: str, key_file: str, output: str) -> None:
    """Decrypt and unpack a package into a folder (then `tipline referral verify FOLDER` checks it)."""
    from tipline.referral.keys import load_agency_private_key
    from tipline.referral.package import PackageError, extract_package

    try:
        written = extract_package(package, load_agency_private_key(key_file), output)
    except (PackageError, KeyFileError) as error:
        raise _cli().Failure(str(error)) from None
    click.echo(f"Unpacked {len(written)} item(s) into {output}", err=True)


@referral_group.command("signing-key")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write it to this file instead of standard output.")
def referral_signing_key(output: str | None) -> None:
    """Print the hotline's public signing key, for agencies to check packages with (--hotline-key)."""
    from tipline.config import load_settings
    from tipline.referral.keys import b64, fingerprint, raw_public, signing_key

    key = raw_public(signing_key(load_settings().key_dir).public_key())
    text = f"ed25519:{b64(key)}\n"
    if output is None:
        click.echo(text, nl=False)
        click.echo(f"key id {fingerprint(key)}", err=True)
    else:
        Path(output).write_text(text, encoding="ascii")
        click.echo(f"Wrote {output} (key id {fingerprint(key)})", err=True)


@referral_group.command("overdue")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def referral_overdue(as_json: bool) -> None:
    """Referrals their agency has not opened within TIPLINE_REFERRAL_REMINDER_HOURS (default 72)."""
    from tipline.referral.service import overdue_referrals, reminder_hours

    cli = _cli()
    instance = cli.open_instance()
    hours = reminder_hours(instance.settings)
    with instance.db.transaction() as session:
        rows = [{"referral_id": o.referral.id, "report_id": o.referral.report_id, "agency": o.agency.code,
                 "referred_at": o.referral.created_at.isoformat(), "hours_waiting": o.hours}
                for o in overdue_referrals(session, hours=hours)]
    cli.emit(as_json, rows, lambda: "\n".join(
        f"referral {r['referral_id']} (report #{r['report_id']}) to {r['agency']}: not opened for {r['hours_waiting']} h"
        for r in rows) or f"No referral has waited more than {hours} h to be opened.")


@referral_group.command("outcomes")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def referral_outcomes(as_json: bool) -> None:
    """How many of each outcome agencies reported, and per month."""
    from tipline.referral.outcomes import outcome_label
    from tipline.referral.service import outcome_counts, outcome_trend

    cli = _cli()
    instance = cli.open_instance()
    with instance.db.transaction() as session:
        counts, trend = outcome_counts(session), outcome_trend(session)
    cli.emit(as_json, {"counts": counts, "by_month": trend}, lambda: "\n".join(
        f"{outcome_label(k):<32} {v}" for k, v in counts.items()))
