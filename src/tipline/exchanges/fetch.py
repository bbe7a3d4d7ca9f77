"""Fetching an exchange into its bank, in a worker or the command line (never the web process).

Each page the client yields is applied, with the checkpoint that follows it, in one transaction: a
fetch stopped anywhere (a crash, SIGKILL, an error answer) resumes from the last committed page, and
a page applied twice changes nothing. After the fetch, the reports whose files match the new entries,
or matched entries now deleted or replaced, are matched again and scored again.

Credentials are opened only here, handed to the client, and never written to a log, an error or the
audit trail: messages are scrubbed of them before they are stored or printed.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.exchanges.apis import ExchangeRefused, Page, Problem, hide_access_tokens
from tipline.exchanges.registry import api_named

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.store.exchanges import PageResult

log = logging.getLogger("tipline.exchanges")
FETCH_ACTOR = Actor.system("exchanges:fetch")
STALE_FETCH = timedelta(minutes=10)
"""A fetch that committed nothing for this long is taken to be dead (another may take over)."""


class FetchBusy(RuntimeError):
    """Another process is fetching this exchange."""


@dataclass
class FetchOutcome:
    exchange: str
    pages: int = 0
    result: Any = None  # PageResult
    error: str | None = None
    rematched: list[int] = field(default_factory=list)
    feedback: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"exchange": self.exchange, "pages": self.pages, **(self.result.as_dict() if self.result else {}),
                "error": self.error, "rematched_reports": self.rematched, "feedback": self.feedback}


def scrub(text: str, secret: str | None, limit: int = 2000) -> str:
    """`text` without the credentials or any part of them (a password may follow the user in a message;
    StopNCII's are keys separated by commas; ThreatExchange's app token APP_ID|SECRET travels in URLs,
    where it is also percent-encoded), nor any URL's `access_token`."""
    from urllib.parse import quote

    text = hide_access_tokens(text)
    if secret:
        parts = {secret, *secret.split(":", 1), *secret.split(","), *secret.split("|")}
        for part in sorted(parts | {quote(p, safe="") for p in parts}, key=len, reverse=True):
            if len(part) >= 4:
                text = text.replace(part, "********")
    return text[:limit]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str) -> bool:
    """Whether the fetcher `host:pid` may still run: on this host, whether its process exists (a fetch
    killed mid-way is taken over at once); on another, assumed so until STALE_FETCH passes."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fetch_exchange(instance: Instance, name: str, *, on_page: Callable[[Page, PageResult], None] | None = None,
                   rematch: bool = True, send_feedback: bool = True, max_pages: int | None = None) -> FetchOutcome:
    """Fetch `name` from its checkpoint to the exchange's present (or `max_pages` pages)."""
    from tipline.store.exchange_tables import ExchangeRow
    from tipline.store.exchanges import MAX_NAMED_PROBLEMS, PageResult

    now = utc_now()
    with instance.db.transaction() as session:
        row = instance.exchanges.get(session, name)
        if not row.enabled:
            raise FetchBusy(f"exchange {name!r} is disabled (tipline exchanges enable {name})")
        fetcher = (row.counts or {}).get("fetcher")
        last_commit = (row.counts or {}).get("fetcher_at")
        if (row.state == "fetching" and fetcher and fetcher != _owner() and _alive(fetcher) and last_commit
                and now.timestamp() - float(last_commit) < STALE_FETCH.total_seconds()):
            raise FetchBusy(f"exchange {name!r} is being fetched by {fetcher}")
        api = api_named(row.api)
        secret = instance.exchanges.credentials(row)
        credentials = secret.reveal() if secret else None
        config, checkpoint, row_id = dict(row.config), row.checkpoint, row.id
        row.state, row.last_fetch_started_at, row.last_error = "fetching", now, None
        row.counts = {**(row.counts or {}), "fetcher": _owner(), "fetcher_at": now.timestamp()}
        instance.exchanges.forget_old_problems(session, row)
    outcome = FetchOutcome(name, result=PageResult())
    named = MAX_NAMED_PROBLEMS
    try:
        for page in _pages(api.pages(name, config, credentials, checkpoint)):
            with instance.db.transaction() as session:
                current = session.get(ExchangeRow, row_id)
                assert current is not None
                result = instance.exchanges.apply_page(session, current, page, FETCH_ACTOR, name_problems=named)
                named -= len(page.problems) + result.problems.get("wrong_bank_kind", 0)
                current.counts = _counted(current.counts, result)
            if on_page is not None:
                on_page(page, result)
            if not rematch:  # the ids are kept only to match reports again: 2,000,000 of them take 72 MB
                result.new_entry_ids, result.disabled_entry_ids = [], []
            outcome.result.merge(result)
            outcome.pages += 1
            if max_pages is not None and outcome.pages >= max_pages:
                break
    except Exception as error:  # noqa: BLE001 - any failure of the exchange: recorded, the rest kept
        message = scrub(_describe(error), credentials)
        outcome.error = message
        log.warning("exchange %s: the fetch stopped after %s pages: %s\n%s", name, outcome.pages, message,
                    scrub(traceback.format_exc(), credentials, limit=20_000))  # the client's errors may hold them
        with instance.db.transaction() as session:
            failed = session.get(ExchangeRow, row_id)
            assert failed is not None
            if _is_malformed(error):
                instance.exchanges.record_problems(session, failed, [Problem("malformed_page", None, message)], limit=1)
                failed.counts = _counted(failed.counts, None, malformed=1)
            failed.state, failed.last_error, failed.last_fetch_finished_at = "failed", message, utc_now()
            instance.audit.append(session, FETCH_ACTOR, "exchange.fetch_failed",
                                  details={"exchange": name, "pages": outcome.pages, "error": message})
    else:
        with instance.db.transaction() as session:
            done = session.get(ExchangeRow, row_id)
            assert done is not None
            done.state, done.last_fetch_finished_at = "idle", utc_now()
            done.last_success_at = done.last_fetch_finished_at
            instance.audit.append(session, FETCH_ACTOR, "exchange.fetched",
                                  details={"exchange": name, "pages": outcome.pages, **outcome.result.as_dict()})
    if rematch:
        outcome.rematched = rematch_after_fetch(instance, outcome.result.new_entry_ids,
                                                outcome.result.disabled_entry_ids)
    if send_feedback and api.supports_feedback:
        outcome.feedback = send_pending_feedback(instance, name)
    return outcome


PREFETCH_PAGES = 2
"""Pages the client may fetch and parse ahead of the one being applied."""


def _pages(pages: Iterator[Page], depth: int = PREFETCH_PAGES) -> Iterator[Page]:
    """The client's pages, fetched and parsed in a thread while the pages before them are applied (the
    exchange's answer, its parsing and the database's commit overlap). Pages still come in order and each
    is applied with its own checkpoint, so a fetch stopped with pages read ahead resumes before them.
    An error of the client comes out where its page would have."""
    ahead: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the applying thread, which raises it
            put(("error", error))
            return
        put(("end", None))

    reader = threading.Thread(target=read, name="exchange-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = ahead.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=5)


def _counted(counts: dict[str, Any] | None, result: PageResult | None, *, malformed: int = 0) -> dict[str, Any]:
    total = dict((counts or {}).get("total") or {})
    problems = dict(total.get("problems") or {})
    if result is not None:
        for key in ("added", "updated", "deleted", "unchanged"):
            total[key] = int(total.get(key, 0)) + getattr(result, key)
        for kind, count in result.problems.items():
            problems[kind] = int(problems.get(kind, 0)) + count
    if malformed:
        problems["malformed_page"] = int(problems.get("malformed_page", 0)) + malformed
    total["problems"] = problems
    return {**(counts or {}), "total": total, "fetcher_at": utc_now().timestamp()}


def _describe(error: BaseException) -> str:
    import requests

    if isinstance(error, ExchangeRefused):
        return f"the exchange kept refusing: {error}"
    if isinstance(error, requests.exceptions.RetryError):
        return f"the exchange kept refusing (rate limit or server errors) after the client's retries: {error}"
    if isinstance(error, requests.exceptions.HTTPError) and error.response is not None:
        return f"the exchange answered HTTP {error.response.status_code} ({error.response.reason})"
    if isinstance(error, requests.exceptions.ConnectionError):
        return f"could not reach the exchange: {error}"
    if _is_malformed(error):
        return f"a page could not be read (malformed): {str(error)[:300]}"
    return f"{type(error).__name__}: {error}"


def _is_malformed(error: BaseException) -> bool:
    from json import JSONDecodeError
    from xml.etree.ElementTree import ParseError

    text = str(error)
    return (isinstance(error, ParseError | IndexError | KeyError | JSONDecodeError)
            or "Failed to parse response" in text)


# --- matching reports again -------------------------------------------------------------------------------


def rematch_after_fetch(instance: Instance, new_entry_ids: list[int], disabled_entry_ids: list[int]) -> list[int]:
    """Match again the reports that a new entry matches, or that a now-disabled entry matched."""
    from tipline.matching import Matcher
    from tipline.pipeline.stages.match_files import file_signals
    from tipline.store.banks import to_bank, to_entry
    from tipline.store.tables import BankEntryRow, BankRow, FileMatchRow, ReportFileRow, ReportRow
    from tipline.victims.clusters import rematch_reports

    reports: set[int] = set()
    with instance.db.transaction() as session:
        for start in range(0, len(disabled_entry_ids), 500):
            reports.update(session.execute(select(FileMatchRow.report_id).where(
                FileMatchRow.entry_id.in_(disabled_entry_ids[start:start + 500]))).scalars())
        if new_entry_ids:
            matcher = Matcher()
            banks = {row.id: row for row in session.execute(select(BankRow)).scalars()}
            for bank in banks.values():
                matcher.add_bank(to_bank(bank))

            def entries() -> Iterator[Any]:
                ordered = sorted(new_entry_ids)
                for start in range(0, len(ordered), 5000):
                    for row in session.execute(select(BankEntryRow).where(
                            BankEntryRow.id.in_(ordered[start:start + 5000]), BankEntryRow.enabled.is_(True))).scalars():
                        yield to_entry(row, banks[row.bank_id].name)
                    session.expunge_all()

            matcher.load(entries())
            last = ""
            while True:
                files = list(session.execute(
                    select(ReportFileRow).join(ReportRow, ReportRow.id == ReportFileRow.report_id)
                    .where(ReportFileRow.hashed_at.is_not(None), ReportRow.files_matched_at.is_not(None),
                           ReportFileRow.id > last)
                    .order_by(ReportFileRow.id).limit(2000)).scalars())
                if not files:
                    break
                results = matcher.lookup_many([file_signals(session, f) for f in files])
                reports.update(f.report_id for f, r in zip(files, results, strict=True) if r.matches)
                last = files[-1].id
                session.expunge_all()
    if reports:
        rematch_reports(instance, sorted(reports))
    return sorted(reports)


# --- feedback -----------------------------------------------------------------------------------------


def send_pending_feedback(instance: Instance, name: str) -> dict[str, int]:
    """Send the exchange the analysts' confirmations and rejections it has not had yet."""
    from tipline.exchanges.apis import FeedbackTarget
    from tipline.matching import SignalType
    from tipline.store.exchange_tables import ExchangeEntryRow

    sent = failed = 0
    with instance.db.transaction() as session:
        row = instance.exchanges.get(session, name)
        api = api_named(row.api)
        secret = instance.exchanges.credentials(row)
        credentials = secret.reveal() if secret else None
        config = dict(row.config)
        pending = [(e.id, e.remote_id, e.signal_type, list(e.tags), e.feedback, e.feedback_reason)
                   for e in instance.exchanges.entries(session, row, state="feedback_pending", limit=10_000)]
    for entry_id, remote_id, signal_type, tags, feedback, reason in pending:
        error: str | None = None
        try:
            api.send_feedback(config, credentials, FeedbackTarget(remote_id, SignalType(signal_type), tuple(tags)),
                              feedback == "confirmed", reason)
        except Exception as problem:  # noqa: BLE001 - kept, tried again with the next fetch
            error = scrub(_describe(problem), credentials)
        with instance.db.transaction() as session:
            entry = session.get(ExchangeEntryRow, entry_id)
            assert entry is not None
            entry.feedback_sent, entry.feedback_error = ("failed", error) if error else ("sent", None)
            instance.audit.append(session, FETCH_ACTOR, "exchange.feedback_sent" if not error else
                                  "exchange.feedback_failed",
                                  details={"exchange": name, "entry": entry_id, "feedback": feedback, "error": error})
        if error:
            failed += 1
        else:
            sent += 1
    return {"sent": sent, "failed": failed}


def rescore_after_release(instance: Instance, session: Any, bank_entry_id: int) -> list[int]:
    """After a held entry was released (its matches unsuppressed): note series sightings and score again
    the reports it matched, in the caller's transaction."""
    from tipline.pipeline.stages.score_priority import rescore
    from tipline.store.tables import FileMatchRow, ReportRow
    from tipline.victims.sightings import record_series_sightings

    report_ids = sorted(set(session.execute(
        select(FileMatchRow.report_id).where(FileMatchRow.entry_id == bank_entry_id)).scalars()))
    for report_id in report_ids:
        record_series_sightings(instance, session, report_id)
        report = session.get(ReportRow, report_id)
        if report is not None and report.priority is not None:
            rescore(instance, session, report_id, "exchange entry released")
    return report_ids
