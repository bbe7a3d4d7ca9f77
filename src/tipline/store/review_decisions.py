"""Review decisions: each time a report leaves review with an outcome (referred, informational, closed
with no action), who held it, when they had claimed it and when it was decided. Written by the one
place states change (`ReportStore.transition`), so supervisors' throughput figures per analyst are read
from a few narrow rows instead of the audit trail's documents. Holds no report content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tipline.domain.audit import Actor, ActorType
from tipline.store.tables import Base, ReportRow
from tipline.store.types import BigId


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


@dataclass(frozen=True)
class Decision:
    user_id: int | None
    claimed_at: datetime | None
    decided_at: datetime


def record_decision(session: Session, row: ReportRow, outcome: str, at: datetime, actor: Actor) -> None:
    """Keep that `row` (still in review, its holder and claim time unchanged) was decided as `outcome`:
    the decision counts for the report's holder, or for the person deciding if nobody held it."""
    user_id = row.assigned_to
    if user_id is None and actor.type == ActorType.USER and actor.id is not None and actor.id.isdigit():
        user_id = int(actor.id)
    session.add(ReviewDecisionRow(report_id=row.id, user_id=user_id, claimed_at=row.claimed_at,
                                  decided_at=at, outcome=outcome))


def decisions_since(session: Session, since: datetime) -> list[Decision]:
    """Every decision from `since` on (by the index on decided_at: a range of narrow rows)."""
    rows = session.execute(
        select(ReviewDecisionRow.user_id, ReviewDecisionRow.claimed_at, ReviewDecisionRow.decided_at)
        .where(ReviewDecisionRow.decided_at >= since)
    ).all()
    return [Decision(user_id, claimed_at, decided_at) for user_id, claimed_at, decided_at in rows]
