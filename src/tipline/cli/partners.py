"""The `tipline partners` commands: the registry of partner hotlines whose referral packages and outcome
files this hotline accepts (docs/referral.md, "Partner hotlines")."""

from __future__ import annotations

from pathlib import Path

import click

from tipline.cli.common import Failure, cli_actor, emit, json_option, open_instance


@click.group("partners")
def partners_group() -> None:
    """Partner hotlines: register their signing keys, so their referral packages can be imported and their
    outcome files trusted."""


def _key_text(value: str, what: str) -> str:
    """A key given as a file (as `tipline referral signing-key -o` or `tipline agencies keygen` print it)
    or as the text itself."""
    path = Path(value)
    if path.is_file():
        try:
            return path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise Failure(f"cannot read the {what} {value}: {error}") from None
    if "/" in value or value.endswith((".pub", ".key", ".txt")):
        raise Failure(f"the {what} file {value} does not exist")
    return value


@partners_group.command("add")
@click.argument("code")
@click.option("--signing-key", required=True, metavar="FILE",
              help="The partner's public signing key: the file (or text) `tipline referral signing-key` prints "
                   "there. Confirm its key id with the partner by another channel.")
@click.option("--country", required=True, metavar="CC", help="The partner's country (ISO 3166-1 code or name).")
@click.option("--name", default=None, help="The partner's name as analysts see it (default: CODE).")
@click.option("--public-key", default=None, metavar="FILE",
              help="The partner's package key (`tipline agencies keygen` there), to refer reports to it.")
@json_option
def partners_add(code: str, signing_key: str, country: str, name: str | None, public_key: str | None,
                 as_json: bool) -> None:
    """Register partner hotline CODE (an agency of type hotline), or give an existing one a new signing key.
    Audited as partner.registered."""
    from tipline.referral.partners import add_partner, partner_of
    from tipline.store.referrals import DirectoryError

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            row, created = add_partner(instance, session, code, _key_text(signing_key, "signing key"), country,
                                       cli_actor(), name=name,
                                       public_key_text=_key_text(public_key, "package key") if public_key else None)
            partner = partner_of(row)
    except DirectoryError as error:
        raise Failure(str(error)) from None
    emit(as_json, {**partner.__dict__, "created": created},
         f"{'Registered' if created else 'Updated'} partner hotline {partner.name} ({partner.code}, {partner.country}): "
         f"signing key {partner.signing_key_id}"
         + (f", package key {partner.package_key_id}" if partner.package_key_id else ", no package key yet"))


@partners_group.command("list")
@json_option
def partners_list(as_json: bool) -> None:
    """The partner hotlines, with the ids of their signing and package keys."""
    from tipline.referral.partners import list_partners, partner_of

    instance = open_instance()
    with instance.db.read_session() as session:
        partners = [partner_of(row) for row in list_partners(session)]
    emit(as_json, [p.__dict__ for p in partners], lambda: "\n".join(
        f"{p.code:<20} {p.country}  signing key {p.signing_key_id or '(none: packages refused)'}  "
        f"package key {p.package_key_id or '(none)'}  {p.name}{'' if p.active else '  (inactive)'}"
        for p in partners) or "No partner hotline is registered (`tipline partners add`).")
