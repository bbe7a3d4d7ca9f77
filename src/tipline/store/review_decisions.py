"""Review decisions: each time a report leaves review with an outcome (referred, informational, closed
with no action), who held it, when they had claimed it and when it was decided. Written by the one
place states change (`ReportStore.transition`), so supervisors' throughput figures per analyst are read
from a few narrow rows instead of the audit trail's documents. Holds no report content."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, and_, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tipline.domain.audit import Actor, ActorType
from tipline.store.tables import Base, ReportRow
from tipline.store.types import BigId
from tipline.triage.workload import LONG_DAYS, SHORT_DAYS, Tally


class ReviewDecisionRow(Base):
    """A report decided: its holder at that moment (None when nobody held it), the claim and the decision."""

    __tablename__ = "review_decisions"
    __table_args__ = (Index("ix_review_decisions_decided_at", "decided_at", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, ForeignKey("reports.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(32))


def record_decision(session: Session, row: ReportRow, outcome: str, at: datetime, actor: Actor) -> None:
    """Keep that `row` (still in review, its holder and claim time unchanged) was decided as `outcome`:
    the decision counts for the report's holder, or for the person deciding if nobody held it."""
    user_id = row.assigned_to
    if user_id is None and actor.type == ActorType.USER and actor.id is not None and actor.id.isdigit():
        user_id = int(actor.id)
    session.add(ReviewDecisionRow(report_id=row.id, user_id=user_id, claimed_at=row.claimed_at,
                                  decided_at=at, outcome=outcome))


def _span_seconds(dialect: str) -> ColumnElement[Any]:
    """Seconds from claim to decision, computed by the database (no timestamp is read back)."""
    decided, claimed = ReviewDecisionRow.decided_at, ReviewDecisionRow.claimed_at
    if dialect == "postgresql":
        return func.extract("epoch", decided - claimed)
    return (func.julianday(decided) - func.julianday(claimed)) * 86400.0


def decision_tally(session: Session, now: datetime) -> Tally:
    """The last 30 days' decisions per person, counted by the database (by the index on decided_at): what
    `workload.tally` counts from the rows, without turning thousands of rows into timestamps. PostgreSQL also
    takes the medians (percentile_cont); on SQLite the spans come back as seconds and Python takes them."""
    week, month = now - timedelta(days=SHORT_DAYS), now - timedelta(days=LONG_DAYS)
    decided, claimed = ReviewDecisionRow.decided_at, ReviewDecisionRow.claimed_at
    window = (decided >= month, decided <= now, ReviewDecisionRow.user_id.is_not(None))
    dialect = session.get_bind().dialect.name
    span = _span_seconds(dialect)
    timed = and_(claimed.is_not(None), claimed <= decided)
    columns = [ReviewDecisionRow.user_id, func.count(), func.sum(case((decided >= week, 1), else_=0))]
    if dialect == "postgresql":
        columns.append(func.percentile_cont(0.5).within_group(span).filter(timed))
    counts = session.execute(select(*columns).where(*window).group_by(ReviewDecisionRow.user_id)).all()
    medians: dict[int, float] = {}
    if dialect == "postgresql":
        medians = {int(row[0]): max(0.0, float(row[3])) for row in counts if row[3] is not None}
    else:
        spans: dict[int, list[float]] = {}
        for user_id, seconds in session.execute(select(ReviewDecisionRow.user_id, span).where(*window, timed)):
            spans.setdefault(int(user_id), []).append(max(0.0, float(seconds)))
        medians = {user_id: median(values) for user_id, values in spans.items()}
    return Tally({int(row[0]): int(row[2] or 0) for row in counts}, {int(row[0]): int(row[1]) for row in counts}, medians)
