"""Keeping the daily counts current: the pipeline's count_trends stage (one report, only what changed)
and `tipline trends rebuild` (every report, in batches). Charts read the counts, never the reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tipline.store.referrals import ReferralOutcomeRow, ReportJurisdictionRow
from tipline.store.tables import (
    ApiAccount,
    ConversationAnalysisRow,
    IdentifierRow,
    ReportRow,
    TextFindingRow,
)
from tipline.trends.cache import cache_of
from tipline.trends.dimensions import ReportInputs, age_band, ages_in, annotation_names, facts, unique
from tipline.trends.tables import TrendCountRow, TrendFactRow

if TYPE_CHECKING:
    from tipline.instance import Instance

Fact = tuple[str, str]
BATCH = 1000


def gather(session: Session, report_ids: Sequence[int]) -> dict[int, tuple[date, set[Fact]]]:
    """The day and facts of each of these reports that has been received (a handful of queries per batch)."""
    ids = list(report_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ReportRow.id, ReportRow.received_at, ReportRow.incident_type, ReportRow.platform, ReportRow.source,
               ReportRow.api_account_id, ReportRow.reviewed_incident_type, ReportRow.reviewed_annotations,
               ReportRow.priority, ReportRow.state, ReportRow.content, ApiAccount.username)
        .outerjoin(ApiAccount, ApiAccount.id == ReportRow.api_account_id)
        .where(ReportRow.id.in_(ids), ReportRow.received_at.is_not(None))
    ).all()
    if not rows:
        return {}
    inputs: dict[int, ReportInputs] = {}
    for (rid, received_at, incident_type, platform, source, account_id, reviewed_type, reviewed_annotations,
         priority, state, content, account) in rows:
        summary = content.get("incidentSummary") or {}
        public = content.get("publicReport") or {}
        inputs[rid] = ReportInputs(
            received_on=received_at.date(), incident_type=incident_type,
            source=(account or "provider") if account_id is not None else "public",
            platform=platform, reviewed_incident_type=reviewed_type,
            annotations=annotation_names(summary.get("reportAnnotations"), reviewed_annotations),
            victim_ages=ages_in(content), victim_sex=public.get("childGender"),
            reporter=public.get("reporterRelationship") if source == "public_form" else None,
            priority=priority, state=state)
    found = list(inputs)
    for rid, suggested_type, result in session.execute(
            select(ConversationAnalysisRow.report_id, ConversationAnalysisRow.suggested_incident_type,
                   ConversationAnalysisRow.result)
            .where(ConversationAnalysisRow.report_id.in_(found), ConversationAnalysisRow.error.is_(None))):
        target = inputs[rid]
        target.suggested_incident_types = unique([*target.suggested_incident_types, suggested_type])
        target.tactics = unique([*target.tactics, *(t.get("tactic") for t in (result or {}).get("tactics", []))])
        target.disclosure = target.disclosure or bool((result or {}).get("disclosure"))
    for rid, kind, value in session.execute(
            select(TextFindingRow.report_id, TextFindingRow.kind, TextFindingRow.value)
            .where(TextFindingRow.report_id.in_(found))):
        target = inputs[rid]
        if kind == "child_age" and value.isdigit():
            target.victim_ages.append(int(value))
        elif kind in ("sextortion_threat", "meeting_request", "image_request"):
            target.tactics = unique([*target.tactics, kind])
    for rid, value in session.execute(
            select(IdentifierRow.report_id, IdentifierRow.value)
            .where(IdentifierRow.report_id.in_(found), IdentifierRow.kind == "payment")):
        inputs[rid].payment_services = unique([*inputs[rid].payment_services, value.split(":", 1)[0]])
    for rid, resolution in session.execute(
            select(ReportJurisdictionRow.report_id, ReportJurisdictionRow.resolution)
            .where(ReportJurisdictionRow.report_id.in_(found))):
        best = (resolution or {}).get("best") or {}
        inputs[rid].country, inputs[rid].region = best.get("country"), best.get("region")
    for rid, outcome in session.execute(
            select(ReferralOutcomeRow.report_id, ReferralOutcomeRow.outcome)
            .where(ReferralOutcomeRow.report_id.in_(found)).order_by(ReferralOutcomeRow.id)):
        inputs[rid].referral_outcome = outcome  # the latest wins
    return {rid: (i.received_on, facts(i)) for rid, i in inputs.items()}


def _upsert(session: Session, deltas: Counter[tuple[date, str, str]]) -> None:
    """Add each delta to its count (a row is created at its first report), in key order so that two
    workers lock the same rows in the same order."""
    items = sorted((k, v) for k, v in deltas.items() if v)
    if not items:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(items), 500):
        chunk = items[start:start + 500]
        statement = insert(TrendCountRow).values(
            [{"day": day, "dimension": dimension, "value": value, "count": delta}
             for (day, dimension, value), delta in chunk])
        statement = statement.on_conflict_do_update(
            index_elements=["day", "dimension", "value"],
            set_={"count": TrendCountRow.count + statement.excluded.count})
        session.execute(statement)


def count_report(session: Session, report_id: int) -> tuple[date, set[Fact], set[Fact]] | None:
    """Make the counts hold this report's facts as they are now; returns its day, its facts and the facts
    it added (None for a report not received). Running it again changes nothing."""
    gathered = gather(session, [report_id]).get(report_id)
    stored = {(row.day, row.dimension, row.value) for row in session.execute(
        select(TrendFactRow).where(TrendFactRow.report_id == report_id)).scalars()}
    wanted = {(gathered[0], d, v) for d, v in gathered[1]} if gathered else set()
    removed, added = stored - wanted, wanted - stored
    if removed:
        for _day, dimension, value in removed:
            session.execute(delete(TrendFactRow).where(
                TrendFactRow.report_id == report_id, TrendFactRow.dimension == dimension,
                TrendFactRow.value == value))
    if added:
        session.add_all(TrendFactRow(report_id=report_id, day=day, dimension=dimension, value=value)
                        for day, dimension, value in sorted(added))
        session.flush()
    deltas: Counter[tuple[date, str, str]] = Counter()
    for key in removed:
        deltas[key] -= 1
    for key in added:
        deltas[key] += 1
    _upsert(session, deltas)
    if gathered is None:
        return None
    return gathered[0], gathered[1], {(d, v) for _, d, v in added}


def rebuild(instance: Instance, *, progress: Callable[[int], None] | None = None,
            report_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Count every received report again from scratch (or only `report_ids`, recounted one by one).
    Stop the pipeline's workers first: a report counted by a worker during a full rebuild is counted twice."""
    if report_ids is not None:
        changed = 0
        for report_id in report_ids:
            with instance.db.transaction() as session:
                result = count_report(session, report_id)
                changed += bool(result and result[2])
            if progress:
                progress(1)
        return {"reports": changed}
    cache_of(instance).clear()
    with instance.db.transaction() as session:
        session.execute(delete(TrendCountRow))
        session.execute(delete(TrendFactRow))
    totals: Counter[tuple[date, str, str]] = Counter()
    last, reports, fact_count = 0, 0, 0
    while True:
        with instance.db.transaction() as session:
            ids = list(session.execute(select(ReportRow.id).where(ReportRow.id > last).order_by(ReportRow.id)
                                       .limit(BATCH)).scalars())
            if not ids:
                break
            gathered = gather(session, ids)
            rows: list[dict[str, Any]] = []
            for rid, (day, found) in gathered.items():
                for dimension, value in found:
                    rows.append({"report_id": rid, "day": day, "dimension": dimension, "value": value})
                    totals[(day, dimension, value)] += 1
            if rows:
                session.execute(insert(TrendFactRow), rows)
            reports += len(gathered)
            fact_count += len(rows)
        last = ids[-1]
        if progress:
            progress(len(ids))
    with instance.db.transaction() as session:
        _upsert(session, totals)
    return {"reports": reports, "facts": fact_count, "counts": len(totals)}


def recently_updated(session: Session, since: datetime) -> list[int]:
    """Reports changed since then (decided, referred, re-annotated): what a daily run recounts."""
    return list(session.execute(select(ReportRow.id).where(ReportRow.updated_at >= since,
                                                           ReportRow.received_at.is_not(None))
                                .order_by(ReportRow.id)).scalars())


def counted_days(session: Session) -> tuple[date | None, date | None]:
    """The first and last day any report was counted."""
    first, last = session.execute(select(func.min(TrendCountRow.day), func.max(TrendCountRow.day))
                                  .where(TrendCountRow.dimension == "all")).one()
    return first, last


__all__ = ["age_band", "count_report", "counted_days", "gather", "rebuild", "recently_updated"]
