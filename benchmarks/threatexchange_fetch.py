"""A ThreatExchange fetch end to end: python-threatexchange's client against the fake Graph API
(tests/exchanges/fake_threatexchange.py, in a process of its own on 127.0.0.1), tipline applying its pages.

--count indicators (half PDQ, half MD5, one descriptor each with a tag) in one privacy group, 100 to a page
as the package asks; the fetch runs in this process (`fetch_exchange`, no re-matching) into a fresh instance.
Prints entries/s wall, CPU an entry in this process (the client, parsing and applying) and in the fake, the
load average, and checks that every indicator is in the bank exactly once.

    .venv/bin/python benchmarks/threatexchange_fetch.py [--count 20000]
    .venv/bin/python benchmarks/threatexchange_fetch.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_NAME

The fake filters its whole list at each page (a test's stand-in), so its CPU grows with --count squared;
it is printed apart from the fetch's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests" / "exchanges"))
from matcher_sync import fresh_instance  # noqa: E402  # the same set-up as the matcher's benchmark

START = 1_760_000_000


def serve_fake(count: int) -> None:
    """Child mode: run the fake Graph API with `count` indicators, print its URL and token, serve until killed."""
    from fake_threatexchange import FakeThreatExchange, Indicator

    with FakeThreatExchange() as fake:
        for n in range(count):
            seed = str(n).encode()
            kind, value = (("HASH_PDQ", hashlib.sha256(seed).hexdigest()) if n % 2 else
                           ("HASH_MD5", hashlib.md5(seed).hexdigest()))
            fake.indicators.append(Indicator(n + 1, kind, value, START + n // 10, 1, tags=["benchmark"]))
        print(json.dumps({"url": fake.url, "token": fake.token}), flush=True)
        while True:
            time.sleep(3600)


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL of an empty database of your own")
    parser.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return 0
    child = subprocess.Popen([sys.executable, __file__, "--serve-fake", str(args.count)], stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    data_dir = None
    try:
        assert child.stdout is not None
        fake = json.loads(child.stdout.readline())
        data_dir = fresh_instance("te", args.postgres)
        from sqlalchemy import func, select

        from tipline.domain.audit import Actor
        from tipline.exchanges.fetch import fetch_exchange
        from tipline.instance import Instance
        from tipline.store.tables import BankEntryRow

        instance = Instance()
        try:
            with instance.db.transaction() as session:
                instance.exchanges.create(session, "TE", "threatexchange", {"privacy_groups": [1], "url": fake["url"]},
                                          "x", Actor.system("benchmark"), credentials=fake["token"])
            fake_cpu, cpu, wall = cpu_of(child.pid), time.process_time(), time.perf_counter()
            outcome = fetch_exchange(instance, "TE", rematch=False, send_feedback=False)
            wall, cpu, fake_cpu = time.perf_counter() - wall, time.process_time() - cpu, cpu_of(child.pid) - fake_cpu
            with instance.db.transaction() as session:
                rows = session.execute(select(BankEntryRow.source_id, func.count()).group_by(BankEntryRow.source_id)
                                       ).all()
        finally:
            instance.close()
    finally:
        child.kill()
        child.wait()
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    count = args.count
    doubled = sum(1 for _, n in rows if n > 1)
    print(f"{'postgresql' if args.postgres else 'sqlite'}: {count:,} indicators, {outcome.pages} pages, error "
          f"{outcome.error}; in the bank {len(rows):,} ({count - len(rows):,} missing, {doubled} doubled)")
    print(f"  wall {wall:.1f} s ({count / wall:,.0f} entries/s); CPU an entry: fetch {cpu * 1e6 / count:.0f} µs, "
          f"fake {fake_cpu * 1e6 / count:.0f} µs; load average {os.getloadavg()[0]:.2f}")
    return 0 if outcome.error is None and len(rows) == count and not doubled else 1


if __name__ == "__main__":
    raise SystemExit(main())
