"""Benchmark: what the sign-in throttle costs per attempt while an attack fills `login_failures`.

A spraying attack is simulated by recording failures for many names from many documentation
addresses (three rows each: the name and address, the address, the name); then the throttle's check
(before any password is checked) and a failure's recording are timed for a name under attack and
for an unrelated one, on SQLite and on PostgreSQL. Argon2 (about 0.1-0.3 s per password at the
default cost) dwarfs these figures; they show that the throttle stays cheap when the table is full.

    .venv/bin/python benchmarks/login_throttle.py [--failures 20000] [--attempts 300]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from throwaway import throwaway_postgres  # noqa: E402

from tipline.config import load_settings  # noqa: E402
from tipline.domain.base import utc_now  # noqa: E402
from tipline.instance import Instance  # noqa: E402
from tipline.store.schema import upgrade  # noqa: E402
from tipline.store.tables import LoginFailureRow  # noqa: E402
from tipline.web.auth import LoginThrottle  # noqa: E402


def fill(instance: Instance, throttle: LoginThrottle, failures: int) -> None:
    now = utc_now()
    rows = []
    for n in range(failures):
        name, address = f"user{n % 500}", f"198.51.100.{n % 250}"
        at = now - timedelta(seconds=(n * 3600 / failures))
        rows += [LoginFailureRow(key=key, at=at) for key in throttle.keys(name, address).values()]
    with instance.db.transaction() as session:
        session.add_all(rows)


def timed(action, attempts: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for n in range(attempts):
        start = time.perf_counter()
        action(n)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def run(backend: str, url: str | None, failures: int, attempts: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        env = {"TIPLINE_DATA_DIR": str(Path(directory) / "var")}
        if url:
            env["TIPLINE_DATABASE_URL"] = url
        instance = Instance(load_settings(env))
        upgrade(instance.db)
        throttle = LoginThrottle(instance.db, instance.audit)
        fill(instance, throttle, failures)
        for label, name in (("name under attack", "user7"), ("unrelated name", "someone.else")):
            p50, p99 = timed(lambda n, name=name: throttle.check(name, f"192.0.2.{n % 200}"), attempts)
            print(f"{backend:<10} {failures:>7} rows x3  check ({label:<17})  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
        p50, p99 = timed(lambda n: throttle.failed("user7", f"203.0.113.{n % 200}"), attempts)
        print(f"{backend:<10} {failures:>7} rows x3  record a failure              p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
        instance.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=int, default=20000)
    parser.add_argument("--attempts", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="an admin URL to create a throwaway database in ('' to skip PostgreSQL)")
    args = parser.parse_args()
    run("sqlite", None, args.failures, args.attempts)
    if args.postgres:
        with throwaway_postgres(args.postgres, "tipline_bench_throttle") as url:
            run("postgresql", url, args.failures, args.attempts)


if __name__ == "__main__":
    main()
