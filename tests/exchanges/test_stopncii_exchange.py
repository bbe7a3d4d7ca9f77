"""StopNCII.org as an exchange through python-threatexchange's client, against a fake over real HTTP:
paging, signal types it cannot match named, withdrawn cases deleted, errors waited out then reported,
feedback (Blocked / NotBlocked) sent with the feedback key, and the keys never shown."""

from __future__ import annotations

import logging
import time

import pytest
from exchange_support import ACTOR, exchange_entries, live_signals, pdq_of
from fake_stopncii import FakeStopNcii, Record
from sqlalchemy import select

from tipline.exchanges import stopncii
from tipline.exchanges.fetch import fetch_exchange, send_pending_feedback
from tipline.instance import Instance
from tipline.store.exchange_tables import ExchangeRow


def _add(instance: Instance, fake: FakeStopNcii, credentials: str | None = None) -> None:
    with instance.db.transaction() as session:
        instance.banks.create(session, "stopncii", "known_material", ACTOR)
        instance.exchanges.create(session, "StopNCII", "stopncii", {"url": fake.url}, "stopncii", ACTOR,
                                  credentials=credentials or fake.credentials)


def _fetches(fake: FakeStopNcii) -> list[dict[str, str]]:
    return [r["query"] for r in fake.requests if r["path"].endswith("/FetchHashes")]


def test_pages_are_applied_and_what_cannot_match_is_named(instance: Instance,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopncii, "PAGE_SIZE", 2)
    start = int(time.time()) - 600
    with FakeStopNcii() as fake:
        for i in range(3):
            fake.add(Record(start + i, "ImagePDQ", pdq_of(f"picture{i}"), tags=["seen elsewhere"] if i == 0 else []))
        fake.add(Record(start + 3, "VideoMD5", "0123456789abcdef0123456789abcdef"))
        fake.add(Record(start + 4, "VideoTMK", "tmk-of-a-video"))
        fake.add(Record(start + 5, "ImagePDQ", "abc123"))  # not 64 hex digits
        _add(instance, fake)

        outcome = fetch_exchange(instance, "StopNCII")

        assert outcome.error is None
        assert outcome.result.added == 4 and outcome.pages == 3
        assert [q.get("nextPageToken") for q in _fetches(fake)] == [None, "2", "4"]  # the client followed the pages
        assert dict(outcome.result.problems) == {"unsupported_signal_type": 1, "bad_value": 1}
        signals = live_signals(instance)
        assert (f"ImagePDQ:{pdq_of('picture0')}", "pdq", pdq_of("picture0")) in signals
        assert ("VideoMD5:0123456789abcdef0123456789abcdef", "video_md5", "0123456789abcdef0123456789abcdef") in signals
        tags = {e.remote_id: e.tags for e in exchange_entries(instance)}
        assert tags[f"ImagePDQ:{pdq_of('picture0')}"] == ["seen elsewhere"]
        with instance.db.transaction() as session:
            named = {(p.kind, p.remote_id) for p in instance.exchanges.problems(
                session, instance.exchanges.get(session, "StopNCII"))}
        assert named == {("unsupported_signal_type", "VideoTMK:tmk-of-a-video"), ("bad_value", "ImagePDQ:abc123")}


def test_a_withdrawn_case_stops_matching_and_the_next_fetch_starts_from_the_checkpoint(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeStopNcii() as fake:
        fake.add(Record(start, "ImagePDQ", pdq_of("kept")))
        fake.add(Record(start + 1, "ImagePDQ", pdq_of("withdrawn")))
        _add(instance, fake)
        assert fetch_exchange(instance, "StopNCII").result.added == 2

        fake.add(Record(start + 100, "ImagePDQ", pdq_of("withdrawn"), status="Withdrawn"))
        outcome = fetch_exchange(instance, "StopNCII")

        assert outcome.result.deleted == 1 and outcome.result.added == 0
        assert _fetches(fake)[-1]["startTimestamp"] == str(start + 1)  # from the checkpoint, not the beginning
        live = {value for _, _, value in live_signals(instance)}
        assert live == {pdq_of("kept")}


def test_refusals_are_waited_out_then_reported_without_the_keys(instance: Instance,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    start = int(time.time()) - 600
    caplog.set_level(logging.DEBUG)
    with FakeStopNcii() as fake:
        fake.add(Record(start, "ImagePDQ", pdq_of("one")))
        _add(instance, fake)
        fake.fail_next(503, 2)  # within the client's retries
        assert fetch_exchange(instance, "StopNCII").result.added == 1

        fake.fail_next(500, 5)  # the first try and the client's four retries
        outcome = fetch_exchange(instance, "StopNCII")
        assert outcome.error is not None and "kept refusing" in outcome.error
        with instance.db.transaction() as session:
            row = session.execute(select(ExchangeRow).where(ExchangeRow.name == "StopNCII")).scalar_one()
            assert row.state == "failed"
            stored = f"{row.last_error} {row.counts} {row.config} {row.sealed_credentials}"
        for key in (fake.fetch_key, fake.subscription_key, fake.feedback_key):
            assert key not in stored and key not in caplog.text and key not in outcome.error

        fake.add(Record(start + 10, "ImagePDQ", pdq_of("two")))
        assert fetch_exchange(instance, "StopNCII").error is None  # resumes once the exchange answers
        assert len(live_signals(instance)) == 2


def test_an_analysts_words_are_sent_as_blocked_or_not_blocked(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeStopNcii() as fake:
        fake.add(Record(start, "ImagePDQ", pdq_of("confirmed")))
        fake.add(Record(start + 1, "ImagePDQ", pdq_of("rejected")))
        _add(instance, fake)
        fetch_exchange(instance, "StopNCII")
        ids = {e.value: e.id for e in exchange_entries(instance)}
        with instance.db.transaction() as session:
            instance.exchanges.record_feedback(session, ids[pdq_of("confirmed")], True, ACTOR)
            instance.exchanges.record_feedback(session, ids[pdq_of("rejected")], False, ACTOR, "a landscape")

        assert send_pending_feedback(instance, "StopNCII") == {"sent": 2, "failed": 0}

        sent = {f["hashValue"]: f for f in fake.feedback}
        assert sent[pdq_of("confirmed")]["feedbackValue"] == "Blocked"
        assert sent[pdq_of("rejected")]["feedbackValue"] == "NotBlocked"
        assert sent[pdq_of("rejected")]["tags"] == ["a landscape"]
        assert {e.feedback_sent for e in exchange_entries(instance)} == {"sent"}


def test_without_a_feedback_key_the_word_waits_and_says_why(instance: Instance) -> None:
    start = int(time.time()) - 600
    with FakeStopNcii() as fake:
        fake.add(Record(start, "ImagePDQ", pdq_of("one")))
        _add(instance, fake, credentials=f"{fake.fetch_key},{fake.subscription_key}")
        fetch_exchange(instance, "StopNCII")
        (entry,) = exchange_entries(instance)
        with instance.db.transaction() as session:
            instance.exchanges.record_feedback(session, entry.id, False, ACTOR)

        assert send_pending_feedback(instance, "StopNCII") == {"sent": 0, "failed": 1}
        (entry,) = exchange_entries(instance)
        assert entry.feedback_sent == "failed" and "FEEDBACK_KEY" in (entry.feedback_error or "")
        assert fake.feedback == []
