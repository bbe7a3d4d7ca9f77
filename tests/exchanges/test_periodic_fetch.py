"""Exchanges fetched on their own intervals by worker processes (`tipline worker`), never by the web
process's embedded worker: due ones fetched, others left alone, the interval set from the shell."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from click.testing import CliRunner
from exchange_support import ACTOR, add_ncmec_exchange, after_checkpoint, image, live_signals, md5_of
from fake_ncmec import FakeNcmec
from sqlalchemy import select
from support import instance_env

from tipline.cli import main
from tipline.exchanges.periodic import fetch_due_exchanges
from tipline.instance import Instance
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.store.exchange_tables import ExchangeRow
from tipline.store.tables import AuditEventRow


def _started_ago(instance: Instance, name: str, minutes: float) -> None:
    with instance.db.transaction() as session:
        row = session.execute(select(ExchangeRow).where(ExchangeRow.name == name)).scalar_one()
        assert row.last_fetch_started_at is not None
        row.last_fetch_started_at -= timedelta(minutes=minutes)


def _entries_requests(fake: FakeNcmec) -> int:
    return sum(1 for r in fake.requests if r["path"].endswith("/v2/entries"))


def test_an_exchange_is_fetched_again_once_its_interval_has_passed(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeNcmec() as fake:
        fake.add(image("first", start))
        add_ncmec_exchange(instance, fake)
        tipline = CliRunner().invoke(main, ["exchanges", "set-interval", "NCMEC", "30"], env=instance_env(instance))
        assert tipline.exit_code == 0, tipline.output

        assert fetch_due_exchanges(instance) == 1  # never fetched: due at once
        assert ("42-first", "md5", md5_of("first")) in live_signals(instance)
        asked = _entries_requests(fake)

        assert fetch_due_exchanges(instance) == 0  # fetched just now: not due for 30 minutes
        _started_ago(instance, "NCMEC", 20)
        assert fetch_due_exchanges(instance) == 0
        assert _entries_requests(fake) == asked

        fake.add(image("second", after_checkpoint(instance)))  # stamped after what the first fetch reached
        _started_ago(instance, "NCMEC", 11)  # 31 minutes since the last fetch began
        assert fetch_due_exchanges(instance) == 1
        assert ("42-second", "md5", md5_of("second")) in live_signals(instance)
    with instance.db.transaction() as session:
        actions = list(session.execute(select(AuditEventRow.action).where(
            AuditEventRow.action.in_(("exchange.interval_set", "exchange.fetched")))).scalars())
    assert actions.count("exchange.fetched") == 2 and "exchange.interval_set" in actions


def test_exchanges_set_to_zero_or_disabled_are_left_to_the_shell(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeNcmec() as fake:
        fake.add(image("first", start))
        add_ncmec_exchange(instance, fake, name="BYHAND", bank="byhand", fetch_every_minutes=0)
        add_ncmec_exchange(instance, fake, name="OFF", bank="off")
        with instance.db.transaction() as session:
            instance.exchanges.set_enabled(session, "OFF", False, ACTOR)
        assert fetch_due_exchanges(instance) == 0
        assert _entries_requests(fake) == 0
        listed = CliRunner().invoke(main, ["exchanges", "list", "--json"], env=instance_env(instance))
        assert {d["name"]: d["fetch_every_minutes"] for d in json.loads(listed.output)} == {"BYHAND": 0, "OFF": 15}


def test_only_a_worker_process_fetches_not_the_web_process(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeNcmec() as fake:
        fake.add(image("first", start))
        add_ncmec_exchange(instance, fake)

        web = InProcessWorker(instance, idle_wait=0.05)  # as create_app builds it for `tipline serve`
        web.start()
        time.sleep(1.5)
        web.stop()
        assert _entries_requests(fake) == 0, "the web process made a request to an exchange"

        worker = InProcessWorker(instance, idle_wait=0.05, outbound=True)  # as `tipline worker` builds it
        worker.start()
        try:
            deadline = time.monotonic() + 30
            while ("42-first", "md5", md5_of("first")) not in live_signals(instance):
                assert time.monotonic() < deadline, "the worker did not fetch the due exchange"
                time.sleep(0.2)
        finally:
            worker.stop()

