"""CPU an exchange's fetch spends applying pages, in its own process and (PostgreSQL) in the database server.

Applies --pages pages of 1,000 new entries (each an MD5 and a PDQ, NCMEC's shape: one tag, a classification)
to a fresh bank through `ExchangeStore.apply_page`, each page in its own transaction as a fetch does, with no
exchange or HTTP around it (benchmarks/exchanges.py measures the whole fetch). Prints the CPU per entry of
this process and, on PostgreSQL, of its server backend (from /proc/PID/stat, the server on this machine),
split by statement.

    .venv/bin/python benchmarks/exchange_apply.py
    .venv/bin/python benchmarks/exchange_apply.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_NAME

Baseline, main at ecae649 (load average 5 to 6): SQLite 61 to 78 µs an entry; PostgreSQL 65 µs in this
process and 249 in the server, 188 of them in the look-up of a page's remote ids (a cached generic plan that
scanned the table).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from matcher_sync import fresh_instance  # noqa: E402  # the same set-up as the matcher's benchmark


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--postgres", help="a PostgreSQL URL of an empty database of your own")
    args = parser.parse_args()
    data_dir = fresh_instance("apply", args.postgres,
                              ["exchanges", "add", "L", "--api", "file", "--bank", "x", "--path", os.devnull])
    from sqlalchemy import event

    import tipline.store.banks as bank_store
    import tipline.store.exchanges as exchange_store
    from tipline.exchanges.apis import Page, RemoteEntry
    from tipline.exchanges.fetch import FETCH_ACTOR
    from tipline.instance import Instance
    from tipline.matching import SignalType
    from tipline.store.bulk import insert_many as bulk_insert_many
    from tipline.store.exchange_tables import ExchangeRow

    instance = Instance()
    clock = os.sysconf("SC_CLK_TCK")
    server: collections.defaultdict[str, float] = collections.defaultdict(float)

    def backend_cpu(connection: Any) -> float:
        pid = connection.info.get("pid")
        if pid is None:
            pid = connection.info["pid"] = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / clock

    if args.postgres:
        @event.listens_for(instance.db.engine, "before_cursor_execute")
        def before(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
            if "pg_backend_pid" not in statement:
                connection.info["cpu"] = backend_cpu(connection)

        @event.listens_for(instance.db.engine, "after_cursor_execute")
        def after(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
            if "pg_backend_pid" not in statement:
                server[" ".join(statement.split()[:4])[:60]] += backend_cpu(connection) - connection.info["cpu"]


        def timed_insert(session: Any, table: Any, rows: Any) -> None:
            connection = session.connection()
            started = backend_cpu(connection)
            bulk_insert_many(session, table, rows)
            server[f"COPY {table.name}"] += backend_cpu(connection) - started

        for module in (exchange_store, bank_store):  # where each imported it
            setattr(module, "insert_many", timed_insert)  # noqa: B010 - a module attribute, replaced

    @contextlib.contextmanager
    def page_transaction() -> Iterator[Any]:
        with instance.db.transaction() as session:
            yield session
            session.flush()
            if args.postgres:
                connection = session.connection()
                commit_from, pid = backend_cpu(connection), connection.info["pid"]
        if args.postgres:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            server["COMMIT"] += (int(fields[11]) + int(fields[12])) / clock - commit_from

    def page(k: int) -> Page:
        entries = []
        for i in range(k * 1000, (k + 1) * 1000):
            seed = str(i).encode()
            entries.append(RemoteEntry(f"42-e{i}", ((SignalType.MD5, hashlib.md5(seed).hexdigest()),
                                                    (SignalType.PDQ, hashlib.sha256(seed).hexdigest())),
                                       tags=("A1",), classification="A1"))
        return Page(entries, [], {"page": k})

    try:
        pages = [page(k) for k in range(args.pages)]
        with instance.db.transaction() as session:
            exchange_id = instance.exchanges.get(session, "L").id
        count = 1000 * args.pages
        cpu, wall = time.process_time(), time.perf_counter()
        for item in pages:
            with page_transaction() as session:
                row = session.get(ExchangeRow, exchange_id)
                instance.exchanges.apply_page(session, row, item, FETCH_ACTOR)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        instance.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    backend = "postgresql" if args.postgres else "sqlite"
    print(f"{backend}: {count:,} entries (2 signals each) in {args.pages} pages: {cpu * 1e6 / count:.0f} µs of CPU an "
          f"entry in this process, wall {wall * 1e6 / count:.0f} µs; load average {os.getloadavg()[0]:.2f}")
    if server:
        print(f"  server: {sum(server.values()) * 1e6 / count:.0f} µs of CPU an entry, of which")
        for statement, seconds in sorted(server.items(), key=lambda item: -item[1])[:6]:
            print(f"    {seconds * 1e6 / count:6.1f}  {statement}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
