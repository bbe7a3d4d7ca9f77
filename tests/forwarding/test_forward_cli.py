"""`tipline destinations` and `tipline forward` as a user runs them (in this process, with click's runner),
against a second tipline over real HTTP; and a forwarding process killed mid-upload (a real process),
then run again, never leaves two filed reports."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from forwarding_support import facts, file_digests, remote_reports, remote_tipline, report_with_files
from sqlalchemy import select
from support import CommandRun, instance_env, run_tipline, tipline_command

from tipline.instance import Instance
from tipline.store.tables import AuditEventRow


def run(instance: Instance, *args: str, stdin: str | None = None) -> CommandRun:
    return run_tipline(instance_env(instance), *args, stdin=stdin)


def test_destinations_and_forward_commands(sqlite_instance: Instance, tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    instance = sqlite_instance
    report_id = report_with_files(instance)
    with remote_tipline(tmp_path, request) as remote:
        added = run(instance, "destinations", "add", "partner", "--url", remote.url, "--username", remote.username,
                    "--password-stdin", "--json", stdin=remote.password + "\n")
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["environment"] == "test"
        assert remote.password not in added.stdout + added.stderr

        refused = run(instance, "destinations", "add", "prod", "--url", remote.url, "--username", "x",
                      "--password-stdin", "--production", stdin="secret\n")
        assert refused.returncode != 0 and "must use https://" in refused.stderr

        listed = run(instance, "destinations", "list", "--json")
        assert [d["name"] for d in json.loads(listed.stdout)] == ["partner"]
        assert remote.password not in listed.stdout

        tested = run(instance, "destinations", "test", "partner", "--json")
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert json.loads(tested.stdout)["message"].startswith("Remote User : partner-hotline")

        forwarded = run(instance, "forward", str(report_id), "--to", "partner", "--wait", "--json")
        assert forwarded.returncode == 0, forwarded.stdout + forwarded.stderr
        result = json.loads(forwarded.stdout)
        (arrived,) = remote_reports(remote.instance)
        assert {key: result[key] for key in ("destination", "remote_report_id", "status")} == {
            "destination": "partner", "remote_report_id": str(arrived.id), "status": "finished"}
        assert file_digests(remote.instance, arrived.id) == file_digests(instance, report_id)

        again = run(instance, "forward", str(report_id), "--to", "partner", "--json")
        assert again.returncode != 0 and f"their report {arrived.id}" in again.stderr
        assert len(remote_reports(remote.instance)) == 1

    with instance.db.transaction() as session:
        details = [e.details for e in session.execute(select(AuditEventRow)).scalars()
                   if e.action.startswith("destination.")]
    assert details and all(remote.password not in json.dumps(d) for d in details)


class SlowSecondUpload:
    """Wraps the destination: its second upload is held (the forwarder is killed meanwhile) until
    released, and then refused as if the connection had dropped before the file was stored."""

    def __init__(self) -> None:
        import threading

        self.uploads = 0
        self.release = threading.Event()

    def __call__(self, app: Any) -> Any:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"].endswith("/upload"):
                self.uploads += 1
                if self.uploads == 2:
                    while not self.release.is_set():
                        await asyncio.sleep(0.05)
            await app(scope, receive, send)

        return wrapped


def test_process_killed_mid_upload_leaves_one_filed_report(sqlite_instance: Instance, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    instance = sqlite_instance
    report_id = report_with_files(instance)
    slow = SlowSecondUpload()
    with remote_tipline(tmp_path, request, app_wrapper=slow) as remote:
        assert run(instance, "destinations", "add", "partner", "--url", remote.url, "--username", remote.username,
                   "--password-stdin", stdin=remote.password).returncode == 0
        process = subprocess.Popen([*tipline_command(), "forward", str(report_id), "--to", "partner", "--wait"],
                                   env=instance_env(instance), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while slow.uploads < 2 and time.monotonic() < deadline:  # the second file is on its way
            time.sleep(0.05)
        assert slow.uploads == 2, "the forwarding did not reach its second upload"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        slow.release.set()
        (first,) = remote_reports(remote.instance)
        assert first.state == "open"  # submitted, one file in, never finished

        resumed = run(instance, "forward", str(report_id), "--to", "partner", "--wait", "--json")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        result = json.loads(resumed.stdout)
        reports = remote_reports(remote.instance)
        filed = [r for r in reports if r.state != "retracted"]
        assert len(filed) == 1 and filed[0].state == "received"
        assert result["remote_report_id"] == str(filed[0].id)
        assert [r.id for r in reports if r.state == "retracted"] == [first.id]  # the unfinishable one
        assert file_digests(remote.instance, filed[0].id) == file_digests(instance, report_id)
        assert facts(remote.instance, filed[0].id) == facts(instance, report_id)
