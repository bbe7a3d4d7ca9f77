"""`tipline resources ...` (the hotline's directory of support services) and `tipline follow-ups due`."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("resources")
def resources_group() -> None:
    """The hotline's directory of support services, by country and situation, that advocates refer
    people to."""


@resources_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_resources(file: Path, as_json: bool) -> None:
    """Replace the directory with the services in FILE (CSV, UTF-8, with a header row).

    Columns: country (two letters, or * for every country) and name are required; situations
    (sextortion, enticement, images, child, parent, separated by ;, empty for every situation),
    phone, url (https://...), email, hours, languages and description are optional. A file with any
    bad line is refused whole, with each problem named by its line: nothing is half-imported."""
    from tipline.cli.common import Failure, cli_actor, emit, open_instance
    from tipline.domain.support_resources import ResourceFileError, parse_resources
    from tipline.store.follow_ups import replace_resources

    try:
        resources = parse_resources(file.read_bytes())
    except ResourceFileError as error:
        raise Failure(f"{file}: nothing imported:\n" + "\n".join(f"  {p}" for p in error.problems)) from None
    instance = open_instance()
    with instance.db.transaction() as session:
        count = replace_resources(session, instance.audit, resources, cli_actor(), source=file.name)
    countries = sorted({r.country for r in resources})
    emit(as_json, {"imported": count, "countries": countries, "file": str(file)},
         f"imported {count} support service{'' if count == 1 else 's'} ({', '.join(countries) or 'none'}); "
         "the directory now holds exactly these")


@resources_group.command("list")
@click.option("--country", help="Only services for this country (two letters), with those for every country.")
@click.option("--situation", type=click.Choice(["sextortion", "enticement", "images", "child", "parent"]),
              help="Only services for this situation.")
@click.option("--json", "as_json", is_flag=True, help="Print the services as JSON.")
def list_resources(country: str | None, situation: str | None, as_json: bool) -> None:
    """List the directory's support services."""
    from tipline.cli.common import emit, open_instance
    from tipline.store.follow_ups import list_resources as stored

    instance = open_instance()
    with instance.db.transaction() as session:
        resources = stored(session, country, situation)

    def text() -> str:
        if not resources:
            return "the directory is empty (import one with: tipline resources import FILE.csv)"
        return "\n".join(f"{r.country:2}  {r.name}  {r.phone or ''}  {r.url or ''}  "
                         f"[{', '.join(r.situations) or 'every situation'}]" for r in resources)

    emit(as_json, [r.to_dict() for r in resources], text)


@click.group("follow-ups")
def follow_ups_group() -> None:
    """Follow-up requests from people who reported and asked to be contacted."""


@follow_ups_group.command("due")
@click.option("--json", "as_json", is_flag=True, help="Print the requests as JSON.")
def due(as_json: bool) -> None:
    """Open requests past their due date, the longest overdue first (for a reminder job or a rota).
    Lists the channel and the report number, never the contact detail (which is on the advocate's
    page, where reading it is audited)."""
    from tipline.cli.common import cli_actor, emit, open_instance
    from tipline.domain.base import utc_now
    from tipline.store import follow_ups

    instance = open_instance()
    now = utc_now()
    with instance.db.transaction() as session:
        overdue = follow_ups.due(session, now)
        instance.audit.append(session, cli_actor(), "follow_up.listed", details={"shown": len(overdue), "due": True})
    rows = [{"id": r.id, "report": r.report_id, "channel": r.channel, "language": r.language,
             "situation": r.situation, "dueAt": r.due_at.isoformat(),
             "hoursOverdue": round((now - r.due_at).total_seconds() / 3600, 1)} for r in overdue]

    def text() -> str:
        if not rows:
            return "no follow-up request is past its due date"
        return "\n".join(f"request {r['id']} (report #{r['report']}): {r['channel']}, due {r['dueAt']}, "
                         f"{r['hoursOverdue']} h overdue" for r in rows)

    emit(as_json, rows, text)
