"""Benchmark: how long N reports take to pass every pipeline stage with procrastinate workers.

On a throwaway PostgreSQL database (created, then dropped) with TIPLINE_JOB_BACKEND=procrastinate,
the script starts --workers `tipline worker` processes, files --reports reports (each queues its
first stage, handed to procrastinate after commit), and waits until every report is awaiting
review. It prints the wall time and how many "could not hand job" errors the workers logged
(each one is a stage hand-off that only the once-a-minute sweep picks up).

    .venv/bin/python benchmarks/pipeline_workers.py --reports 20 --workers 2              # workers up first
    .venv/bin/python benchmarks/pipeline_workers.py --reports 20 --workers 2 --file-first # jobs due at start
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from throwaway import throwaway_postgres  # benchmarks/throwaway.py, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import sample_content  # noqa: E402 - tests/support.py: a benign synthetic report


def _wait_for_workers(instance: object, count: int, workers: list[subprocess.Popen[bytes]]) -> None:
    """Wait until `count` procrastinate workers have registered (their app is open)."""
    from sqlalchemy import text

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and all(worker.poll() is None for worker in workers):
        with instance.db.engine.connect() as connection:  # type: ignore[attr-defined]
            if connection.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one() >= count:
                return
        time.sleep(0.2)
    raise SystemExit("the workers did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL admin URL: a throwaway database is created on it.")
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--file-first", action="store_true",
                        help="File the reports while the workers start (jobs are due when they open).")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    from tipline.config import load_settings
    from tipline.domain.audit import Actor, ActorType
    from tipline.domain.lifecycle import ReportState
    from tipline.domain.report import ReportContent, ReportSource
    from tipline.domain.roles import Role
    from tipline.instance import Instance
    from tipline.intake.submission import submit_report
    from tipline.pipeline.engine.backend import connect_job_backend
    from tipline.pipeline.engine.procrastinate_backend import ensure_schema
    from tipline.store.accounts import Principal
    from tipline.store.schema import upgrade

    esp = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP)
    with throwaway_postgres(args.database_url) as url, tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
        env |= {"TIPLINE_DATA_DIR": data_dir, "TIPLINE_DATABASE_URL": url, "TIPLINE_JOB_BACKEND": "procrastinate",
                "TIPLINE_ARGON2_TIME_COST": "1", "TIPLINE_ARGON2_MEMORY_KIB": "1024"}
        instance = Instance(load_settings(env))
        upgrade(instance.db)
        ensure_schema(instance.db)
        connect_job_backend(instance)  # this process files the reports: it hands their jobs over
        logs = [Path(data_dir) / f"worker-{n}.log" for n in range(args.workers)]
        workers = [subprocess.Popen([sys.executable, "-m", "tipline.cli", "worker", "--concurrency",
                                     str(args.concurrency)], env=env, stdout=subprocess.DEVNULL,
                                    stderr=log.open("wb")) for log in logs]
        try:
            if not args.file_first:
                _wait_for_workers(instance, args.workers, workers)  # the figure is the pipeline's, not start-up's
            started = time.monotonic()
            report_ids = []
            for _ in range(args.reports):
                with instance.db.transaction() as session:
                    report_ids.append(submit_report(instance, session,
                                                    ReportContent.model_validate(sample_content()),
                                                    ReportSource.ESP_JSON, esp).id)
            filed = time.monotonic() - started
            while time.monotonic() - started < args.timeout:
                with instance.db.transaction() as session:
                    waiting = sum(instance.reports.row(session, rid).state != ReportState.AWAITING_REVIEW
                                  for rid in report_ids)
                if not waiting:
                    break
                time.sleep(0.2)
            elapsed = time.monotonic() - started
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGINT)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
            instance.close()
        text = "".join(log.read_text(errors="replace") for log in logs)
        failed = len(re.findall(r"could not hand job \d+ to procrastinate", text))
        print(f"reports={args.reports} workers={args.workers} concurrency={args.concurrency}")
        print(f"filed in {filed:.1f} s; all awaiting review after {elapsed:.1f} s "
              f"({'done' if not waiting else f'{waiting} still waiting'})")
        print(f"failed hand-offs logged by workers: {failed} (AppNotOpen: {text.count('exceptions.AppNotOpen')})")


if __name__ == "__main__":
    main()
