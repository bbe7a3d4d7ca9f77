"""Identifiers and links in the database: what a report names, and which other reports name it too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, load_only

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.domain.identifiers import Identifier
from tipline.store.audit import AuditLog
from tipline.store.tables import IdentifierRow, ReportLinkRow, ReportRow

LINK_BATCH = 500


@dataclass(frozen=True)
class SharedIdentifier:
    """One identifier of a report and how many other reports hold it too."""

    row: IdentifierRow
    other_reports: int


@dataclass(frozen=True)
class NewLink:
    linked_report_id: int
    basis: str
    value: str


class IdentifierStore:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    def replace(self, session: Session, report_id: int, identifiers: Iterable[Identifier]) -> int:
        """Make the stored identifiers of a report exactly these (so extraction can run again safely)."""
        session.execute(delete(IdentifierRow).where(IdentifierRow.report_id == report_id))
        rows = [
            IdentifierRow(
                report_id=report_id,
                kind=identifier.kind.value,
                value=identifier.value[:1024],
                raw=identifier.raw,
                role=identifier.role.value,
                party_index=identifier.party_index,
                path=identifier.path[:400],
                valid=identifier.valid,
                seen_at=identifier.seen_at,
            )
            for identifier in identifiers
        ]
        session.add_all(rows)
        session.flush()
        return len(rows)

    def of_report(self, session: Session, report_id: int) -> list[SharedIdentifier]:
        """A report's identifiers, each with the number of other reports that share it (one query)."""
        other = IdentifierRow.__table__.alias("other")
        shared = (
            select(func.count(func.distinct(other.c.report_id)))
            .where(
                other.c.kind == IdentifierRow.kind,
                other.c.value == IdentifierRow.value,
                other.c.report_id != report_id,
            )
            .scalar_subquery()
        )
        rows = session.execute(
            select(IdentifierRow, shared).where(IdentifierRow.report_id == report_id).order_by(IdentifierRow.id)
        )
        return [SharedIdentifier(row, count) for row, count in rows]

    def reports_sharing(self, session: Session, kind: str, value: str) -> list[int]:
        """Every report that holds this identifier: one indexed lookup on (kind, value)."""
        return list(
            session.execute(
                select(IdentifierRow.report_id)
                .where(IdentifierRow.kind == kind, IdentifierRow.value == value)
                .distinct()
                .order_by(IdentifierRow.report_id)
            ).scalars()
        )

    def link(self, session: Session, report_id: int, actor: Actor, hub_limit: int) -> list[NewLink]:
        """Link a report to every other report that shares one of its identifiers. Idempotent and safe
        under concurrency: links that exist (or that another worker is inserting) are left alone. An
        identifier held by more than `hub_limit` reports (a shared office IP, a placeholder device id)
        is not linked pairwise; it stays searchable."""
        mine = session.execute(
            select(IdentifierRow.kind, IdentifierRow.value).where(IdentifierRow.report_id == report_id).distinct()
        ).all()
        existing = {
            (row.linked_report_id, row.basis, row.value)
            for row in session.execute(select(ReportLinkRow).where(ReportLinkRow.report_id == report_id)).scalars()
        }
        wanted: set[tuple[int, str, str]] = set()
        for kind, value in mine:
            others = [r for r in self.reports_sharing(session, kind, value) if r != report_id]
            if others and len(others) + 1 <= hub_limit:
                wanted.update((other, kind, value) for other in others if (other, kind, value) not in existing)
        if not wanted:
            return []
        now = utc_now()
        rows = sorted(
            {(a, b, kind, value) for other, kind, value in wanted for a, b in ((report_id, other), (other, report_id))}
        )  # one order for every worker, so concurrent linkers wait for each other instead of deadlocking
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        inserted: list[Any] = []
        for start in range(0, len(rows), LINK_BATCH):  # stay under SQLite's limit on bound parameters
            statement = (
                insert(ReportLinkRow)
                .values([
                    {"report_id": a, "linked_report_id": b, "basis": kind, "value": value, "created_at": now,
                     "created_by": actor.name}
                    for a, b, kind, value in rows[start : start + LINK_BATCH]
                ])
                .on_conflict_do_nothing()
                .returning(ReportLinkRow.report_id, ReportLinkRow.linked_report_id, ReportLinkRow.basis,
                           ReportLinkRow.value)
            )
            inserted += session.execute(statement).all()
        pairs = {(b if a == report_id else a, kind, value) for a, b, kind, value in inserted}
        created = [NewLink(other, kind, value) for other, kind, value in sorted(pairs)]
        session.flush()
        if created:
            # One event on this report, and one on each report it was linked to, naming what they share.
            shared = [{"report_id": n.linked_report_id, "basis": n.basis, "value": n.value} for n in created]
            self.audit.append(session, actor, "report.linked", report_id=report_id, details={"links": shared})
            by_other: dict[int, list[dict[str, str]]] = {}
            for n in created:
                by_other.setdefault(n.linked_report_id, []).append({"basis": n.basis, "value": n.value})
            for other, bases in by_other.items():
                self.audit.append(session, actor, "report.linked", report_id=other,
                                  details={"links": [{"report_id": report_id, **b} for b in bases]})
        return created

    def links_of(self, session: Session, report_id: int) -> list[tuple[ReportLinkRow, ReportRow]]:
        """A report's links, each with the report at the other end. Only the columns a list of links
        shows are read (any other loads when touched): a report in a large cluster has hundreds of
        links, and reading each linked report's whole content took most of its page's time."""
        rows = session.execute(
            select(ReportLinkRow, ReportRow)
            .join(ReportRow, ReportRow.id == ReportLinkRow.linked_report_id)
            .options(load_only(ReportRow.id, ReportRow.state, ReportRow.incident_type, ReportRow.reviewed_incident_type,
                               ReportRow.priority))
            .where(ReportLinkRow.report_id == report_id, ReportLinkRow.dismissed_at.is_(None))
            .order_by(ReportLinkRow.linked_report_id, ReportLinkRow.basis)
        )
        return [(link, report) for link, report in rows]
