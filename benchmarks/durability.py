"""Benchmark: does an acknowledged report survive kill -9 of the server and the workers?

On each backend it starts `tipline serve` on a temporary data directory: on SQLite with the embedded
pipeline worker; on PostgreSQL (a throwaway database, created then dropped) with --no-pipeline and
separate `tipline worker` processes (TIPLINE_JOB_BACKEND=procrastinate), as README's scale-out
section runs them. Client threads submit a bounded number of reports (paced by --rate), half as JSON
(POST /api/v1/reports, with an Idempotency-Key that stays the same across retries) and half through
the CyberTipline-compatible XML API (POST /ispws/submit then /ispws/finish). Each submission carries
a unique marker in its content. A client that gets no answer (connection refused or reset, a
timeout, a 5xx) retries the same submission, as a service provider's client does, until it is
acknowledged or the submission's time runs out.

Meanwhile, at random moments, the server and (on PostgreSQL) the workers are killed with SIGKILL and
restarted, several times. When the load is done the server and workers run on, undisturbed, for a
drain period; then the benchmark reads the database and reports:

  acknowledged        submissions the server acknowledged (201 from JSON; ISPWS finish answered 0,
                      or 5102 "already finished" to a retried finish)
  lost                acknowledged, but the report id is not in the database, does not hold the
                      submission's marker, or is not finished
  duplicated          markers stored in more than one finished report (a retry that created a second
                      report); `open_orphans` counts the open reports an unanswered ISPWS submit left
                      behind (they hold no finished report and expire with `tipline jobs expire-open`)
  stuck               pipeline jobs still queued or running, and finished reports still `received` or
                      `processing`, after the drain: it ends when the pipeline is empty, when no job
                      has finished for --stall-seconds (stuck), or after --drain-seconds (then the
                      figures say whether the pipeline was still working through a backlog);
                      `failed_jobs` those parked as failed
  audit               the verdict of `tipline audit verify`

It exits 1 if anything acknowledged is lost or the audit fails.

    .venv/bin/python benchmarks/durability.py                  # SQLite and PostgreSQL, a few minutes each
    .venv/bin/python benchmarks/durability.py --backend sqlite --submissions 400 --kills 3
    .venv/bin/python benchmarks/durability.py --json

Traffic goes only to the server it started on 127.0.0.1. The run is bounded by --submissions and
--seconds per backend. TIPLINE_JOB_LEASE_SECONDS is set to --lease-seconds (default 10) so that the
jobs a killed process held are taken over within the drain period.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from intake import REPORT, LightClient, _field, _free_port, _tipline  # benchmarks/intake.py, beside this script
from throwaway import throwaway_postgres  # benchmarks/throwaway.py

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARKER = re.compile(r"dur-[0-9a-f]{6}-\d{6}")
FINISHED_STATES_STUCK = ("received", "processing")


def json_report(marker: str, n: int) -> dict[str, Any]:
    """A benign report as JSON, the marker in the reported user's identifiers."""
    return {
        "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts", "platform": "Chirp",
                            "incidentDateTime": "2026-10-15T08:00:00-07:00"},
        "internetDetails": [{"webPageIncident": {"url": [f"https://chirp.example/p/{marker}"]}}],
        "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Team", "email": ["safety@chirp.example"]}},
        "personOrUserReported": [{"espIdentifier": f"user-{marker}", "screenName": f"bench_user_{marker}",
                                  "ipCaptureEvent": [{"ipAddress": f"198.51.100.{n % 250}", "eventName": "Login",
                                                      "dateTime": "2026-10-14T22:00:00Z"}]}],
    }


@dataclass
class Submission:
    marker: str
    kind: str  # json or xml
    report_id: int | None = None
    acknowledged: bool = False
    attempts: int = 0
    outcome: str = "pending"  # acknowledged, gave_up, rejected
    detail: str = ""


class Client:
    """One client thread's connection to the server; a new one after any failure."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.port = port
        self.auth = LightClient("http://127.0.0.1", user, password).auth
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.connection.request("POST", path, body=body, headers={"Authorization": self.auth, **headers})
            response = self.connection.getresponse()
            text = response.read().decode(errors="replace")
            if response.getheader("connection", "").lower() == "close" or response.status >= 500:
                self.close()
            return response.status, text
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Unanswered(Exception):
    """No usable answer (no connection, reset, timeout, 5xx): the client tries again."""


def call(client: Client, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    try:
        status, text = client.post(path, body, headers)
    except (OSError, http.client.HTTPException) as error:
        raise Unanswered(type(error).__name__) from None
    if status >= 500 or status in (408, 409, 429):
        raise Unanswered(f"HTTP {status}")
    return status, text


def submit_json(client: Client, sub: Submission, n: int, give_up_at: float) -> None:
    body = json.dumps(json_report(sub.marker, n)).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    while time.time() < give_up_at:
        sub.attempts += 1
        try:
            status, text = call(client, "/api/v1/reports", body, headers)
        except Unanswered as error:
            sub.detail = str(error)
            time.sleep(0.3)
            continue
        if status == 201:
            sub.report_id, sub.acknowledged, sub.outcome = json.loads(text)["reportId"], True, "acknowledged"
        else:
            sub.outcome, sub.detail = "rejected", f"HTTP {status}: {text[:200]}"
        return
    sub.outcome = "gave_up"


def submit_xml(client: Client, sub: Submission, n: int, give_up_at: float) -> None:
    xml = REPORT.format(n=sub.marker, m=n % 250).encode()
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    while sub.report_id is None and time.time() < give_up_at:
        sub.attempts += 1
        try:
            status, text = call(client, "/ispws/submit", xml, headers)
        except Unanswered as error:
            sub.detail = str(error)
            time.sleep(0.3)
            continue
        if status != 200 or "<reportId>" not in text:
            sub.outcome, sub.detail = "rejected", f"submit HTTP {status}: {text[:200]}"
            return
        sub.report_id = int(_field(text, "reportId"))
    retried = False
    while sub.report_id is not None and time.time() < give_up_at:
        sub.attempts += 1
        body, content_type = LightClient.multipart([("id", None, str(sub.report_id).encode())])
        try:
            status, text = call(client, "/ispws/finish", body, {"Content-Type": content_type})
        except Unanswered as error:
            sub.detail, retried = str(error), True
            time.sleep(0.3)
            continue
        code = _field(text, "responseCode") if "<responseCode>" in text else "?"
        if code == "0" or (retried and code == "5102"):  # 5102: a finish whose answer was lost did commit
            sub.acknowledged, sub.outcome = True, "acknowledged"
        else:
            sub.outcome, sub.detail = "rejected", f"finish HTTP {status} code {code}: {text[:200]}"
        return
    sub.outcome = "gave_up"


# --- the processes ----------------------------------------------------------------------------------


class Cluster:
    """`tipline serve` and (on PostgreSQL) `tipline worker` processes, each in its own process group so
    that SIGKILL takes all of it at once."""

    def __init__(self, env: dict[str, str], port: int, workers: int, logs: Path) -> None:
        self.env, self.port, self.workers, self.logs = env, port, workers, logs
        self.server: subprocess.Popen[bytes] | None = None
        self.worker_processes: list[subprocess.Popen[bytes]] = []
        self.starts = Counter[str]()

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.starts[name] += 1
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        return subprocess.Popen([sys.executable, "-m", "tipline.cli", *args], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_server(self) -> None:
        command = ["serve", "--port", str(self.port)] + (["--no-pipeline"] if self.workers else [])
        self.server = self._spawn("server", *command)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.server.poll() is not None:
                break
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
        tail = (self.logs / "server.log").read_text(errors="replace")[-2000:]
        raise SystemExit(f"the server did not start:\n{tail}")

    def start_workers(self) -> None:
        self.worker_processes = [self._spawn(f"worker{i}", "worker", "--concurrency", "2")
                                 for i in range(self.workers)]

    @staticmethod
    def _kill(process: subprocess.Popen[bytes] | None) -> None:
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def kill_server(self) -> None:
        self._kill(self.server)

    def kill_workers(self) -> None:
        for process in self.worker_processes:
            self._kill(process)

    def stop(self) -> None:
        for process in [self.server, *self.worker_processes]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [self.server, *self.worker_processes]:
            if process is None:
                continue
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._kill(process)


@dataclass
class Kills:
    server: int = 0
    workers: int = 0
    moments: list[float] = field(default_factory=list)  # seconds into the load


def killer(cluster: Cluster, rng: random.Random, kills: int, gap: tuple[float, float], started: float,
           done: threading.Event, record: Kills) -> None:
    kinds = ["server", "workers", "both"] if cluster.workers else ["server"]
    targets = (kinds * kills)[:kills]  # each kind of kill in turn, in a random order
    rng.shuffle(targets)
    for target in targets:
        if done.wait(rng.uniform(*gap)):
            return
        record.moments.append(round(time.time() - started, 1))
        if target in ("server", "both"):
            cluster.kill_server()
            record.server += 1
        if target in ("workers", "both"):
            cluster.kill_workers()
            record.workers += 1
        time.sleep(rng.uniform(0.0, 1.0))
        if target in ("workers", "both"):
            cluster.start_workers()
        if target in ("server", "both"):
            cluster.start_server()


# --- one run ----------------------------------------------------------------------------------------


def examine(database_url: str, submissions: list[Submission]) -> dict[str, Any]:
    """What the database holds for the submissions."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, state, content FROM reports")).all()
            jobs = dict(connection.execute(text("SELECT status, count(*) FROM pipeline_jobs GROUP BY status")).all())
    finally:
        engine.dispose()
    by_id: dict[int, tuple[str, set[str]]] = {}
    reports_of: dict[str, list[tuple[int, str]]] = {}
    for report_id, state, content in rows:
        document = content if isinstance(content, str) else json.dumps(content)
        markers = set(MARKER.findall(document))
        by_id[report_id] = (state, markers)
        for marker in markers:
            reports_of.setdefault(marker, []).append((report_id, state))
    lost: list[dict[str, Any]] = []
    for sub in submissions:
        if not sub.acknowledged:
            continue
        state, markers = by_id.get(sub.report_id or -1, (None, set()))
        if state is None or sub.marker not in markers or state in ("open", "retracted"):
            lost.append({"marker": sub.marker, "kind": sub.kind, "report_id": sub.report_id, "state": state})
    duplicated = {m: ids for m, ids in reports_of.items() if sum(1 for _, s in ids if s != "open") > 1}
    orphans = sum(1 for ids in reports_of.values() for _, s in ids if s == "open")
    unacknowledged_stored = sum(1 for sub in submissions if not sub.acknowledged and sub.marker in reports_of)
    return {
        "reports_in_database": len(rows),
        "lost": len(lost),
        "lost_examples": lost[:10],
        "duplicated": len(duplicated),
        "duplicated_by_kind": dict(Counter(next(s.kind for s in submissions if s.marker == m) for m in duplicated)),
        "duplicated_examples": dict(list(duplicated.items())[:5]),
        "open_orphans": orphans,
        "unacknowledged_but_stored": unacknowledged_stored,
        "unfinished_jobs": sum(jobs.get(status, 0) for status in ("queued", "running")),
        "failed_jobs": jobs.get("failed", 0),
        "jobs": jobs,
        "unfinished_reports": sum(1 for state, _ in by_id.values() if state in FINISHED_STATES_STUCK),
    }


def drain(database_url: str, seconds: float, stall: float) -> dict[str, Any]:
    """Wait until no job is queued or running and no finished report waits for the pipeline; or until
    no job has finished for `stall` seconds (stuck); or `seconds` at most (a backlog still draining)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    began = last_progress = time.time()
    last_done, busy = -1, -1
    try:
        while time.time() - began < seconds and time.time() - last_progress < stall:
            with engine.connect() as connection:
                busy, done = connection.execute(text(
                    "SELECT (SELECT count(*) FROM pipeline_jobs WHERE status IN ('queued', 'running'))"
                    " + (SELECT count(*) FROM reports WHERE state IN ('received', 'processing')),"
                    " (SELECT count(*) FROM pipeline_jobs WHERE status IN ('done', 'failed'))")).one()
            if not busy:
                break
            if done != last_done:
                last_done, last_progress = done, time.time()
            time.sleep(1)
    finally:
        engine.dispose()
    return {"drained_in_seconds": round(time.time() - began, 1), "drained": busy == 0,
            "still_progressing": busy != 0 and time.time() - last_progress < stall}


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(f"{args.seed}-{backend}")
    run = secrets.token_hex(3)
    data_dir = Path(tempfile.mkdtemp(prefix=f"tipline-durability-{backend}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update({"TIPLINE_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT / "src"),
                "TIPLINE_JOB_LEASE_SECONDS": str(args.lease_seconds)})
    workers = args.workers if backend == "postgresql" else 0
    with ExitStack() as stack:
        if backend == "postgresql":
            url = stack.enter_context(throwaway_postgres(args.database_url, prefix="tipline_durability", keep=args.keep))
            env.update({"TIPLINE_DATABASE_URL": url, "TIPLINE_JOB_BACKEND": "procrastinate"})
        else:
            url = f"sqlite:///{data_dir / 'tipline.db'}"
        if not args.keep:
            stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        _tipline(env, "db", "upgrade")
        account = json.loads(_tipline(env, "esp", "add", "durability", "--json"))
        logs = data_dir / "logs"
        logs.mkdir()
        cluster = Cluster(env, _free_port(), workers, logs)
        stack.callback(cluster.stop)
        cluster.start_server()
        if workers:
            cluster.start_workers()

        submissions = [Submission(f"dur-{run}-{n:06d}", "json" if n % 2 == 0 else "xml")
                       for n in range(args.submissions)]
        next_index = iter(range(len(submissions)))
        lock = threading.Lock()
        started = time.time()
        stop_at = started + args.seconds

        def client_thread() -> None:
            client = Client(cluster.port, account["username"], account["password"])
            while time.time() < stop_at:
                with lock:
                    n = next(next_index, None)
                if n is None:
                    return
                sub = submissions[n]
                time.sleep(max(0.0, started + n / args.rate - time.time()))  # the load is paced
                try:
                    (submit_json if sub.kind == "json" else submit_xml)(client, sub, n, time.time() + args.give_up)
                except Exception as error:  # noqa: BLE001 - counted and shown
                    sub.outcome, sub.detail = "rejected", f"client error: {error!r}"[:300]
            client.close()

        done = threading.Event()
        kills = Kills()
        chaos = threading.Thread(target=killer, args=(cluster, rng, args.kills, (args.min_gap, args.max_gap), started,
                                                     done, kills))
        threads = [threading.Thread(target=client_thread) for _ in range(args.clients)]
        chaos.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_seconds = time.time() - started
        done.set()
        chaos.join()
        if cluster.server is None or cluster.server.poll() is not None:
            cluster.start_server()
        if workers and any(p.poll() is not None for p in cluster.worker_processes):
            cluster.kill_workers()
            cluster.start_workers()
        drained = drain(url, args.drain_seconds, args.stall_seconds)
        found = examine(url, submissions)
        verify = subprocess.run([sys.executable, "-m", "tipline.cli", "audit", "verify", "--json"], env=env,
                                capture_output=True, text=True, timeout=600)
        try:
            audit = json.loads(verify.stdout)
        except json.JSONDecodeError:
            audit = {"ok": False, "output": (verify.stdout + verify.stderr)[-1000:]}
        outcomes = Counter(sub.outcome for sub in submissions)
        acknowledged = [sub for sub in submissions if sub.acknowledged]
        return {
            "backend": backend,
            "submissions": args.submissions,
            "attempted": sum(1 for sub in submissions if sub.outcome != "pending"),
            "acknowledged": len(acknowledged),
            "acknowledged_by_kind": dict(Counter(sub.kind for sub in acknowledged)),
            "gave_up": outcomes.get("gave_up", 0),
            "rejected": outcomes.get("rejected", 0),
            "first_rejection": next((sub.detail for sub in submissions if sub.outcome == "rejected"), None),
            "retried": sum(1 for sub in submissions if sub.attempts > (1 if sub.kind == "json" else 2)),
            "load_seconds": round(load_seconds, 1),
            "acknowledged_per_s": round(len(acknowledged) / load_seconds, 1),
            "kills": asdict(kills),
            "process_starts": dict(cluster.starts),
            "worker_processes": workers,
            **drained,
            # unfinished work is stuck unless the pipeline was still working through a backlog at the end
            "stuck_jobs": 0 if drained["still_progressing"] else found["unfinished_jobs"],
            "stuck_reports": 0 if drained["still_progressing"] else found["unfinished_reports"],
            **found,
            "audit_ok": bool(audit.get("ok")),
            "audit": {k: v for k, v in audit.items() if k in ("ok", "events_checked", "head_seq", "problems", "output")},
        }


def describe(result: dict[str, Any]) -> str:
    kills = result["kills"]
    lines = [
        f"{result['backend']}: {result['attempted']} of {result['submissions']} submissions attempted in "
        f"{result['load_seconds']} s; {kills['server']} server kill(s), {kills['workers']} worker kill(s) "
        f"(at {kills['moments']} s)",
        f"  acknowledged {result['acknowledged']} {result['acknowledged_by_kind']} "
        f"({result['acknowledged_per_s']}/s), retried {result['retried']}, gave up {result['gave_up']}, "
        f"rejected {result['rejected']}",
        f"  lost {result['lost']}, duplicated {result['duplicated']} {result['duplicated_by_kind'] or ''}, "
        f"open orphans {result['open_orphans']}, unacknowledged but stored {result['unacknowledged_but_stored']}",
        f"  stuck jobs {result['stuck_jobs']}, stuck reports {result['stuck_reports']}, unfinished jobs "
        f"{result['unfinished_jobs']}, failed jobs "
        f"{result['failed_jobs']} ("
        + (f"drained in {result['drained_in_seconds']} s" if result["drained"] else
           f"after {result['drained_in_seconds']} s of drain, "
           + ("the pipeline still working through a backlog: not counted as stuck; give more --drain-seconds"
              if result["still_progressing"] else "no job finished for --stall-seconds: stuck"))
        + ")",
        f"  audit verify: {'intact' if result['audit_ok'] else 'FAILED'} "
        f"({result['audit'].get('events_checked', '?')} events checked)",
    ]
    if result["lost_examples"]:
        lines.append(f"  lost: {result['lost_examples']}")
    if result["first_rejection"]:
        lines.append(f"  first rejection: {result['first_rejection']}")
    if not result["audit_ok"]:
        lines.append(f"  audit: {result['audit']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES,
                        help=f"PostgreSQL admin URL: a throwaway database is created on it (default {DEFAULT_POSTGRES}).")
    parser.add_argument("--submissions", type=int, default=1000, help="Reports submitted per backend (half JSON).")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="Submissions started per second at most, so the kills fall throughout the load.")
    parser.add_argument("--seconds", type=float, default=150.0, help="Longest load phase per backend.")
    parser.add_argument("--clients", type=int, default=8, help="Client threads.")
    parser.add_argument("--workers", type=int, default=2, help="`tipline worker` processes (PostgreSQL).")
    parser.add_argument("--kills", type=int, default=6, help="kill -9 events per backend.")
    parser.add_argument("--min-gap", type=float, default=4.0,
                        help="Shortest wait before a kill, after the last restart (seconds).")
    parser.add_argument("--max-gap", type=float, default=12.0, help="Longest wait before a kill (seconds).")
    parser.add_argument("--give-up", type=float, default=90.0, help="A client gives up a submission after this long.")
    parser.add_argument("--lease-seconds", type=int, default=10, help="TIPLINE_JOB_LEASE_SECONDS for the run.")
    parser.add_argument("--drain-seconds", type=float, default=120.0,
                        help="Longest wait for the pipeline after the load.")
    parser.add_argument("--stall-seconds", type=float, default=60.0,
                        help="The drain ends early when no job has finished for this long (the rest are stuck).")
    parser.add_argument("--seed", default="tipline", help="Seed of the kill schedule.")
    parser.add_argument("--keep", action="store_true", help="Keep the data directory (logs, SQLite database) and the PostgreSQL database.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        result = run_backend(backend, args)
        results.append(result)
        if not args.json:
            print(describe(result), flush=True)
    if args.json:
        print(json.dumps({"results": results, "load_average": os.getloadavg()}))
    if any(r["lost"] or not r["audit_ok"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
