"""Hash banks in the database, and each process's matcher kept in step with them within a second."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, case, func, insert, select
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.matching import Bank, BankEntry, BankKind, Matcher, SignalError, parse_classification, parse_signal_type
from tipline.store.audit import AuditLog
from tipline.store.bulk import insert_many, planned_anew, raw, read_converter, reserve_ids
from tipline.store.tables import BankChangeRow, BankEntryRow, BankRow, FileMatchRow, ReportRow, SeriesRow
from tipline.store.victim_tables import SeriesEventRow
from tipline.triage import MatchFact

INSERT_BATCH = 2000
SYNC_INTERVAL = 0.5  # seconds between looks at the change log: changes match everywhere within a second
CHANGE_WINDOW = timedelta(seconds=120)  # how long a change may take to commit after it was written


class BankError(ValueError):
    """A bank operation that cannot be done, and why."""


@dataclass(frozen=True)
class BankSummary:
    bank: BankRow
    entries: int
    enabled: int


def to_bank(row: BankRow) -> Bank:
    return Bank(row.name, BankKind(row.kind), row.pdq_threshold, row.description or "")


def to_entry(row: BankEntryRow, bank_name: str) -> BankEntry:
    return BankEntry(bank=bank_name, signal_type=parse_signal_type(row.signal_type), value=row.value, source=row.source,
                     source_id=row.source_id, classification=parse_classification(row.classification), series=row.series,
                     added_by=row.added_by, added_at=row.added_at, enabled=row.enabled, entry_id=row.id)


class BankStore:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    # --- banks ----------------------------------------------------------------------------------

    def create(self, session: Session, name: str, kind: str, actor: Actor, *, pdq_threshold: int = 31,
               description: str = "") -> BankRow:
        try:
            bank = Bank(name, BankKind(kind), pdq_threshold, description)
        except ValueError as error:
            raise BankError(str(error)) from None
        if session.execute(select(BankRow).where(BankRow.name == name)).scalar_one_or_none():
            raise BankError(f"a bank named {name!r} already exists")
        row = BankRow(name=bank.name, kind=bank.kind.value, pdq_threshold=bank.pdq_threshold,
                      description=bank.description, created_at=utc_now(), created_by=actor.name)
        session.add(row)
        session.flush()
        session.add(BankChangeRow(bank_id=row.id, action="bank", entry_ids={"ids": []}, at=utc_now()))
        self.audit.append(session, actor, "bank.created",
                          details={"bank": name, "kind": bank.kind.value, "pdq_threshold": bank.pdq_threshold})
        return row

    def set_threshold(self, session: Session, name: str, pdq_threshold: int, actor: Actor) -> BankRow:
        row = self.bank(session, name)
        try:
            Bank(row.name, BankKind(row.kind), pdq_threshold)
        except ValueError as error:
            raise BankError(str(error)) from None
        before, row.pdq_threshold = row.pdq_threshold, pdq_threshold
        session.add(BankChangeRow(bank_id=row.id, action="bank", entry_ids={"ids": []}, at=utc_now()))
        self.audit.append(session, actor, "bank.threshold_changed",
                          details={"bank": name, "from": before, "to": pdq_threshold})
        return row

    def bank(self, session: Session, name: str) -> BankRow:
        row = session.execute(select(BankRow).where(BankRow.name == name)).scalar_one_or_none()
        if row is None:
            raise BankError(f"there is no bank named {name!r} (see `tipline banks list`)")
        return row

    def names(self, session: Session) -> list[str]:
        return list(session.execute(select(BankRow.name).order_by(BankRow.name)).scalars())

    def summaries(self, session: Session) -> list[BankSummary]:
        counts = {
            bank_id: (total, enabled or 0)
            for bank_id, total, enabled in session.execute(
                select(BankEntryRow.bank_id, func.count(), func.sum(case((BankEntryRow.enabled, 1), else_=0)))
                .group_by(BankEntryRow.bank_id)
            )
        }
        return [BankSummary(row, *counts.get(row.id, (0, 0)))
                for row in session.execute(select(BankRow).order_by(BankRow.name)).scalars()]

    # --- entries --------------------------------------------------------------------------------

    def add_entries(self, session: Session, bank_name: str, entries: Iterable[BankEntry], actor: Actor,
                    *, audit_detail: dict[str, Any] | None = None, ids_out: list[int] | None = None,
                    skip_existing: bool = False) -> int:
        """Add entries in batches (each batch one insert and one change-log row); returns how many.
        `ids_out`, when given, receives the new entries' ids (for callers that answer with them).
        `skip_existing`: an entry the bank already holds (the same signal type, value, source and
        source id) is not added again, nor one repeated within `entries` (importing a list again)."""
        bank = self.bank(session, bank_name)
        now = utc_now()
        total = 0
        batch: list[dict[str, Any]] = []
        seen: set[tuple[Any, ...]] = set()

        def flush() -> None:
            nonlocal total
            if skip_existing:
                batch[:] = self._not_held(session, bank.id, batch, seen)
            if not batch:
                return
            ids = list(session.execute(insert(BankEntryRow).returning(BankEntryRow.id), batch).scalars())
            session.add(BankChangeRow(bank_id=bank.id, action="add", entry_ids={"ids": ids}, at=now))
            if ids_out is not None:
                ids_out.extend(ids)
            total += len(ids)
            batch.clear()

        for entry in entries:
            batch.append({
                "bank_id": bank.id, "signal_type": entry.signal_type.value, "value": entry.value,
                "source": entry.source, "source_id": entry.source_id,
                "classification": entry.classification.value if entry.classification else None,
                "series": entry.series, "added_by": entry.added_by or actor.name, "added_at": entry.added_at or now,
                "enabled": entry.enabled, "changed_at": now,
            })
            if len(batch) >= INSERT_BATCH:
                flush()
        flush()
        if total:
            self.audit.append(session, actor, "bank.entries_added",
                              details={"bank": bank_name, "count": total, **(audit_detail or {})})
        return total

    @staticmethod
    def _not_held(session: Session, bank_id: int, batch: list[dict[str, Any]],
                  seen: set[tuple[Any, ...]]) -> list[dict[str, Any]]:
        """The entries of `batch` that the bank does not hold yet and `seen` has not met (which learns them)."""
        def key(signal_type: str, value: str, source: str | None, source_id: str | None) -> tuple[Any, ...]:
            return signal_type, value, source, source_id

        by_type: dict[str, set[str]] = {}
        for entry in batch:
            by_type.setdefault(entry["signal_type"], set()).add(entry["value"][:64])
        with planned_anew(session):  # else a plan made while the bank was small may scan it all at every batch
            for signal_type, prefixes in by_type.items():
                ordered = sorted(prefixes)
                for start in range(0, len(ordered), 500):
                    rows = session.execute(
                        select(BankEntryRow.signal_type, BankEntryRow.value, BankEntryRow.source,
                               BankEntryRow.source_id)
                        .where(BankEntryRow.bank_id == bank_id, BankEntryRow.signal_type == signal_type,
                               func.substr(BankEntryRow.value, 1, 64).in_(ordered[start:start + 500]))
                    )
                    seen.update(key(*row) for row in rows)
        fresh = []
        for entry in batch:
            entry_key = key(entry["signal_type"], entry["value"], entry["source"], entry["source_id"])
            if entry_key not in seen:
                seen.add(entry_key)
                fresh.append(entry)
        return fresh

    def add_keyed(self, session: Session, bank_id: int, entries: list[BankEntry], actor: Actor,
                  *, audit_detail: dict[str, Any] | None = None) -> dict[tuple[str, str | None, str], int]:
        """Add entries (one bulk insert and one change-log row per INSERT_BATCH) and answer each new id by
        (signal type, source id, value): for callers that link their own rows to the entries they added
        (an exchange's fetch). Their ids are reserved first, so nothing is read back. One audit event."""
        now = utc_now()
        found: dict[tuple[str, str | None, str], int] = {}
        table = cast(Table, BankEntryRow.__table__)
        for start in range(0, len(entries), INSERT_BATCH):
            chunk = entries[start:start + INSERT_BATCH]
            ids = reserve_ids(session, table, len(chunk))
            rows = []
            for entry_id, e in zip(ids, chunk, strict=True):
                kind = str(e.signal_type)  # its value (a StrEnum), without Enum's slower `.value`
                rows.append({
                    "id": entry_id, "bank_id": bank_id, "signal_type": kind, "value": e.value, "source": e.source,
                    "source_id": e.source_id, "classification": str(e.classification) if e.classification else None,
                    "series": e.series, "added_by": e.added_by or actor.name, "added_at": e.added_at or now,
                    "enabled": e.enabled, "changed_at": now})
                found[(kind, e.source_id, e.value)] = entry_id
            insert_many(session, table, rows)
            session.add(BankChangeRow(bank_id=bank_id, action="add", entry_ids={"ids": ids}, at=now))
        if found:
            self.audit.append(session, actor, "bank.entries_added",
                              details={"bank_id": bank_id, "count": len(found), **(audit_detail or {})})
        return found

    def set_enabled_many(self, session: Session, bank_id: int, entry_ids: list[int], enabled: bool, actor: Actor,
                         *, audit_detail: dict[str, Any] | None = None) -> int:
        """Enable or disable many entries of one bank at once: one update, one change-log row and one
        audit event (an exchange's deletions); returns how many changed."""
        from sqlalchemy import update

        changed: list[int] = []
        now = utc_now()
        for start in range(0, len(entry_ids), 500):
            chunk = entry_ids[start:start + 500]
            ids = list(session.execute(select(BankEntryRow.id).where(
                BankEntryRow.id.in_(chunk), BankEntryRow.enabled.is_(not enabled))).scalars())
            if ids:
                session.execute(update(BankEntryRow).where(BankEntryRow.id.in_(ids))
                                .values(enabled=enabled, changed_at=now))
                changed += ids
        if changed:
            session.add(BankChangeRow(bank_id=bank_id, action="enable" if enabled else "disable",
                                      entry_ids={"ids": changed}, at=now))
            self.audit.append(session, actor, "bank.entries_enabled" if enabled else "bank.entries_disabled",
                              details={"bank_id": bank_id, "count": len(changed), **(audit_detail or {})})
        return len(changed)

    def set_enabled(self, session: Session, entry_id: int, enabled: bool, actor: Actor) -> BankEntryRow:
        row = session.get(BankEntryRow, entry_id)
        if row is None:
            raise BankError(f"there is no bank entry {entry_id}")
        if row.enabled != enabled:
            row.enabled = enabled
            row.changed_at = utc_now()
            session.add(BankChangeRow(bank_id=row.bank_id, action="enable" if enabled else "disable",
                                      entry_ids={"ids": [entry_id]}, at=row.changed_at))
            self.audit.append(session, actor, "bank.entry_enabled" if enabled else "bank.entry_disabled",
                              details={"entry_id": entry_id, "bank_id": row.bank_id})
        return row

    def entries(self, session: Session, bank_name: str, *, batch: int = 5000) -> Iterator[BankEntry]:
        """Every entry of a bank, in id order, read in batches (for export)."""
        bank = self.bank(session, bank_name)
        last = 0
        while True:
            rows = list(session.execute(
                select(BankEntryRow).where(BankEntryRow.bank_id == bank.id, BankEntryRow.id > last)
                .order_by(BankEntryRow.id).limit(batch)
            ).scalars())
            if not rows:
                return
            for row in rows:
                yield to_entry(row, bank.name)
            last = rows[-1].id

    # --- series -----------------------------------------------------------------------------------

    def set_series(self, session: Session, name: str, identified: bool, actor: Actor, notes: str = "") -> SeriesRow:
        """Register a series (or find it by name or alias) and mark it identified or not, without naming
        an agency (hash-list imports; `tipline series identify` names the agency)."""
        from tipline.store.series import resolve_names

        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise BankError("a series name is 1 to 200 characters")
        row = resolve_names(session, [name]).get(name)
        now = utc_now()
        status = "identified" if identified else "unidentified"
        if row is None:
            row = SeriesRow(name=name, status=status, notes=notes, created_at=now, updated_at=now,
                            updated_by=actor.name, identified_at=now if identified else None, report_count=0)
            session.add(row)
            session.flush()
        else:
            if row.status != status:
                row.status = status
                row.identified_at = now if identified else None
                if not identified:
                    row.identified_by_agency_id = row.case_reference = None
            row.updated_at, row.updated_by = now, actor.name
            if notes:
                row.notes = notes
        session.add(SeriesEventRow(series_id=row.id, at=now, actor_name=actor.name, action="status_set",
                                   details={"to": status}))
        self.audit.append(session, actor, "series.updated", details={"series": row.name, "identified": identified})
        return row

    def identified_series(self, session: Session, names: Iterable[str]) -> dict[str, bool]:
        """Each of `names` that is a series' name or alias: whether that series is identified."""
        from tipline.store.series import resolve_names

        return {name: row.identified for name, row in resolve_names(session, names).items()}


def match_facts(session: Session, report_id: int) -> tuple[bool, dict[str, list[MatchFact]]]:
    """For triage: whether the files were looked up, and each file's unsuppressed matches."""
    report = session.get(ReportRow, report_id)
    if report is None:
        return False, {}
    return match_facts_many(session, [report])[report_id]


def match_facts_many(session: Session, reports: Sequence[ReportRow]
                     ) -> dict[int, tuple[bool, dict[str, list[MatchFact]]]]:
    """match_facts for several reports at once: one read of their matches, not one per report (the
    weights preview scores up to a thousand reports)."""
    looked_up = [r.id for r in reports if r.files_matched_at is not None]
    result: dict[int, tuple[bool, dict[str, list[MatchFact]]]] = {
        r.id: (r.files_matched_at is not None, {}) for r in reports}
    if not looked_up:
        return result
    rows = list(session.execute(
        select(FileMatchRow).where(FileMatchRow.report_id.in_(looked_up), FileMatchRow.suppressed.is_(False),
                                   FileMatchRow.bank_kind != "ignore")
        .order_by(FileMatchRow.report_id, FileMatchRow.id)
    ).scalars())
    if not rows:
        return result
    from tipline.store.referrals import AgencyRow
    from tipline.store.series import resolve_names

    series = resolve_names(session, [row.series for row in rows])
    agency_ids = {s.identified_by_agency_id for s in series.values() if s.identified_by_agency_id}
    agencies = dict(session.execute(select(AgencyRow.id, AgencyRow.name).where(AgencyRow.id.in_(agency_ids))).all()
                    ) if agency_ids else {}
    for row in rows:
        known = series.get(row.series or "")
        result[row.report_id][1].setdefault(row.file_id, []).append(MatchFact(
            row.bank_kind, row.bank, known.name if known else row.series, bool(known and known.identified),
            agencies.get(known.identified_by_agency_id) if known and known.identified_by_agency_id else None))
    return result


def _intern(text: str | None) -> str | None:
    return sys.intern(text) if text else text


class MatcherSync:
    """One process's matcher: loaded from the database on first use, then kept current by applying
    the change log at most every half second (no rebuild; adds and disables are incremental).

    Transactions can commit in another order than their change rows' sequence numbers (PostgreSQL),
    so a change is looked for until it is CHANGE_WINDOW old, and each is applied once; applying one
    twice would be harmless anyway (adds of known entries and repeated enables are no-ops)."""

    def __init__(self) -> None:
        self._matcher: Matcher | None = None
        self._low_water = 0  # every change at or below this was applied, or never committed
        self._applied: set[int] = set()
        self._last_poll = 0.0
        self._lock = threading.Lock()

    def matcher(self, session: Session, *, fresh: bool = False) -> Matcher:
        """The matcher; `fresh` applies every committed change first (after this process changed a bank)."""
        with self._lock:
            if self._matcher is None:
                self._load(session)
            elif fresh or time.monotonic() - self._last_poll >= SYNC_INTERVAL:
                self._apply_changes(session)
            assert self._matcher is not None
            return self._matcher

    def current(self, reading: Callable[[], AbstractContextManager[Session]]) -> Matcher:
        """The matcher for a lookup, opening a session with `reading` (`instance.db.read_session`) only when
        the change log is due a look: a lookup between looks (SYNC_INTERVAL apart) costs no session and no
        round trip to the database. While another thread applies the change log, lookups go on with the
        matcher as it stands (it serves lookups while one writer changes it) rather than wait for it. A
        change matches in every process SYNC_INTERVAL after it commits, plus the time to apply it."""
        matcher = self._matcher
        if matcher is not None and (time.monotonic() - self._last_poll < SYNC_INTERVAL or self._lock.locked()):
            return matcher
        with reading() as session:
            return self.matcher(session)

    def _load(self, session: Session) -> None:
        matcher = Matcher()
        self._low_water = self._settled_seq(session)
        # changes visible now are in the rows read below; later ones are applied as they appear
        self._applied = set(session.execute(
            select(BankChangeRow.seq).where(BankChangeRow.seq > self._low_water)).scalars())
        banks = {row.id: row for row in session.execute(select(BankRow)).scalars()}
        for row in banks.values():
            matcher.add_bank(to_bank(row))

        def rows() -> Iterator[BankEntry]:
            last = 0
            while True:
                batch = list(session.execute(
                    select(BankEntryRow).where(BankEntryRow.id > last).order_by(BankEntryRow.id).limit(20_000)
                ).scalars())
                if not batch:
                    return
                for row in batch:
                    if row.bank_id in banks:
                        yield to_entry(row, banks[row.bank_id].name)
                last = batch[-1].id
                session.expunge_all()

        matcher.load(rows())
        self._matcher = matcher
        self._last_poll = time.monotonic()

    @staticmethod
    def _settled_seq(session: Session) -> int:
        """The newest change old enough that every change numbered before it has committed or never will."""
        cutoff = utc_now() - CHANGE_WINDOW
        return session.execute(
            select(func.coalesce(func.max(BankChangeRow.seq), 0)).where(BankChangeRow.at < cutoff)
        ).scalar_one()

    def _apply_changes(self, session: Session) -> None:
        assert self._matcher is not None
        # the sequence numbers first: the changes of the last CHANGE_WINDOW stay above the low-water mark,
        # and reading their id lists again at every poll (a large fetch writes one per 2,000 entries) cost
        # more than the lookups themselves
        waiting = [seq for seq in session.execute(
            select(BankChangeRow.seq).where(BankChangeRow.seq > self._low_water)).scalars()
            if seq not in self._applied]
        self._last_poll = time.monotonic()
        for start in range(0, len(waiting), 100):
            for change in session.execute(select(BankChangeRow).where(
                    BankChangeRow.seq.in_(waiting[start:start + 100])).order_by(BankChangeRow.seq)).scalars():
                self._apply(session, change)
                self._applied.add(change.seq)
        settled = self._settled_seq(session)
        if settled > self._low_water:
            self._low_water = settled
            self._applied = {seq for seq in self._applied if seq > settled}

    def _new_entries(self, session: Session, bank: BankRow, ids: list[int]) -> list[BankEntry]:
        """The entries of an `add` change that the matcher does not hold yet.

        Plain rows, not ORM objects (building 2,000 of those per change was half the cost of keeping a process's
        matcher current during a large fetch: 42 µs an entry, 20 with rows); the ids a page reserved in one
        statement are read as one range rather than as 2,000 bound parameters; the type, classification,
        strings and timestamp repeated down a change are parsed once each; the entries are built as stored
        ones (`BankEntry.stored`: the value checked, nothing converted again)."""
        assert self._matcher is not None
        matcher = self._matcher
        name = sys.intern(bank.name)
        added_at = read_converter(session, BankEntryRow.added_at)
        columns = [BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value, BankEntryRow.source,
                   BankEntryRow.source_id, BankEntryRow.classification, BankEntryRow.series,
                   BankEntryRow.added_by, raw(BankEntryRow.added_at), BankEntryRow.enabled]
        kinds: dict[str, Any] = {}
        classes: dict[str | None, Any] = {None: None}
        fresh = []
        wanted = sorted(ids)
        for start in range(0, len(wanted), 5000):
            block = wanted[start:start + 5000]
            if block[-1] - block[0] < 2 * len(block):  # dense: one range, the few others in it left out
                where = [BankEntryRow.id.between(block[0], block[-1]), BankEntryRow.bank_id == bank.id]
                keep: set[int] | None = set(block) if block[-1] - block[0] + 1 != len(block) else None
            else:
                where, keep = [BankEntryRow.id.in_(block)], None
            for (entry_id, signal_type, value, source, source_id, classification, series, added_by, added,
                 enabled) in session.execute(select(*columns).where(*where)):
                if (keep is not None and entry_id not in keep) or matcher.entry(entry_id) is not None:
                    continue  # not of this change, or known (loaded after the change was written)
                try:
                    kind = kinds.get(signal_type) or kinds.setdefault(signal_type, parse_signal_type(signal_type))
                    label = classes[classification] if classification in classes else classes.setdefault(
                        classification, parse_classification(classification))
                    fresh.append(BankEntry.stored(  # its strings interned as the matcher keeps them (no copy)
                        name, kind, value, _intern(source), source_id, label, _intern(series), _intern(added_by),
                        added_at(added), enabled, entry_id))
                except (SignalError, ValueError):
                    pass
        return fresh

    def _apply(self, session: Session, change: BankChangeRow) -> None:
        assert self._matcher is not None
        bank = session.get(BankRow, change.bank_id) if change.bank_id is not None else None
        if change.action == "bank" and bank is not None:
            if any(b.name == bank.name for b in self._matcher.banks()):
                self._matcher.update_bank(to_bank(bank))
            else:
                self._matcher.add_bank(to_bank(bank))
        elif change.action == "add" and bank is not None:
            if self._matcher.bank(bank.name) is None:
                self._matcher.add_bank(to_bank(bank))
            # in one go: a PDQ index takes a change's entries as one block, not one array copy each
            self._matcher.load(self._new_entries(session, bank, change.entry_ids["ids"]))
        elif change.action in ("enable", "disable"):
            for entry_id in change.entry_ids["ids"]:
                try:
                    if change.action == "enable":
                        self._matcher.enable(entry_id)
                    else:
                        self._matcher.disable(entry_id)
                except KeyError:
                    pass
