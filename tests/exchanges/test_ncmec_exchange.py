"""Fetching NCMEC hash sharing through python-threatexchange's client from a fake NCMEC over real HTTP:
paging, updates, deletions, resuming after a crash, rate limits, errors, malformed pages, wrong signal
types and lengths, and credentials that never show."""

from __future__ import annotations

import logging
import time

import pytest
from exchange_support import (
    ACTOR,
    add_ncmec_exchange,
    after_checkpoint,
    bank_entries,
    exchange_entries,
    image,
    live_signals,
    md5_of,
    pdq_of,
    sha1_of,
)
from fake_ncmec import Entry, FakeNcmec
from sqlalchemy import select

from tipline.exchanges.fetch import fetch_exchange
from tipline.instance import Instance
from tipline.matching import FileSignals, PdqQuery
from tipline.store.exchange_tables import ExchangeRow
from tipline.store.tables import AuditEventRow


def _entries(count: int, start: int, per_second: int = 1) -> list[Entry]:
    return [image(f"img{i}", start + i // per_second) for i in range(count)]


def test_fetch_applies_every_page_with_provenance_updates_and_deletions(instance: Instance) -> None:
    start = int(time.time()) - 900
    with FakeNcmec(page_size=4) as fake:
        for entry in _entries(10, start, per_second=10):  # more than a page in one second: the client must page
            fake.add(entry)
        fake.add(Entry("vid1", 43, start + 50, "video", classification="B1",
                       fingerprints={"md5": md5_of("vid1"), "sha1": sha1_of("vid1")}))
        add_ncmec_exchange(instance, fake)

        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error is None
        assert outcome.result.added == 32 and outcome.result.deleted == 0
        paged = [r for r in fake.requests if "start" in r["query"]]
        assert paged, "the client followed paging/next"
        assert all(r["auth"] for r in fake.requests)
        signals = live_signals(instance)
        assert ("42-img3", "md5", md5_of("img3")) in signals
        assert ("42-img3", "pdq", pdq_of("img3")) in signals
        assert ("43-vid1", "video_md5", md5_of("vid1")) in signals  # a video's MD5 is a video_md5 entry
        assert ("43-vid1", "sha1", sha1_of("vid1")) in signals
        rows = {(e.remote_id, e.signal_type): e for e in exchange_entries(instance)}
        assert rows[("42-img3", "md5")].tags == ["A1"] and rows[("43-vid1", "sha1")].tags == ["B1"]
        first_seen = rows[("42-img3", "md5")].first_seen
        assert all(r.source == "NCMEC" for r in bank_entries(instance))

        # the matcher of any process sees them: an md5 lookup finds the entry with its provenance
        with instance.db.transaction() as session:
            found = instance.matching.matcher(session, fresh=True).lookup(FileSignals(md5=md5_of("img3")))
        assert [(m.entry.source, m.entry.source_id, m.entry.classification) for m in found.matches] == [
            ("NCMEC", "42-img3", "A1")]

        # later: img3 changes its PDQ, img4 is deleted, img20 is new; the next fetch applies just that
        ts = after_checkpoint(instance)
        fake.add(image("img3", ts, md5=md5_of("img3"), sha1=sha1_of("img3"), pdq=pdq_of("img3 v2")))
        fake.delete(42, "img4", ts)
        fake.add(image("img20", ts))
        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error is None
        assert (outcome.result.added, outcome.result.updated, outcome.result.deleted,
                outcome.result.unchanged) == (3, 1, 3, 2)
        signals = live_signals(instance)
        assert ("42-img3", "pdq", pdq_of("img3 v2")) in signals
        assert ("42-img3", "pdq", pdq_of("img3")) not in signals
        assert not {s for s in signals if s[0] == "42-img4"}
        assert ("42-img20", "md5", md5_of("img20")) in signals
        rows = {(e.remote_id, e.signal_type): e for e in exchange_entries(instance)}
        assert rows[("42-img3", "md5")].first_seen == first_seen
        assert rows[("42-img3", "md5")].last_seen > first_seen
        assert rows[("42-img4", "md5")].deleted_at is not None
        with instance.db.transaction() as session:
            matcher = instance.matching.matcher(session, fresh=True)
            assert not matcher.lookup(FileSignals(md5=md5_of("img4"))).matches
            assert matcher.lookup(FileSignals(pdq=[PdqQuery(pdq_of("img3 v2"), 100)])).matches


def test_a_fetch_stopped_by_a_crash_resumes_from_its_checkpoint_without_duplicates(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeNcmec(page_size=5) as fake:
        fake.add_many(_entries(40, start, per_second=20))  # more than a page in a second: the client pages
        add_ncmec_exchange(instance, fake)

        class Crash(BaseException):
            pass

        pages = []

        def crash_after_three(page: object, result: object) -> None:
            pages.append(page)
            if sum(1 for p in pages if p.entries) == 3:  # type: ignore[attr-defined]
                raise Crash  # as a SIGKILL would: nothing after the third committed page runs

        with pytest.raises(Crash):
            fetch_exchange(instance, "NCMEC", on_page=crash_after_three)
        applied = len(exchange_entries(instance))
        assert 0 < applied < 120
        with instance.db.transaction() as session:
            row = session.execute(select(ExchangeRow)).scalar_one()
            assert row.state == "fetching"  # it died while fetching
            assert row.checkpoint["paging_info"]["paging_url"], "the checkpoint keeps the page to resume at"

        before = len(fake.requests)
        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error is None
        resumed = fake.requests[before]
        assert "start" in resumed["query"], "it resumed mid-range at the next page, not from the beginning"
        rows = exchange_entries(instance)
        assert len(rows) == 120 == len({(r.remote_id, r.signal_type) for r in rows})
        assert len(bank_entries(instance)) == 120  # no entry twice


def test_rate_limits_are_waited_out_and_errors_leave_what_was_applied(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeNcmec(page_size=5) as fake:
        fake.add_many(_entries(12, start))
        add_ncmec_exchange(instance, fake)
        fake.fail_next(429, 2, retry_after=1)
        began = time.monotonic()
        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error is None
        assert time.monotonic() - began >= 2.0  # Retry-After was honoured, twice
        assert len(exchange_entries(instance)) == 36

        ts = after_checkpoint(instance)
        fake.add(image("late", ts))
        fake.fail_next(503, 5)  # the client tries five times (urllib3 Retry total=4)
        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error and "kept refusing" in outcome.error
        with instance.db.transaction() as session:
            row = session.execute(select(ExchangeRow)).scalar_one()
            assert (row.state, row.last_error) == ("failed", outcome.error)
        outcome = fetch_exchange(instance, "NCMEC")  # the exchange is back
        assert outcome.error is None and outcome.result.added == 3


def test_bad_input_is_named_per_entry_and_the_rest_applied(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeNcmec(page_size=3) as fake:
        fake.add(image("good", start))
        fake.add(image("short", start + 1, md5="abc123", pdq=pdq_of("short")))
        fake.add(image("notype", start + 2, pdna="a1" * 20, md5=md5_of("notype")))
        fake.add(Entry("vid", 9, start + 3, "video", fingerprints={"pdq": pdq_of("vid"), "md5": md5_of("vid")}))
        for i in range(6):
            fake.add(image(f"more{i}", start + 10 + i))
        add_ncmec_exchange(instance, fake)
        fake.malformed_after_pages = None
        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error is None
        assert dict(outcome.result.problems) == {"bad_value": 1, "unsupported_signal_type": 2}
        signals = live_signals(instance)
        assert ("42-short", "pdq", pdq_of("short")) in signals  # its good signal applied
        assert not {s for s in signals if s[0] == "42-short" and s[1] == "md5"}
        assert ("9-vid", "video_md5", md5_of("vid")) in signals

        ts = after_checkpoint(instance)
        for i in range(9):
            fake.add(image(f"later{i}", ts))  # three pages in one second
        fake.malformed_after_pages = fake.pages_served + 1
        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error and "malformed" in outcome.error

        from click.testing import CliRunner
        from support import instance_env

        from tipline.cli import main

        status = CliRunner().invoke(main, ["exchanges", "status", "NCMEC", "--json"], env=instance_env(instance))
        assert status.exit_code == 0, status.output
        import json

        data = json.loads(status.stdout)
        named = {(p["kind"], p["remote_id"]) for p in data["problems"]}
        assert ("bad_value", "42-short") in named
        assert ("unsupported_signal_type", "42-notype") in named  # PhotoDNA is not matched here
        assert ("unsupported_signal_type", "9-vid") in named  # a PDQ on a video entry
        assert any(kind == "malformed_page" for kind, _ in named)
        assert data["totals"]["problems"] == {"bad_value": 1, "malformed_page": 1, "unsupported_signal_type": 2}
        assert data["state"] == "failed"
        text = CliRunner().invoke(main, ["exchanges", "status", "NCMEC"], env=instance_env(instance)).stdout
        assert "42-short: bad value: md5 hash must be 32 hex characters" in text

        fake.malformed_after_pages = None
        outcome = fetch_exchange(instance, "NCMEC")
        assert outcome.error is None
        assert {f"42-later{i}" for i in range(9)} <= {e.remote_id for e in exchange_entries(instance)}


def test_repeated_pages_change_nothing(instance: Instance) -> None:
    from tipline.exchanges.apis import Page, RemoteEntry
    from tipline.matching import SignalType

    with FakeNcmec() as fake:
        add_ncmec_exchange(instance, fake)
    page = Page([RemoteEntry("1-a", ((SignalType.MD5, md5_of("a")),)),
                 RemoteEntry("1-a", ((SignalType.MD5, md5_of("a")),))], [], {"get_entries_max_ts": 5})
    for _ in range(3):  # the same page again (an exchange that repeats pages, a resumed fetch)
        with instance.db.transaction() as session:
            row = session.execute(select(ExchangeRow)).scalar_one()
            instance.exchanges.apply_page(session, row, page, ACTOR)
    assert len(bank_entries(instance)) == 1 and len(exchange_entries(instance)) == 1


def test_credentials_are_sealed_and_never_logged_or_printed(instance: Instance,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    from click.testing import CliRunner
    from support import instance_env

    from tipline.cli import main

    caplog.set_level(logging.DEBUG)
    start = int(time.time()) - 600
    with FakeNcmec(password="pw-never-shown-Zq81") as fake:
        fake.add(image("one", start))
        add_ncmec_exchange(instance, fake)
        fetch_exchange(instance, "NCMEC")
        runner = CliRunner()
        env = instance_env(instance)
        wrong = runner.invoke(main, ["exchanges", "set-credentials", "NCMEC"], input="esp-user:wrong-Pw-77x\n", env=env)
        assert wrong.exit_code == 0
        after_checkpoint(instance)  # so that the next fetch asks the exchange something
        failed = runner.invoke(main, ["exchanges", "fetch", "NCMEC", "--json"], env=env)
        assert failed.exit_code == 1 and "401" in failed.stdout
        outputs = [failed.output]
        for args in (["list", "--json"], ["status", "NCMEC", "--json"], ["status", "NCMEC"], ["entries", "NCMEC"]):
            result = runner.invoke(main, ["exchanges", *args], env=env)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    with instance.db.transaction() as session:
        row = session.execute(select(ExchangeRow)).scalar_one()
        stored = [row.sealed_credentials or "", str(row.config), str(row.counts), row.last_error or ""]
        stored += [str(e.details) for e in session.execute(select(AuditEventRow)).scalars()]
    for secret in ("pw-never-shown-Zq81", "wrong-Pw-77x"):
        assert not any(secret in text for text in outputs), "printed"
        assert not any(secret in text for text in stored), "stored in clear"
        assert secret not in caplog.text, "logged"
