"""Keeping the daily counts current: the pipeline's count_trends stage (one report, only what changed)
and `tipline trends rebuild` (every report, in batches). Charts read the counts, never the reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Select,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tipline.store.bulk import insert_many
from tipline.store.referrals import ReferralOutcomeRow, ReportJurisdictionRow
from tipline.store.round_trips import read_together, run_text
from tipline.store.tables import (
    ApiAccount,
    ConversationAnalysisRow,
    IdentifierRow,
    ReportRow,
    TextFindingRow,
)
from tipline.store.types import JSONDocument
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
    wanted = set(ids)
    low, high = min(ids), max(ids)
    # a batch of consecutive ids (a rebuild's, or one report's) is read by its range, the reports and their
    # results in one round trip: a thousand bound ids cost more to send and parse than the rows; rows of
    # other ids in the range are dropped below
    # one report (the pipeline's stage) is read by `id = :one`: PostgreSQL then keeps one generic plan of each
    # prepared statement, where a range's estimate has it plan the reports' statement again for every report
    by_range = high - low < 2 * len(ids) + 16
    if by_range:
        which, bounds = ("one", {"one": low}) if low == high else ("range", {"low": low, "high": high})
        found_rows, results = read_together(session, [(_reports(which), bounds), (_results(which), bounds)])
    else:
        found_rows = [tuple(row) for row in session.execute(_reports("ids"), {"ids": ids})]
    rows = [row for row in found_rows if row[0] in wanted]
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
            offender_known=public.get("offenderKnown") if source == "public_form" else None,
            priority=priority, state=state)
    if not by_range:
        results = [tuple(row) for row in session.execute(_results("ids"), {"ids": list(inputs)})]
    for what, rid, _order, first, second, document in results:
        target = inputs.get(rid)
        if target is None:  # a report in the range that is not asked for
            continue
        if what == "analysis":
            target.suggested_incident_types = unique([*target.suggested_incident_types, first])
            target.tactics = unique([*target.tactics, *(t.get("tactic") for t in (document or {}).get("tactics", []))])
            target.disclosure = target.disclosure or bool((document or {}).get("disclosure"))
        elif what == "finding":
            if first == "child_age" and second is not None and second.isdigit():
                target.victim_ages.append(int(second))
            elif first in ("sextortion_threat", "meeting_request", "image_request"):
                target.tactics = unique([*target.tactics, first])
        elif what == "payment":
            target.payment_services = unique([*target.payment_services, first.split(":", 1)[0]])
        elif what == "jurisdiction":
            best = (document or {}).get("best") or {}
            target.country, target.region = best.get("country"), best.get("region")
        else:  # "outcome", in id order: the latest wins
            target.referral_outcome = first
    return {rid: (i.received_on, facts(i)) for rid, i in inputs.items()}


def _chosen(column: Any, which: str) -> Any:
    """The rows of reports `ids` ("ids"), from `low` to `high` ("range") or of the report `one` ("one")."""
    if which == "one":
        return column == bindparam("one")
    if which == "range":
        return column.between(bindparam("low"), bindparam("high"))
    report_ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    return column.in_(report_ids)


@cache
def _reports(which: str) -> Select[Any]:
    """The received reports chosen (`_chosen`), with what gather reads of them (built once)."""
    return (select(ReportRow.id, ReportRow.received_at, ReportRow.incident_type, ReportRow.platform, ReportRow.source,
                   ReportRow.api_account_id, ReportRow.reviewed_incident_type, ReportRow.reviewed_annotations,
                   ReportRow.priority, ReportRow.state, ReportRow.content, ApiAccount.username)
            .outerjoin(ApiAccount, ApiAccount.id == ReportRow.api_account_id)
            .where(_chosen(ReportRow.id, which), ReportRow.received_at.is_not(None)))


@cache
def _results(chosen: str) -> Select[Any]:
    """The conversation analyses, text findings, payment identifiers, jurisdiction and referral outcomes
    of the reports chosen (`_chosen`) as one UNION ALL, in the order `gather` applies them (built once:
    building the statement costs more than running it)."""

    def which(column: Any) -> Any:
        return _chosen(column, chosen)

    def tag(what: str) -> Any:
        return literal(what, String(20)).label("what")

    def as_text(column: Any = None) -> Any:
        return cast(column if column is not None else null(), String)

    def document(column: Any = None) -> Any:
        return column if column is not None else cast(null(), JSONDocument)

    parts = [
        select(tag("analysis"), ConversationAnalysisRow.report_id, cast(ConversationAnalysisRow.id, BigInteger),
               as_text(ConversationAnalysisRow.suggested_incident_type), as_text(), document(ConversationAnalysisRow.result))
        .where(which(ConversationAnalysisRow.report_id), ConversationAnalysisRow.error.is_(None)),
        select(tag("finding"), TextFindingRow.report_id, cast(TextFindingRow.id, BigInteger), as_text(TextFindingRow.kind),
               as_text(TextFindingRow.value), document()).where(which(TextFindingRow.report_id)),
        select(tag("payment"), IdentifierRow.report_id, cast(IdentifierRow.id, BigInteger), as_text(IdentifierRow.value),
               as_text(), document()).where(which(IdentifierRow.report_id), IdentifierRow.kind == "payment"),
        select(tag("jurisdiction"), ReportJurisdictionRow.report_id, cast(literal(0), BigInteger), as_text(), as_text(),
               document(ReportJurisdictionRow.resolution)).where(which(ReportJurisdictionRow.report_id)),
        select(tag("outcome"), ReferralOutcomeRow.report_id, cast(ReferralOutcomeRow.id, BigInteger),
               as_text(ReferralOutcomeRow.outcome), as_text(), document())
        .where(which(ReferralOutcomeRow.report_id)),
    ]
    union = union_all(*parts).subquery()
    columns = list(union.c)
    return select(*columns).order_by(columns[2])


@cache
def _upsert_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding the delta, RETURNING the count (built once per dialect)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(TrendCountRow)
    return statement.on_conflict_do_update(
        index_elements=["day", "dimension", "value"],
        set_={"count": TrendCountRow.count + statement.excluded.count},
    ).returning(TrendCountRow.day, TrendCountRow.dimension, TrendCountRow.value, TrendCountRow.count)
    # (no sort_by_parameter_order: the rows are keyed by what they return, and asking for the order
    # makes PostgreSQL's driver send them one statement each)


def _upsert(session: Session, deltas: Counter[tuple[date, str, str]]) -> dict[tuple[date, str, str], int]:
    """Add each delta to its count (a row is created at its first report), in key order so that two
    workers lock the same rows in the same order; returns the counts as they now are."""
    items = sorted((k, v) for k, v in deltas.items() if v)
    now: dict[tuple[date, str, str], int] = {}
    if not items:
        return now
    statement = _upsert_statement(session.get_bind().dialect.name)
    for start in range(0, len(items), 500):
        rows = [{"day": day, "dimension": dimension, "value": value, "count": delta}
                for (day, dimension, value), delta in items[start:start + 500]]
        # one statement, its rows sent together (executemany as INSERT ... VALUES (...), (...) RETURNING)
        for day, dimension, value, count in session.connection().execute(statement, rows):
            now[(day, dimension, value)] = count
    return now


@dataclass(frozen=True)
class Counted:
    """What count_report did: the report's day and facts, the facts it added, and the counts of the
    day's series it changed as they now are (what the detector judges, without reading them again)."""

    day: date
    facts: set[Fact]
    added: set[Fact]
    counts: dict[Fact, int] = field(default_factory=dict)


def count_report(session: Session, report_id: int) -> Counted | None:
    """Make the counts hold this report's facts as they are now; returns its day, its facts and the facts
    it added (None for a report not received). Running it again changes nothing.

    The report and its results are read in two statements; the facts and counts are then written in one
    statement on PostgreSQL (`_write_in_one`: each statement is a round trip to the server) and in a few on
    SQLite (`_write_each`: no round trips there)."""
    gathered = gather(session, [report_id]).get(report_id)
    day, found = gathered if gathered else (None, set())
    write = _write_in_one if session.get_bind().dialect.name == "postgresql" else _write_each
    now = write(session, report_id, day, found)
    if day is None:
        return None
    # every wanted fact is on `day` and a count changes only by a fact added or removed: a wanted fact's
    # count on its day changed exactly when the fact was added now
    added = {(d, v) for on, d, v in now if on == day and (d, v) in found}
    return Counted(day, found, added, {(d, v): count for (on, d, v), count in now.items() if on == day})


def _write_each(session: Session, report_id: int, day: date | None,
                found: set[Fact]) -> dict[tuple[date, str, str], int]:
    """The facts stored for the report compared with `found` in Python; the difference deleted, inserted
    and added to the counts (four statements at most). Returns the counts it changed, as they now are."""
    stored = {(on, dimension, value) for on, dimension, value in session.execute(
        select(TrendFactRow.day, TrendFactRow.dimension, TrendFactRow.value)
        .where(TrendFactRow.report_id == report_id))}
    wanted = {(day, d, v) for d, v in found} if day is not None else set()
    removed, added = stored - wanted, wanted - stored
    if removed:
        session.execute(delete(TrendFactRow).where(TrendFactRow.report_id == report_id, or_(*(
            and_(TrendFactRow.dimension == dimension, TrendFactRow.value == value)
            for _day, dimension, value in sorted(removed)))))
    if added:
        session.execute(insert(TrendFactRow), [
            {"report_id": report_id, "day": on, "dimension": dimension, "value": value}
            for on, dimension, value in sorted(added)])
    deltas: Counter[tuple[date, str, str]] = Counter()
    for key in removed:
        deltas[key] -= 1
    for key in added:
        deltas[key] += 1
    return _upsert(session, deltas)


# PostgreSQL: the report's wanted facts in, its facts and counts made to match in one statement (one round
# trip), whatever was stored before. The facts stored before are read in the statement's snapshot (`old`);
# facts no longer wanted are deleted, wanted ones inserted (or moved to the report's day if it changed);
# each count moves by the facts actually deleted, inserted or moved (a second run finds nothing to change,
# so it changes no count), in key order so that concurrent workers lock count rows in the same order.
_WRITE_IN_ONE = text("""
WITH wanted AS (
    SELECT CAST(:day AS date) AS day, w.dimension, w.value
    FROM unnest(CAST(:dimensions AS text[]), CAST(:values AS text[])) AS w (dimension, value)
), old AS MATERIALIZED (  -- by the report's key, not joined in by dimension and value
    SELECT day, dimension, value FROM trend_facts WHERE report_id = CAST(:report AS bigint)
), removed AS (
    DELETE FROM trend_facts AS f
    WHERE f.report_id = CAST(:report AS bigint)
      AND NOT EXISTS (SELECT 1 FROM wanted AS w WHERE w.dimension = f.dimension AND w.value = f.value)
    RETURNING f.day, f.dimension, f.value
), written AS (
    INSERT INTO trend_facts (report_id, day, dimension, value)
    SELECT CAST(:report AS bigint), day, dimension, value FROM wanted ORDER BY dimension, value
    ON CONFLICT (report_id, dimension, value) DO UPDATE SET day = excluded.day
    WHERE trend_facts.day <> excluded.day
    RETURNING trend_facts.day, trend_facts.dimension, trend_facts.value
), deltas AS (
    SELECT day, dimension, value, sum(delta) AS delta FROM (
        SELECT day, dimension, value, -1 AS delta FROM removed
        UNION ALL
        SELECT old.day, old.dimension, old.value, -1 FROM written JOIN old USING (dimension, value)
        UNION ALL
        SELECT day, dimension, value, 1 FROM written
    ) AS changes
    GROUP BY day, dimension, value
    HAVING sum(delta) <> 0
)
INSERT INTO trend_counts (day, dimension, value, count)
SELECT day, dimension, value, delta FROM deltas ORDER BY day, dimension, value
ON CONFLICT (day, dimension, value) DO UPDATE SET count = trend_counts.count + excluded.count
RETURNING day, dimension, value, count
""")


def _write_in_one(session: Session, report_id: int, day: date | None,
                  found: set[Fact]) -> dict[tuple[date, str, str], int]:
    """`_WRITE_IN_ONE`: the facts and counts written in one statement. Returns the counts it changed, as
    they now are."""
    ordered = sorted(found)
    rows = run_text(session, _WRITE_IN_ONE, {"report": report_id, "day": day,
                                             "dimensions": [d for d, _ in ordered], "values": [v for _, v in ordered]})
    return {(on, dimension, value): count for on, dimension, value, count in rows}


def rebuild(instance: Instance, *, progress: Callable[[int], None] | None = None,
            report_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Count every received report again from scratch (or only `report_ids`, recounted one by one).
    Stop the pipeline's workers first: a report counted by a worker during a full rebuild is counted twice."""
    if report_ids is not None:
        changed = 0
        for report_id in report_ids:
            with instance.db.transaction() as session:
                result = count_report(session, report_id)
                changed += bool(result and result.added)
            if progress:
                progress(1)
        return {"reports": changed}
    cache_of(instance).clear()
    with instance.db.transaction() as session:
        if instance.db.dialect == "postgresql":
            # at once, leaving no dead rows to vacuum (a DELETE of 470,400 facts took about 1.3 s more)
            session.execute(text("TRUNCATE trend_counts, trend_facts"))
        else:
            session.execute(delete(TrendCountRow))
            session.execute(delete(TrendFactRow))
    totals: Counter[tuple[date, str, str]] = Counter()
    last, reports, fact_count = 0, 0, 0
    # On PostgreSQL a batch's facts are written on a second connection while the next batch is read and
    # computed: the server's work on them (two indexes, a foreign key checked per fact) took about as long
    # as reading and computing, and was waited for. One batch at most is in flight.
    overlap = instance.db.dialect == "postgresql"
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trends-rebuild") if overlap else nullcontext() as writer:
        pending: Future[None] | None = None
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
            if pending is not None:
                pending.result()  # the previous batch written (or its error raised here)
                pending = None
            if writer is None:
                _insert_facts(instance, rows)
            else:
                pending = writer.submit(_insert_facts, instance, rows)
            reports += len(gathered)
            fact_count += len(rows)
            last = ids[-1]
            if progress:
                progress(len(ids))
        if pending is not None:
            pending.result()
    with instance.db.transaction() as session:  # the table was emptied above: plain inserts, no upserts
        insert_many(session, TrendCountRow.__table__, [
            {"day": day, "dimension": dimension, "value": value, "count": count}
            for (day, dimension, value), count in sorted(totals.items()) if count])
    return {"reports": reports, "facts": fact_count, "counts": len(totals)}


def _insert_facts(instance: Instance, rows: list[dict[str, Any]]) -> None:
    if rows:
        with instance.db.transaction() as session:
            insert_many(session, TrendFactRow.__table__, rows)


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


__all__ = ["Counted", "age_band", "count_report", "counted_days", "gather", "rebuild", "recently_updated"]
