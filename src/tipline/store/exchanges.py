"""Exchanges in the database: their settings and sealed credentials, each fetched page applied to the
exchange's bank with its checkpoint in the caller's transaction, entries' provenance, feedback and
quarantine, and the problems a fetch met (docs/exchanges.md)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.exchanges.apis import Page, Problem, RemoteEntry
from tipline.exchanges.registry import api_named
from tipline.forwarding.credentials import Secret, open_secret, seal_secret
from tipline.keyfiles import load_or_create_key
from tipline.matching import BankEntry, BankKind, SignalError, SignalType, parse_classification
from tipline.store.audit import AuditLog
from tipline.store.banks import BankError, BankStore
from tipline.store.bulk import insert_many, planned_anew
from tipline.store.exchange_tables import ExchangeEntryRow, ExchangeProblemRow, ExchangeRow
from tipline.store.tables import BankRow, FileMatchRow

KEY_FILE = "exchanges.key"
MAX_NAMED_PROBLEMS = 1000
"""Problems named (stored) per fetch; beyond these they are counted only."""
KEEP_PROBLEMS = timedelta(days=30)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
MATERIAL = {BankKind.KNOWN_MATERIAL.value, BankKind.IDENTIFIED_SERIES.value}


class ExchangeError(ValueError):
    """An exchange operation that cannot be done, and why."""


@dataclass
class PageResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    new_entry_ids: list[int] = field(default_factory=list)
    disabled_entry_ids: list[int] = field(default_factory=list)

    def merge(self, other: PageResult) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.problems.update(other.problems)
        self.new_entry_ids += other.new_entry_ids
        self.disabled_entry_ids += other.disabled_entry_ids

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "deleted": self.deleted,
                "problems": dict(sorted(self.problems.items()))}


def exchanges_key(key_dir: str | Path) -> bytes:
    return load_or_create_key(Path(key_dir) / KEY_FILE)


class ExchangeStore:
    def __init__(self, audit: AuditLog, banks: BankStore, key_dir: Path) -> None:
        self.audit = audit
        self.banks = banks
        self.key_dir = key_dir

    # --- configuration -----------------------------------------------------------------------------

    def create(self, session: Session, name: str, api: str, config: dict[str, Any], bank_name: str, actor: Actor,
               *, credentials: str | None = None) -> ExchangeRow:
        if not _NAME.match(name):
            raise ExchangeError(f"exchange name {name!r} must be 1 to 100 letters, digits, '_', '.' or '-'")
        if session.execute(select(ExchangeRow.id).where(ExchangeRow.name == name)).first():
            raise ExchangeError(f"an exchange named {name!r} already exists")
        kind = api_named(api)
        checked = kind.check_config(config)
        try:
            bank = self.banks.bank(session, bank_name)
        except BankError as error:
            raise ExchangeError(str(error)) from None
        now = utc_now()
        row = ExchangeRow(name=name, api=api, config=checked, bank_id=bank.id, enabled=True, checkpoint=None,
                          state="idle", counts={}, created_at=now, created_by=actor.name)
        session.add(row)
        session.flush()
        if credentials is not None:
            self._seal(row, credentials)
        self.audit.append(session, actor, "exchange.created", details={
            "exchange": name, "api": api, "bank": bank_name, "config": checked,
            "credentials": row.sealed_credentials is not None})
        return row

    def set_credentials(self, session: Session, name: str, text: str, actor: Actor) -> ExchangeRow:
        row = self.get(session, name)
        self._seal(row, text)
        self.audit.append(session, actor, "exchange.credentials_set", details={"exchange": name})
        return row

    def _seal(self, row: ExchangeRow, text: str) -> None:
        kind = api_named(row.api)
        if not kind.needs_credentials:
            raise ExchangeError(f"a {row.api} exchange takes no credentials")
        try:
            kind.check_credentials(text)
        except ValueError as error:
            raise ExchangeError(str(error)) from None
        row.sealed_credentials = seal_secret(exchanges_key(self.key_dir), "exchange", row.name, text.strip())

    def credentials(self, row: ExchangeRow) -> Secret | None:
        if row.sealed_credentials is None:
            return None
        secret = open_secret(exchanges_key(self.key_dir), "exchange", row.name, row.sealed_credentials)
        if secret is None:
            raise ExchangeError(
                f"the credentials of exchange {row.name!r} do not open with this instance's {KEY_FILE}: they were "
                f"altered or sealed under another key; set them again with "
                f"`tipline exchanges set-credentials {row.name}`")
        return secret

    def set_enabled(self, session: Session, name: str, enabled: bool, actor: Actor) -> ExchangeRow:
        row = self.get(session, name)
        row.enabled = enabled
        self.audit.append(session, actor, "exchange.enabled" if enabled else "exchange.disabled",
                          details={"exchange": name})
        return row

    def set_fetch_interval(self, session: Session, name: str, minutes: int, actor: Actor) -> ExchangeRow:
        """How often the workers fetch NAME (0: only `tipline exchanges fetch`, by hand or a timer)."""
        if not 0 <= minutes <= 7 * 24 * 60:
            raise ExchangeError("the interval is 0 (not fetched by the workers) to 10080 minutes (a week)")
        row = self.get(session, name)
        row.config = {**row.config, "fetch_every_minutes": minutes}
        self.audit.append(session, actor, "exchange.interval_set", details={"exchange": name, "minutes": minutes})
        return row

    def get(self, session: Session, name: str) -> ExchangeRow:
        row = session.execute(select(ExchangeRow).where(ExchangeRow.name == name)).scalar_one_or_none()
        if row is None:
            raise ExchangeError(f"there is no exchange named {name!r} (see `tipline exchanges list`)")
        return row

    def all(self, session: Session) -> list[ExchangeRow]:
        return list(session.execute(select(ExchangeRow).order_by(ExchangeRow.name)).scalars())

    # --- applying a page -----------------------------------------------------------------------------

    def apply_page(self, session: Session, row: ExchangeRow, page: Page, actor: Actor, *,
                   name_problems: int = MAX_NAMED_PROBLEMS) -> PageResult:
        """Apply one page to the exchange's bank and store its checkpoint, in the caller's transaction
        (so a crash loses the page and its checkpoint together, and the fetch resumes before it).
        Entries repeated (within the page, or pages sent twice) change nothing."""
        bank = session.get(BankRow, row.bank_id)
        assert bank is not None
        now = utc_now()
        result = PageResult()
        problems = list(page.problems)
        latest: dict[str, RemoteEntry] = {}
        for entry in page.entries:
            latest[entry.remote_id] = entry
        existing: dict[str, dict[str, ExchangeEntryRow]] = {}
        ids = list(latest)
        with planned_anew(session):  # else a plan made while the table was small may scan it all at every page
            for start in range(0, len(ids), 500):
                for held in session.execute(select(ExchangeEntryRow).where(
                        ExchangeEntryRow.exchange_id == row.id,
                        ExchangeEntryRow.remote_id.in_(ids[start:start + 500]))).scalars():
                    existing.setdefault(held.remote_id, {})[held.signal_type] = held
        new: list[tuple[RemoteEntry, SignalType, str, ExchangeEntryRow | None]] = []
        disable: list[int] = []
        enable: list[int] = []
        for remote_id, entry in latest.items():
            rows = existing.get(remote_id, {})
            if entry.deleted:
                for held in rows.values():
                    if held.deleted_at is None:
                        held.deleted_at = now
                        disable.append(held.bank_entry_id)
                        result.deleted += 1
                continue
            if entry.bank_kind and (entry.bank_kind in MATERIAL) != (bank.kind in MATERIAL):
                problems.append(Problem("wrong_bank_kind", remote_id,
                                        f"the list puts it in a {entry.bank_kind} bank; {bank.name} is {bank.kind}"))
                continue
            wanted = dict(entry.signals)
            for signal_type, value in wanted.items():
                known = rows.get(str(signal_type)) if rows else None
                if known is None:
                    new.append((entry, signal_type, value, None))
                    continue
                held = known
                held.last_seen = now
                held.tags = list(entry.tags)
                if page.snapshot is not None:
                    held.seen_generation = page.snapshot
                if held.value != value:
                    disable.append(held.bank_entry_id)
                    new.append((entry, signal_type, value, held))
                elif held.deleted_at is not None:
                    held.deleted_at = None
                    if held.feedback != "rejected":
                        enable.append(held.bank_entry_id)
                    result.updated += 1
                else:
                    result.unchanged += 1
            for signal_type_name, held in rows.items():
                if entry.complete and SignalType(signal_type_name) not in wanted and held.deleted_at is None:
                    held.deleted_at = now
                    disable.append(held.bank_entry_id)
                    result.deleted += 1
        if new:
            entries = []
            classifications: dict[str | None, Any] = {None: None}  # a page's entries share a few: parsed once
            for entry, signal_type, value, _ in new:
                try:
                    classification = classifications[entry.classification]
                except KeyError:
                    try:
                        classification = parse_classification(entry.classification)
                    except SignalError:
                        classification = None
                    classifications[entry.classification] = classification
                entries.append(BankEntry(bank=bank.name, signal_type=signal_type, value=value, source=row.name,
                                         source_id=entry.remote_id, classification=classification,
                                         series=entry.series, added_by=actor.name))
            keyed = self.banks.add_keyed(session, bank.id, entries, actor, audit_detail={"exchange": row.name})
            inserts: list[dict[str, Any]] = []
            for entry, signal_type, value, replaced in new:
                kind = str(signal_type)  # its value (a StrEnum), without Enum's slower `.value`
                entry_id = keyed[(kind, entry.remote_id, value)]
                result.new_entry_ids.append(entry_id)
                if replaced is not None:
                    replaced.value, replaced.bank_entry_id, replaced.deleted_at = value, entry_id, None
                    replaced.feedback = replaced.feedback_sent = replaced.hold = None  # a new hash: earlier words were on the old one
                    result.updated += 1
                    continue
                inserts.append({"exchange_id": row.id, "remote_id": entry.remote_id, "signal_type": kind,
                                "value": value, "bank_entry_id": entry_id, "tags": entry.tags,  # a tuple: hashable
                                "first_seen": now, "last_seen": now, "seen_generation": page.snapshot or 0})
            if inserts:
                insert_many(session, ExchangeEntryRow.__table__, inserts)
            result.added += len(inserts)
        session.flush()
        if disable:
            self.banks.set_enabled_many(session, bank.id, disable, False, actor, audit_detail={"exchange": row.name})
            result.disabled_entry_ids += disable
        if enable:
            self.banks.set_enabled_many(session, bank.id, enable, True, actor, audit_detail={"exchange": row.name})
        self.record_problems(session, row, problems, limit=name_problems)
        result.problems.update(p.kind for p in problems)
        if page.snapshot_done and page.snapshot is not None:
            self._end_snapshot(session, row, page.snapshot, actor, result, now)
        row.checkpoint = page.checkpoint
        return result

    def _end_snapshot(self, session: Session, row: ExchangeRow, generation: int, actor: Actor, result: PageResult,
                      now: Any) -> None:
        """A file list read to its end: what an earlier pass saw and this one did not was removed from it."""
        gone = list(session.execute(select(ExchangeEntryRow).where(
            ExchangeEntryRow.exchange_id == row.id, ExchangeEntryRow.seen_generation < generation,
            ExchangeEntryRow.deleted_at.is_(None))).scalars())
        for held in gone:
            held.deleted_at = now
        if gone:
            ids = [held.bank_entry_id for held in gone]
            self.banks.set_enabled_many(session, row.bank_id, ids, False, actor, audit_detail={"exchange": row.name})
            result.disabled_entry_ids += ids
            result.deleted += len(gone)

    def record_problems(self, session: Session, row: ExchangeRow, problems: Iterable[Problem], *, limit: int) -> None:
        now = utc_now()
        rows = [{"exchange_id": row.id, "at": now, "kind": p.kind, "remote_id": (p.remote_id or "")[:200] or None,
                 "detail": p.detail[:1000]} for p in list(problems)[:max(limit, 0)]]
        if rows:
            session.execute(insert(ExchangeProblemRow), rows)

    def forget_old_problems(self, session: Session, row: ExchangeRow) -> None:
        session.execute(delete(ExchangeProblemRow).where(ExchangeProblemRow.exchange_id == row.id,
                                                         ExchangeProblemRow.at < utc_now() - KEEP_PROBLEMS))

    # --- reading -------------------------------------------------------------------------------------

    def entry_counts(self, session: Session, row: ExchangeRow) -> dict[str, int]:
        total, deleted, rejected, confirmed, held = session.execute(select(
            func.count(),
            func.count(ExchangeEntryRow.deleted_at),
            func.sum(case((ExchangeEntryRow.feedback == "rejected", 1), else_=0)),
            func.sum(case((ExchangeEntryRow.feedback == "confirmed", 1), else_=0)),
            func.sum(case((ExchangeEntryRow.hold == "held", 1), else_=0)),
        ).where(ExchangeEntryRow.exchange_id == row.id)).one()
        return {"entries": total, "live": total - deleted, "deleted": deleted, "confirmed": confirmed or 0,
                "rejected": rejected or 0, "held": held or 0}

    def problems(self, session: Session, row: ExchangeRow, limit: int = 50) -> list[ExchangeProblemRow]:
        return list(session.execute(select(ExchangeProblemRow).where(ExchangeProblemRow.exchange_id == row.id)
                                    .order_by(ExchangeProblemRow.id.desc()).limit(limit)).scalars())

    def entries(self, session: Session, row: ExchangeRow, *, state: str | None = None, limit: int = 100,
                remote_id: str | None = None) -> list[ExchangeEntryRow]:
        query = select(ExchangeEntryRow).where(ExchangeEntryRow.exchange_id == row.id)
        if remote_id is not None:
            query = query.where(ExchangeEntryRow.remote_id == remote_id)
        if state == "held":
            query = query.where(ExchangeEntryRow.hold == "held")
        elif state in ("confirmed", "rejected"):
            query = query.where(ExchangeEntryRow.feedback == state)
        elif state == "deleted":
            query = query.where(ExchangeEntryRow.deleted_at.is_not(None))
        elif state == "feedback_pending":
            query = query.where(ExchangeEntryRow.feedback_sent.in_(("pending", "failed")))
        return list(session.execute(query.order_by(ExchangeEntryRow.id).limit(limit)).scalars())

    def entry(self, session: Session, entry_id: int) -> ExchangeEntryRow:
        """An exchange entry by its own id, or by the id of the bank entry it fills."""
        row = session.get(ExchangeEntryRow, entry_id)
        if row is None:
            row = session.execute(select(ExchangeEntryRow).where(
                ExchangeEntryRow.bank_entry_id == entry_id)).scalar_one_or_none()
        if row is None:
            raise ExchangeError(f"there is no exchange entry {entry_id}")
        return row

    # --- feedback and quarantine ---------------------------------------------------------------------

    def record_feedback(self, session: Session, entry_id: int, confirmed: bool, actor: Actor,
                        reason: str | None = None) -> ExchangeEntryRow:
        """An analyst's word on an entry: the file was (confirmed) or was not (rejected) what the entry
        says. A rejected entry stops matching here at once; the exchange is told by the next
        `tipline exchanges send-feedback` (or fetch) where it takes feedback."""
        row = self.entry(session, entry_id)
        exchange = session.get(ExchangeRow, row.exchange_id)
        assert exchange is not None
        now = utc_now()
        row.feedback = "confirmed" if confirmed else "rejected"
        row.feedback_reason = (reason or "").strip()[:1000] or None
        row.feedback_by, row.feedback_at = actor.name, now
        row.feedback_sent = "pending" if api_named(exchange.api).supports_feedback else "unsupported"
        row.feedback_error = None
        self.banks.set_enabled_many(session, exchange.bank_id, [row.bank_entry_id], confirmed, actor,
                                    audit_detail={"exchange": exchange.name, "feedback": row.feedback})
        if confirmed and row.hold == "held":
            self._release(session, row, actor)
        self.audit.append(session, actor, f"exchange.entry_{row.feedback}", details={
            "exchange": exchange.name, "entry": row.id, "remote_id": row.remote_id, "bank_entry_id": row.bank_entry_id,
            "reason": row.feedback_reason})
        return row

    def release(self, session: Session, entry_id: int, actor: Actor) -> ExchangeEntryRow:
        """A person lets a held entry's matches count again (it will not be held again)."""
        row = self.entry(session, entry_id)
        if row.hold != "held":
            raise ExchangeError(f"exchange entry {row.id} is not held")
        self._release(session, row, actor)
        return row

    def _release(self, session: Session, row: ExchangeEntryRow, actor: Actor) -> None:
        from tipline.exchanges.quarantine import HELD_PREFIX

        row.hold, row.released_by = "released", actor.name
        session.execute(update(FileMatchRow).where(
            FileMatchRow.entry_id == row.bank_entry_id, FileMatchRow.suppressed.is_(True),
            FileMatchRow.suppressed_by.like(f"{HELD_PREFIX}%")).values(suppressed=False, suppressed_by=None))
        self.audit.append(session, actor, "exchange.entry_released",
                          details={"entry": row.id, "bank_entry_id": row.bank_entry_id})

    def disable_entry(self, session: Session, entry_id: int, actor: Actor) -> ExchangeEntryRow:
        """A person stops a (held) entry from matching here, without telling the exchange."""
        row = self.entry(session, entry_id)
        exchange = session.get(ExchangeRow, row.exchange_id)
        assert exchange is not None
        self.banks.set_enabled_many(session, exchange.bank_id, [row.bank_entry_id], False, actor,
                                    audit_detail={"exchange": exchange.name, "entry": row.id})
        if row.hold == "held":
            row.hold = "disabled"
        return row
