"""Fetching exchanges on their own schedule inside a worker process (`tipline worker`), never in the web
process (a hotline server makes no outbound requests): each enabled exchange is fetched again once its
interval (`fetch_every_minutes` in its settings, DEFAULT_FETCH_MINUTES unless set; 0 = only by hand
or a timer's `tipline exchanges fetch`) has passed since its last fetch began.

The workers' upkeep (tipline.pipeline.engine.maintenance, OUTBOUND_TASKS) looks every minute; one fetch
runs at a time in a process, and fetch_exchange itself refuses a fetch another process is running."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tipline.domain.base import utc_now

if TYPE_CHECKING:
    from tipline.instance import Instance

log = logging.getLogger("tipline.exchanges")
DEFAULT_FETCH_MINUTES = 15
"""How often an exchange is fetched when its settings do not say (NCMEC's own advice suits it)."""
_one_at_a_time = threading.Lock()


def fetch_every(config: dict[str, Any]) -> timedelta | None:
    """How often an exchange with these settings is fetched by the workers (None: not by them)."""
    minutes = config.get("fetch_every_minutes", DEFAULT_FETCH_MINUTES)
    return timedelta(minutes=int(minutes)) if minutes else None


def is_due(config: dict[str, Any], last_started: datetime | None, now: datetime) -> bool:
    every = fetch_every(config)
    return every is not None and (last_started is None or now - last_started >= every)


def due_exchanges(instance: Instance) -> list[str]:
    """The enabled exchanges whose interval has passed since their last fetch began."""
    from sqlalchemy import select

    from tipline.store.exchange_tables import ExchangeRow

    now = utc_now()
    with instance.db.read_session() as session:
        rows = session.execute(select(ExchangeRow.name, ExchangeRow.config, ExchangeRow.last_fetch_started_at)
                               .where(ExchangeRow.enabled.is_(True)).order_by(ExchangeRow.name)).all()
    return [name for name, config, started in rows if is_due(config or {}, started, now)]


def fetch_due_exchanges(instance: Instance) -> int:
    """Fetch every exchange that is due, one after another; returns how many were fetched (a fetch that
    failed counts: its failure is recorded on the exchange and the next one resumes). Skips when this
    process is already fetching (the previous look's fetch still runs)."""
    from tipline.exchanges.fetch import FetchBusy, fetch_exchange

    if not _one_at_a_time.acquire(blocking=False):
        return 0
    try:
        fetched = 0
        for name in due_exchanges(instance):
            try:
                outcome = fetch_exchange(instance, name)
            except FetchBusy as busy:
                log.info("exchange %s not fetched now: %s", name, busy)
                continue
            except Exception:  # noqa: BLE001 - one exchange's trouble (its settings, its key) stops not the others
                log.exception("exchange %s could not be fetched", name)
                continue
            fetched += 1
            if outcome.error:
                log.warning("exchange %s: periodic fetch failed: %s", name, outcome.error)
        return fetched
    finally:
        _one_at_a_time.release()
