"""CPU a process spends taking another process's new bank entries from the change log (MatcherSync).

While an exchange's fetch writes entries, every other process's matcher (the web server's, the workers')
reads each change row and adds its entries: that CPU is taken from lookups. This writes --count entries
(half MD5, half PDQ, an exchange's provenance, one change row per 2,000 as a fetch writes them) into a fresh
database, then times a matcher that held none of them applying the change log, best of --rounds.

    .venv/bin/python benchmarks/matcher_sync.py                       # SQLite, 20,000 entries
    .venv/bin/python benchmarks/matcher_sync.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_NAME

Baseline: main at ecae649 (ORM-free rows read by 2,000 bound ids, each type, classification and timestamp
converted per row): 14.4 to 14.8 µs an entry on SQLite, 18.5 on PostgreSQL (load average 5 to 6).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_instance(name: str, postgres: str | None, *commands: list[str]) -> str:
    """A new instance for a benchmark in this process: its own data folder (returned), no other TIPLINE_ setting,
    PostgreSQL at `postgres` if given, the schema made and a bank `x` created (then `commands`, each a `tipline`
    command line), and the source tree importable."""
    data_dir = tempfile.mkdtemp(prefix=f"tipline-bench-{name}-")
    for key in [k for k in os.environ if k.startswith("TIPLINE_")]:
        del os.environ[key]
    os.environ["TIPLINE_DATA_DIR"] = data_dir
    if postgres:
        os.environ["TIPLINE_DATABASE_URL"] = postgres
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for command in (["db", "upgrade"], ["banks", "create", "x", "--kind", "known_material"], *commands):
        subprocess.run([sys.executable, "-m", "tipline.cli", *command], check=True, capture_output=True, env=env)
    sys.path.insert(0, str(ROOT / "src"))
    return data_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL URL of an empty database of your own")
    args = parser.parse_args()
    data_dir = fresh_instance("sync", args.postgres)
    from sqlalchemy import select

    from tipline.domain.audit import Actor
    from tipline.instance import Instance
    from tipline.matching import BankEntry, Classification, Matcher, SignalType
    from tipline.store.banks import MatcherSync, to_bank
    from tipline.store.tables import BankChangeRow, BankRow

    instance = Instance()
    try:
        now = BankEntry.now()
        entries = []
        for i in range(args.count // 2):
            seed = str(i).encode()
            for kind, value in ((SignalType.MD5, hashlib.md5(seed).hexdigest()),
                                (SignalType.PDQ, hashlib.sha256(seed).hexdigest())):
                entries.append(BankEntry("x", kind, value, source="NCMEC", source_id=f"e{i}",
                                         classification=Classification.A1,
                                         added_at=now, added_by="exchanges:fetch"))
        with instance.db.transaction() as session:
            instance.banks.add_entries(session, "x", entries, Actor.system("bench"))
        best = float("inf")
        for _ in range(args.rounds):
            sync = MatcherSync()
            with instance.db.read_session() as session:
                matcher = Matcher()  # as a process that loaded before the entries were written
                for row in session.execute(select(BankRow)).scalars():
                    matcher.add_bank(to_bank(row))
                sync._matcher = matcher
                sync._applied = set(session.execute(
                    select(BankChangeRow.seq).where(BankChangeRow.action != "add")).scalars())
                started = time.process_time()
                sync._apply_changes(session)
                best = min(best, time.process_time() - started)
            matcher.wait_for_compaction()
            assert len(matcher) == len(entries), (len(matcher), len(entries))
    finally:
        instance.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    backend = "postgresql" if args.postgres else "sqlite"
    print(f"{backend}: {best * 1e6 / len(entries):.1f} µs of CPU per entry taken from the change log "
          f"({len(entries):,} entries, best of {args.rounds}); load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
