"""The `tipline referral` commands: check and open referral packages, the hotline's public key, reminders,
outcomes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tipline.cli.common import Failure, cli_actor, emit, open_instance
from tipline.keyfiles import KeyFileError


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
        raise Failure(str(error)) from None
    if not own.exists():
        raise Failure("give the hotline's public signing key with --hotline-key FILE (the hotline prints it "
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

    try:
        private = load_agency_private_key(key_file) if key_file else None
        result = verify_package(package, _hotline_key(hotline_key), private)
    except (PackageError, KeyFileError) as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "error": str(error), "problems": []}))
            sys.exit(1)
        raise Failure(str(error)) from None
    manifest = result.manifest or {}
    referral = manifest.get("referral") or {}

    def text() -> str:
        head = (f"Referral {referral.get('id', '?')} of report #{referral.get('report_id', '?')} to "
                f"{(manifest.get('agency') or {}).get('name', '?')}: {result.checked} item(s) checked.")
        if result.ok:
            return head + "\nThe signature is valid and every item matches its SHA-256."
        return "\n".join([head] + [f"{p.kind.upper()}: {p.message}" for p in result.problems])

    emit(as_json, result.to_dict(), text)
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
        raise Failure(str(error)) from None
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

    instance = open_instance()
    hours = reminder_hours(instance.settings)
    with instance.db.transaction() as session:
        rows = [{"referral_id": o.referral.id, "report_id": o.referral.report_id, "agency": o.agency.code,
                 "referred_at": o.referral.created_at.isoformat(), "hours_waiting": o.hours}
                for o in overdue_referrals(session, hours=hours)]
    emit(as_json, rows, lambda: "\n".join(
        f"referral {r['referral_id']} (report #{r['report_id']}) to {r['agency']}: not opened for {r['hours_waiting']} h"
        for r in rows) or f"No referral has waited more than {hours} h to be opened.")


@referral_group.command("outcomes")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def referral_outcomes(as_json: bool) -> None:
    """How many of each outcome agencies reported, and per month."""
    from tipline.referral.outcomes import outcome_label
    from tipline.referral.service import outcome_counts, outcome_trend

    instance = open_instance()
    with instance.db.transaction() as session:
        counts, trend = outcome_counts(session), outcome_trend(session)
    emit(as_json, {"counts": counts, "by_month": trend}, lambda: "\n".join(
        f"{outcome_label(k):<32} {v}" for k, v in counts.items()))


@referral_group.command("import")
@click.argument("package", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False), required=True,
              help="This hotline's private package key (the one whose public half the partner refers to).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def referral_import(package: str, key_file: str, as_json: bool) -> None:
    """Import a partner hotline's referral package as one new report: the signature is verified with the
    sender's registered signing key (`tipline partners add`) and every item's SHA-256 checked; the report
    and its files then go through the pipeline as any report. A bad signature, a changed file, an
    unknown sender or a referral already imported is refused with the reason, and nothing is created."""
    from tipline.referral.importing import ImportRefused, import_package
    from tipline.referral.keys import load_agency_private_key

    instance = open_instance()
    try:
        result = import_package(instance, package, load_agency_private_key(key_file), cli_actor())
    except KeyFileError as error:
        raise Failure(str(error)) from None
    except ImportRefused as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "refused": error.kind, "error": str(error)}))
            sys.exit(1)
        raise Failure(str(error)) from None
    emit(as_json, {"ok": True, "report_id": result.report_id, "partner": result.partner_code,
                   "sender_report_id": result.sender_report_id, "sender_referral_id": result.sender_referral_id,
                   "files": result.files, "file_sha256": result.file_sha256},
         f"Imported referral {result.sender_referral_id} (their report #{result.sender_report_id}) from "
         f"{result.partner_name} as report #{result.report_id} with {result.files} file(s); the pipeline takes it "
         "from here.")


@referral_group.command("outcome-export")
@click.argument("report_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="The outcome file to write (send it to the partner hotline).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def referral_outcome_export(report_id: int, output: str, as_json: bool) -> None:
    """Write a signed outcome file for REPORT_ID, a report imported from a partner hotline: what happened to it
    here (received, referred on, the agency's outcomes, closed). The partner runs `tipline referral
    outcome-import` on it."""
    import os

    from tipline.referral.partner_outcomes import OutcomeFileRefused, export_outcomes

    instance = open_instance()
    target = Path(output)
    if target.exists():
        raise Failure(f"{output} exists: give a new file name")
    try:
        written = export_outcomes(instance, report_id, cli_actor())
    except OutcomeFileRefused as error:
        raise Failure(str(error)) from None
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(written.data)
    emit(as_json, {"report_id": report_id, "file": output, "sequence": written.sequence,
                   "partner": written.partner_name, "referral_id": written.sender_referral_id,
                   "outcomes": written.outcomes},
         f"Wrote outcome file {written.sequence} for {written.partner_name} (their referral "
         f"{written.sender_referral_id}) to {output}: {len(written.outcomes)} outcome(s).")


@referral_group.command("outcome-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def referral_outcome_import(file: str, as_json: bool) -> None:
    """Add a partner hotline's outcome file to the timeline of the referral it is about. It must verify with the
    signing key of the partner the report was referred to; a file already imported, or older than one
    imported, is refused as a replay. Each outcome is added once."""
    from tipline.referral.partner_outcomes import OutcomeFileRefused, import_outcomes

    instance = open_instance()
    try:
        result = import_outcomes(instance, Path(file).read_bytes(), cli_actor())
    except OutcomeFileRefused as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "refused": error.kind, "error": str(error)}))
            sys.exit(1)
        raise Failure(str(error)) from None
    emit(as_json, {"ok": True, "referral_id": result.referral_id, "report_id": result.report_id,
                   "partner": result.partner_name, "sequence": result.sequence, "added": result.added,
                   "already_known": result.already_known},
         f"Outcome file {result.sequence} from {result.partner_name}: {len(result.added)} new outcome(s) on referral "
         f"{result.referral_id} (report #{result.report_id}); {result.already_known} already known.")
