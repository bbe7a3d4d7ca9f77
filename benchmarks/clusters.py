"""Clusters of unidentified material: placing a new file among 1,000,000 indexed report files, and the
series pages with many reports.

Usage:
    .venv/bin/python benchmarks/clusters.py                       # 1,000,000 indexed files
    .venv/bin/python benchmarks/clusters.py --files 200000 --pages-reports 200000

Part 1, the index of reported media (tipline.victims.cluster_index.ClusterIndex, built on the
matching package's exact PDQ index): synthetic PDQ hashes for --files report files (half in families
of near-duplicates, as files passed around are), one label and one 32-hex file id per file, built the
way a process loads it at start. Then, one at a time as the pipeline's cluster stage does, it looks up
new files (10% exact copies, 40% near copies 1-40 bits away, 50% unrelated) and reports p50/p95/max
per file. Recall is checked against an exhaustive faiss range search (a separate code path) for every
pair within distance 31. Memory is the process's resident memory after the build minus before
(hash tables, codes, labels and file ids; the input was freed).

Part 2, the whole cluster stage on a real instance (SQLite in a temporary folder): --stage-files
report files of which a share are near-copies across reports, then the stage's time per report
(index lookup, exact-hash lookups in the database, cluster writes).

Part 3, the series pages: --pages-reports reports inserted in bulk, each with one file that matched
one of 20 series, then GET /series and GET /series/{id} (the busiest series) timed through the
application (p50/p95 of --page-requests each).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from matching import RADIUS, _hex, _rss_bytes, brute_force, synthetic_bank, synthetic_queries  # noqa: E402


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(1000 * statistics.median(ordered), 3),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 3),
            "max_ms": round(1000 * ordered[-1], 3)}


def index_part(files: int, queries: int, recall_queries: int, seed: int) -> dict[str, Any]:
    from tipline.victims.cluster_index import ClusterIndex, FileHashes

    codes = synthetic_bank(files, seed)
    report_ids = np.arange(files, dtype=np.int64) // 3 + 1  # three files a report
    gc.collect()
    before = _rss_bytes()
    started = time.perf_counter()
    index = ClusterIndex()
    hexes = _hex(codes)
    index.build(FileHashes(uuid.UUID(int=i).hex, int(report_ids[i]), (hexes[i],)) for i in range(files))
    build_seconds = time.perf_counter() - started
    del hexes
    gc.collect()
    memory = _rss_bytes() - before

    probe = synthetic_queries(codes, queries, seed)
    probe_hex = _hex(probe)
    timings = []
    found = 0
    for query in probe_hex:
        tick = time.perf_counter()
        near = index.near([query], exclude_report=0)
        timings.append(time.perf_counter() - tick)
        found += bool(near)

    check = probe[:recall_queries]
    truth = brute_force(codes, check, RADIUS)
    labels = {uuid.UUID(int=i).hex: i for i in range(files)}
    got = set()
    for q, query in enumerate(_hex(check)):
        got.update((q, labels[f.file_id]) for f in index.near([query], exclude_report=0))
    recall = len(truth & got) / len(truth) if truth else 1.0
    return {"indexed_files": files, "build_seconds": round(build_seconds, 1), "queries": queries,
            "queries_with_a_near_file": found, **_percentiles(timings),
            "recall_pairs_checked": len(truth), "recall": round(recall, 6), "false_pairs": len(got - truth),
            "memory_bytes": memory, "memory_bytes_per_file": round(memory / files, 1),
            "memory_mib_per_million_files": round(memory / files * 1_000_000 / 2**20, 1)}


def _instance(folder: Path) -> Any:
    os.environ.update({"TIPLINE_DATA_DIR": str(folder), "TIPLINE_ARGON2_TIME_COST": "1",
                       "TIPLINE_ARGON2_MEMORY_KIB": "1024"})
    from tipline.config import load_settings
    from tipline.instance import Instance
    from tipline.store.schema import upgrade

    instance = Instance(load_settings(), tighten_permissions=True)
    upgrade(instance.db)
    return instance


def _bulk_reports(instance: Any, count: int, files_of: Any, *, days_ago: int = 0) -> list[int]:
    """`count` reports, each with the files `files_of(i)` gives: [(file id, pdq, sha256)], inserted in bulk
    (received and hashed `days_ago`)."""
    from datetime import timedelta

    from sqlalchemy import insert

    from tipline.domain.base import utc_now
    from tipline.store.tables import ReportFileRow, ReportRow

    now = utc_now() - timedelta(days=days_ago)
    ids = []
    batch = 5000
    for start in range(0, count, batch):
        with instance.db.transaction() as session:
            rows = [{"state": "awaiting_review", "source": "esp_json", "incident_type": "Online Enticement of "
                     "Children for Sexual Acts", "incident_at": now, "opened_at": now, "received_at": now,
                     "updated_at": now, "version": 1, "content": {}, "escalated": False, "files_matched_at": now}
                    for _ in range(start, min(count, start + batch))]
            new = list(session.execute(insert(ReportRow).returning(ReportRow.id), rows).scalars())
            files = []
            for offset, report_id in enumerate(new):
                for position, (file_id, pdq, sha256) in enumerate(files_of(start + offset)):
                    files.append({"id": file_id, "report_id": report_id, "position": position, "size": 1000,
                                  "uploaded_at": now, "hashed_at": now, "media_kind": "image", "pdq": pdq,
                                  "pdq_quality": 100, "sha256": sha256, "md5": sha256[:32]})
            if files:
                session.execute(insert(ReportFileRow), files)
            ids += new
    return ids


def stage_part(files: int, reports_timed: int, seed: int) -> dict[str, Any]:
    from tipline.victims.clusters import cluster_report_files

    codes = synthetic_bank(files, seed, cluster_fraction=0.3)
    hexes = _hex(codes)
    with tempfile.TemporaryDirectory() as folder:
        instance = _instance(Path(folder))
        _bulk_reports(instance, files, lambda i: [(uuid.uuid4().hex, hexes[i], uuid.uuid4().hex * 2)], days_ago=1)
        with instance.db.transaction() as session:
            tick = time.perf_counter()
            instance.clusters.ready(session)
            load = time.perf_counter() - tick
        probe = _hex(synthetic_queries(codes, reports_timed, seed + 7))
        new = _bulk_reports(instance, reports_timed, lambda i: [(uuid.uuid4().hex, probe[i], uuid.uuid4().hex * 2)])
        timings = []
        for report_id in new:
            with instance.db.transaction() as session:
                tick = time.perf_counter()
                cluster_report_files(instance, session, report_id)
                timings.append(time.perf_counter() - tick)
        from sqlalchemy import func, select

        from tipline.store.victim_tables import MediaClusterRow
        with instance.db.transaction() as session:
            clusters = session.execute(select(func.count()).select_from(MediaClusterRow)).scalar_one()
        instance.close()
    return {"indexed_files": files, "load_seconds": round(load, 1), "reports_timed": reports_timed,
            "clusters_formed": clusters, **_percentiles(timings)}


def pages_part(reports: int, requests: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from sqlalchemy import insert, select

    from tipline.domain.audit import Actor
    from tipline.domain.base import utc_now
    from tipline.domain.roles import Role
    from tipline.store.tables import FileMatchRow, ReportFileRow
    from tipline.web.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        instance = _instance(Path(folder))
        actor = Actor.system("benchmark")
        names = [f"Series {n:02d}" for n in range(20)]
        with instance.db.transaction() as session:
            for name in names:
                instance.series.create(session, name, actor)
            instance.accounts.add_user(session, "vid", Role.VICTIM_ID, actor, password="benchmark password 1")
        # series k takes a share of reports falling with k (series 0 the most)
        weights = np.array([1 / (k + 1) for k in range(20)])
        choice = np.random.default_rng(5).choice(20, size=reports, p=weights / weights.sum())
        report_ids = _bulk_reports(instance, reports, lambda i: [(uuid.uuid4().hex, None, uuid.uuid4().hex * 2)])
        now = utc_now()
        with instance.db.transaction() as session:
            files = dict(session.execute(select(ReportFileRow.report_id, ReportFileRow.id)).all())
            rows = [{"report_id": rid, "file_id": files[rid], "bank": "victim-series", "bank_kind": "identified_series",
                     "signal_type": "pdq", "distance": 3, "series": names[int(choice[i])], "suppressed": False,
                     "matched_at": now} for i, rid in enumerate(report_ids)]
            for start in range(0, len(rows), 10_000):
                session.execute(insert(FileMatchRow), rows[start:start + 10_000])
            for row in instance.series.listing(session, limit=50)[0]:
                instance.series.refresh_counts(session, row)
            busiest = instance.series.find(session, names[0])
            busiest_id, busiest_reports = busiest.id, busiest.report_count
        client = TestClient(create_app(instance, run_worker=False), base_url="http://testserver")
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert client.post("/login", data={"username": "vid", "password": "benchmark password 1",
                                           "csrf_token": token}, follow_redirects=False).status_code == 303
        out: dict[str, Any] = {"reports": reports, "busiest_series_reports": busiest_reports}
        for label, path in (("series_list", "/series?sort=reports"), ("series_page", f"/series/{busiest_id}")):
            timings = []
            for _ in range(requests):
                tick = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - tick)
                assert response.status_code == 200, response.text[:300]
            out[label] = _percentiles(timings)
        instance.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1_000_000, help="report files in the index (part 1)")
    parser.add_argument("--queries", type=int, default=2000, help="new files looked up one at a time")
    parser.add_argument("--recall-queries", type=int, default=500, help="lookups checked against brute force")
    parser.add_argument("--stage-files", type=int, default=50_000, help="report files in the instance (part 2)")
    parser.add_argument("--stage-reports", type=int, default=300, help="new reports put through the stage")
    parser.add_argument("--pages-reports", type=int, default=200_000, help="reports for the series pages (part 3)")
    parser.add_argument("--page-requests", type=int, default=40, help="requests per page")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: index, stage, pages")
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    if "index" not in skip:
        print("index of reported media:", index_part(args.files, args.queries, args.recall_queries, args.seed),
              flush=True)
    if "stage" not in skip:
        print("cluster stage on SQLite:", stage_part(args.stage_files, args.stage_reports, args.seed), flush=True)
    if "pages" not in skip:
        print("series pages:", pages_part(args.pages_reports, args.page_requests), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
