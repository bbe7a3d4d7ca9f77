"""The `tipline takedown` commands: where a report's web addresses are hosted, the abuse-contact
directory, notices to hosting providers and their states, overdue notices and time to removal."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from tipline.cli.common import Failure, cli_actor, emit, json_option, open_instance


@click.group("takedown")
def takedown_group() -> None:
    """Notice and takedown: find where a report's web addresses are hosted, ask the hosting provider
    to remove the material, and follow each notice until it is removed (docs/takedown.md)."""


def _at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Failure(f"{text!r} is not a date and time (like 2026-12-07T09:30Z)") from None
    if value.tzinfo is None:
        raise Failure(f"{text!r} has no time zone: add Z for UTC (like 2026-12-07T09:30Z)")
    return value


def _hosting_json(row: Any) -> dict[str, Any]:
    return {"url": row.url, "host": row.host, "country": row.country, "asn": row.asn,
            "organisation": row.organisation, "addresses": row.addresses, "error": row.error,
            "looked_up_at": row.looked_up_at}


@takedown_group.command("locate")
@click.argument("report_id", type=int)
@click.option("--wait", is_flag=True,
              help="Look the addresses up in this command (as the worker would) and print where they are "
                   "hosted; without it the lookup is queued for a worker.")
@json_option
def takedown_locate(report_id: int, wait: bool, as_json: bool) -> None:
    """Find where the web addresses of report REPORT_ID are hosted: each host's IP addresses, their
    country (TIPLINE_GEOIP_DATABASE) and network (TIPLINE_ASN_DATABASE). Audited."""
    from tipline.store.reports import ReportNotFound
    from tipline.takedown import service

    instance = open_instance()
    actor = cli_actor()
    try:
        with instance.db.transaction() as session:
            if wait:
                instance.reports.row(session, report_id)
                if not service.urls_of(session, report_id):
                    raise service.TakedownError(f"report {report_id} holds no web address to look up")
                instance.audit.append(session, actor, "takedown.locate_requested", report_id=report_id,
                                      details={"urls": len(service.urls_of(session, report_id)), "automatic": False})
            else:
                queued = service.request_locate(instance, session, report_id, actor)
    except ReportNotFound:
        raise Failure(f"report {report_id} does not exist") from None
    except service.TakedownError as error:
        raise Failure(str(error)) from None
    if not wait:
        emit(as_json, {"report_id": report_id, "queued": queued},
             f"Queued the lookup of report {report_id}'s web addresses for a worker." if queued
             else f"A lookup of report {report_id}'s web addresses is already waiting for a worker.")
        return
    with click.progressbar(length=1, label="Looking up hosts", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)

        service.locate_now(instance, report_id, progress=progress)
    with instance.db.transaction() as session:
        rows = list(service.lookups_of(session, report_id).values())
    emit(as_json, [_hosting_json(r) for r in rows], lambda: "\n".join(
        f"{r.url}\n  {r.error}" if r.error and not r.addresses else
        f"{r.url}\n  hosted in {r.country or 'country not known'}"
        f"{f', AS{r.asn}' if r.asn else ''}{f' ({r.organisation})' if r.organisation else ''}: "
        + ", ".join(a["address"] for a in r.addresses) for r in rows))


@takedown_group.group("contacts")
def contacts_group() -> None:
    """The abuse-contact directory: hosting providers' abuse desks, by network (ASN) and/or domain."""


@contacts_group.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@json_option
def contacts_import(csv_file: str, as_json: bool) -> None:
    """Add or update abuse contacts from a CSV file (columns: code, name, asn, domain_suffix, email,
    web_form, country, language, active; several ASNs or domains separated by spaces). Every row is
    checked first; if any is bad, each problem is named by line and column and nothing is imported."""
    from tipline.takedown.contacts import ContactImportError
    from tipline.takedown.service import import_contacts

    instance = open_instance()
    data = Path(csv_file).read_bytes()
    try:
        with instance.db.transaction() as session:
            counts = import_contacts(instance, session, data, cli_actor())
    except ContactImportError as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "imported": 0, "problems": [
                {"line": p.line, "column": p.column, "problem": p.message} for p in error.problems]}))
            sys.exit(1)
        raise Failure("nothing was imported; fix these rows and import the file again:\n"
                      + "\n".join(f"  {p}" for p in error.problems)) from None
    emit(as_json, {"ok": True, **counts}, f"Imported {csv_file}: {counts['added']} added, {counts['updated']} "
                                          f"updated, {counts['unchanged']} unchanged.")


@contacts_group.command("list")
@json_option
def contacts_list(as_json: bool) -> None:
    """List the abuse-contact directory."""
    from tipline.takedown.service import contact_record, list_contacts

    instance = open_instance()
    with instance.db.transaction() as session:
        records = [contact_record(r) for r in list_contacts(session)]
    emit(as_json, [r.as_json() for r in records], lambda: "\n".join(
        f"{r.code:<20} {r.country or '-':<3} {'active' if r.active else 'inactive':<9} "
        f"{' '.join('AS' + str(a) for a in r.asns) or '-':<16} {' '.join(r.domain_suffixes) or '-':<24} "
        f"{r.how_to_reach}  {r.name}" for r in records)
        or "The directory is empty: `tipline takedown contacts import FILE`.")


@takedown_group.command("draft")
@click.argument("report_id", type=int)
@click.argument("url")
@json_option
def takedown_draft(report_id: int, url: str, as_json: bool) -> None:
    """Draft a notice about URL (one of report REPORT_ID's web addresses) to its hosting provider."""
    from tipline.store.reports import ReportNotFound
    from tipline.takedown.service import NoticeView, TakedownError, draft_notice

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            view = NoticeView(draft_notice(instance, session, report_id, url, cli_actor()))
            shown, text = view.as_json(), view.row.text
    except ReportNotFound:
        raise Failure(f"report {report_id} does not exist") from None
    except TakedownError as error:
        raise Failure(str(error)) from None
    emit(as_json, {**shown, "text": text}, f"Drafted notice {shown['reference']} to "
                                           f"{shown['provider'] or 'the hosting provider'}:\n\n{text}")


NOTICE_MOVES = ["sent", "acknowledged", "removed", "refused", "unreachable"]


@takedown_group.command("mark")
@click.argument("notice_id", type=int)
@click.argument("state", type=click.Choice(NOTICE_MOVES))
@click.option("--at", "at", default=None, help="When it happened (ISO 8601 with time zone); now if not given.")
@click.option("--note", default=None, help="A note kept with the notice (e.g. the provider's ticket number).")
@json_option
def takedown_mark(notice_id: int, state: str, at: str | None, note: str | None, as_json: bool) -> None:
    """Record that notice NOTICE_ID was sent, acknowledged, acted on (removed), refused, or could not
    reach its provider. Audited."""
    from tipline.takedown.notices import NoticeRefused, NoticeState
    from tipline.takedown.service import NoticeView, TakedownError, move_notice

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            shown = NoticeView(move_notice(instance, session, notice_id, NoticeState(state), cli_actor(),
                                           at=_at(at), note=note)).as_json()
    except (TakedownError, NoticeRefused) as error:
        raise Failure(str(error)) from None
    emit(as_json, shown, f"Notice {shown['reference']} is now {state}.")


@takedown_group.command("mail")
@click.argument("notice_id", type=int)
@json_option
def takedown_mail(notice_id: int, as_json: bool) -> None:
    """Send notice NOTICE_ID by mail to its abuse contact (needs TIPLINE_SMTP_HOST and TIPLINE_SMTP_FROM).
    A worker sends it and marks the notice sent; a failure is retried (see `tipline jobs status`)."""
    from tipline.takedown.notices import NoticeRefused
    from tipline.takedown.service import TakedownError, request_mail

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            queued = request_mail(instance, session, notice_id, cli_actor())
    except (TakedownError, NoticeRefused) as error:
        raise Failure(str(error)) from None
    emit(as_json, {"notice_id": notice_id, "queued": queued},
         "Queued for a worker to send." if queued else "It is already waiting for a worker to send it.")


@takedown_group.command("check")
@click.argument("notice_id", type=int)
@click.argument("result", type=click.Choice(["still-online", "removed"]))
@click.option("--at", "at", default=None, help="When it was checked (ISO 8601 with time zone); now if not given.")
@json_option
def takedown_check(notice_id: int, result: str, at: str | None, as_json: bool) -> None:
    """Record a re-check of notice NOTICE_ID's web address: still online, or removed (which marks the
    notice removed). Audited."""
    from tipline.takedown.notices import CheckResult, NoticeRefused
    from tipline.takedown.service import NoticeView, TakedownError, record_check

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            shown = NoticeView(record_check(instance, session, notice_id, CheckResult(result.replace("-", "_")),
                                            cli_actor(), at=_at(at))).as_json()
    except (TakedownError, NoticeRefused) as error:
        raise Failure(str(error)) from None
    emit(as_json, shown, f"Notice {shown['reference']}: {result.replace('-', ' ')} (now {shown['state']}).")


@takedown_group.command("notices")
@click.option("--state", type=click.Choice(["drafted", *NOTICE_MOVES]), default=None, help="Only notices in this state.")
@click.option("--report", "report_id", type=int, default=None, help="Only the notices of this report.")
@json_option
def takedown_notices(state: str | None, report_id: int | None, as_json: bool) -> None:
    """List notices, most recently changed first (at most 200)."""
    from tipline.takedown.notices import NoticeState
    from tipline.takedown.service import NoticeView, notices_in_state, notices_of

    instance = open_instance()
    with instance.db.transaction() as session:
        rows = notices_of(session, report_id) if report_id else notices_in_state(
            session, NoticeState(state) if state else None)
        if report_id and state:
            rows = [r for r in rows if r.state == state]
        shown = [NoticeView(r).as_json() for r in rows]
    emit(as_json, shown, lambda: "\n".join(
        f"{n['reference']}  report {n['report_id']:<6} {n['state']:<13} {n['hosting_country'] or '-':<3} "
        f"{n['provider'] or '-':<24} {n['url']}" for n in shown) or "No notice.")


@takedown_group.command("overdue")
@click.option("--hours", type=click.IntRange(1, 24 * 365), default=None,
              help="Overdue after this many hours in `sent` (default TIPLINE_TAKEDOWN_REMINDER_HOURS, 48).")
@json_option
def takedown_overdue(hours: int | None, as_json: bool) -> None:
    """Notices sent longer ago than the reminder time with no answer from the provider, oldest first.
    Exits 0 either way; `--json` prints a list."""
    from tipline.domain.base import utc_now
    from tipline.takedown.notices import notice_settings
    from tipline.takedown.service import NoticeView, overdue_notices

    instance = open_instance()
    limit = hours or notice_settings(instance.settings.extra).reminder_hours
    now = utc_now()
    with instance.db.transaction() as session:
        shown = [{**NoticeView(r).as_json(), "hours_waiting": round((now - r.sent_at).total_seconds() / 3600, 1)}
                 for r in overdue_notices(session, limit) if r.sent_at is not None]
    emit(as_json, shown, lambda: "\n".join(
        f"{n['reference']}  report {n['report_id']:<6} waiting {n['hours_waiting']} h  "
        f"{n['provider'] or 'hosting provider not known'}  {n['contact_email'] or n['contact_web_form'] or ''}"
        for n in shown) or f"No notice has waited more than {limit} hours.")


@takedown_group.command("removal-times")
@click.option("--by", type=click.Choice(["country", "provider"]), default="country", show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Count the notices whose material was removed in this many days.")
@json_option
def takedown_removal_times(by: str, days: int, as_json: bool) -> None:
    """Median hours from sending a notice to the material's removal, by hosting country or provider."""
    from tipline.domain.base import utc_now
    from tipline.takedown.figures import removal_times

    instance = open_instance()
    with instance.db.transaction() as session:
        figures = removal_times(session, by, since=utc_now() - timedelta(days=days))
    emit(as_json, [f.as_json() for f in figures], lambda: "\n".join(
        f"{f.group:<30} {f.notices:>5} removed  median {f.median_hours} h  slowest {f.slowest_hours} h"
        for f in figures) or f"No material was removed after a notice in the last {days} days.")
