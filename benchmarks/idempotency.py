"""Benchmark: what an Idempotency-Key costs on POST /api/v1/reports, and what a text search costs.

Files N reports through the application in-process (FastAPI's TestClient, one client, no network)
without a key, with a fresh key each, and replays of a used key; prints the mean and p50/p99 time
per request of each. Then loads SEARCH_REPORTS reports straight into the table and times a text
search (the /search page's query: count and first page) with Unicode case folding, and the same scan
with SQLite's built-in ASCII-only lower() for comparison.

    .venv/bin/python benchmarks/idempotency.py                      # SQLite
    .venv/bin/python benchmarks/idempotency.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

On PostgreSQL the run uses a throwaway database (created, then dropped).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from throwaway import throwaway_postgres  # noqa: E402  (benchmarks/throwaway.py, beside this script)


def figures(label: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"  {label:<32} n={len(seconds):<5} mean {statistics.mean(seconds) * 1000:6.1f} ms   "
          f"p50 {statistics.median(seconds) * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms")


def run(database_url: str | None, count: int, search_reports_count: int) -> None:
    from sqlalchemy import String, cast, func, select, text
    from support import make_settings, sample_content
    from websupport import build_site

    from tipline.instance import Instance
    from tipline.store.schema import upgrade
    from tipline.store.search import SearchCriteria, search_reports
    from tipline.store.tables import ReportRow
    from tipline.store.types import json_text

    data_dir = Path(tempfile.mkdtemp(prefix="tipline-idem-"))
    instance = Instance(make_settings(data_dir, database_url))
    upgrade(instance.db)
    site = build_site(instance)
    chirp = site.esp()
    body = sample_content()
    print(f"{instance.db.dialect}: POST /api/v1/reports (finish=true), {count} requests each")

    def timed(headers_of) -> list[float]:  # type: ignore[no-untyped-def]
        out = []
        for n in range(count):
            started = time.perf_counter()
            response = chirp.post("/api/v1/reports", json=body, headers=headers_of(n))
            out.append(time.perf_counter() - started)
            assert response.status_code == 201, response.text
        return out

    timed(lambda n: {})  # warm up
    figures("no key", timed(lambda n: {}))
    figures("a fresh key each", timed(lambda n: {"Idempotency-Key": str(uuid.uuid4())}))
    used = str(uuid.uuid4())
    chirp.post("/api/v1/reports", json=body, headers={"Idempotency-Key": used})
    figures("replay of a used key", timed(lambda n: {"Idempotency-Key": used}))

    insert = text(
        "INSERT INTO reports (state, source, incident_type, incident_at, opened_at, updated_at, version, content, "
        "escalated, received_at) VALUES ('received', 'esp_json', 'Child Sex Tourism', :at, :at, :at, 1, "
        + ("CAST(:content AS JSONB)" if instance.db.dialect == "postgresql" else ":content") + ", false, :at)")
    with instance.db.engine.begin() as connection:
        for start in range(0, search_reports_count, 5000):
            connection.execute(insert, [
                {"at": "2026-01-01T00:00:00Z", "content": json_text(sample_content(
                    additionalInfo=f"note {n} Zoë" if n % 1000 == 0 else f"note {n}"))}
                for n in range(start, min(search_reports_count, start + 5000))])
    total = search_reports_count + 3 * count + 1
    for query in ("ZOË", "no report says this"):
        with instance.db.transaction() as session:
            started = time.perf_counter()
            result = search_reports(session, SearchCriteria(text=query))
            elapsed = time.perf_counter() - started
        print(f"  search {query!r} over {total} reports: {result.total} found, {elapsed * 1000:.0f} ms "
              "(count and first page: two passes)")
    if instance.db.dialect == "sqlite":
        with instance.db.transaction() as session:
            started = time.perf_counter()
            session.execute(select(func.count()).where(
                func.lower(cast(ReportRow.content, String)).contains("zoë", autoescape=True))).scalar_one()
            elapsed = time.perf_counter() - started
        print(f"  one pass with the built-in lower() (ASCII-only): {elapsed * 1000:.0f} ms")
    instance.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL admin URL (a throwaway database is made there)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--search-reports", type=int, default=50_000)
    args = parser.parse_args()
    context = throwaway_postgres(args.database_url) if args.database_url else nullcontext(None)
    with context as url:
        run(url, args.requests, args.search_reports)


if __name__ == "__main__":
    main()
