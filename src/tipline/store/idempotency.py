"""Idempotency keys for report submission (`Idempotency-Key`, as Stripe and the IETF draft
draft-ietf-httpapi-idempotency-key-header define it): a client that got no answer sends the same
request again with the same key and gets the first answer, never a second report.

A key belongs to one service-provider account and one endpoint. It is claimed with an INSERT that
a unique constraint guards, in the same transaction that stores the report and then records the
answer beside the key: either the report, the key and its answer are all committed, or none is.
A concurrent request with the same key waits on the constraint (PostgreSQL) or on the write lock
(SQLite) until the first commits, then replays its answer. Keys expire after
TIPLINE_IDEMPOTENCY_HOURS; the periodic maintenance deletes them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ForeignKey, Integer, String, Table, UniqueConstraint, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tipline.domain.base import utc_now
from tipline.store.tables import Base
from tipline.store.types import BigId, changed_rows

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"  # Stripe's name for "this is the stored first answer"
KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"  # printable ASCII, as an sf-string
MAX_KEY_LENGTH = 255
KEY_DESCRIPTION = (
    "A unique value you generate for this submission (a UUID, say), at most 255 printable ASCII "
    "characters. If you get no answer, send the same request again with the same key: you get the "
    "first answer (same status and report ID, with the header `Idempotent-Replayed: true`) and no "
    "second report is stored. The same key with a different body is refused (422). Keys belong to "
    "your account and are kept for TIPLINE_IDEMPOTENCY_HOURS (24 by default)."
)


class IdempotencyKeyRow(Base):
    """A key a service provider sent with a submission, what the request was (a digest) and the
    answer it got, until it expires."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    api_account_id: Mapped[int] = mapped_column(ForeignKey("api_accounts.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("reports.id", ondelete="CASCADE"))
    answer: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (UniqueConstraint("api_account_id", "endpoint", "key"),)


_KEYS = cast(Table, IdempotencyKeyRow.__table__)  # a mapped class\'s table (typed as any FromClause)


class KeyReused(ValueError):
    """The key was used before with a different request; nothing was stored."""

    def __init__(self, key: str, report_id: int | None) -> None:
        super().__init__(f"the {HEADER} {key!r} was already used with a different request"
                         + (f" (it filed report {report_id})" if report_id is not None else "")
                         + "; use a new key for a new report")
        self.report_id = report_id


class KeyBusy(RuntimeError):
    """The key was taken and freed again several times while this request looked (expiring keys
    under contention); nothing was stored, and the client may simply send the request again."""

    def __init__(self, key: str) -> None:
        super().__init__(f"another request with the {HEADER} {key!r} was being handled; send the request again")


@dataclass(frozen=True)
class Idempotency:
    """One request's key: its account and endpoint, and a digest of what it asks."""

    account_id: int
    endpoint: str
    key: str
    fingerprint: str
    hours: int

    @staticmethod
    def digest(*parts: bytes | str) -> str:
        hasher = hashlib.sha256()
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            hasher.update(len(data).to_bytes(8, "big") + data)
        return hasher.hexdigest()

    @staticmethod
    def document_digest(document: Any, *extra: str) -> str:
        """A digest of a parsed JSON document (key order and white space do not matter)."""
        return Idempotency.digest(json.dumps(document, sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=False), *extra)


@dataclass(frozen=True)
class Outcome:
    status: int
    report_id: int
    answer: dict[str, Any]
    replayed: bool


def _insert(session: Session) -> Any:
    return (postgresql.insert(_KEYS) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(_KEYS))


def _claim(session: Session, request: Idempotency, now: datetime) -> int | None:
    """Insert the key; its row id, or None if the key is already taken (after the transaction
    that took it has committed: PostgreSQL waits for it on the unique constraint)."""
    statement = (
        _insert(session)
        .values(api_account_id=request.account_id, endpoint=request.endpoint, key=request.key,
                fingerprint=request.fingerprint, created_at=now, expires_at=now + timedelta(hours=request.hours))
        .on_conflict_do_nothing(index_elements=["api_account_id", "endpoint", "key"])
        .returning(_KEYS.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def run_once(session: Session, request: Idempotency | None,
             submit: Callable[[Session], tuple[int, int, dict[str, Any]]]) -> Outcome:
    """Run `submit(session) -> (status, report_id, answer)` once per key: the first request with a
    key runs it and records its answer in the same transaction; a later one with the same key and
    the same request gets that answer back (`replayed`), without running it. Raises KeyReused for
    the same key with a different request. Without a key, `submit` simply runs."""
    if request is None:
        status, report_id, answer = submit(session)
        return Outcome(status, report_id, answer, replayed=False)
    now = utc_now()
    claimed = _claim(session, request, now)
    for _ in range(3):
        if claimed is not None:
            break
        stored = session.execute(select(_KEYS).where(
            _KEYS.c.api_account_id == request.account_id, _KEYS.c.endpoint == request.endpoint,
            _KEYS.c.key == request.key)).one_or_none()
        if stored is not None and stored.expires_at > now:
            if stored.fingerprint != request.fingerprint:
                raise KeyReused(request.key, stored.report_id)
            return Outcome(stored.status, stored.report_id, stored.answer, replayed=True)
        if stored is not None:  # expired, not yet cleaned up: the key is free again
            session.execute(delete(_KEYS).where(_KEYS.c.id == stored.id))
        claimed = _claim(session, request, now)  # (or another request took it meanwhile: look again)
    if claimed is None:
        raise KeyBusy(request.key)
    status, report_id, answer = submit(session)
    session.execute(update(_KEYS).where(_KEYS.c.id == claimed).values(status=status, report_id=report_id,
                                                                      answer=answer))
    return Outcome(status, report_id, answer, replayed=False)


def delete_expired(session: Session, now: datetime | None = None) -> int:
    """Forget keys whose window has passed (the periodic maintenance calls this)."""
    result = session.execute(delete(_KEYS).where(_KEYS.c.expires_at <= (now or utc_now())))
    return changed_rows(result)
