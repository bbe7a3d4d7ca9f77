"""The `tipline` command: set up, run and manage an instance from the shell."""

from __future__ import annotations

import os
import sys

import click

from tipline import __version__
from tipline.cli.agencies import agencies_group
from tipline.cli.audit import audit
from tipline.cli.banks import banks_group
from tipline.cli.common import Failure, emit, json_option, open_instance
from tipline.cli.db import db
from tipline.cli.enticement import enticement_group
from tipline.cli.esp import esp
from tipline.cli.exchanges import exchanges_group
from tipline.cli.export import export
from tipline.cli.follow_ups import follow_ups_group, resources_group
from tipline.cli.forwarding import destinations_group, forward
from tipline.cli.jobs import jobs
from tipline.cli.media import hash_command
from tipline.cli.partners import partners_group
from tipline.cli.referrals import referral_group
from tipline.cli.takedown import takedown_group
from tipline.cli.trends import stats_group, trends_group
from tipline.cli.triage import triage_group
from tipline.cli.users import users
from tipline.cli.victims import clusters_group, series_group


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
        from tipline.pipeline.engine.procrastinate_backend import run_worker

        run_worker(instance, concurrency=concurrency)
        return
    from tipline.pipeline.engine.inprocess import InProcessWorker

    embedded = InProcessWorker(instance, threads=concurrency, outbound=True)  # exchanges fetched here, not in `serve`
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


# --- demo ----------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reports", "report_count", default=300, show_default=True, type=click.IntRange(10, 100_000),
              help="How many synthetic reports to load the first time.")
@click.option("--no-serve", is_flag=True, help="Load the demo and print the logins, but do not serve.")
@click.option("--history-years", default=3, show_default=True, type=click.IntRange(0, 5),
              help="Years of decided reports to add beside them the first time, for the trends pages.")
@json_option
def demo(host: str, port: int, report_count: int, no_serve: bool, history_years: int, as_json: bool) -> None:
    """Set up a demo instance: database, synthetic reports through the real intake path, logins; then serve."""
    from tipline.demo.setup import DemoRefused, prepare_demo

    instance = open_instance(upgrade=True)
    try:
        result = prepare_demo(instance, report_count, progress=not as_json, history_years=history_years)
    except DemoRefused as error:
        raise Failure(str(error)) from None
    url = f"http://{host}:{port}"
    emit(as_json, {"url": url, **result.to_dict()}, lambda: result.describe(url))
    if no_serve:
        return
    import uvicorn

    from tipline.web.app import create_app

    uvicorn.run(create_app(instance), host=host, port=port, log_level="warning")


# Each command group lives in its own module of this package; registering one is one line here.
main.add_command(db)
main.add_command(users)
main.add_command(esp)
main.add_command(audit)
main.add_command(jobs)
main.add_command(export)
main.add_command(hash_command)
main.add_command(banks_group)
main.add_command(exchanges_group)
main.add_command(enticement_group)
main.add_command(agencies_group)
main.add_command(referral_group)
main.add_command(series_group)
main.add_command(clusters_group)
main.add_command(trends_group)
main.add_command(stats_group)
main.add_command(resources_group)
main.add_command(follow_ups_group)
main.add_command(destinations_group)
main.add_command(forward)
main.add_command(partners_group)
main.add_command(triage_group)
main.add_command(takedown_group)
