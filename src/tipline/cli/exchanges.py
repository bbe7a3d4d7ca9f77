"""The `tipline exchanges` commands: hash-list exchanges (NCMEC hash sharing, a partner's file or URL
list) as configured sources of banks; fetching them (here or from a timer: never in the web server),
their status with the problems met per entry, analysts' feedback, and the flood quarantine
(docs/exchanges.md)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from tqdm import tqdm

from tipline.cli.common import Failure, cli_actor, emit, json_option, open_instance


@click.group("exchanges")
def exchanges_group() -> None:
    """Hash-list exchanges that fill banks: NCMEC hash sharing (`--api ncmec`), StopNCII (`--api stopncii`),
    Meta ThreatExchange (`--api threatexchange`) or a partner's hash list at a path or URL (`--api file`:
    VICS JSON, CSV, ThreatExchange signals, one hash a line).

    Credentials are sealed with this instance's exchanges key and never printed. `fetch` runs here (or
    from a timer), never in the web server; it resumes from its checkpoint after a crash."""


@contextmanager
def _instance() -> Iterator[Any]:
    from tipline.exchanges.apis import ExchangeConfigError
    from tipline.store.exchanges import ExchangeError

    instance = open_instance()
    try:
        yield instance
    except (ExchangeError, ExchangeConfigError) as error:
        raise Failure(str(error)) from None
    finally:
        instance.close()


def _read_secret() -> str:
    if sys.stdin.isatty():
        raise Failure("the credentials (ncmec USER:PASSWORD, stopncii keys, threatexchange APP_ID|SECRET) are read "
                      "from standard input: pipe them in "
                      "(e.g. `pass show ncmec | tipline exchanges set-credentials NCMEC`)")
    return sys.stdin.readline(2001).strip()


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


@exchanges_group.command("add")
@click.argument("name")
@click.option("--api", "api", type=click.Choice(["ncmec", "stopncii", "threatexchange", "file"]), required=True,
              help="ncmec: NCMEC hash sharing; stopncii: StopNCII.org; threatexchange: Meta ThreatExchange; "
                   "file: a hash list at --path or --url.")
@click.option("--bank", required=True, help="The bank the exchange fills (tipline banks create ...).")
@click.option("--environment", help="ncmec: NCMEC's environment (Industry, NGO, test_Industry ...; default Industry).")
@click.option("--url", help="file: the list's http(s) URL; ncmec, stopncii, threatexchange: another base URL than "
                            "the exchange's (threatexchange: the Graph API's, with its version).")
@click.option("--only-esp-id", "only_esp_ids", type=int, multiple=True, help="ncmec: only entries of this member.")
@click.option("--privacy-group", "privacy_groups", type=click.IntRange(1), multiple=True,
              help="threatexchange: a ThreatPrivacyGroup id to fetch (repeat for several).")
@click.option("--path", type=click.Path(dir_okay=False), help="file: the list's path on this machine.")
@click.option("--format", "fmt", type=click.Choice(["auto", "plain", "csv", "vics", "threatexchange"]),
              default="auto", show_default=True, help="file: the list's format.")
@click.option("--signal-type", help="file: the type of a plain list's hashes (md5, sha1, sha256, pdq ...).")
@click.option("--credentials-stdin", is_flag=True,
              help="Read the credentials from standard input (ncmec: USER:PASSWORD; stopncii: FETCH_KEY,SUBSCRIPTION_KEY"
                   "[,FEEDBACK_KEY]; threatexchange: the app token APP_ID|SECRET).")
@click.option("--flood-reports", type=click.IntRange(1, 1_000_000), help="Hold an entry matching more reports than this (20).")
@click.option("--flood-files", type=click.IntRange(1, 1_000_000), help="... or more files than this (50) ...")
@click.option("--flood-hours", type=click.IntRange(1, 24 * 365), help="... within this many hours (24).")
@click.option("--fetch-every", "fetch_every", type=click.IntRange(0, 7 * 24 * 60),
              help="Minutes between the workers' fetches of it (15; 0: only `tipline exchanges fetch`).")
@json_option
def exchanges_add(name: str, api: str, bank: str, environment: str | None, url: str | None,
                  only_esp_ids: tuple[int, ...], privacy_groups: tuple[int, ...], path: str | None, fmt: str,
                  signal_type: str | None,
                  credentials_stdin: bool, flood_reports: int | None, flood_files: int | None,
                  flood_hours: int | None, fetch_every: int | None, as_json: bool) -> None:
    """Add exchange NAME filling BANK (audited; the credentials are not)."""
    if privacy_groups and api != "threatexchange":
        raise Failure("--privacy-group is for --api threatexchange")
    if api == "ncmec":
        config: dict[str, Any] = {"environment": environment, "url": url, "only_esp_ids": list(only_esp_ids)}
        if path or signal_type or fmt != "auto":
            raise Failure("--path, --format and --signal-type are for --api file")
    elif api == "stopncii":
        config = {"url": url}
        if path or signal_type or fmt != "auto" or environment or only_esp_ids:
            raise Failure("--api stopncii takes --url (another base URL than StopNCII's) and --credentials-stdin")
    elif api == "threatexchange":
        config = {"privacy_groups": list(privacy_groups), "url": url}
        if path or signal_type or fmt != "auto" or environment or only_esp_ids:
            raise Failure("--api threatexchange takes --privacy-group, --url (another Graph API base URL) and "
                          "--credentials-stdin")
    else:
        config = {"path": path, "url": url, "format": fmt, "signal_type": signal_type}
        if environment or only_esp_ids or credentials_stdin:
            raise Failure("--environment, --only-esp-id and --credentials-stdin are for --api ncmec, stopncii or "
                          "threatexchange")
    credentials = _read_secret() if credentials_stdin else None
    flood = {k: v for k, v in {"flood_reports": flood_reports, "flood_files": flood_files,
                                "flood_hours": flood_hours}.items() if v is not None}
    with _instance() as instance, instance.db.transaction() as session:
        from tipline.exchanges.registry import api_named

        checked = api_named(api).check_config(config)
        row = instance.exchanges.create(session, name, api, checked, bank, cli_actor(), credentials=credentials)
        row.config = {**row.config, **flood}
        if fetch_every is not None:
            row.config = {**row.config, "fetch_every_minutes": fetch_every}
        data = _summary(instance, session, row)
    emit(as_json, data, f"Exchange {name} ({api}) added; it fills bank {bank}. Fetch it with "
                        f"`tipline exchanges fetch {name}`." + (
                            "" if credentials or api == "file" else
                            f" Set its credentials first: `tipline exchanges set-credentials {name}`."))


@exchanges_group.command("set-credentials")
@click.argument("name")
def exchanges_set_credentials(name: str) -> None:
    """Read NAME's credentials (ncmec: USER:PASSWORD; stopncii: FETCH_KEY,SUBSCRIPTION_KEY[,FEEDBACK_KEY];
    threatexchange: APP_ID|SECRET) from standard input and seal them (audited; they are not)."""
    secret = _read_secret()
    with _instance() as instance, instance.db.transaction() as session:
        instance.exchanges.set_credentials(session, name, secret, cli_actor())
    click.echo(f"Credentials of {name} set.")


@exchanges_group.command("set-interval")
@click.argument("name")
@click.argument("minutes", type=click.IntRange(0, 7 * 24 * 60))
def exchanges_set_interval(name: str, minutes: int) -> None:
    """Have the workers (`tipline worker`) fetch NAME every MINUTES minutes (0: only `tipline exchanges fetch`)."""
    with _instance() as instance, instance.db.transaction() as session:
        instance.exchanges.set_fetch_interval(session, name, minutes, cli_actor())
    click.echo(f"Exchange {name} is fetched by the workers every {minutes} minutes." if minutes else
               f"Exchange {name} is fetched only by `tipline exchanges fetch`.")


@exchanges_group.command("enable")
@click.argument("name")
def exchanges_enable(name: str) -> None:
    """Fetch NAME again (`fetch` with no name fetches every enabled exchange)."""
    with _instance() as instance, instance.db.transaction() as session:
        instance.exchanges.set_enabled(session, name, True, cli_actor())
    click.echo(f"Exchange {name} enabled.")


@exchanges_group.command("disable")
@click.argument("name")
def exchanges_disable(name: str) -> None:
    """Stop fetching NAME (its entries keep matching; disable entries one by one to stop that)."""
    with _instance() as instance, instance.db.transaction() as session:
        instance.exchanges.set_enabled(session, name, False, cli_actor())
    click.echo(f"Exchange {name} disabled.")


def _summary(instance: Any, session: Any, row: Any) -> dict[str, Any]:
    from tipline.exchanges.apis import checkpoint_time
    from tipline.exchanges.periodic import DEFAULT_FETCH_MINUTES
    from tipline.store.tables import BankRow

    bank = session.get(BankRow, row.bank_id)
    checkpoint_ts = checkpoint_time(row.checkpoint)
    return {
        "name": row.name, "api": row.api, "bank": bank.name if bank else None, "enabled": row.enabled,
        "config": row.config, "has_credentials": row.sealed_credentials is not None, "state": row.state,
        "fetch_every_minutes": (row.config or {}).get("fetch_every_minutes", DEFAULT_FETCH_MINUTES),
        "last_fetch_started_at": row.last_fetch_started_at, "last_fetch_finished_at": row.last_fetch_finished_at,
        "last_success_at": row.last_success_at, "last_error": row.last_error,
        "checkpoint_time": checkpoint_ts, "totals": (row.counts or {}).get("total", {}),
        "entries": instance.exchanges.entry_counts(session, row),
    }


@exchanges_group.command("list")
@json_option
def exchanges_list(as_json: bool) -> None:
    """Every exchange: its kind, bank, state and entries."""
    with _instance() as instance, instance.db.transaction() as session:
        data = [_summary(instance, session, row) for row in instance.exchanges.all(session)]

    def text() -> str:
        if not data:
            return "No exchanges (tipline exchanges add NAME --api ncmec|stopncii|threatexchange|file --bank BANK)."
        return "\n".join(
            f"{d['name']:<20} {d['api']:<14} bank {d['bank']:<16} {'enabled' if d['enabled'] else 'disabled':<8} "
            f"{d['state']:<8} {d['entries']['live']:,} entries, last success {_when(d['last_success_at'])}"
            for d in data)

    emit(as_json, data, text)


def _entry(row: Any) -> dict[str, Any]:
    return {"id": row.id, "remote_id": row.remote_id, "signal_type": row.signal_type, "value": row.value,
            "bank_entry_id": row.bank_entry_id, "tags": row.tags, "first_seen": row.first_seen,
            "last_seen": row.last_seen, "deleted_at": row.deleted_at, "feedback": row.feedback,
            "feedback_reason": row.feedback_reason, "feedback_by": row.feedback_by,
            "feedback_sent": row.feedback_sent, "feedback_error": row.feedback_error, "hold": row.hold,
            "hold_reason": row.hold_reason, "hold_at": row.hold_at, "released_by": row.released_by}


@exchanges_group.command("status")
@click.argument("name")
@click.option("--problems", "problem_limit", type=click.IntRange(0, 10_000), default=20, show_default=True,
              help="How many of the latest problems to name.")
@json_option
def exchanges_status(name: str, problem_limit: int, as_json: bool) -> None:
    """NAME's last fetch, checkpoint, entries, and the input it could not apply, named per entry."""
    with _instance() as instance, instance.db.transaction() as session:
        row = instance.exchanges.get(session, name)
        data = _summary(instance, session, row)
        data["problems"] = [{"at": p.at, "kind": p.kind, "remote_id": p.remote_id, "detail": p.detail}
                            for p in instance.exchanges.problems(session, row, problem_limit)]
        data["held"] = [_entry(e) for e in instance.exchanges.entries(session, row, state="held", limit=100)]
        data["rejected"] = [_entry(e) for e in instance.exchanges.entries(session, row, state="rejected", limit=100)]

    def text() -> str:
        d = data
        checkpoint = (datetime.fromtimestamp(d["checkpoint_time"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                      if d["checkpoint_time"] else "none")
        e, t = d["entries"], d["totals"]
        lines = [f"{d['name']} ({d['api']}) -> bank {d['bank']}: {'enabled' if d['enabled'] else 'disabled'}, "
                 f"{d['state']}",
                 f"  last fetch {_when(d['last_fetch_started_at'])}, last success {_when(d['last_success_at'])}, "
                 f"checkpoint {checkpoint}",
                 f"  entries: {e['live']:,} live, {e['deleted']:,} deleted, {e['confirmed']} confirmed, "
                 f"{e['rejected']} rejected, {e['held']} held",
                 f"  applied in all: {t.get('added', 0):,} added, {t.get('updated', 0):,} updated, "
                 f"{t.get('deleted', 0):,} deleted"]
        if d["last_error"]:
            lines.append(f"  last error: {d['last_error']}")
        if t.get("problems"):
            lines.append("  not applied: " + ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in t["problems"].items()))
        lines += [f"    {p['remote_id'] or '-'}: {p['kind'].replace('_', ' ')}: {p['detail']}" for p in d["problems"]]
        lines += [f"  held: entry {h['id']} ({h['remote_id']}, {h['signal_type']}): {h['hold_reason']}" for h in d["held"]]
        return "\n".join(lines)

    emit(as_json, data, text)


@exchanges_group.command("entries")
@click.argument("name")
@click.option("--state", type=click.Choice(["all", "held", "confirmed", "rejected", "deleted", "feedback_pending"]),
              default="all", show_default=True)
@click.option("--remote-id", help="Only this entry of the exchange.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@json_option
def exchanges_entries(name: str, state: str, remote_id: str | None, limit: int, as_json: bool) -> None:
    """NAME's entries with their provenance (first and last seen, tags), feedback and quarantine."""
    with _instance() as instance, instance.db.transaction() as session:
        row = instance.exchanges.get(session, name)
        data = [_entry(e) for e in instance.exchanges.entries(
            session, row, state=None if state == "all" else state, limit=limit, remote_id=remote_id)]

    def text() -> str:
        return "\n".join(
            f"{d['id']:>8} {d['remote_id']:<24} {d['signal_type']:<9} bank entry {d['bank_entry_id']:<8} "
            + ("deleted " if d["deleted_at"] else "")
            + (f"{d['feedback']} (sent: {d['feedback_sent']}) " if d["feedback"] else "")
            + (f"{d['hold']} " if d["hold"] else "") + f"first seen {_when(d['first_seen'])}"
            for d in data) or "No entries."

    emit(as_json, data, text)


@exchanges_group.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--max-pages", type=click.IntRange(1), help="Stop after this many pages (the next fetch goes on).")
@click.option("--no-rematch", is_flag=True, help="Do not match reports again against what is new.")
@click.option("--progress/--no-progress", default=None, help="A progress bar on stderr (default: on a terminal).")
@json_option
def exchanges_fetch(names: tuple[str, ...], max_pages: int | None, no_rematch: bool, progress: bool | None,
                    as_json: bool) -> None:
    """Fetch NAMES (default: every enabled exchange) from their checkpoints: apply new, changed and deleted
    entries, match reports again, and send the exchange pending feedback. Exit 1 if a fetch failed."""
    from tipline.exchanges.fetch import FetchBusy, fetch_exchange

    results = []
    with _instance() as instance:
        if not names:
            with instance.db.transaction() as session:
                names = tuple(row.name for row in instance.exchanges.all(session) if row.enabled)
        for name in names:
            bar = tqdm(unit=" entries", desc=name, file=sys.stderr,
                       disable=not (progress if progress is not None else sys.stderr.isatty()))
            def advance(page: Any, _result: Any, bar: Any = bar) -> None:
                bar.update(len(page.entries))

            try:
                outcome = fetch_exchange(instance, name, rematch=not no_rematch, max_pages=max_pages, on_page=advance)
            except FetchBusy as error:
                raise Failure(str(error)) from None
            finally:
                bar.close()
            results.append(outcome.as_dict())

    def text() -> str:
        lines = []
        for r in results:
            head = (f"{r['exchange']}: {r['pages']} pages, {r['added']:,} added, {r['updated']:,} updated, "
                    f"{r['deleted']:,} deleted, {r['unchanged']:,} unchanged")
            if r["problems"]:
                head += "; not applied: " + ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in r["problems"].items())
            lines.append(head)
            if r["rematched_reports"]:
                lines.append(f"  matched {len(r['rematched_reports'])} reports again")
            if r["feedback"].get("sent") or r["feedback"].get("failed"):
                lines.append(f"  feedback sent {r['feedback']['sent']}, failed {r['feedback']['failed']}")
            if r["error"]:
                lines.append(f"  stopped: {r['error']} (the next fetch resumes from the last page applied)")
        return "\n".join(lines) or "No enabled exchanges."

    emit(as_json, results, text)
    if any(r["error"] for r in results):
        sys.exit(1)


def _feedback(entry_id: int, confirmed: bool, reason: str | None, as_json: bool) -> None:
    with _instance() as instance:
        with instance.db.transaction() as session:
            row = instance.exchanges.record_feedback(session, entry_id, confirmed, cli_actor(), reason)
            data = _entry(row)
        _rematch(instance, data["bank_entry_id"])
    emit(as_json, data, f"Entry {data['id']} ({data['remote_id']}) {data['feedback']}"
                        + ("; it no longer matches here" if not confirmed else "")
                        + ("; the exchange is told at the next fetch (or send-feedback)."
                           if data["feedback_sent"] == "pending" else "; this exchange takes no feedback."))


@exchanges_group.command("confirm")
@click.argument("entry_id", type=int)
@click.option("--reason", help="What the analyst saw (kept here; sent where the exchange takes it).")
@json_option
def exchanges_confirm(entry_id: int, reason: str | None, as_json: bool) -> None:
    """An analyst confirms ENTRY_ID (an exchange entry, or the bank entry it fills): the file it matched
    was what the entry says. Releases it if it was held."""
    _feedback(entry_id, True, reason, as_json)


@exchanges_group.command("reject")
@click.argument("entry_id", type=int)
@click.option("--reason", help="Why (e.g. 'not CSAM: a cartoon'); sent where the exchange takes it.")
@json_option
def exchanges_reject(entry_id: int, reason: str | None, as_json: bool) -> None:
    """An analyst rejects ENTRY_ID: the file it matched was not what the entry says. It stops matching
    here at once, and the exchange is told (NCMEC: a downvote) at the next fetch or send-feedback."""
    _feedback(entry_id, False, reason, as_json)


@exchanges_group.command("send-feedback")
@click.argument("name")
@json_option
def exchanges_send_feedback(name: str, as_json: bool) -> None:
    """Send NAME the confirmations and rejections it has not had (failed ones are tried again)."""
    from tipline.exchanges.fetch import send_pending_feedback

    with _instance() as instance:
        data = send_pending_feedback(instance, name)
    emit(as_json, data, f"Feedback sent: {data['sent']}, failed: {data['failed']}.")
    if data["failed"]:
        sys.exit(1)


@exchanges_group.command("release")
@click.argument("entry_id", type=int)
@json_option
def exchanges_release(entry_id: int, as_json: bool) -> None:
    """A person releases a held entry: its matches count again (triage, alerts); it is not held again."""
    from tipline.exchanges.fetch import rescore_after_release

    with _instance() as instance, instance.db.transaction() as session:
        row = instance.exchanges.release(session, entry_id, cli_actor())
        data = _entry(row)
        data["reports"] = rescore_after_release(instance, session, row.bank_entry_id)
    emit(as_json, data, f"Entry {data['id']} released; its matches count again "
                        f"({len(data['reports'])} reports scored again).")


@exchanges_group.command("disable-entry")
@click.argument("entry_id", type=int)
@json_option
def exchanges_disable_entry(entry_id: int, as_json: bool) -> None:
    """Stop ENTRY_ID matching here (a held entry stays disabled; the exchange is not told: use reject)."""
    with _instance() as instance:
        with instance.db.transaction() as session:
            row = instance.exchanges.disable_entry(session, entry_id, cli_actor())
            data = _entry(row)
        _rematch(instance, data["bank_entry_id"])
    emit(as_json, data, f"Entry {data['id']} disabled; it no longer matches.")


def _rematch(instance: Any, bank_entry_id: int) -> None:
    from tipline.exchanges.fetch import rematch_after_fetch

    rematch_after_fetch(instance, [], [bank_entry_id])
