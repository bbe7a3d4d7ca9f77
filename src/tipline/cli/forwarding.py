"""The `tipline destinations` commands (the CyberTipline-compatible services reports can be forwarded
to) and `tipline forward` (forward a report to one of them)."""

from __future__ import annotations

import sys
import time

import click

from tipline.cli.common import Failure, cli_actor, emit, json_option, open_instance


@click.group("destinations")
def destinations_group() -> None:
    """Services reports can be forwarded to: NCMEC's CyberTipline or a partner hotline's tipline.

    A destination is a test or a production service; its password is kept sealed with this
    instance's forwarding key and is never printed."""


def _read_password() -> str:
    if sys.stdin.isatty():
        raise Failure("--password-stdin reads the password from standard input: pipe it in "
                      "(e.g. `pass show ncmec | tipline destinations add ...`)")
    return sys.stdin.readline(1001)


@destinations_group.command("add")
@click.argument("name")
@click.option("--url", required=True, help="The API's base URL, e.g. https://exttest.cybertip.org/ispws.")
@click.option("--username", required=True, help="The account the destination gave this hotline.")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@click.option("--production", is_flag=True,
              help="A production service (HTTPS required). Without it the destination is a test service.")
@json_option
def destinations_add(name: str, url: str, username: str, password_stdin: bool, production: bool,
                     as_json: bool) -> None:
    """Add a destination NAME at URL. The change is audited; the password is not."""
    from tipline.forwarding import destinations

    password = _read_password()
    instance = open_instance()
    environment = destinations.PRODUCTION if production else destinations.TEST
    try:
        with instance.db.transaction() as session:
            row = destinations.add(instance, session, name, url, username, password, cli_actor(),
                                   environment=environment)
            shown = destinations.view(row)
    except destinations.DestinationError as error:
        raise Failure(str(error)) from None
    emit(as_json, shown.as_json(), f"Added {shown.name} ({shown.environment} service at {shown.base_url}, "
                                   f"as {shown.username}). Check it with `tipline destinations test {shown.name}`.")


@destinations_group.command("list")
@json_option
def destinations_list(as_json: bool) -> None:
    """List the destinations (never their passwords)."""
    from tipline.forwarding import destinations

    instance = open_instance()
    with instance.db.transaction() as session:
        shown = [destinations.view(row) for row in destinations.listing(session)]
    emit(as_json, [item.as_json() for item in shown], lambda: "\n".join(
        f"{item.name}\t{item.environment}\t{item.base_url}\t{item.username}"
        + ("" if item.active else "\t(switched off)") for item in shown) or "No destinations yet.")


@destinations_group.command("test")
@click.argument("name")
@json_option
def destinations_test(name: str, as_json: bool) -> None:
    """Connect to NAME's /status with its credentials and say what it answered."""
    from tipline.forwarding import destinations
    from tipline.forwarding.client import RemoteFailure
    from tipline.forwarding.credentials import CredentialError

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            row = destinations.find(session, name)
            client = destinations.client_for(instance, row)
            url = row.base_url
    except (destinations.DestinationError, CredentialError) as error:
        raise Failure(str(error)) from None
    started = time.monotonic()
    try:
        with client:
            answer = client.status()
        ok, message = True, answer.description
    except RemoteFailure as failure:
        ok, message = False, str(failure)
    elapsed_ms = round((time.monotonic() - started) * 1000)
    with instance.db.transaction() as session:
        instance.audit.append(session, cli_actor(), "destination.tested",
                              details={"destination": name, "ok": ok, "message": message[:500]})
    result = {"destination": name, "url": url, "ok": ok, "message": message, "milliseconds": elapsed_ms}
    emit(as_json, result, f"{name}: {'connected' if ok else 'FAILED'} in {elapsed_ms} ms: {message}")
    if not ok:
        sys.exit(1)


@destinations_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the new password from standard input.")
def destinations_set_password(name: str, password_stdin: bool) -> None:
    """Change NAME's password (audited; the password is not)."""
    from tipline.forwarding import destinations

    password = _read_password()
    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            destinations.set_password(instance, session, name, password, cli_actor())
    except destinations.DestinationError as error:
        raise Failure(str(error)) from None
    click.echo(f"Changed the password of {name}.")


@destinations_group.command("set-environment")
@click.argument("name")
@click.argument("environment", type=click.Choice(["test", "production"]))
@click.option("--url", default=None, help="The other service's base URL (NCMEC's test and production differ).")
@json_option
def destinations_set_environment(name: str, environment: str, url: str | None, as_json: bool) -> None:
    """Switch NAME between its test and production service (audited)."""
    from tipline.forwarding import destinations

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            shown = destinations.view(destinations.set_environment(instance, session, name, environment,
                                                                   cli_actor(), url=url))
    except destinations.DestinationError as error:
        raise Failure(str(error)) from None
    emit(as_json, shown.as_json(), f"{shown.name} is now a {shown.environment} service at {shown.base_url}.")


@click.command("forward")
@click.argument("report_id", type=int)
@click.option("--to", "destination", required=True, help="The destination's name (see `tipline destinations list`).")
@click.option("--wait", is_flag=True,
              help="Do the forwarding in this command (as a worker would) and wait for its outcome; "
                   "without it a worker does it.")
@click.option("--timeout", default=600, show_default=True, type=click.IntRange(1, 86_400),
              help="With --wait: seconds to wait for another worker that holds the forwarding.")
@json_option
def forward(report_id: int, destination: str, wait: bool, timeout: int, as_json: bool) -> None:
    """Forward report REPORT_ID to a destination. Prints the destination, their report ID (once
    they gave one) and the status: queued, sending, waiting (a retry is scheduled), finished or
    needs_attention. With --wait, exits 0 once forwarded, 3 while a retry is scheduled, 1 when a
    person must act."""
    from tipline.forwarding.job import ACTIVE_STATES, FINISHED, QUEUED, SENDING, stage_name
    from tipline.forwarding.service import ForwardingError, request_forwarding, view_of
    from tipline.pipeline.engine.jobs import new_worker_id
    from tipline.pipeline.engine.runner import run_next_of_stage
    from tipline.store.reports import ReportNotFound

    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            forwarding, _created = request_forwarding(instance, session, report_id, destination, cli_actor())
    except ReportNotFound:
        raise Failure(f"report {report_id} does not exist") from None
    except ForwardingError as error:
        raise Failure(str(error)) from None
    if wait:
        owner = new_worker_id()
        with instance.db.transaction() as session:  # a worker killed on this host: resume its forwarding now
            instance.jobs.release_dead_leases(session)
        run_next_of_stage(instance, owner, report_id, stage_name(forwarding.id))
        deadline = time.monotonic() + timeout
        while True:
            with instance.db.transaction() as session:
                forwarding = view_of(session, forwarding.id)
            if forwarding.state not in (QUEUED, SENDING) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
            run_next_of_stage(instance, owner, report_id, stage_name(forwarding.id))
    result = forwarding.as_json()
    emit(as_json, result, lambda: _describe(forwarding.destination, forwarding.remote_report_id, forwarding.state,
                                            forwarding.last_error))
    if wait and forwarding.state != FINISHED:  # 3: still under way (a retry is scheduled); 1: a person must act
        sys.exit(3 if forwarding.state in ACTIVE_STATES else 1)


def _describe(destination: str, remote_report_id: str | None, state: str, error: str | None) -> str:
    from tipline.forwarding.job import STATE_LABELS

    text = f"{destination}: {STATE_LABELS.get(state, state)}"
    if remote_report_id:
        text += f" (their report {remote_report_id})"
    if error and state not in ("finished", "queued"):
        text += f"\n{error}"
    return text
