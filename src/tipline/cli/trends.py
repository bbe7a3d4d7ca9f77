"""`tipline trends ...` (rebuild the counts, run the detector, list and decide on alerts) and
`tipline stats report` (published figures)."""

from __future__ import annotations

import sys
from datetime import date, timedelta

import click

from tipline.cli import common
from tipline.trends.dimensions import DIMENSIONS


@click.group("trends")
def trends_group() -> None:
    """Daily counts, emerging-threat alerts."""


@trends_group.command("rebuild")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def rebuild_command(as_json: bool) -> None:
    """Count every report again from scratch (after an upgrade, or to repair). Stop the workers first."""
    from tqdm import tqdm

    from tipline.trends.counting import rebuild
    instance = common.open_instance()
    with tqdm(desc="counting reports", unit="report", disable=as_json or not sys.stderr.isatty()) as bar:
        result = rebuild(instance, progress=bar.update)
    common.emit(as_json, result, f"Counted {result['reports']:,} reports ({result['facts']:,} facts, "
                              f"{result['counts']:,} daily counts).")


@trends_group.command("detect")
@click.option("--day", "day_text", help="The day to judge (YYYY-MM-DD, UTC); default today.")
@click.option("--recount-days", default=2, show_default=True, type=click.IntRange(0, 400),
              help="First recount the reports changed in these last days (decisions, referral outcomes).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def detect_command(day_text: str | None, recount_days: int, as_json: bool) -> None:
    """The daily run of the detector (run it from cron after midnight UTC, and at any time)."""
    from tipline.domain.base import utc_now
    from tipline.trends.counting import rebuild, recently_updated
    from tipline.trends.detector import detect_day
    day = _parse_day(day_text) if day_text else utc_now().date()
    instance = common.open_instance()
    recounted = 0
    if recount_days:
        with instance.db.transaction() as session:
            ids = recently_updated(session, utc_now() - timedelta(days=recount_days))
        recounted = rebuild(instance, report_ids=ids)["reports"]
    with instance.db.transaction() as session:
        touched = detect_day(instance, session, day)
    common.emit(as_json, {"day": day.isoformat(), "recounted": recounted, "alerts": touched},
             f"{day}: {recounted} reports recounted, {touched} alerts raised or continued.")


@trends_group.command("alerts")
@click.option("--status", type=click.Choice(["open", "acknowledged", "dismissed", "all"]), default="open",
              show_default=True)
@click.option("--json", "as_json", is_flag=True,
              help='Print [{"kind", "dimension", "value", "since", "observed", "expected", "report_ids"}].')
def alerts_command(status: str, as_json: bool) -> None:
    """The emerging-threat alerts."""
    from tipline.trends.alerts import STATUSES, describe, list_alerts
    from tipline.trends.alerts import as_json as alert_json
    instance = common.open_instance()
    with instance.db.transaction() as session:
        rows = list_alerts(session, STATUSES if status == "all" else (status,), limit=10_000)
        data = [alert_json(r) for r in rows]
        text = "\n".join(f"#{d['id']} [{d['status']}] {d['what']}: {d['rise']}; since {d['since']}; "
                         f"{len(d['report_ids'])} reports" for d in map(describe, rows)) or "No alerts."
    common.emit(as_json, data, text)


@trends_group.command("decide")
@click.argument("alert_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("action", type=click.Choice(["acknowledge", "dismiss"]))
@click.option("--note", default="", help="Why (kept in the audit trail).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def decide_command(alert_id: int, action: str, note: str, as_json: bool) -> None:
    """Acknowledge or dismiss an alert (audited)."""
    from tipline.trends.alerts import AlertNotFound, decide
    instance = common.open_instance()
    try:
        with instance.db.transaction() as session:
            row = decide(instance, session, alert_id, action, common.cli_actor(), note)
            status = row.status
    except AlertNotFound:
        raise common.Failure(f"there is no alert {alert_id} (tipline trends alerts --status all)") from None
    common.emit(as_json, {"id": alert_id, "status": status}, f"Alert {alert_id}: {status}.")


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date: give YYYY-MM-DD") from None


@click.group("stats")
def stats_group() -> None:
    """Published figures."""


@stats_group.command("report")
@click.option("--from", "first_text", required=True, help="First day (YYYY-MM-DD, UTC), included.")
@click.option("--to", "last_text", required=True, help="Last day (YYYY-MM-DD, UTC), included.")
@click.option("--by", "by", multiple=True, type=click.Choice(sorted(set(DIMENSIONS) - {"all"})),
              help="A dimension to break the figures down by (repeat for more). Default: incident type.")
@click.option("--period", type=click.Choice(["year", "month", "all"]), default="year", show_default=True)
@click.option("--threshold", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Counts under this are shown as <threshold.")
@click.option("--json", "as_json", is_flag=True, help="Write the figures as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Write the figures as CSV.")
def stats_report_command(first_text: str, last_text: str, by: tuple[str, ...], period: str, threshold: int,
                         as_json: bool, as_csv: bool) -> None:
    """Figures for publication: the same data always give the same bytes; small cells suppressed."""
    from tipline.trends import published
    first, last = _parse_day(first_text), _parse_day(last_text)
    if last < first:
        raise common.Failure("--to is before --from")
    if as_json and as_csv:
        raise common.Failure("choose --json or --csv")
    instance = common.open_instance()
    with instance.db.transaction() as session:
        document = published.report(session, first, last, list(by) or ["incident_type"], by=period,
                                    threshold=threshold)
    if as_csv:
        click.echo(published.as_csv(document), nl=False)
    elif as_json:
        click.echo(published.as_json(document), nl=False)
    else:
        click.echo(published.as_text(document), nl=False)
