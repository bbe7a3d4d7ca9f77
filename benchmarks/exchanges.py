"""Benchmark: fetching a large exchange, interrupted by SIGKILL and resumed, while the hash banks are used.

A fake NCMEC hash-sharing server (tests/exchanges/fake_ncmec.py, entries made on demand: image `e{i}`
with an MD5 and a PDQ) runs in its own process on 127.0.0.1. On a fresh SQLite instance (or
PostgreSQL with --postgres) with a "local" bank of --local entries, it:

1. measures lookups per second in a separate process (its matcher kept current from the change log,
   as a server's is; each lookup one file: an MD5 and a PDQ with its quality) for --idle seconds against
   the local bank ("idle before");
2. starts `tipline exchanges fetch NCMEC --no-rematch` for --count entries, and kills it with SIGKILL
   after --kill-after seconds (and again, --kills times), each time starting it again: it resumes from
   its checkpoint; lookups go on meanwhile;
3. once the fetch is done and the lookup process has taken every new entry (and merged its PDQ index's
   delta), measures lookups for --idle seconds more against the full bank ("idle after"): during / idle
   before mixes the index's growth with the contention of the fetch, during / idle after is the contention;
4. checks that every entry is in the bank exactly once: as many exchange entries and bank entries as
   the exchange sent signals, no (remote id, signal type) twice, none missing.

It prints the fetch's wall time and entries/s, its CPU time (user + system of the fetch processes, killed
ones included) and entries per CPU second, the load average before, after and at the end, lookups/s idle before,
during and idle after the fetch and both ratios, the lookup process's CPU per lookup in each phase, split into the
lookups proper, keeping its matcher current and its other threads (the PDQ index's background merges), the size
of the PDQ index it searched, the peak memory of the lookup and fetch processes, and the check. Exit 1
if an entry is lost or doubled. The SQLite data directory is removed afterwards (--keep keeps it); a PostgreSQL
database given with --postgres is left to its owner to drop. EXCHANGES_BENCH_PROFILE=PREFIX profiles the
lookup process (PREFIX.idle.prof, PREFIX.during.prof, PREFIX.after.prof).

    .venv/bin/python benchmarks/exchanges.py                        # 1,000,000 entries
    .venv/bin/python benchmarks/exchanges.py --count 100000 --kill-after 20 --json

Traffic goes only to the fake on 127.0.0.1; the run is bounded by --count and --timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean
from typing import cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "exchanges"))


def serve_fake(count: int, base: int) -> None:
    """Child mode: run the fake exchange, print its URL, serve until killed."""
    from fake_ncmec import GeneratedNcmec

    with GeneratedNcmec(count, base, per_second=1000) as fake:
        print(json.dumps({"url": fake.url, "user": fake.user, "password": fake.password}), flush=True)
        while True:
            time.sleep(3600)


def run_lookups(seconds: float, local: int) -> None:
    """Child mode: look files up for `seconds`, printing lookups done per second (JSON lines), with the
    process's CPU split into the lookups proper, keeping the matcher current (the change log: reading it and
    adding its entries) and the other threads: the PDQ index's background merges (a thread of their own, which
    merges the tables on the index's thread pool).

    With EXCHANGES_BENCH_PROFILE=PREFIX set, the main thread is profiled (cProfile): PREFIX.idle.prof until
    SIGUSR1 (the parent sends it when the fetch starts), PREFIX.during.prof until the next SIGUSR1 (when it
    ends), PREFIX.after.prof from then on."""
    import cProfile
    import gc
    import hashlib
    import random
    import threading

    from tipline.instance import Instance
    from tipline.matching import FileSignals, PdqQuery
    from tipline.matching.pdq_index import PDQIndex

    merge_cpu = [0.0]
    merge_lock = threading.Lock()
    gc_time = [0.0, 0.0]  # total seconds collecting, start of the running collection

    def time_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_time[1] = time.thread_time()
        else:
            gc_time[0] += time.thread_time() - gc_time[1]

    gc.callbacks.append(time_gc)
    compact_now = PDQIndex._compact_now

    def timed_compaction(self: PDQIndex, purge: bool = False) -> None:
        started = time.thread_time()
        try:
            compact_now(self, purge)
        finally:
            with merge_lock:
                merge_cpu[0] += time.thread_time() - started

    PDQIndex._compact_now = timed_compaction  # type: ignore[method-assign]

    profile_prefix = os.environ.get("EXCHANGES_BENCH_PROFILE")
    profiler = cProfile.Profile(time.process_time) if profile_prefix else None  # CPU, not time waiting for a core

    phases = iter(("idle", "during"))

    def switch_profile(signum: int, frame: object) -> None:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(f"{profile_prefix}.{next(phases, 'later')}.prof")
            profiler.clear()
            profiler.enable()

    signal.signal(signal.SIGUSR1, switch_profile)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    instance = Instance()
    rng = random.Random(5)
    with instance.db.read_session() as session:
        loaded = instance.matching.matcher(session)  # loaded before timing
    loaded.wait_for_compaction()
    print(json.dumps({"ready": True}), flush=True)
    end = time.monotonic() + seconds
    window, done, cpu, own = time.monotonic(), 0, time.process_time(), time.thread_time()
    sync_cpu = lookup_cpu = 0.0
    merge_seen, gc_seen = merge_cpu[0], gc_time[0]
    if profiler is not None:
        profiler.enable()
    try:
        while time.monotonic() < end:
            i = rng.randrange(local * 2)  # half the lookups hit a local entry
            seed = f"local{i}".encode()
            signals = FileSignals(md5=hashlib.md5(seed).hexdigest(),
                                  pdq=[PdqQuery(hashlib.sha256(seed).hexdigest(), 100)])
            t0 = time.thread_time()
            matcher = instance.matching.current(instance.db.read_session)  # as /m/lookup does
            t1 = time.thread_time()
            matcher.lookup(signals)
            t2 = time.thread_time()
            sync_cpu += t1 - t0
            lookup_cpu += t2 - t1
            done += 1
            now = time.monotonic()
            if now - window >= 1.0:
                used, own_now = time.process_time(), time.thread_time()
                merged = merge_cpu[0]
                print(json.dumps({"at": time.time(), "lookups_per_s": done / (now - window), "lookups": done,
                                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                  "cpu_s": used - cpu, "cpu_share": (used - cpu) / (now - window),
                                  "lookup_cpu_s": lookup_cpu, "sync_cpu_s": sync_cpu,
                                  "merge_cpu_s": merged - merge_seen, "gc_cpu_s": gc_time[0] - gc_seen,
                                  # the process's other threads: merges (their thread and the pool its tables
                                  # are merged on), the index's search pool, the interpreter's
                                  "other_threads_cpu_s": (used - cpu) - (own_now - own),
                                  **{k: v for k, v in cast(dict[str, int], loaded.stats()["pdq_index"]).items()
                                     if k in ("main_rows", "delta_rows")}}),
                      flush=True)
                window, done, cpu, own, merge_seen, gc_seen = now, 0, used, own_now, merged, gc_time[0]
                sync_cpu = lookup_cpu = 0.0
    except KeyboardInterrupt:
        pass
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile_prefix}.after.prof")
    instance.close()


def _tipline(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "tipline.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"tipline {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000, help="entries the exchange sends")
    parser.add_argument("--local", type=int, default=100_000, help="entries of the local bank (each an MD5 and a PDQ)")
    parser.add_argument("--kills", type=int, default=2, help="how many times the fetch is killed")
    parser.add_argument("--kill-after", type=float, default=60.0, help="seconds of fetching before each kill")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of lookups measured before the fetch")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--postgres", help="a PostgreSQL URL instead of SQLite (a fresh database)")
    parser.add_argument("--fetch-nice", type=int, default=0,
                        help="niceness added to the fetch processes, as `nice tipline exchanges fetch` from a timer or "
                             "a worker unit's Nice= would (0: none)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (SQLite) afterwards")
    parser.add_argument("--serve-fake", nargs=2, type=int, metavar=("COUNT", "BASE"), help=argparse.SUPPRESS)
    parser.add_argument("--lookups", nargs=2, type=float, metavar=("SECONDS", "LOCAL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(*args.serve_fake)
        return 0
    if args.lookups:
        run_lookups(args.lookups[0], int(args.lookups[1]))
        return 0

    data_dir = Path(tempfile.mkdtemp(prefix="tipline-bench-exchanges-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(TIPLINE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT / "src"))
    if args.postgres:
        env["TIPLINE_DATABASE_URL"] = args.postgres
    _tipline(env, "db", "upgrade")
    _tipline(env, "banks", "create", "local", "--kind", "known_material")
    _tipline(env, "banks", "create", "ncmec", "--kind", "known_material")
    local_list = data_dir / "local.csv"
    import hashlib

    with local_list.open("w") as out:
        out.write("signal_type,signal_value\n")
        for i in range(args.local):
            seed = f"local{i}".encode()
            out.write(f"md5,{hashlib.md5(seed).hexdigest()}\npdq,{hashlib.sha256(seed).hexdigest()}\n")
    _tipline(env, "banks", "import", "local", str(local_list), "--format", "csv")

    base = int(time.time()) - args.count // 1000 - 120
    here = [sys.executable, str(Path(__file__).resolve())]
    fake = subprocess.Popen([*here, "--serve-fake", str(args.count), str(base)], stdout=subprocess.PIPE, text=True,
                            env=env)
    lookups = None
    try:
        assert fake.stdout is not None
        info = json.loads(fake.stdout.readline())
        _tipline(env, "exchanges", "add", "NCMEC", "--api", "ncmec", "--bank", "ncmec", "--environment",
                 "test_Industry", "--url", info["url"], "--credentials-stdin",
                 stdin=f"{info['user']}:{info['password']}\n")
        # the CPU of starting the command line (imports), which every fetch run pays before it fetches
        before_start = resource.getrusage(resource.RUSAGE_CHILDREN)
        _tipline(env, "exchanges", "list", "--json")
        after_start = resource.getrusage(resource.RUSAGE_CHILDREN)
        startup_cpu = (after_start.ru_utime - before_start.ru_utime + after_start.ru_stime - before_start.ru_stime)
        total_seconds = args.idle + args.timeout
        lookups = subprocess.Popen([*here, "--lookups", str(total_seconds), str(args.local)], stdout=subprocess.PIPE,
                                   text=True, env=env)
        assert lookups.stdout is not None
        json.loads(lookups.stdout.readline())  # ready
        samples: list[dict[str, float]] = []
        import threading

        def read_samples() -> None:
            assert lookups is not None and lookups.stdout is not None
            for line in lookups.stdout:
                samples.append(json.loads(line))

        reader = threading.Thread(target=read_samples, daemon=True)
        reader.start()
        time.sleep(args.idle)
        fetch_started = time.time()
        lookups.send_signal(signal.SIGUSR1)  # its profile (if asked for) switches to "during"
        load_before = os.getloadavg()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)  # only the fetches end meanwhile
        fake_cpu_before = _cpu_seconds(fake.pid)
        kills = 0
        runs = 0
        deadline = time.monotonic() + args.timeout
        while True:
            runs += 1
            fetch = subprocess.Popen([sys.executable, "-m", "tipline.cli", "exchanges", "fetch", "NCMEC",
                                      "--no-rematch", "--json"], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     preexec_fn=(lambda: os.nice(args.fetch_nice)) if args.fetch_nice else None)
            if kills < args.kills:
                try:
                    fetch.wait(timeout=args.kill_after)
                except subprocess.TimeoutExpired:
                    fetch.send_signal(signal.SIGKILL)
                    fetch.wait()
                    kills += 1
                    continue
            out, err = fetch.communicate(timeout=max(1.0, deadline - time.monotonic()))
            if fetch.returncode != 0:
                raise SystemExit(f"the fetch failed: {out} {err}")
            break
        fetch_ended = time.time()
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # its ru_maxrss: the largest fetch (or setup)
        fetch_cpu = (children_after.ru_utime - children_before.ru_utime
                     + children_after.ru_stime - children_before.ru_stime)
        load_after = os.getloadavg()
        # idle after: once the lookup process holds every entry (it polls the change log every half second)
        # and no merge of its PDQ index is under way, lookups against the full bank with nothing else running
        settle_until = time.monotonic() + 120
        while time.monotonic() < settle_until:
            time.sleep(1)
            last = samples[-1] if samples else {}
            if last.get("at", 0) > fetch_ended + 2 and last.get("merge_cpu_s", 1) == 0:
                break
        lookups.send_signal(signal.SIGUSR1)  # its profile (if asked for) switches to "after"
        after_started = time.time()
        time.sleep(args.idle)
        after_ended = time.time()
        load_idle_after = os.getloadavg()
        lookups.send_signal(signal.SIGTERM)
        lookups.wait()
        reader.join(timeout=5)
        fake_cpu = _cpu_seconds(fake.pid) - fake_cpu_before
    finally:
        fake.send_signal(signal.SIGKILL)
        fake.wait()
        if lookups is not None and lookups.poll() is None:
            lookups.kill()

    idle_samples = [s for s in samples if s["at"] < fetch_started]
    during_samples = [s for s in samples if fetch_started + 1 < s["at"] <= fetch_ended]
    idle = [s["lookups_per_s"] for s in idle_samples]
    during = [s["lookups_per_s"] for s in during_samples]
    after_samples = [s for s in samples if after_started + 1 < s["at"] <= after_ended]
    after = [s["lookups_per_s"] for s in after_samples]

    def average(chosen: list[dict[str, float]], key: str) -> float | None:
        return round(mean(s[key] for s in chosen), 3) if chosen else None

    def cpu_ms_per_lookup(chosen: list[dict[str, float]], key: str = "cpu_s") -> float | None:
        done = sum(s["lookups"] for s in chosen)
        return round(1000 * sum(s[key] for s in chosen) / done, 3) if done else None

    def split(chosen: list[dict[str, float]]) -> str:
        return " + ".join(f"{cpu_ms_per_lookup(chosen, key)}" for key in ("lookup_cpu_s", "sync_cpu_s",
                                                                            "other_threads_cpu_s"))

    check = _check(env, args.count)
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)  # a million entries are gigabytes of SQLite
    seconds = fetch_ended - fetch_started
    figures = {
        "entries": args.count, "signals": args.count * 2, "kills": kills, "runs": runs,
        "fetch_seconds": round(seconds, 1), "entries_per_s": round(args.count / seconds, 1),
        "fetch_cpu_seconds": round(fetch_cpu, 1), "entries_per_cpu_s": round(args.count / fetch_cpu, 1),
        # each run starts the command line (imports: `tipline exchanges list` measured once): without it
        "startup_cpu_s_per_run": round(startup_cpu, 2),
        "entries_per_cpu_s_fetching": round(args.count / max(0.001, fetch_cpu - runs * startup_cpu), 1),
        # the fake exchange's CPU while it served the fetch: on a real deployment it runs elsewhere
        "fake_exchange_cpu_seconds": round(fake_cpu, 1), "fetch_nice": args.fetch_nice,
        "load_average_fetch_start_end_after": f"{load_before[0]:.2f} / {load_after[0]:.2f} / {load_idle_after[0]:.2f}",
        "lookups_per_s_idle": round(mean(idle), 1) if idle else None,
        "lookups_per_s_during": round(mean(during), 1) if during else None,
        "lookups_per_s_idle_after": round(mean(after), 1) if after else None,
        # the target's ratio (the bank grows meanwhile), and the one without the growth: contention alone
        "during_over_idle": round(mean(during) / mean(idle), 3) if idle and during else None,
        "during_over_idle_after": round(mean(during) / mean(after), 3) if after and during else None,
        # the lookup process's own CPU per lookup (what keeping its matcher current costs it) and the share of
        # a core it got (what the other processes on the machine left it), idle / during the fetch
        "lookup_cpu_ms_idle_during_after": f"{cpu_ms_per_lookup(idle_samples)} / {cpu_ms_per_lookup(during_samples)}"
                                           f" / {cpu_ms_per_lookup(after_samples)}",
        # of which: the lookups proper + keeping the matcher current + the process's other threads (the PDQ
        # index's background merges: merge_cpu_ms, their own thread, the rest on the search pool's threads)
        "lookup_cpu_ms_split_idle": split(idle_samples),
        "lookup_cpu_ms_split_during": split(during_samples),
        "lookup_cpu_ms_split_after": split(after_samples),
        "merge_cpu_ms_idle_during_after": " / ".join(
            str(cpu_ms_per_lookup(chosen, "merge_cpu_s")) for chosen in (idle_samples, during_samples, after_samples)),
        # the cyclic garbage collector's CPU (in whichever thread allocated when it ran), per lookup
        "gc_cpu_ms_idle_during_after": " / ".join(
            str(cpu_ms_per_lookup(chosen, "gc_cpu_s")) for chosen in (idle_samples, during_samples, after_samples)),
        "lookup_cpu_share_idle_during_after": f"{average(idle_samples, 'cpu_share')} / "
                                              f"{average(during_samples, 'cpu_share')} / "
                                              f"{average(after_samples, 'cpu_share')}",
        # the PDQ index the lookups searched: main segment rows at the end of each phase, delta rows on average
        "pdq_main_rows_idle_during_after": " / ".join(
            str(max((int(s.get("main_rows", 0)) for s in chosen), default=0))
            for chosen in (idle_samples, during_samples, after_samples)),
        "pdq_delta_rows_mean_idle_during_after": " / ".join(
            str(round(mean(s.get("delta_rows", 0) for s in chosen)) if chosen else None)
            for chosen in (idle_samples, during_samples, after_samples)),
        # peak resident memory: the lookup process (its matcher holds every entry: about 930 bytes each) and
        # the largest fetch process
        "max_rss_mb_lookups_fetch": f"{max((s.get('max_rss_mb', 0) for s in samples), default=0):.0f} / "
                                    f"{children_after.ru_maxrss / 1024:.0f}",
        **check, "backend": "postgresql" if args.postgres else "sqlite",
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>38}: {value}")
    return 0 if check["missing"] == 0 and check["doubled"] == 0 else 1


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc), 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _check(env: dict[str, str], count: int) -> dict[str, int]:
    """Read the database directly: every entry once."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("TIPLINE_")})
    from sqlalchemy import func, select

    from tipline.instance import Instance
    from tipline.store.exchange_tables import ExchangeEntryRow
    from tipline.store.tables import BankEntryRow, BankRow

    instance = Instance()
    with instance.db.transaction() as session:
        rows = session.execute(select(func.count(), func.count(func.distinct(
            ExchangeEntryRow.remote_id + ":" + ExchangeEntryRow.signal_type)))).one()
        bank_id = session.execute(select(BankRow.id).where(BankRow.name == "ncmec")).scalar_one()
        bank_rows = session.execute(select(func.count()).where(BankEntryRow.bank_id == bank_id)).scalar_one()
        distinct_bank = session.execute(select(func.count(func.distinct(
            BankEntryRow.source_id + ":" + BankEntryRow.signal_type))).where(BankEntryRow.bank_id == bank_id)
        ).scalar_one()
    instance.close()
    expected = count * 2
    return {"exchange_entries": rows[0], "bank_entries": bank_rows,
            "missing": expected - min(rows[1], distinct_bank),
            "doubled": (rows[0] - rows[1]) + (bank_rows - distinct_bank)}


if __name__ == "__main__":
    sys.exit(main())
