"""Benchmark: complete CyberTipline API transactions against a running tipline server.

One transaction is what a service provider does for one report with one file: POST /ispws/submit
(a realistic <report>), POST /ispws/upload (a 200 KB benign generated file, multipart), POST
/ispws/fileinfo (<fileDetails>) and POST /ispws/finish. Several client processes run transactions
back to back over keep-alive connections for a fixed time; the benchmark prints complete
transactions per second and the p50/p99 latency of a whole transaction (and of each call).

The clients speak HTTP/1.1 with the standard library's http.client over keep-alive connections
and build the same requests an ESP's code sends (HTTP Basic, text/xml documents, multipart/form-data
for upload and finish). They run on the same cores as the server, so their own cost is kept small:
a real service provider's client runs on its own machines. `--client requests` uses the requests
library instead (as earlier versions of this benchmark did; about 5 ms more client CPU per
transaction on the 2-core development machine).

By default it starts `tipline serve` itself on a temporary data directory (SQLite), or on a
throwaway PostgreSQL database with --database-url (created, then dropped), with --workers server
processes. With --url it measures a server you run yourself (give --user/--password).

    .venv/bin/python benchmarks/intake.py                                  # SQLite, 1 server process
    .venv/bin/python benchmarks/intake.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --workers 2 --clients 8
    .venv/bin/python benchmarks/intake.py --url http://127.0.0.1:8000 --user chirp --password ...

Traffic goes only to the server's address (localhost when the benchmark starts it); the run is
bounded by --seconds. The embedded pipeline worker is off by default (--pipeline turns it on), so
the figures are those of the intake path itself.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from throwaway import throwaway_postgres  # benchmarks/throwaway.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
FILE_SIZE = 200 * 1024
REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <platform>Pixelgram</platform>
    <incidentDateTime>2026-10-15T08:00:00-07:00</incidentDateTime>
  </incidentSummary>
  <internetDetails><webPageIncident><url>https://pixelgram.example/p/{n}</url></webPageIncident></internetDetails>
  <reporter><reportingPerson><firstName>Trust</firstName><lastName>Team</lastName>
    <email>safety@pixelgram.example</email></reportingPerson></reporter>
  <personOrUserReported>
    <espIdentifier>user-{n}</espIdentifier>
    <screenName>bench_user_{n}</screenName>
    <ipCaptureEvent><ipAddress>198.51.100.{m}</ipAddress><eventName>Upload</eventName>
      <dateTime>2026-10-15T07:59:00Z</dateTime></ipCaptureEvent>
  </personOrUserReported>
</report>
"""
FILE_DETAILS = """<?xml version="1.0" encoding="UTF-8"?>
<fileDetails><reportId>{report_id}</reportId><fileId>{file_id}</fileId>
<originalFileName>upload-{n}.bin</originalFileName><fileRelevance>Reported</fileRelevance>
<ipCaptureEvent><ipAddress>198.51.100.{m}</ipAddress><eventName>Upload</eventName>
<dateTime>2026-10-15T07:59:00Z</dateTime></ipCaptureEvent></fileDetails>
"""
XML = {"Content-Type": "text/xml; charset=utf-8"}
STEPS = ("submit", "upload", "fileinfo", "finish")


def benign_file(seed: int) -> bytes:
    """200 KB of deterministic pseudo-random bytes (a different file each transaction)."""
    block = hashlib.sha256(f"tipline-bench-{seed}".encode()).digest()
    return (block * (FILE_SIZE // len(block) + 1))[: FILE_SIZE - 8] + seed.to_bytes(8, "big")


def _field(text: str, name: str) -> str:
    start = text.index(f"<{name}>") + len(name) + 2
    return text[start: text.index(f"</{name}>", start)]


@dataclass
class ClientResult:
    transactions: list[float]
    steps: dict[str, list[float]]
    errors: int
    first_error: str | None
    cpu_seconds: float = 0.0


def reference_cpu_ms() -> float:
    """CPU milliseconds this process takes for a fixed piece of work (SHA-256 and a Python loop,
    like the server's mix): the same on a given host whatever the load, so runs made at different
    times can be told apart by the host's speed rather than by tipline's cost. Measured before and
    after the window, with no transactions running."""
    started = time.process_time()
    digest = b"tipline"
    for _ in range(100_000):
        digest = hashlib.sha256(digest).digest()
    total = 0
    for i in range(500_000):
        total += i * i
    return (time.process_time() - started) * 1000


def process_cpu(match: Callable[[int, str, int], bool], system_only: bool = False) -> float:
    """CPU seconds (user + system, or system only) of the live processes `match(pid, cmdline, pgrp)`
    selects."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if match(int(entry.name), cmdline, int(fields[2])):
            total += ((0 if system_only else int(fields[11])) + int(fields[12])) / ticks
    return total


class LightClient:
    """The four calls of a transaction over one keep-alive connection (http.client), with the
    bodies built as an ESP's HTTP library sends them."""

    def __init__(self, url: str, user: str, password: str) -> None:
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/") + "/ispws"
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.connection: http.client.HTTPConnection | None = None

    def post(self, endpoint: str, body: bytes, content_type: str) -> tuple[int, str]:
        if self.connection is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.connection = kind(self.host, self.port, timeout=60)
        try:
            self.connection.request("POST", f"{self.prefix}/{endpoint}", body=body, headers={
                "Authorization": self.auth, "Content-Type": content_type, "Accept": "*/*"})
            response = self.connection.getresponse()
            return response.status, response.read().decode()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise

    @staticmethod
    def multipart(fields: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
        """(name, file name or None, value) parts as multipart/form-data, and its Content-Type."""
        boundary = secrets.token_hex(16)
        chunks = []
        for name, file_name, value in fields:
            disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            if file_name:
                head += "Content-Type: application/octet-stream\r\n"
            chunks += [head.encode(), b"\r\n", value, b"\r\n"]
        chunks.append(f"--{boundary}--\r\n".encode())
        return b"".join(chunks), f"multipart/form-data; boundary={boundary}"

    def transaction(self, n: int, marks: list[float]) -> None:
        status, text = self.post("submit", REPORT.format(n=n, m=n % 250).encode(), XML["Content-Type"])
        assert status == 200, text
        report_id = _field(text, "reportId")
        marks.append(time.perf_counter())
        content = benign_file(n)
        body, content_type = self.multipart([("id", None, report_id.encode()),
                                             ("file", f"upload-{n}.bin", content)])
        status, text = self.post("upload", body, content_type)
        assert status == 200, text
        file_id = _field(text, "fileId")
        assert _field(text, "hash") == hashlib.md5(content).hexdigest()
        marks.append(time.perf_counter())
        status, text = self.post("fileinfo", FILE_DETAILS.format(report_id=report_id, file_id=file_id, n=n,
                                                                 m=n % 250).encode(), XML["Content-Type"])
        assert status == 200, text
        marks.append(time.perf_counter())
        body, content_type = self.multipart([("id", None, report_id.encode())])
        status, text = self.post("finish", body, content_type)
        assert status == 200 and "<responseCode>0</responseCode>" in text, text
        marks.append(time.perf_counter())


class RequestsClient:
    """The same transaction with the requests library (heavier on the client's CPU)."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.http = requests.Session()
        self.http.auth = (user, password)
        self.base = f"{url}/ispws"

    def transaction(self, n: int, marks: list[float]) -> None:
        http, base = self.http, self.base
        r = http.post(f"{base}/submit", data=REPORT.format(n=n, m=n % 250).encode(), headers=XML)
        assert r.status_code == 200, r.text
        report_id = _field(r.text, "reportId")
        marks.append(time.perf_counter())
        content = benign_file(n)
        r = http.post(f"{base}/upload", data={"id": report_id},
                      files={"file": (f"upload-{n}.bin", content, "application/octet-stream")})
        assert r.status_code == 200, r.text
        file_id = _field(r.text, "fileId")
        assert _field(r.text, "hash") == hashlib.md5(content).hexdigest()
        marks.append(time.perf_counter())
        r = http.post(f"{base}/fileinfo", headers=XML, data=FILE_DETAILS.format(
            report_id=report_id, file_id=file_id, n=n, m=n % 250).encode())
        assert r.status_code == 200, r.text
        marks.append(time.perf_counter())
        r = http.post(f"{base}/finish", files={"id": (None, report_id)})
        assert r.status_code == 200 and "<responseCode>0</responseCode>" in r.text, r.text
        marks.append(time.perf_counter())


CLIENTS = {"light": LightClient, "requests": RequestsClient}


def run_client(url: str, user: str, password: str, warm_from: float, start_at: float, stop_at: float,
               number: int, queue: multiprocessing.Queue, kind: str = "light") -> None:  # type: ignore[type-arg]
    client = CLIENTS[kind](url, user, password)
    result = ClientResult([], {s: [] for s in STEPS}, 0, None)
    n = number * 1_000_000
    while time.time() < warm_from:
        time.sleep(0.001)
    while time.time() < stop_at:
        n += 1
        began = time.perf_counter()
        marks = [began]
        try:
            client.transaction(n, marks)
        except Exception as error:  # noqa: BLE001 - counted and shown
            result.errors += 1
            result.first_error = result.first_error or repr(error)[:500]
            continue
        if start_at <= time.time() <= stop_at:  # transactions completed inside the measured window
            result.transactions.append(marks[-1] - began)
            for step, (a, b) in zip(STEPS, zip(marks, marks[1:], strict=False), strict=True):
                result.steps[step].append(b - a)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_seconds = usage.ru_utime + usage.ru_stime
    queue.put(result)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --- the server --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tipline(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tipline.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"tipline {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@contextmanager
def started_server(database_url: str | None, workers: int, pipeline: bool
                   ) -> Iterator[tuple[str, str, str, Callable[[], dict[str, float]]]]:
    data_dir = Path(tempfile.mkdtemp(prefix="tipline-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env["TIPLINE_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(ROOT / "src")
    server = None
    try:
        with (throwaway_postgres(database_url) if database_url else _nothing()) as url:
            if url:
                env["TIPLINE_DATABASE_URL"] = url
            _tipline(env, "db", "upgrade")
            account = json.loads(_tipline(env, "esp", "add", "benchmark", "--json"))
            port = _free_port()
            command = [sys.executable, "-m", "tipline.cli", "serve", "--port", str(port), "--workers", str(workers)]
            if not pipeline:
                command.append("--no-pipeline")
            server_log = tempfile.TemporaryFile()
            server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=server_log,
                                      start_new_session=True)
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
            else:
                server_log.seek(0)
                raise SystemExit("the server did not start: " + server_log.read().decode(errors="replace")[-2000:])
            database = url.rsplit("/", 1)[1] if url else None

            def server_cpu() -> dict[str, float]:
                cpu = {"server": process_cpu(lambda _pid, _cmd, pgrp: pgrp == server.pid),
                       "server_system": process_cpu(lambda _pid, _cmd, pgrp: pgrp == server.pid, system_only=True)}
                if database:
                    cpu["postgres"] = process_cpu(lambda _pid, cmd, _pgrp: cmd.startswith("postgres:")
                                                  and f" {database} " in cmd)
                return cpu

            try:
                yield base, account["username"], account["password"], server_cpu
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def measure(url: str, user: str, password: str, clients: int, seconds: float, warmup: float,
            server_cpu: Callable[[], dict[str, float]] | None = None, client: str = "light") -> dict[str, object]:
    reference_before = reference_cpu_ms()
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 1.0 + warmup
    stop_at = start_at + seconds
    # Warm-up: the same clients run before the window; only transactions completed inside it count.
    processes = [multiprocessing.Process(target=run_client,
                                         args=(url, user, password, start_at - warmup, start_at, stop_at, i, queue,
                                               client))
                 for i in range(clients)]
    for process in processes:
        process.start()
    while time.time() < start_at:
        time.sleep(0.01)
    cpu_before = server_cpu() if server_cpu else {}
    while time.time() < stop_at:
        time.sleep(0.01)
    cpu_after = server_cpu() if server_cpu else {}
    results = [queue.get(timeout=seconds + warmup + 120) for _ in processes]
    for process in processes:
        process.join()
    reference_after = reference_cpu_ms()
    transactions = [t for r in results for t in r.transactions]
    errors = sum(r.errors for r in results)
    steps = {s: [v for r in results for v in r.steps[s]] for s in STEPS}
    return {
        "clients": clients,
        "client": client,
        "seconds": seconds,
        "transactions": len(transactions),
        "tx_per_s": len(transactions) / seconds,
        "p50_ms": percentile(transactions, 0.50) * 1000,
        "p99_ms": percentile(transactions, 0.99) * 1000,
        "steps_p50_ms": {s: round(percentile(v, 0.50) * 1000, 1) for s, v in steps.items()},
        "steps_p99_ms": {s: round(percentile(v, 0.99) * 1000, 1) for s, v in steps.items()},
        "errors": errors,
        # CPU milliseconds per complete transaction (server and PostgreSQL: inside the window only;
        # clients: their whole run, warm-up included, divided by all their transactions)
        "cpu_ms_per_tx": {
            **{name: round((cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / max(1, len(transactions)), 1)
               for name in cpu_after},
            "clients": round(sum(r.cpu_seconds for r in results) * 1000
                             / max(1, len(transactions) * (seconds + warmup) / seconds), 1),
        },
        "load_average": os.getloadavg(),
        # the host's speed: CPU ms of a fixed piece of work before and after the run (lower is faster)
        "reference_cpu_ms": [round(reference_before), round(reference_after)],
        "first_error": next((r.first_error for r in results if r.first_error), None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="Measure this running server instead of starting one.")
    parser.add_argument("--user", help="API account name (with --url).")
    parser.add_argument("--password", help="API account secret (with --url).")
    parser.add_argument("--database-url", help="PostgreSQL admin URL: a throwaway database is created on it.")
    parser.add_argument("--workers", type=int, default=1, help="Server processes (PostgreSQL only).")
    parser.add_argument("--clients", type=int, default=8, help="Client processes.")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="light",
                        help="HTTP client of the client processes (default: light, the standard library's).")
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of the measured window.")
    parser.add_argument("--warmup", type=float, default=3.0, help="Seconds of warm-up before the window.")
    parser.add_argument("--pipeline", action="store_true", help="Run the embedded pipeline worker in the server.")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    args = parser.parse_args()

    if args.url:
        if not (args.user and args.password):
            raise SystemExit("--url needs --user and --password")
        result = measure(args.url.rstrip("/"), args.user, args.password, args.clients, args.seconds, args.warmup,
                         client=args.client)
        backend = "given server"
    else:
        with started_server(args.database_url, args.workers, args.pipeline) as (url, user, password, cpu):
            result = measure(url, user, password, args.clients, args.seconds, args.warmup, cpu, args.client)
        backend = "PostgreSQL" if args.database_url else "SQLite"
    result.update({"backend": backend, "server_workers": args.workers, "pipeline": args.pipeline,
                   "file_bytes": FILE_SIZE})
    if args.json:
        print(json.dumps(result))
        return
    print(f"{backend}: {args.clients} client processes ({args.client} client), {args.workers} server worker(s), "
          f"pipeline {'on' if args.pipeline else 'off'}, {FILE_SIZE // 1024} KB file per report")
    print(f"  {result['transactions']} complete transactions: {result['tx_per_s']:.1f} tx/s, "
          f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, errors {result['errors']}")
    print(f"  per call p50 (ms): {result['steps_p50_ms']}")
    print(f"  per call p99 (ms): {result['steps_p99_ms']}")
    print(f"  CPU ms per transaction: {result['cpu_ms_per_tx']}; load average {result['load_average']}")
    print(f"  host reference: {result['reference_cpu_ms']} ms of CPU for a fixed piece of work before/after "
          "(compare runs only at similar values)")
    if result["first_error"]:
        print(f"  first error: {result['first_error']}")


if __name__ == "__main__":
    main()
