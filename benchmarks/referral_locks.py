"""How long other writers wait while a report is referred (its package drawn, evidence encrypted).

A report with one large synthetic evidence file (random bytes) is referred while another thread
writes small audited transactions every 20 ms, as intake and review do. Prints how long the referral
took and the bystander's write latencies during it. While the package was built inside the
referral's transaction, every other writer waited for the whole build (SQLite's write lock; on
PostgreSQL the audit head row); now only for the two short transactions around it.

    .venv/bin/python benchmarks/referral_locks.py --evidence-mb 64
    .venv/bin/python benchmarks/referral_locks.py --evidence-mb 64 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

from throwaway import throwaway_postgres  # benchmarks/throwaway.py, beside this script

CONTENT = {
    "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts", "platform": "Chirp",
                        "incidentDateTime": "2026-10-15T08:00:00Z"},
    "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Team", "email": ["safety@chirp.example"]}},
    "victim": [{"victimPerson": {"firstName": "Robin", "age": 13, "address": [
        {"city": "Springfield", "state": "IL", "country": "US", "type": "Home"}]}}],
}
DIRECTORY = ("code,name,type,country,region,city,contact_name,contact_email,contact_phone,public_key,active\n"
             "us-il-tf,Illinois Online Safety Task Force,state_task_force,US,IL,,,intake@il-tf.example,,{key},yes\n")


def run(database_url: str | None, evidence_mb: int) -> dict[str, float]:
    from tipline.config import load_settings
    from tipline.domain.audit import Actor, ActorType
    from tipline.domain.report import ReportContent, ReportSource
    from tipline.domain.roles import Role
    from tipline.instance import Instance
    from tipline.intake.submission import finish_report, submit_report
    from tipline.pipeline.engine.inprocess import InProcessWorker
    from tipline.referral.directory import import_directory
    from tipline.referral.keys import create_agency_key
    from tipline.referral.service import refer
    from tipline.store.accounts import Principal, api_principal
    from tipline.store.schema import upgrade

    actor = Actor.system("benchmark")
    with tempfile.TemporaryDirectory() as folder:
        values = {"TIPLINE_DATA_DIR": folder, "TIPLINE_ARGON2_TIME_COST": "1", "TIPLINE_ARGON2_MEMORY_KIB": "1024"}
        if database_url:
            values["TIPLINE_DATABASE_URL"] = database_url
        instance = Instance(load_settings(values))
        upgrade(instance.db)
        public = create_agency_key(Path(folder) / "agency.key")
        with instance.db.transaction() as session:
            import_directory(instance, session, DIRECTORY.format(key=base64.b64encode(public).decode()), actor)
            user, _ = instance.accounts.add_user(session, "ana", Role.ANALYST, actor, password="benchmark passphrase")
            account, _ = instance.accounts.add_api_account(session, "chirp", actor)
            esp = api_principal(account)
            analyst = Principal(actor=Actor(ActorType.USER, str(user.id), user.username), role=Role.ANALYST,
                                user_id=user.id, display_name=user.display_name)
            row = submit_report(instance, session, ReportContent.model_validate(CONTENT), ReportSource.ESP_JSON, esp,
                                finish=False)
            report_id = row.id
            instance.files.add(session, report_id, os.urandom(evidence_mb << 20), file_name="evidence.bin",
                               actor=esp.actor)
            finish_report(instance, session, report_id, esp)
        assert InProcessWorker(instance).drain(timeout=600)
        with instance.db.transaction() as session:
            instance.review.claim(session, report_id, analyst)

        writes: list[tuple[float, float]] = []  # (start, end) of each bystander write
        stop = threading.Event()

        def bystander() -> None:
            while not stop.is_set():
                began = time.perf_counter()
                with instance.db.transaction() as session:
                    instance.audit.append(session, actor, "benchmark.write", details={})
                writes.append((began, time.perf_counter()))
                time.sleep(0.02)

        thread = threading.Thread(target=bystander)
        thread.start()
        time.sleep(0.3)
        began = time.perf_counter()
        refer(instance, report_id, analyst, "us-il-tf")
        ended = time.perf_counter()
        time.sleep(0.3)
        stop.set()
        thread.join()
        instance.close()
    took = ended - began
    during = [end - start for start, end in writes if start < ended and end > began]  # overlapping the referral
    return {"referral_s": took, "writes_during": len(during),
            "write_p50_ms": statistics.median(during) * 1000 if during else float("nan"),
            "write_max_ms": max(during) * 1000 if during else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evidence-mb", type=int, default=64, help="size of the synthetic evidence file")
    parser.add_argument("--database-url", help="PostgreSQL admin URL: a throwaway database is created on it.")
    args = parser.parse_args()
    context = throwaway_postgres(args.database_url) if args.database_url else nullcontext(None)
    with context as url:
        figures = run(url, args.evidence_mb)
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"{backend}: referral of a report with {args.evidence_mb} MiB of evidence took {figures['referral_s']:.2f} s; "
          f"{figures['writes_during']} other audited writes overlapped it, p50 {figures['write_p50_ms']:.1f} ms, "
          f"max {figures['write_max_ms']:.1f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
