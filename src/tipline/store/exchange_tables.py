"""Tables of hash-list exchanges (docs/exchanges.md): each configured exchange with its sealed
credentials, target bank and checkpoint; each entry fetched from it with its provenance, feedback and
quarantine; and the bad input a fetch met, named per entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tipline.store.tables import Base
from tipline.store.types import BigId, JSONDocument


class ExchangeRow(Base):
    """A configured source of a bank: which API (`ncmec`, `file` ...), its settings, its credentials
    (sealed with the instance's exchanges key, never stored or printed in clear), the bank it fills,
    and how far its fetch got. `checkpoint` is committed in the same transaction as the entries it covers."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    api: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sealed_credentials: Mapped[str | None] = mapped_column(Text)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    checkpoint: Mapped[dict[str, Any] | None]
    state: Mapped[str] = mapped_column(String(20), default="idle")  # idle, fetching, failed
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # entries applied, deleted, problems by kind
    last_fetch_started_at: Mapped[datetime | None]
    last_fetch_finished_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class ExchangeEntryRow(Base):
    """One signal of one remote entry, as the exchange sent it, and the bank entry that holds it.

    `deleted_at` is set when the exchange deleted the entry (its bank entry is disabled); `feedback` is
    an analyst's `confirmed` or `rejected` (a rejected entry's bank entry is disabled), `feedback_sent`
    whether the exchange has it (`pending`, `sent`, `failed`, `unsupported`); `hold` is `held` while a
    flood quarantine keeps its matches from being acted on, `released` once a person let it go."""

    __tablename__ = "exchange_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    remote_id: Mapped[str] = mapped_column(String(200))
    signal_type: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    bank_entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("bank_entries.id"), index=True)
    tags: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    seen_generation: Mapped[int] = mapped_column(Integer, default=0)  # file lists: the pass that last saw it
    deleted_at: Mapped[datetime | None]
    feedback: Mapped[str | None] = mapped_column(String(20))
    feedback_reason: Mapped[str | None] = mapped_column(Text)
    feedback_by: Mapped[str | None] = mapped_column(String(200))
    feedback_at: Mapped[datetime | None]
    feedback_sent: Mapped[str | None] = mapped_column(String(20))
    feedback_error: Mapped[str | None] = mapped_column(Text)
    hold: Mapped[str | None] = mapped_column(String(20), index=True)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    hold_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("exchange_id", "remote_id", "signal_type"),)


class ExchangeProblemRow(Base):
    """Input a fetch could not apply (a wrong signal type, a hash of the wrong length, a malformed
    page ...), named by the remote entry it came in, so `tipline exchanges status` can say which."""

    __tablename__ = "exchange_problems"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    remote_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)


Index("ix_exchange_problems_exchange_at", ExchangeProblemRow.exchange_id, ExchangeProblemRow.at)
