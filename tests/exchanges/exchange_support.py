"""Helpers for the exchange tests: the `tipline` command in-process, a fake NCMEC exchange set up as an
exchange of an instance, and waiting until the fake's clock has passed a fetch's checkpoint."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from fake_ncmec import Entry, FakeNcmec
from sqlalchemy import select

from tipline.domain.audit import Actor
from tipline.instance import Instance
from tipline.store.exchange_tables import ExchangeEntryRow, ExchangeRow
from tipline.store.tables import BankEntryRow

ACTOR = Actor.system("test")


def md5_of(seed: str) -> str:
    return hashlib.md5(seed.encode()).hexdigest()


def sha1_of(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def pdq_of(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def image(entry_id: str, ts: int, member: int = 42, **fingerprints: str) -> Entry:
    prints = fingerprints or {"md5": md5_of(entry_id), "sha1": sha1_of(entry_id), "pdq": pdq_of(entry_id)}
    return Entry(entry_id, member, ts, "image", fingerprints=prints)


def add_ncmec_exchange(instance: Instance, fake: FakeNcmec, name: str = "NCMEC", bank: str = "ncmec",
                       **config: Any) -> None:
    with instance.db.transaction() as session:
        instance.banks.create(session, bank, "known_material", ACTOR)
        row = instance.exchanges.create(session, name, "ncmec", {"url": fake.url, "environment": "test_Industry"},
                                        bank, ACTOR, credentials=f"{fake.user}:{fake.password}")
        row.config = {**row.config, **config}


def checkpoint_ts(instance: Instance, name: str = "NCMEC") -> int:
    with instance.db.transaction() as session:
        row = session.execute(select(ExchangeRow).where(ExchangeRow.name == name)).scalar_one()
        return int(row.checkpoint["get_entries_max_ts"])


def after_checkpoint(instance: Instance, name: str = "NCMEC") -> int:
    """A timestamp after the exchange's checkpoint that the next fetch will reach (the client fetches
    up to five seconds before its present): waits until that is so."""
    ts = checkpoint_ts(instance, name) + 1
    while time.time() - 6 < ts:
        time.sleep(0.1)
    return ts


def exchange_entries(instance: Instance) -> list[ExchangeEntryRow]:
    with instance.db.transaction() as session:
        rows = list(session.execute(select(ExchangeEntryRow).order_by(ExchangeEntryRow.id)).scalars())
        session.expunge_all()
    return rows


def bank_entries(instance: Instance) -> list[BankEntryRow]:
    with instance.db.transaction() as session:
        rows = list(session.execute(select(BankEntryRow).order_by(BankEntryRow.id)).scalars())
        session.expunge_all()
    return rows


def live_signals(instance: Instance) -> set[tuple[str, str, str]]:
    """(source id, signal type, value) of every enabled bank entry."""
    return {(r.source_id or "", r.signal_type, r.value) for r in bank_entries(instance) if r.enabled}
