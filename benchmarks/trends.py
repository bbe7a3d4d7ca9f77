"""Benchmark: trends at scale. Loads N synthetic reports (the demo's history generator: three years with
seasons, growth, a surge and a ring), then measures

* rebuilding every count from the reports (`tipline trends rebuild`), and its rate extrapolated to 1,000,000;
* keeping counts current: counting alone and the count_trends stage (counting plus the detector) per report,
  inside a transaction already begun, run on reports whose facts were removed first, so every run writes (the
  pipeline's first pass); then the count_trends job as a worker runs it, counting against an empty stage in
  turns: what counting adds to the pipeline, its share of the commit included. The timed reports (the 300
  newest and 300 of a quiet day) first get the pipeline's results of the kinds counting reads, written by the
  stages' own store functions (`give_pipeline_results`): a conversation analysis with 3-5 tactics for each
  enticement report and one in ten of the others (a disclosure in a quarter of them), text findings (the
  victim's age in half, a sextortion threat in sextortion reports), a payment identifier in sextortion
  reports, a jurisdiction (country, mostly a region) in nine of ten; the benchmark prints what they carry.
  The other reports carry none (through those functions a million reports would take longer than the rest of
  the benchmark): the rebuild's figures are for reports without them;
* `/trends` (several dimensions and periods), the drill-down, and the stats report: p50/p95 over repeated
  requests through the application (signed in as a supervisor).

    .venv/bin/python benchmarks/trends.py [--reports 100000] [--database-url postgresql+psycopg://postgres@127.0.0.1/bench]
        [--keep]     leave the reports and counts in the database (PostgreSQL)
        [--reuse]    measure what a --keep run left, and leave it: no generation, no rebuild (20 s instead of
                     minutes at 1,000,000)

The issue's targets: /trends and the stats report p95 < 300 ms with 1,000,000 reports on PostgreSQL;
counting < 2 ms per report; rebuilding 1,000,000 reports < 5 minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import make_settings  # noqa: E402

from tipline.demo.history import HistoryPlan, _accounts, iterate_history, season  # noqa: E402
from tipline.domain.audit import Actor  # noqa: E402
from tipline.domain.base import utc_now  # noqa: E402
from tipline.domain.identifiers import Identifier, IdentifierKind, PartyRole  # noqa: E402
from tipline.domain.incident import IncidentType  # noqa: E402
from tipline.domain.roles import Role  # noqa: E402
from tipline.enticement.analyzer import AnalysisResult, Disclosure, TacticFinding  # noqa: E402
from tipline.enticement.free_text import TextFinding  # noqa: E402
from tipline.enticement.tactics import TACTICS  # noqa: E402
from tipline.instance import Instance  # noqa: E402
from tipline.jurisdiction.places import Place  # noqa: E402
from tipline.jurisdiction.resolve import Resolution  # noqa: E402
from tipline.pipeline.engine.runner import run_next_of_stage  # noqa: E402
from tipline.pipeline.stages import STAGES, Stage  # noqa: E402
from tipline.pipeline.stages.analyze_conversations import ConversationSource, store_conversation_analyses  # noqa: E402
from tipline.pipeline.stages.count_trends import count_trends  # noqa: E402
from tipline.pipeline.stages.read_free_text import store_text_findings  # noqa: E402
from tipline.store.bulk import insert_many  # noqa: E402
from tipline.store.referrals import ReportJurisdictionRow  # noqa: E402
from tipline.store.schema import upgrade  # noqa: E402
from tipline.store.tables import Base, PipelineJob, ReportRow  # noqa: E402
from tipline.trends import published  # noqa: E402
from tipline.trends.cache import cache_of  # noqa: E402
from tipline.trends.counting import count_report, gather, rebuild  # noqa: E402
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


PLACES = [("US", "California"), ("US", "Texas"), ("US", "New York"), ("US", "Florida"), ("GB", "Wales"),
          ("GB", "Scotland"), ("CA", "Ontario"), ("AU", "Victoria"), ("DE", "Bavaria"), ("PH", None)]


def give_pipeline_results(instance: Instance, report_ids: list[int]) -> str:
    """Give these reports what the pipeline would have found in them, written by the stages' own store
    functions (each replaces what the report had: running it again changes nothing): an enticement report
    (and one report in ten of other types) a conversation analysis with 3-5 tactics (sextortion_threat among
    them for a sextortion report; a disclosure in one of four); free-text findings (the victim's age in
    half of the reports, a sextortion threat in sextortion ones); a payment identifier in sextortion ones;
    a resolved jurisdiction (country, and region mostly) in nine reports of ten. Returns what they carry."""
    carried: Counter[str] = Counter()
    with instance.db.transaction() as session:
        rows = session.execute(select(ReportRow.id, ReportRow.incident_type, ReportRow.content)
                               .where(ReportRow.id.in_(report_ids))).all()
        for report_id, incident_type, content in rows:
            rng = random.Random(report_id)
            sextortion = bool(((content.get("incidentSummary") or {}).get("reportAnnotations") or {}).get("sextortion"))
            enticement = incident_type == IncidentType.ONLINE_ENTICEMENT.value
            sources = []
            if enticement or rng.random() < 0.1:
                tactics = rng.sample([t for t in TACTICS if t != "sextortion_threat"], rng.randint(3, 5))
                if sextortion:
                    tactics[-1] = "sextortion_threat"
                disclosure = Disclosure("a", ["m9"], ["they said they would share it"], []) \
                    if rng.random() < 0.25 else None
                result = AnalysisResult(
                    conversation_id="internetDetails[0].chatImIncident", risk=round(rng.uniform(0.5, 0.99), 4),
                    level="high", suspected_author="b", first_alert_message="m4",
                    tactics=[TacticFinding(t, f"m{i}", "b", 0.8, "synthetic words") for i, t in enumerate(tactics)],
                    suggested_incident_type=IncidentType.ONLINE_ENTICEMENT.value,
                    suggested_annotations=["sextortion"] if sextortion else [], messages_read=12,
                    disclosure=disclosure)
                sources.append(ConversationSource("internet_details", "internetDetails[0].chatImIncident", [result]))
                carried["analysis"] += 1
                carried["tactics"] += len(set(tactics))
                carried["disclosure"] += disclosure is not None
            store_conversation_analyses(instance, session, report_id, sources)
            findings = []
            ages = [v["victimPerson"]["age"] for v in content.get("victim") or [] if "victimPerson" in v]
            if ages and rng.random() < 0.5:
                findings.append(TextFinding("child_age", "additionalInfo", f"I am {ages[0]}", str(ages[0])))
            if sextortion:
                findings.append(TextFinding("sextortion_threat", "additionalInfo", "share it unless you pay", ""))
            store_text_findings(instance, session, report_id, findings)
            carried["findings"] += len(findings)
            identifiers = []
            if sextortion:
                identifiers.append(Identifier(IdentifierKind.PAYMENT, f"cashapp:$benign{report_id % 97}",
                                              f"$benign{report_id % 97}", PartyRole.REPORTED, 0, "additionalInfo"))
                carried["payment"] += 1
            instance.identifiers.replace(session, report_id, identifiers)
            stored = session.get(ReportJurisdictionRow, report_id)
            if stored is not None:
                session.delete(stored)
                session.flush()
            if rng.random() < 0.9:  # written as resolve_jurisdiction writes a resolution
                country, region = rng.choice(PLACES)
                document = Resolution(best=Place.of(country, region), confidence=70).to_dict()
                session.add(ReportJurisdictionRow(report_id=report_id, resolution=document, suggestion={},
                                                  computed_at=utc_now()))
                carried["jurisdiction"] += 1
                carried["region"] += region is not None
        gathered = gather(session, report_ids)
    carried["facts"] = sum(len(found) for _, found in gathered.values())
    n = len(report_ids)
    return (f"{carried['analysis']} of {n} with a conversation analysis ({carried['tactics']} tactics in all, "
            f"{carried['disclosure']} disclosures), {carried['findings']} text findings, {carried['payment']} "
            f"payment identifiers, {carried['jurisdiction']} jurisdictions ({carried['region']} with a region); "
            f"{carried['facts'] / max(1, n):.1f} facts a report")


def uncount(instance: Instance, sample: list[int]) -> None:
    """Take these reports out of the counts (as if never counted: counting them then writes what a first
    pass writes)."""
    with instance.db.transaction() as session:
        saved = dict(session.execute(select(ReportRow.id, ReportRow.received_at)
                                     .where(ReportRow.id.in_(sample))).all())
        session.execute(update(ReportRow).where(ReportRow.id.in_(sample)).values(received_at=None))
        for report_id in sample:
            count_report(session, report_id)
        for report_id, at in saved.items():
            session.execute(update(ReportRow).where(ReportRow.id == report_id).values(received_at=at))
    cache_of(instance).clear()


def measure_stage(instance: Instance, sample: list[int], label: str) -> None:
    """Time count_report, then the count_trends stage, on reports taken out of the counts first."""
    uncount(instance, sample)
    # each timed inside a transaction already begun (as the stage runs in the job's transaction, whose
    # BEGIN the job pays whether or not trends are counted); the commit is not counted either. Each is
    # committed, as in a worker, not rolled back: psycopg forgets every prepared statement of the
    # connection at a ROLLBACK, and counting would then parse and plan its three statements for every
    # report (about 0.4 ms of the server's time) where a worker, committing, runs them prepared
    counting_only, cpu_counting = [], []
    for report_id in sample:
        with instance.db.transaction() as session:
            session.execute(text("SELECT 1"))
            begun, cpu = time.perf_counter(), time.process_time()
            count_report(session, report_id)
            session.flush()
            counting_only.append(time.perf_counter() - begun)
            cpu_counting.append(time.process_time() - cpu)
    print(f"counting alone (count_report), {len(sample)} of {label}: {per_report(counting_only)} per report, "
          f"CPU {statistics.mean(cpu_counting) * 1000:.2f} ms mean")
    uncount(instance, sample)
    timings, cpu_stage = [], []
    for report_id in sample:
        with instance.db.transaction() as session:
            session.execute(text("SELECT 1"))
            begun, cpu = time.perf_counter(), time.process_time()
            count_trends(instance, session, report_id)
            session.flush()
            timings.append(time.perf_counter() - begun)
            cpu_stage.append(time.process_time() - cpu)
    print(f"count_trends stage (count + detector), {len(sample)} of {label}: {per_report(timings)} per report, "
          f"CPU {statistics.mean(cpu_stage) * 1000:.2f} ms mean")


def measure_job(instance: Instance, sample: list[int], label: str) -> None:
    """What counting adds to the pipeline, commit included: the count_trends job as a worker runs it (claimed
    in one transaction; then the stage, the job completed, the next stage queued and the commit in another),
    its stage only counting (no detector), against the same job whose stage does nothing. Run in turns, one
    report at a time, each report taken out of the counts before its counting job."""
    jobs = {"counting": Stage("count_trends", "benchmark: counting only",
                              lambda _context, session, report_id: count_report(session, report_id)),
            "nothing": Stage("count_trends", "benchmark: an empty stage", lambda _context, _session, _report: None)}
    timings: dict[str, list[float]] = {name: [] for name in jobs}
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    original = STAGES["count_trends"]
    try:
        for turn, report_id in enumerate(sample):
            for name in (list(jobs) if turn % 2 == 0 else list(jobs)[::-1]):
                if name == "counting":
                    uncount(instance, [report_id])
                with instance.db.transaction() as session:
                    instance.jobs.enqueue(session, report_id, "count_trends")
                STAGES["count_trends"] = jobs[name]
                begun, started = time.perf_counter(), time.process_time()
                outcome = run_next_of_stage(instance, "benchmark", report_id, "count_trends")
                timings[name].append(time.perf_counter() - begun)
                cpu[name].append(time.process_time() - started)
                STAGES["count_trends"] = original
                assert outcome == "done", outcome
    finally:
        STAGES["count_trends"] = original
        with instance.db.transaction() as session:
            session.execute(delete(PipelineJob).where(PipelineJob.report_id.in_(sample)))
    added = [a - b for a, b in zip(timings["counting"], timings["nothing"], strict=True)]
    print(f"count_trends job, {len(sample)} of {label}: counting {per_report(timings['counting'])}, CPU "
          f"{statistics.mean(cpu['counting']) * 1000:.2f} ms; an empty stage {per_report(timings['nothing'])}, CPU "
          f"{statistics.mean(cpu['nothing']) * 1000:.2f} ms; counting adds {statistics.mean(added) * 1000:.2f} ms "
          f"(median of the pairs {statistics.median(added) * 1000:.2f} ms), CPU "
          f"{(statistics.mean(cpu['counting']) - statistics.mean(cpu['nothing'])) * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a throwaway SQLite database")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--stage-sample", type=int, default=300)
    parser.add_argument("--keep", action="store_true",
                        help="leave the tables in the database at the end (for --reuse; PostgreSQL)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the reports and counts a --keep run left (pending migrations applied), "
                             "and leave them: no generation, no rebuild")
    args = parser.parse_args()
    whole = time.perf_counter()
    print(f"load average at start {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as data:
        instance = Instance(make_settings(Path(data), args.database_url))
        if args.database_url and not args.reuse:
            with instance.db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(instance.db)
        backend = instance.db.engine.dialect.name
        days = 3 * 365
        end = utc_now().date()
        if args.reuse:
            with instance.db.transaction() as session:
                kept = session.execute(select(func.count()).select_from(ReportRow)).scalar_one()
                last_received = session.execute(select(func.max(ReportRow.received_at))).scalar_one()
            if not kept or last_received is None:
                parser.error("--reuse needs the reports of an earlier --keep run in --database-url")
            # the days are counted back from the kept reports' last day, as when they were made
            end = last_received.date()
            print(f"backend {backend}: reusing {kept:,} reports (the last received on {end})")
        else:
            generate_and_rebuild(instance, args.reports, days, end)
        measure_all(instance, args, days, end)
        if args.database_url and not (args.keep or args.reuse):  # a --reuse run leaves what it did not make
            Base.metadata.drop_all(instance.db.engine)
        instance.db.engine.dispose()
    print(f"benchmark took {(time.perf_counter() - whole) / 60:.1f} min, at most "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB resident; load average now "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def generate_and_rebuild(instance: Instance, reports: int, days: int, end: date) -> None:
    """About `reports` reports of three years to `end` made and stored, then every count rebuilt twice."""
    backend = instance.db.engine.dialect.name
    surge = max(30, reports // 3000)
    # the generator's mean per day three years ago, for about N reports in all: it grows 40 % a year and
    # has seasons (the mean of each day as the generator works it out, summed)
    shape = sum(1.4 ** (3 - (days - 1 - offset) / 365.25) * season(end - timedelta(days=days - 1 - offset))
                for offset in range(days))
    per_day = max(0.0, reports - 3 * surge - 6) / shape
    plan = HistoryPlan(end=end, days=days, per_day=per_day, surge_per_day=surge)
    with instance.db.transaction() as session:
        accounts = _accounts(instance, session)
        instance.accounts.add_user(session, "boss", Role.SUPERVISOR, Actor.system("bench"), password=PASSWORD)
    # made and stored in chunks (a day's reports at a time from the generator, 5,000 per transaction by the
    # bulk insert: COPY on PostgreSQL), so that a million reports (about 20 KB each in memory) fit
    generated = inserted = 0.0
    count = 0
    rows = iterate_history(plan, accounts)
    cpu = time.process_time()
    while True:
        started = time.perf_counter()
        chunk = list(islice(rows, 5000))
        generated += time.perf_counter() - started
        if not chunk:
            break
        started = time.perf_counter()
        with instance.db.transaction() as session:
            insert_many(session, ReportRow.__table__, chunk)
        inserted += time.perf_counter() - started
        count += len(chunk)
    print(f"backend {backend}: {count:,} reports generated in {generated:.0f} s, stored in {inserted:.0f} s "
          f"({time.process_time() - cpu:.0f} s CPU in this process)")
    if backend == "postgresql":
        with instance.db.engine.begin() as connection:
            connection.execute(text("ANALYZE reports"))

    # first from empty tables (building the counts the rest measures), then `tipline trends rebuild` as
    # an operator runs it, over the counts already there
    for which in ("from empty tables", "over the counts (tipline trends rebuild)"):
        started, cpu = time.perf_counter(), time.process_time()
        result = rebuild(instance)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"rebuild {which}: {result['reports']:,} reports, {result['facts']:,} facts, {result['counts']:,} "
              f"daily counts in {took:.1f} s ({cpu:.1f} s CPU in this process; {result['reports'] / took:,.0f} "
              f"reports/s; 1,000,000 would take {1_000_000 / (result['reports'] / took) / 60:.1f} min)")
    if backend == "postgresql":
        with instance.db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def measure_all(instance: Instance, args: argparse.Namespace, days: int, end: date) -> None:
    """The stage on the newest reports and on a quiet day, then the pages and the stats report."""
    with instance.db.transaction() as session:
        newest = list(session.execute(select(ReportRow.id).order_by(ReportRow.id.desc())
                                      .limit(args.stage_sample)).scalars())
        # a quiet day two months back: no alert to continue (the newest days hold the surge, whose reports
        # each continue several alerts)
        quiet_day = datetime.combine(end - timedelta(days=60), datetime.min.time(), UTC)
        quiet = list(session.execute(select(ReportRow.id).where(ReportRow.received_at >= quiet_day)
                                     .order_by(ReportRow.received_at, ReportRow.id)
                                     .limit(args.stage_sample)).scalars())
    for sample, label in ((newest, "newest"), (quiet, "quiet day")):
        started = time.perf_counter()
        carried = give_pipeline_results(instance, sample)
        print(f"timed reports, {label}: {carried} (given in {time.perf_counter() - started:.1f} s)")
    measure_stage(instance, newest, "the newest reports (the surge's days)")
    measure_stage(instance, quiet, "reports of a quiet day two months back")
    measure_job(instance, newest, "the newest reports")
    measure_job(instance, quiet, "reports of a quiet day")

    app = create_app(instance, run_worker=False)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token}).status_code == 303
    pages = [f"/trends?dimension={d}&period={p}" for d, p in
             (("annotation", "month"), ("incident_type", "day"), ("source", "week"), ("platform", "year"),
              ("age_band", "month"))]
    for url in pages + [f"/trends/reports?dimension=annotation&value=sextortion&from={end - timedelta(days=30)}&to={end}",
                        "/trends/alerts", "/supervisor"]:
        client.get(url)  # warm
        samples = []
        cpu = time.process_time()
        for _ in range(args.requests):
            begun = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - begun)
            assert response.status_code == 200, (url, response.status_code)
        print(f"GET {url}: {percentiles(samples)}, CPU {(time.process_time() - cpu) / args.requests * 1000:.0f} ms mean")
    samples = []
    cpu = time.process_time()
    first_day = end - timedelta(days=days - 1)
    for _ in range(args.requests):
        begun = time.perf_counter()
        with instance.db.transaction() as session:
            document = published.report(session, first_day, end, ["incident_type", "annotation", "victim_sex"],
                                        by="month")
            published.as_json(document)
        samples.append(time.perf_counter() - begun)
    print(f"stats report (3 years by month, 3 dimensions): {percentiles(samples)}, "
          f"CPU {(time.process_time() - cpu) / args.requests * 1000:.0f} ms mean")


if __name__ == "__main__":
    main()
