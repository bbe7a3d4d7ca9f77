"""The victim-identification series registry: series by name or alias, their status and identifying
agency, pseudonymous victims, media (hash-bank entries that name the series), history, rename,
merge and split. Every change is a series event and an audit event; reads are audited by callers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.victims import (
    MAX_CASE_REFERENCE,
    MAX_NOTES,
    AgeBand,
    SeriesStatus,
    VictimRecordError,
    VictimSex,
    VictimStatus,
    check_pseudonym,
    check_series_name,
    parse_choice,
)
from tipline.matching import BankEntry, BankKind, parse_classification, parse_signal_type
from tipline.store.audit import AuditLog
from tipline.store.referrals import AgencyRow, agency_by_code
from tipline.store.tables import ApiAccount, BankEntryRow, BankRow, FileMatchRow, ReportRow, SeriesRow
from tipline.store.victim_tables import (
    ClusterFileRow,
    MediaClusterRow,
    SeriesAliasRow,
    SeriesConfirmationRow,
    SeriesEventRow,
    SeriesNotificationRow,
    SeriesVictimRow,
    VictimIdQueueRow,
)

SERIES_BANK = "victim-series"
"""The identified_series bank that media added to a series goes to unless another is named."""
PAGE = 50


class SeriesError(ValueError):
    """A registry operation that cannot be done, and why (nothing was changed)."""


class SeriesNotFound(LookupError):
    def __init__(self, name: str | int) -> None:
        super().__init__(f"there is no series {name!r} (see `tipline series list`)" if isinstance(name, str)
                         else f"series {name} does not exist")


@dataclass(frozen=True)
class Sighting:
    """A report in which a series was seen."""

    report_id: int
    received_at: datetime | None
    provider: str | None
    country: str | None
    referred_to: str | None
    files: int


def _agency(session: Session, code: str) -> AgencyRow:
    if not code or not code.strip():
        raise SeriesError("identifying a series needs the agency that identified its victim (--agency CODE)")
    agency = agency_by_code(session, code)
    if agency is None:
        raise SeriesError(f"there is no agency with code {code.strip()!r} (see `tipline agencies list`)")
    return agency


def names_of(session: Session, series: SeriesRow) -> list[str]:
    """A series' name and its aliases: what bank entries and matches may call it."""
    aliases = session.execute(select(SeriesAliasRow.alias).where(SeriesAliasRow.series_id == series.id)).scalars()
    return [series.name, *sorted(aliases)]


def resolve_names(session: Session, names: Iterable[str | None]) -> dict[str, SeriesRow]:
    """Each of `names` that is a series' name or alias, with its series."""
    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    found = {row.name: row for row in session.execute(select(SeriesRow).where(SeriesRow.name.in_(wanted))).scalars()}
    rest = [n for n in wanted if n not in found]
    if rest:
        for alias, row in session.execute(
            select(SeriesAliasRow.alias, SeriesRow).join(SeriesRow, SeriesRow.id == SeriesAliasRow.series_id)
            .where(SeriesAliasRow.alias.in_(rest))
        ).all():
            found[alias] = row
    return found


class SeriesStore:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    # --- finding --------------------------------------------------------------------------------

    def get(self, session: Session, series_id: int) -> SeriesRow:
        row = session.get(SeriesRow, series_id)
        if row is None:
            raise SeriesNotFound(series_id)
        return row

    def find(self, session: Session, name: str) -> SeriesRow:
        """A series by its name or one of its aliases."""
        found = resolve_names(session, [" ".join(name.split())])
        if not found:
            raise SeriesNotFound(name)
        return next(iter(found.values()))

    def _name_free(self, session: Session, name: str) -> None:
        if resolve_names(session, [name]):
            raise SeriesError(f"the name {name!r} is already a series' name or alias")

    def listing(self, session: Session, *, query: str = "", status: str | None = None, sort: str = "last_seen",
                limit: int = PAGE, offset: int = 0) -> tuple[list[SeriesRow], int]:
        """Series matching `query` (in a name or alias), sorted by last seen, reports or name."""
        conditions: list[Any] = []
        if query.strip():
            pattern = f"%{query.strip().lower()}%"
            aliased = select(SeriesAliasRow.series_id).where(func.lower(SeriesAliasRow.alias).like(pattern))
            conditions.append(or_(func.lower(SeriesRow.name).like(pattern), SeriesRow.id.in_(aliased)))
        if status:
            conditions.append(SeriesRow.status == parse_choice(SeriesStatus, status, "status"))
        order: tuple[Any, ...] | None = {
            "last_seen": (SeriesRow.last_seen_at.desc().nulls_last(), SeriesRow.id),
            "reports": (SeriesRow.report_count.desc(), SeriesRow.id),
            "name": (SeriesRow.name,),
        }.get(sort)
        if order is None:
            raise SeriesError("sort by last_seen, reports or name")
        total = session.execute(select(func.count()).select_from(SeriesRow).where(*conditions)).scalar_one()
        rows = list(session.execute(select(SeriesRow).where(*conditions).order_by(*order).limit(limit)
                                    .offset(offset)).scalars())
        return rows, total

    # --- changing -------------------------------------------------------------------------------

    def _event(self, session: Session, series: SeriesRow, actor: Actor, action: str, **details: Any) -> None:
        now = utc_now()
        series.updated_at, series.updated_by = now, actor.name
        session.add(SeriesEventRow(series_id=series.id, at=now, actor_name=actor.name, action=action, details=details))
        self.audit.append(session, actor, f"series.{action}", details={"series": series.name, "series_id": series.id,
                                                                       **details})

    def create(self, session: Session, name: str, actor: Actor, *, notes: str = "",
               status: str = SeriesStatus.UNIDENTIFIED.value) -> SeriesRow:
        name = check_series_name(name)
        status = parse_choice(SeriesStatus, status, "status")
        if status == SeriesStatus.IDENTIFIED:
            raise SeriesError("a series is marked identified with `identify`, which names the agency")
        if len(notes) > MAX_NOTES:
            raise SeriesError(f"notes are at most {MAX_NOTES} characters")
        self._name_free(session, name)
        now = utc_now()
        row = SeriesRow(name=name, status=status, notes=notes, created_at=now, updated_at=now, updated_by=actor.name,
                        report_count=0)
        session.add(row)
        session.flush()
        self._event(session, row, actor, "created", status=status)
        return row

    def set_status(self, session: Session, series: SeriesRow, status: str, actor: Actor, *,
                   agency_code: str | None = None, case_reference: str | None = None) -> SeriesRow:
        status = parse_choice(SeriesStatus, status, "status")
        agency = None
        if status == SeriesStatus.IDENTIFIED:
            agency = _agency(session, agency_code or "")
        elif agency_code:
            raise SeriesError("only an identified series has an identifying agency")
        if case_reference is not None and len(case_reference.strip()) > MAX_CASE_REFERENCE:
            raise SeriesError(f"a case reference is at most {MAX_CASE_REFERENCE} characters")
        before = series.status
        series.status = status
        if agency is not None:
            series.identified_by_agency_id, series.identified_at = agency.id, utc_now()
            series.case_reference = (case_reference or "").strip() or series.case_reference
        else:
            series.identified_by_agency_id = series.identified_at = series.case_reference = None
        self._event(session, series, actor, "status_changed", **{"from": before, "to": status},
                    agency=agency.code if agency else None, case_reference=series.case_reference)
        return series

    def identify(self, session: Session, series: SeriesRow, agency_code: str, actor: Actor,
                 case_reference: str | None = None) -> SeriesRow:
        return self.set_status(session, series, SeriesStatus.IDENTIFIED.value, actor, agency_code=agency_code,
                               case_reference=case_reference)

    def set_notes(self, session: Session, series: SeriesRow, notes: str, actor: Actor) -> None:
        if len(notes) > MAX_NOTES:
            raise SeriesError(f"notes are at most {MAX_NOTES} characters")
        series.notes = notes
        self._event(session, series, actor, "notes_changed")

    def rename(self, session: Session, series: SeriesRow, new_name: str, actor: Actor) -> SeriesRow:
        """Give a series a new name; the old one stays as an alias (entries and lists that use it still resolve)."""
        new_name = check_series_name(new_name)
        if new_name == series.name:
            raise SeriesError(f"the series is already called {new_name!r}")
        taken = resolve_names(session, [new_name])
        if taken and taken[new_name].id != series.id:
            raise SeriesError(f"the name {new_name!r} is already a series' name or alias")
        old = series.name
        session.execute(delete(SeriesAliasRow).where(SeriesAliasRow.alias == new_name))
        session.add(SeriesAliasRow(alias=old, series_id=series.id, added_at=utc_now(), added_by=actor.name))
        series.name = new_name
        self._rename_references(session, [old], new_name)
        self._event(session, series, actor, "renamed", **{"from": old, "to": new_name})
        return series

    @staticmethod
    def _rename_references(session: Session, old_names: Sequence[str], new_name: str) -> None:
        session.execute(update(BankEntryRow).where(BankEntryRow.series.in_(old_names)).values(series=new_name))
        session.execute(update(FileMatchRow).where(FileMatchRow.series.in_(old_names)).values(series=new_name))

    def merge(self, session: Session, source: SeriesRow, target: SeriesRow, actor: Actor) -> SeriesRow:
        """Merge `source` into `target`: its media, victims, sightings, notifications and queue entries
        become the target's, its name and aliases the target's aliases; then `source` is gone."""
        if source.id == target.id:
            raise SeriesError(f"cannot merge series {source.name!r} into itself")
        names = names_of(session, source)
        moved_victims = len(self.victims(session, source))
        session.execute(update(SeriesVictimRow).where(SeriesVictimRow.series_id == source.id)
                        .values(series_id=target.id))
        for table in (SeriesNotificationRow, VictimIdQueueRow):
            held = set(session.execute(select(table.report_id).where(table.series_id == target.id)).scalars())
            session.execute(delete(table).where(table.series_id == source.id, table.report_id.in_(held)))
            session.execute(update(table).where(table.series_id == source.id).values(series_id=target.id))
        session.execute(update(SeriesConfirmationRow).where(SeriesConfirmationRow.series_id == source.id)
                        .values(series_id=target.id))
        session.execute(update(MediaClusterRow).where(MediaClusterRow.series_id == source.id)
                        .values(series_id=target.id))
        session.execute(delete(SeriesAliasRow).where(SeriesAliasRow.series_id == source.id))
        self._rename_references(session, names, target.name)
        if target.status != SeriesStatus.IDENTIFIED and source.status == SeriesStatus.IDENTIFIED:
            target.status, target.identified_at = source.status, source.identified_at
            target.identified_by_agency_id, target.case_reference = source.identified_by_agency_id, source.case_reference
        elif target.status == SeriesStatus.UNIDENTIFIED and source.status == SeriesStatus.UNDER_INVESTIGATION:
            target.status = source.status
        if source.notes:
            target.notes = (target.notes + "\n\n" if target.notes else "") + f"From {source.name}: {source.notes}"
        source_id, source_name = source.id, source.name
        self._event(session, target, actor, "merged", merged=source_name, merged_id=source_id, aliases=names,
                    victims=moved_victims)
        session.delete(source)
        session.flush()
        now = utc_now()
        for alias in names:
            session.add(SeriesAliasRow(alias=alias, series_id=target.id, added_at=now, added_by=actor.name))
        self.refresh_counts(session, target)
        return target

    def split(self, session: Session, series: SeriesRow, new_name: str, entry_ids: Sequence[int], actor: Actor,
              banks: Any) -> SeriesRow:
        """Move some of a series' media to a new series: each entry is disabled and added again naming the
        new series (so every process's matcher learns it at once), with its provenance."""
        if not entry_ids:
            raise SeriesError("name the media to move to the new series (bank entry ids)")
        names = names_of(session, series)
        rows = list(session.execute(select(BankEntryRow, BankRow.name).join(BankRow, BankRow.id == BankEntryRow.bank_id)
                                    .where(BankEntryRow.id.in_(list(entry_ids)))).all())
        found = {row.id for row, _ in rows if row.series in names and row.enabled}
        missing = sorted(set(entry_ids) - found)
        if missing:
            raise SeriesError(f"bank entr{'y' if len(missing) == 1 else 'ies'} {', '.join(map(str, missing))} "
                              f"{'is' if len(missing) == 1 else 'are'} not enabled media of series {series.name!r}")
        created = self.create(session, new_name, actor, notes=f"Split from {series.name}.")
        for row, bank_name in rows:
            banks.set_enabled(session, row.id, False, actor)
            banks.add_entries(session, bank_name, [BankEntry(
                bank=bank_name, signal_type=parse_signal_type(row.signal_type), value=row.value, source=row.source,
                source_id=row.source_id, classification=parse_classification(row.classification), series=created.name,
                added_by=actor.name, added_at=utc_now())], actor, audit_detail={"split_from": series.name})
        self._event(session, series, actor, "split", into=created.name, entries=sorted(found))
        self._event(session, created, actor, "split_from", source=series.name, entries=sorted(found))
        return created

    def add_victim(self, session: Session, series: SeriesRow, actor: Actor, *, pseudonym: str, sex: str = "unknown",
                   age_band: str = "unknown", status: str = "unidentified") -> SeriesVictimRow:
        row = SeriesVictimRow(series_id=series.id, pseudonym=check_pseudonym(pseudonym),
                              sex=parse_choice(VictimSex, sex, "sex"), age_band=parse_choice(AgeBand, age_band, "age band"),
                              status=parse_choice(VictimStatus, status, "victim status"), added_at=utc_now(),
                              added_by=actor.name)
        session.add(row)
        session.flush()
        self._event(session, series, actor, "victim_added", pseudonym=row.pseudonym, age_band=row.age_band)
        return row

    def add_media(self, session: Session, series: SeriesRow, entries: Sequence[BankEntry], actor: Actor, banks: Any,
                  *, bank: str = SERIES_BANK, detail: dict[str, Any] | None = None) -> int:
        """Add hash-bank entries naming this series (to `bank`, created as an identified_series bank if
        it is the default and missing); returns how many were new."""
        if session.execute(select(BankRow.id).where(BankRow.name == bank)).scalar_one_or_none() is None:
            if bank != SERIES_BANK:
                raise SeriesError(f"there is no bank named {bank!r} (see `tipline banks list`)")
            banks.create(session, bank, BankKind.IDENTIFIED_SERIES.value, actor,
                         description="Media of victim-identification series (tipline series add-media)")
        added = banks.add_entries(session, bank, [e.replace(bank=bank, series=series.name) for e in entries], actor,
                                  audit_detail={"series": series.name, **(detail or {})}, skip_existing=True)
        self._event(session, series, actor, "media_added", bank=bank, entries=added, **(detail or {}))
        return int(added)

    def refresh_counts(self, session: Session, series: SeriesRow) -> None:
        """The number of reports a series was seen in, and when last (kept for sorting the registry)."""
        names = names_of(session, series)
        seen = (FileMatchRow.series.in_(names), FileMatchRow.suppressed.is_(False))
        count = session.execute(select(func.count(func.distinct(FileMatchRow.report_id))).where(*seen)).scalar_one()
        # reports arrive in about the order of their numbers: the newest fifty hold the latest arrival
        newest = select(FileMatchRow.report_id).where(*seen).order_by(FileMatchRow.report_id.desc()).limit(50)
        last = session.execute(select(func.max(ReportRow.received_at))
                               .where(ReportRow.id.in_(newest.scalar_subquery()))).scalar_one()
        series.report_count, series.last_seen_at = int(count or 0), last

    # --- reading --------------------------------------------------------------------------------

    def victims(self, session: Session, series: SeriesRow) -> list[SeriesVictimRow]:
        return list(session.execute(select(SeriesVictimRow).where(SeriesVictimRow.series_id == series.id)
                                    .order_by(SeriesVictimRow.id)).scalars())

    def history(self, session: Session, series: SeriesRow) -> list[SeriesEventRow]:
        return list(session.execute(select(SeriesEventRow).where(SeriesEventRow.series_id == series.id)
                                    .order_by(SeriesEventRow.at, SeriesEventRow.id)).scalars())

    def media(self, session: Session, series: SeriesRow, limit: int = 500) -> list[tuple[BankEntryRow, str]]:
        return [(row, bank) for row, bank in session.execute(
            select(BankEntryRow, BankRow.name).join(BankRow, BankRow.id == BankEntryRow.bank_id)
            .where(BankEntryRow.series.in_(names_of(session, series))).order_by(BankEntryRow.id).limit(limit)
        ).all()]

    def sightings(self, session: Session, series: SeriesRow, limit: int = 200) -> list[Sighting]:
        """The reports where the series was seen, newest first: when, from which provider, where."""
        from tipline.store.referrals import ReferralRow, ReportJurisdictionRow

        seen = (FileMatchRow.series.in_(names_of(session, series)), FileMatchRow.suppressed.is_(False))
        newest = list(session.execute(select(FileMatchRow.report_id).where(*seen).distinct()
                                      .order_by(FileMatchRow.report_id.desc()).limit(limit)).scalars())
        files = dict(session.execute(
            select(FileMatchRow.report_id, func.count(func.distinct(FileMatchRow.file_id)))
            .where(*seen, FileMatchRow.report_id.in_(newest)).group_by(FileMatchRow.report_id)
        ).all()) if newest else {}
        if not files:
            return []
        details = session.execute(
            select(ReportRow.id, ReportRow.received_at, ReportRow.source, ApiAccount.display_name,
                   ReportJurisdictionRow.resolution, AgencyRow.name)
            .outerjoin(ApiAccount, ApiAccount.id == ReportRow.api_account_id)
            .outerjoin(ReportJurisdictionRow, ReportJurisdictionRow.report_id == ReportRow.id)
            .outerjoin(ReferralRow, (ReferralRow.report_id == ReportRow.id) & ReferralRow.built_at.is_not(None))
            .outerjoin(AgencyRow, AgencyRow.id == ReferralRow.agency_id)
            .where(ReportRow.id.in_(list(files)))
        ).all()
        out = []
        for report_id, received, source, provider, resolution, agency in details:
            best = ((resolution or {}).get("best") or {})
            out.append(Sighting(report_id, received, provider or ("public form" if source == "public_form" else None),
                                best.get("country"), agency, files[report_id]))
        return sorted(out, key=lambda s: (s.received_at is not None, s.received_at, s.report_id), reverse=True)

    def notifications(self, session: Session, series: SeriesRow) -> list[tuple[SeriesNotificationRow, str]]:
        return [(row, code) for row, code in session.execute(
            select(SeriesNotificationRow, AgencyRow.code).join(AgencyRow, AgencyRow.id == SeriesNotificationRow.agency_id)
            .where(SeriesNotificationRow.series_id == series.id).order_by(SeriesNotificationRow.id)
        ).all()]

    def pending_confirmations(self, session: Session, series: SeriesRow) -> list[tuple[SeriesConfirmationRow, AgencyRow]]:
        return [(row, agency) for row, agency in session.execute(
            select(SeriesConfirmationRow, AgencyRow).join(AgencyRow, AgencyRow.id == SeriesConfirmationRow.agency_id)
            .where(SeriesConfirmationRow.series_id == series.id, SeriesConfirmationRow.decision.is_(None))
            .order_by(SeriesConfirmationRow.id)
        ).all()]

    def clusters(self, session: Session, series: SeriesRow) -> list[MediaClusterRow]:
        return list(session.execute(select(MediaClusterRow).where(MediaClusterRow.series_id == series.id)).scalars())

    def gallery(self, session: Session, series: SeriesRow, limit: int = 24) -> list[tuple[str, int]]:
        """Report files that matched the series or joined a cluster promoted to it: (file id, report id)."""
        names = names_of(session, series)
        matched = session.execute(
            select(FileMatchRow.file_id, FileMatchRow.report_id).where(FileMatchRow.series.in_(names),
                                                                       FileMatchRow.suppressed.is_(False))
            .order_by(FileMatchRow.report_id.desc()).limit(limit * 4)).all()
        clustered = session.execute(
            select(ClusterFileRow.file_id, ClusterFileRow.report_id)
            .join(MediaClusterRow, MediaClusterRow.id == ClusterFileRow.cluster_id)
            .where(MediaClusterRow.series_id == series.id).limit(limit)).all()
        seen: dict[str, int] = {}
        for file_id, report_id in [*matched, *clustered]:
            seen.setdefault(file_id, report_id)
        return list(seen.items())[:limit]

    def describe(self, session: Session, series: SeriesRow) -> dict[str, Any]:
        """The series as the CLI and API give it."""
        agency = session.get(AgencyRow, series.identified_by_agency_id) if series.identified_by_agency_id else None
        return {
            "id": series.id, "name": series.name, "aliases": names_of(session, series)[1:], "status": series.status,
            "identified_by": agency.code if agency else None,
            "identified_at": series.identified_at.isoformat() if series.identified_at else None,
            "case_reference": series.case_reference, "notes": series.notes,
            "victims": [{"id": v.id, "pseudonym": v.pseudonym, "sex": v.sex, "age_band": v.age_band,
                         "status": v.status} for v in self.victims(session, series)],
            "media": [{"entry_id": row.id, "bank": bank, "signal_type": row.signal_type, "value": row.value,
                       "source": row.source, "source_id": row.source_id, "added_by": row.added_by,
                       "added_at": row.added_at.isoformat(), "enabled": row.enabled}
                      for row, bank in self.media(session, series)],
            "reports": sorted(s.report_id for s in self.sightings(session, series, limit=10_000)),
            "notifications": [{"agency": code, "report_id": row.report_id}
                              for row, code in self.notifications(session, series)],
            "last_seen": series.last_seen_at.isoformat() if series.last_seen_at else None,
        }


__all__ = ["SERIES_BANK", "SeriesError", "SeriesNotFound", "SeriesStore", "Sighting", "VictimRecordError",
           "names_of", "resolve_names"]
