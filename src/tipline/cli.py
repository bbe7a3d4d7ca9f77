"""The `tipline` command: set up, run and manage an instance from the shell."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from tipline import __version__
from tipline.banks_cli import banks_group
from tipline.config import ConfigError, load_settings
from tipline.domain.audit import Actor
from tipline.domain.roles import USER_ROLES, Role
from tipline.enticement.cli import enticement_group
from tipline.followup.commands import follow_ups_group, resources_group
from tipline.media.cli import hash_command
from tipline.referral.cli import agencies_group, referral_group


class Failure(click.ClickException):
    """A command that could not do its work; the message says why and what to do."""


def cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        user = "unknown"
    return Actor.system(f"cli:{user}")


def open_instance(*, upgrade: bool = False) -> Any:
    """The instance named by the environment; refuses an out-of-date schema unless upgrading."""
    from tipline.instance import Instance
    from tipline.keyfiles import KeyFileError
    from tipline.store.schema import SchemaOutOfDate, require_current
    from tipline.store.schema import upgrade as run_upgrade

    try:
        instance = Instance(load_settings(), tighten_permissions=upgrade)
        for command in instance.tightened:
            click.echo(f"Made private (others could read it): {command}", err=True)
        if upgrade:
            run_upgrade(instance.db)
        require_current(instance.db)
    except (ConfigError, KeyFileError, SchemaOutOfDate) as error:
        raise Failure(str(error)) from None
    return instance


def emit(as_json: bool, data: Any, text: str | Callable[[], str]) -> None:
    """Print a result for people, or as JSON for scripts."""
    if as_json:
        click.echo(json.dumps(data, default=str))
    else:
        click.echo(text() if callable(text) else text)


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(function)


def handles_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    from tipline.store.accounts import AccountError

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (AccountError, ConfigError) as error:
            raise Failure(str(error)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tipline")
def main() -> None:
    """tipline: a self-hostable hotline for reports of child sexual exploitation.

    Configuration comes from TIPLINE_* environment variables; by default everything lives under
    ./var (TIPLINE_DATA_DIR): the SQLite database, the encrypted file store and the keys.
    Set TIPLINE_DATABASE_URL to use PostgreSQL.
    """
    # Whatever a command writes (database, its -wal and -shm, files, packages) is its owner's only;
    # the previous umask comes back when the command ends (it matters when called in-process).
    previous = os.umask(0o077)
    click.get_current_context().call_on_close(lambda: os.umask(previous))


# --- database ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create and upgrade the database schema."""


@db.command("upgrade")
@json_option
def db_upgrade(as_json: bool) -> None:
    """Create the database, or bring its schema up to date (safe to run again)."""
    from tipline.instance import Instance
    from tipline.keyfiles import KeyFileError
    from tipline.store.schema import upgrade

    try:
        instance = Instance(load_settings(), tighten_permissions=True)
        before, after = upgrade(instance.db)
        if instance.settings.job_backend == "procrastinate":
            from tipline.pipeline.procrastinate_backend import ensure_schema

            ensure_schema(instance.db)
    except (ConfigError, KeyFileError) as error:
        raise Failure(str(error)) from None
    url = instance.db.engine.url.render_as_string(hide_password=True)
    tightened = "".join(f"\nMade private (others could read it): {command}" for command in instance.tightened)
    emit(as_json, {"database": url, "from": before, "to": after, "permissions_tightened": instance.tightened},
         (f"Database {url}: schema {'created at' if before is None else f'upgraded from {before} to'} {after}."
          if before != after else f"Database {url}: schema already at {after}.") + tightened)


@db.command("status")
@json_option
def db_status(as_json: bool) -> None:
    """Show which database is configured and whether its schema is current."""
    from tipline.instance import Instance
    from tipline.keyfiles import KeyFileError
    from tipline.store.schema import current_revision, head_revision

    try:
        instance = Instance(load_settings())
    except (ConfigError, KeyFileError) as error:
        raise Failure(str(error)) from None
    current, head = current_revision(instance.db), head_revision()
    url = instance.db.engine.url.render_as_string(hide_password=True)
    emit(as_json, {"database": url, "current": current, "head": head, "up_to_date": current == head},
         f"Database {url}: schema {current or 'not created'}; this version needs {head}."
         + ("" if current == head else " Run `tipline db upgrade`."))


# --- running -------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Web processes (PostgreSQL only; SQLite runs one).")
@click.option("--no-pipeline", is_flag=True, help="Do not run the embedded pipeline worker in this process.")
def serve(host: str, port: int, workers: int, no_pipeline: bool) -> None:
    """Serve the web workspace and the APIs (with the embedded pipeline worker by default)."""
    import uvicorn

    from tipline.web.serving import uvicorn_options

    instance = open_instance()
    if workers > 1 and instance.settings.is_sqlite:
        raise Failure("--workers above 1 needs PostgreSQL (TIPLINE_DATABASE_URL); SQLite serves from one process")
    if workers > 1:
        import os

        os.environ["TIPLINE_SERVE_PIPELINE"] = "0" if no_pipeline else "1"
        uvicorn.run("tipline.web.factory:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, log_level="info", **uvicorn_options(instance.settings))
        return
    from tipline.web.app import create_app

    app = create_app(instance, run_worker=not no_pipeline)
    click.echo(f"tipline {__version__} serving on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info", **uvicorn_options(instance.settings))


@main.command()
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at the same time by this worker.")
@click.option("--drain", is_flag=True, help="Run until no job is queued, then exit (embedded mode).")
def worker(concurrency: int, drain: bool) -> None:
    """Run pipeline jobs: procrastinate workers on PostgreSQL (TIPLINE_JOB_BACKEND=procrastinate),
    or the embedded worker loop on SQLite."""
    instance = open_instance()
    if instance.settings.job_backend == "procrastinate":
        from tipline.pipeline.procrastinate_backend import run_worker

        run_worker(instance, concurrency=concurrency)
        return
    from tipline.pipeline.inprocess import InProcessWorker

    embedded = InProcessWorker(instance, threads=concurrency)
    if drain:
        finished = embedded.drain()
        click.echo("pipeline drained" if finished else "pipeline still busy after the time limit", err=True)
        sys.exit(0 if finished else 1)
    embedded.start()
    click.echo(f"embedded pipeline worker running with {concurrency} thread(s); Ctrl-C to stop", err=True)
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        embedded.stop()


# --- people and accounts -------------------------------------------------------------------------


@main.group()
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


@main.group()
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


# --- audit ---------------------------------------------------------------------------------------


@main.group()
def audit() -> None:
    """Check the hash-chained audit trail."""


@audit.command("verify")
@click.option("--expect-head", metavar="HASH",
              help="A head hash kept outside the database (printed by an earlier verify or checkpoint): "
                   "exit 1 unless the chain's head is it or the chain contains it.")
@click.option("--checkpoints", "checkpoints_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Checkpoint file to compare the chain with (default: audit-checkpoints.log in the data directory).")
@json_option
def audit_verify(expect_head: str | None, checkpoints_path: Path | None, as_json: bool) -> None:
    """Verify every event's seals, the chain's order, its sealed head, that every report has its
    events and that the chain agrees with the signed checkpoints kept outside the database.
    Exits 0 when intact, 1 naming each problem when tampered with (and 2 on a usage error)."""
    instance = open_instance()
    checkpoints = instance.audit.read_checkpoints(checkpoints_path or instance.audit_checkpoints_path)
    with instance.db.read_session() as session:  # intake carries on while the chain is walked
        result = instance.audit.verify(session, checkpoints=checkpoints, expect_head=expect_head)
    lines = [f"Checked {result.checked} events and {result.checkpoints} checkpoints; "
             f"head is event {result.head_seq} ({result.head_hash})."]
    if result.unsealed:
        lines.append(f"{result.unsealed} newer events are not chained yet (the oldest from "
                     f"{result.oldest_unsealed_at:%Y-%m-%d %H:%M:%S} UTC); their content seals were checked.")
    lines += ["The audit chain is intact."] if result.ok else [f"TAMPERED: {p.message}" for p in result.problems]
    emit(as_json, result.to_dict(), "\n".join(lines))
    if not result.ok:
        sys.exit(1)


@audit.command("checkpoint")
@json_option
def audit_checkpoint(as_json: bool) -> None:
    """Seal waiting events and append a signed checkpoint of the chain's head to the checkpoint file
    (the periodic maintenance does this every few minutes); prints it. Copy it somewhere else too."""
    from tipline.store.audit import write_checkpoint

    instance = open_instance()
    instance.audit.seal_pending(instance.db)
    line = write_checkpoint(instance.audit, instance.db, instance.audit_checkpoints_path)
    with instance.db.read_session() as session:
        current = line or instance.audit.checkpoint_line(session)
    emit(as_json, current, lambda: "No events yet." if current is None else
         f"Head is event {current['seq']} ({current['hash']}); newest report {current['reports']}.")


# --- pipeline ------------------------------------------------------------------------------------


@main.group()
def jobs() -> None:
    """Look at and retry pipeline jobs."""


@jobs.command("status")
@json_option
def jobs_status(as_json: bool) -> None:
    """Count jobs by status and list the ones that failed for good."""
    instance = open_instance()
    with instance.db.transaction() as session:
        counts = instance.jobs.counts(session)
        failed = [{"id": j.id, "report_id": j.report_id, "stage": j.stage, "attempts": j.attempts,
                   "error": j.last_error} for j in instance.jobs.failed(session)]
    emit(as_json, {"counts": counts, "failed": failed}, lambda: "\n".join(
        [", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "No jobs."]
        + [f"failed job {f['id']} (report {f['report_id']}, {f['stage']}): {f['error']}" for f in failed]))


@jobs.command("retry")
@click.argument("job_id", type=int)
@json_option
def jobs_retry(job_id: int, as_json: bool) -> None:
    """Queue a failed job again."""
    instance = open_instance()
    with instance.db.transaction() as session:
        retried = instance.jobs.retry(session, job_id)
    if not retried:
        raise Failure(f"job {job_id} does not exist or has not failed")
    emit(as_json, {"id": job_id, "status": "queued"}, f"Job {job_id} queued again.")


@jobs.command("expire-open")
@json_option
def jobs_expire_open(as_json: bool) -> None:
    """Retract and purge unfinished API reports past their expiry (24 h after opening or 1 h after
    the last change, whichever is later); the server runs this periodically by itself."""
    from tipline.intake.cybertipline.expiry import expire_open_reports

    instance = open_instance()
    result = expire_open_reports(instance)
    emit(as_json, result.to_dict(),
         f"Expired {len(result.expired)} unfinished report(s), removed {result.files_removed} file(s), "
         f"deleted {result.blobs_deleted} unreferenced file content(s).")


# --- export --------------------------------------------------------------------------------------


@main.group()
def export() -> None:
    """Export reports in other formats (to forward them to NCMEC or another hotline)."""


@export.command("cybertipline")
@click.argument("report_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the <report> document here instead of to standard output.")
@click.option("--with-file-details", is_flag=True,
              help="Also write each file's <fileDetails> next to --output, as OUTPUT_STEM.file-FILEID.xml.")
def export_cybertipline(report_id: int, output: str | None, with_file_details: bool) -> None:
    """Write a report as a CyberTipline <report> document that validates against the XSD.
    The read is audited as a report read by the command line."""
    from pathlib import Path

    from tipline.intake.cybertipline.export import export_report
    from tipline.store.reports import ReportNotFound

    if with_file_details and output is None:
        raise Failure("--with-file-details writes several documents: give --output PATH for the report")
    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            exported = export_report(instance, session, report_id, cli_actor(), with_file_details=with_file_details)
    except ReportNotFound:
        raise Failure(f"report {report_id} does not exist") from None
    if output is None:
        sys.stdout.buffer.write(exported.report_xml)
        return
    target = Path(output)
    target.write_bytes(exported.report_xml)
    written = [str(target)]
    for file_id, document in exported.file_details_xml.items():
        path = target.with_name(f"{target.stem}.file-{file_id}.xml")
        path.write_bytes(document)
        written.append(str(path))
    click.echo("Wrote " + ", ".join(written), err=True)


# --- demo ----------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reports", "report_count", default=300, show_default=True, type=click.IntRange(10, 100_000),
              help="How many synthetic reports to load the first time.")
@click.option("--no-serve", is_flag=True, help="Load the demo and print the logins, but do not serve.")
@json_option
def demo(host: str, port: int, report_count: int, no_serve: bool, as_json: bool) -> None:
    """Set up a demo instance: database, synthetic reports through the real intake path, logins; then serve."""
    from tipline.demo.setup import DemoRefused, prepare_demo

    instance = open_instance(upgrade=True)
    try:
        result = prepare_demo(instance, report_count, progress=not as_json)
    except DemoRefused as error:
        raise Failure(str(error)) from None
    url = f"http://{host}:{port}"
    emit(as_json, {"url": url, **result.to_dict()}, lambda: result.describe(url))
    if no_serve:
        return
    import uvicorn

    from tipline.web.app import create_app

    uvicorn.run(create_app(instance), host=host, port=port, log_level="warning")



main.add_command(hash_command)
main.add_command(banks_group)
main.add_command(enticement_group)
main.add_command(agencies_group)
main.add_command(referral_group)
main.add_command(resources_group)
main.add_command(follow_ups_group)

if __name__ == "__main__":
    main()
