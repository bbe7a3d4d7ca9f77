"""Benchmark: trends at scale. Loads N synthetic reports (the demo's history generator: three years with
seasons, growth, a surge and a ring), then measures

* rebuilding every count from the reports (`tipline trends rebuild`), and its rate extrapolated to 1,000,000;
* keeping counts current: the count_trends stage (counting plus the detector) per report, run on reports
  whose facts were removed first, so every run writes (the pipeline's first pass);
* `/trends` (several dimensions and periods), the drill-down, and the stats report: p50/p95 over repeated
  requests through the application (signed in as a supervisor).

    .venv/bin/python benchmarks/trends.py [--reports 100000] [--database-url postgresql+psycopg://postgres@127.0.0.1/bench]

The issue's targets: /trends and the stats report p95 < 300 ms with 1,000,000 reports on PostgreSQL;
counting < 2 ms per report; rebuilding 1,000,000 reports < 5 minutes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import make_settings  # noqa: E402

from tipline.demo.history import HistoryPlan, _accounts, generate_history  # noqa: E402
from tipline.domain.audit import Actor  # noqa: E402
from tipline.domain.base import utc_now  # noqa: E402
from tipline.domain.roles import Role  # noqa: E402
from tipline.instance import Instance  # noqa: E402
from tipline.pipeline.stages.count_trends import count_trends  # noqa: E402
from tipline.store.schema import upgrade  # noqa: E402
from tipline.store.tables import Base, ReportRow  # noqa: E402
from tipline.trends import published  # noqa: E402
from tipline.trends.cache import cache_of  # noqa: E402
from tipline.trends.counting import count_report, rebuild  # noqa: E402
from tipline.web.app import create_app  # noqa: E402

PASSWORD = "benchmark password of some length"


def per_report(samples: list[float]) -> str:
    """Mean and p95 in milliseconds with two decimals: the stage's figures are around the 2 ms target."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"mean {statistics.mean(ordered) * 1000:.2f} ms, p50 {statistics.median(ordered) * 1000:.2f} ms, " \
           f"p95 {p95 * 1000:.2f} ms (n={len(ordered)})"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a throwaway SQLite database")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--stage-sample", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        instance = Instance(make_settings(Path(data), args.database_url))
        if args.database_url:
            with instance.db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(instance.db)
        backend = instance.db.engine.dialect.name
        days = 3 * 365
        per_day = args.reports / days / 1.9  # the generator grows 40 % a year and adds seasons
        plan = HistoryPlan(end=utc_now().date(), days=days, per_day=per_day, surge_per_day=max(30, args.reports // 3000))
        with instance.db.transaction() as session:
            accounts = _accounts(instance, session)
            instance.accounts.add_user(session, "boss", Role.SUPERVISOR, Actor.system("bench"), password=PASSWORD)
        started = time.perf_counter()
        rows = generate_history(plan, accounts)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        for first in range(0, len(rows), 5000):
            with instance.db.transaction() as session:
                session.execute(insert(ReportRow), rows[first:first + 5000])
        inserted = time.perf_counter() - started
        count = len(rows)
        del rows
        print(f"backend {backend}: {count:,} reports generated in {generated:.0f} s, stored in {inserted:.0f} s")

        started = time.perf_counter()
        result = rebuild(instance)
        took = time.perf_counter() - started
        print(f"rebuild: {result['reports']:,} reports, {result['facts']:,} facts, {result['counts']:,} daily counts "
              f"in {took:.1f} s ({result['reports'] / took:,.0f} reports/s; 1,000,000 would take "
              f"{1_000_000 / (result['reports'] / took) / 60:.1f} min)")
        if backend == "postgresql":
            with instance.db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))

        with instance.db.transaction() as session:
            sample = list(session.execute(select(ReportRow.id).order_by(ReportRow.id.desc())
                                          .limit(args.stage_sample)).scalars())
            # take them out of the counts (as if never counted): the stage then writes what a first pass writes
            saved = dict(session.execute(select(ReportRow.id, ReportRow.received_at)
                                         .where(ReportRow.id.in_(sample))).all())
            session.execute(update(ReportRow).where(ReportRow.id.in_(sample)).values(received_at=None))
            for report_id in sample:
                count_report(session, report_id)
            for report_id, at in saved.items():
                session.execute(update(ReportRow).where(ReportRow.id == report_id).values(received_at=at))
        cache_of(instance).clear()
        counting_only = []
        for report_id in sample:
            with instance.db.transaction() as session:
                begun = time.perf_counter()
                count_report(session, report_id)
                session.flush()
                counting_only.append(time.perf_counter() - begun)
                session.rollback()
        print(f"counting alone (count_report) on the {len(sample)} newest reports: {per_report(counting_only)} per report")
        timings = []
        for report_id in sample:
            with instance.db.transaction() as session:
                begun = time.perf_counter()
                count_trends(instance, session, report_id)
                session.flush()
                timings.append(time.perf_counter() - begun)
        # inside the job's transaction, which commits whether or not the stage wrote: its commit is not counted
        print(f"count_trends stage (count + detector) on the {len(sample)} newest reports: {per_report(timings)} per report")

        app = create_app(instance, run_worker=False)
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token}).status_code == 303
        end = utc_now().date()
        pages = [f"/trends?dimension={d}&period={p}" for d, p in
                 (("annotation", "month"), ("incident_type", "day"), ("source", "week"), ("platform", "year"),
                  ("age_band", "month"))]
        for url in pages + [f"/trends/reports?dimension=annotation&value=sextortion&from={end - timedelta(days=30)}&to={end}",
                            "/trends/alerts", "/supervisor"]:
            client.get(url)  # warm
            samples = []
            for _ in range(args.requests):
                begun = time.perf_counter()
                response = client.get(url)
                samples.append(time.perf_counter() - begun)
                assert response.status_code == 200, (url, response.status_code)
            print(f"GET {url}: {percentiles(samples)}")
        samples = []
        first_day = end - timedelta(days=days - 1)
        for _ in range(args.requests):
            begun = time.perf_counter()
            with instance.db.transaction() as session:
                document = published.report(session, first_day, end, ["incident_type", "annotation", "victim_sex"],
                                            by="month")
                published.as_json(document)
            samples.append(time.perf_counter() - begun)
        print(f"stats report (3 years by month, 3 dimensions): {percentiles(samples)}")
        if args.database_url:
            Base.metadata.drop_all(instance.db.engine)
        instance.db.engine.dispose()


if __name__ == "__main__":
    main()
