"""Meta ThreatExchange as an exchange through python-threatexchange's client, against a fake Graph API over
real HTTP: threat_updates pages followed by `next`, deletions, tags as provenance, updates it cannot use
named per entry, errors and rate limits, resuming without loss or duplicates, reactions as feedback, and
the app token never shown."""

from __future__ import annotations

import json
import logging
import urllib.parse

import pytest
from exchange_support import ACTOR, bank_entries, exchange_entries, live_signals, md5_of, pdq_of
from fake_threatexchange import OTHER_APP, FakeThreatExchange, Indicator
from sqlalchemy import select
from support import instance_env, run_tipline
from websupport import Site

from tipline.exchanges import threatexchange
from tipline.exchanges.apis import Page
from tipline.exchanges.fetch import fetch_exchange, send_pending_feedback
from tipline.instance import Instance
from tipline.store.exchange_tables import ExchangeRow
from tipline.store.exchanges import PageResult
from tipline.store.tables import AuditEventRow

GROUP = 1234
START = 1_760_000_000


def _add(instance: Instance, fake: FakeThreatExchange, groups: tuple[int, ...] = (GROUP,)) -> None:
    with instance.db.transaction() as session:
        instance.banks.create(session, "te", "known_material", ACTOR)
        instance.exchanges.create(session, "TE", "threatexchange", {"privacy_groups": list(groups), "url": fake.url},
                                  "te", ACTOR, credentials=fake.token)


def _pdq(n: int, group: int = GROUP, **kwargs: object) -> Indicator:
    return Indicator(n, "HASH_PDQ", pdq_of(f"picture{n}"), START + n, group, **kwargs)  # type: ignore[arg-type]


def _named_problems(instance: Instance) -> set[tuple[str, str | None]]:
    with instance.db.transaction() as session:
        row = instance.exchanges.get(session, "TE")
        return {(p.kind, p.remote_id) for p in instance.exchanges.problems(session, row)}


def test_updates_are_applied_with_their_tags_and_what_cannot_be_used_is_named(
        instance: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threatexchange, "PAGE_SIZE", 3)
    with FakeThreatExchange() as fake:
        fake.add(_pdq(1, tags=["csam", "seen_elsewhere"]))
        fake.add(Indicator(2, "HASH_MD5", md5_of("a photo"), START + 2, GROUP))
        fake.add(Indicator(3, "HASH_MD5", md5_of("a clip"), START + 3, GROUP, tags=["media_type_video"]))
        fake.add(Indicator(4, "HASH_VIDEO_MD5", md5_of("another clip"), START + 4, GROUP))
        fake.add(Indicator(5, "URI", "https://example.org/x", START + 5, GROUP))
        fake.add(Indicator(6, "HASH_PDQ", "abc123", START + 6, GROUP))  # not 64 hex digits
        fake.add(Indicator(7, "HASH_MD5", md5_of("x"), START + 7, GROUP,
                           raw={"id": "7", "last_updated": START + 7, "should_delete": False,
                                "descriptors": {"data": []}}))  # no type nor indicator
        fake.add(Indicator(8, "HASH_PDQ", "", START + 8, GROUP, raw={"indicator": pdq_of("no id")}))
        fake.add(_pdq(9))
        _add(instance, fake)

        outcome = fetch_exchange(instance, "TE")

        assert outcome.error is None
        assert outcome.pages == 3 and outcome.result.added == 5
        assert [q.get("after") for q in fake.updates_requests()] == [None, "3", "6"]  # followed paging.next
        assert live_signals(instance) == {
            (f"{GROUP}/1", "pdq", pdq_of("picture1")), (f"{GROUP}/2", "md5", md5_of("a photo")),
            (f"{GROUP}/3", "video_md5", md5_of("a clip")), (f"{GROUP}/4", "video_md5", md5_of("another clip")),
            (f"{GROUP}/9", "pdq", pdq_of("picture9"))}
        assert {e.remote_id: e.tags for e in exchange_entries(instance)}[f"{GROUP}/1"] == ["csam", "seen_elsewhere"]
        assert dict(outcome.result.problems) == {"unsupported_signal_type": 1, "bad_value": 1, "bad_record": 2}
        assert _named_problems(instance) == {("unsupported_signal_type", f"{GROUP}/5"), ("bad_value", f"{GROUP}/6"),
                                             ("bad_record", f"{GROUP}/7"), ("bad_record", None)}

        status = run_tipline(instance_env(instance), "exchanges", "status", "TE", "--json")
        assert status.returncode == 0, status.stderr
        shown = json.loads(status.stdout)
        assert shown["totals"]["problems"] == {"unsupported_signal_type": 1, "bad_value": 1, "bad_record": 2}
        assert shown["checkpoint_time"] == START + 9
        assert f"{GROUP}/6" in {p["remote_id"] for p in shown["problems"] if p["kind"] == "bad_value"}


def test_deletions_stop_matching_and_the_next_fetch_asks_from_the_checkpoint(instance: Instance) -> None:
    with FakeThreatExchange() as fake:
        fake.add(_pdq(1))
        fake.add(_pdq(2))
        fake.add(_pdq(3))
        _add(instance, fake)
        assert fetch_exchange(instance, "TE").result.added == 3

        fake.add(Indicator(2, "HASH_PDQ", pdq_of("picture2"), START + 100, GROUP, deleted=True))
        fake.add(Indicator(3, "HASH_PDQ", pdq_of("picture3"), START + 101, GROUP, owners=()))  # no visible opinion
        outcome = fetch_exchange(instance, "TE")

        assert outcome.error is None and outcome.result.deleted == 2 and outcome.result.added == 0
        assert fake.updates_requests()[-1]["start_time"] == str(START + 3)
        assert {value for _, _, value in live_signals(instance)} == {pdq_of("picture1")}
        deleted = {e.remote_id for e in exchange_entries(instance) if e.deleted_at is not None}
        assert deleted == {f"{GROUP}/2", f"{GROUP}/3"}


def test_each_privacy_group_is_fetched_from_its_own_checkpoint(instance: Instance) -> None:
    with FakeThreatExchange() as fake:
        fake.add(_pdq(1, group=11))
        fake.add(_pdq(2, group=22))
        fake.add(Indicator(1, "HASH_PDQ", pdq_of("picture1"), START + 1, 22))  # the same indicator shared in both
        _add(instance, fake, groups=(11, 22))
        assert fetch_exchange(instance, "TE").result.added == 3

        fake.add(Indicator(1, "HASH_PDQ", pdq_of("picture1"), START + 50, 22, deleted=True))
        assert fetch_exchange(instance, "TE").result.deleted == 1
        assert {r for r, _, _ in live_signals(instance)} == {"11/1", "22/2"}  # still shared in group 11
        asked = {(q["start_time"]) for q in fake.updates_requests()[-2:]}
        assert asked == {str(START + 1), str(START + 2)}


class Crash(BaseException):
    pass


def test_an_interrupted_fetch_resumes_without_loss_or_duplicates(instance: Instance,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threatexchange, "PAGE_SIZE", 4)
    with FakeThreatExchange() as fake:
        for n in range(1, 21):
            fake.add(Indicator(n, "HASH_PDQ", pdq_of(f"p{n}"), START + n // 3, GROUP))  # three a second
        _add(instance, fake)
        pages = []

        def crash_after_two(page: Page, result: PageResult) -> None:
            pages.append(page)
            if len(pages) == 2:
                raise Crash  # as a process killed once the second page was committed

        with pytest.raises(Crash):
            fetch_exchange(instance, "TE", on_page=crash_after_two)
        assert len(exchange_entries(instance)) == 8
        before = len(fake.updates_requests())

        fake.fail_next(500, 2)  # answered at once by the client's retries
        outcome = fetch_exchange(instance, "TE")

        assert outcome.error is None
        resumed = [q for q in fake.updates_requests()[before:] if "after" not in q]
        assert {q["start_time"] for q in resumed} == {str(START + 8 // 3)}  # the second page's last time
        entries = exchange_entries(instance)
        assert sorted(e.remote_id for e in entries) == sorted(f"{GROUP}/{n}" for n in range(1, 21))  # each once
        assert sorted(e.value for e in bank_entries(instance)) == sorted(pdq_of(f"p{n}") for n in range(1, 21))


def test_refusals_and_rate_limits_stop_the_fetch_which_the_next_resumes_without_the_token(
        instance: Instance, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeThreatExchange() as fake:
        fake.add(_pdq(1))
        _add(instance, fake)
        fake.fail_next(429, 2)  # Retry-After: 0, waited out by the client
        assert fetch_exchange(instance, "TE").result.added == 1

        fake.add(_pdq(2))
        fake.fail_next(500, 5)  # the first try and the client's four retries
        refused = fetch_exchange(instance, "TE")
        assert refused.error is not None and "kept refusing" in refused.error

        fake.fail_next(400, 1, code=4)  # Graph API: application request limit reached
        limited = fetch_exchange(instance, "TE")
        assert limited.error is not None and "kept refusing" in limited.error and "error 4" in limited.error

        fake.garble_next()
        garbled = fetch_exchange(instance, "TE")
        assert garbled.error is not None and "malformed" in garbled.error
        assert ("malformed_page", None) in _named_problems(instance)

        with instance.db.transaction() as session:
            row = session.execute(select(ExchangeRow).where(ExchangeRow.name == "TE")).scalar_one()
            assert row.state == "failed"
            stored = f"{row.last_error} {row.counts} {row.config} {row.checkpoint} {row.sealed_credentials}"
        listed = run_tipline(instance_env(instance), "exchanges", "list", "--json")
        status = run_tipline(instance_env(instance), "exchanges", "status", "TE", "--json")
        assert json.loads(listed.stdout)[0]["api"] == "threatexchange"

        assert fetch_exchange(instance, "TE").error is None  # resumes once the exchange answers
        assert {value for _, _, value in live_signals(instance)} == {pdq_of("picture1"), pdq_of("picture2")}
        assert "access_token=" in caplog.text  # urllib3 logged the URLs ...
        secret = fake.token.partition("|")[2]
        for shown in (stored, caplog.text, refused.error, limited.error, listed.stdout, status.stdout,
                      status.stderr):
            assert secret not in shown and urllib.parse.quote(fake.token, safe="") not in shown  # ... not the token
        with instance.db.transaction() as session:
            audit = json.dumps([e.details for e in session.execute(select(AuditEventRow)).scalars()], default=str)
        assert secret not in audit


def test_an_analysts_word_is_sent_as_a_reaction_on_the_other_members_descriptors(instance: Instance) -> None:
    our_app = 1000000001
    with FakeThreatExchange() as fake:
        fake.add(_pdq(1, owners=(OTHER_APP, our_app)))
        fake.add(_pdq(2))
        fake.add(_pdq(3, owners=(our_app,)))
        _add(instance, fake)
        fetch_exchange(instance, "TE")
        ids = {e.remote_id: e.id for e in exchange_entries(instance)}
        with instance.db.transaction() as session:
            instance.exchanges.record_feedback(session, ids[f"{GROUP}/1"], True, ACTOR)
            instance.exchanges.record_feedback(session, ids[f"{GROUP}/2"], False, ACTOR, "a landscape")
            instance.exchanges.record_feedback(session, ids[f"{GROUP}/3"], False, ACTOR, "our own")

        assert send_pending_feedback(instance, "TE") == {"sent": 2, "failed": 1}

        assert sorted(fake.reactions) == [(11, "HELPFUL"), (21, "DISAGREE_WITH_TAGS")]  # not on our own (12, 31)
        state = {e.remote_id: (e.feedback, e.feedback_sent, e.feedback_reason) for e in exchange_entries(instance)}
        assert state[f"{GROUP}/1"] == ("confirmed", "sent", None)
        assert state[f"{GROUP}/2"] == ("rejected", "sent", "a landscape")  # the reason is kept here
        assert state[f"{GROUP}/3"][:2] == ("rejected", "failed")
        assert pdq_of("picture2") not in {value for _, _, value in live_signals(instance)}  # rejected: no match


def test_the_command_line_adds_it_and_lists_it(instance: Instance) -> None:
    env = instance_env(instance)
    with instance.db.transaction() as session:
        instance.banks.create(session, "te", "known_material", ACTOR)
    with FakeThreatExchange() as fake:
        fake.add(_pdq(1))
        wrong = run_tipline(env, "exchanges", "add", "TE", "--api", "threatexchange", "--bank", "te",
                            "--privacy-group", str(GROUP), "--credentials-stdin", stdin="not-a-token\n")
        assert wrong.returncode != 0 and "APP_ID|SECRET" in wrong.stderr
        missing = run_tipline(env, "exchanges", "add", "TE", "--api", "threatexchange", "--bank", "te")
        assert missing.returncode != 0 and "privacy group" in missing.stderr
        added = run_tipline(env, "exchanges", "add", "TE", "--api", "threatexchange", "--bank", "te",
                            "--privacy-group", str(GROUP), "--privacy-group", "77", "--url", fake.url,
                            "--credentials-stdin", "--json", stdin=fake.token + "\n")
        assert added.returncode == 0, added.stderr
        data = json.loads(added.stdout)
        assert (data["api"], data["bank"], data["has_credentials"]) == ("threatexchange", "te", True)
        assert data["config"]["privacy_groups"] == [GROUP, 77]
        fetched = run_tipline(env, "exchanges", "fetch", "TE", "--json")
        assert fetched.returncode == 0, fetched.stderr
        assert json.loads(fetched.stdout)[0]["added"] == 1
        listed = json.loads(run_tipline(env, "exchanges", "list", "--json").stdout)
        assert [(d["name"], d["api"], d["entries"]["live"]) for d in listed] == [("TE", "threatexchange", 1)]
        assert fake.token.partition("|")[2] not in added.stdout + fetched.stdout + json.dumps(listed, default=str)


def test_access_tokens_are_masked_in_urls() -> None:
    url = "http://x/v26.0/1/threat_updates/?access_token=1000000001%7CaSecret_0123&limit=4"
    assert threatexchange.hide_access_tokens(url) == "http://x/v26.0/1/threat_updates/?access_token=********&limit=4"


def test_c_exchanges_lists_it_as_hma_does_without_the_token(site: Site) -> None:
    with FakeThreatExchange() as fake:
        fake.add(_pdq(1, tags=["csam"]))
        fake.add(Indicator(2, "HASH_MD5", "123", START + 2, GROUP))
        _add(site.instance, fake)
        fetch_exchange(site.instance, "TE")
    analyst = site.signed_in("analyst")
    assert analyst.get("/c/exchanges").json() == ["TE"]
    shown = analyst.get("/c/exchange/TE")
    data = shown.json()
    assert (data["api"], data["bank"], data["entries"]["live"]) == ("threatexchange", "te", 1)
    assert data["config"]["privacy_groups"] == [GROUP]
    assert data["status"]["checkpoint_time"] == START + 2
    assert [(p["kind"], p["remote_id"]) for p in data["problems"]] == [("bad_value", f"{GROUP}/2")]
    assert fake.token.partition("|")[2] not in shown.text
