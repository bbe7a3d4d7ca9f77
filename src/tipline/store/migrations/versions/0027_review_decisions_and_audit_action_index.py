"""Supervisors' figures per analyst: `review_decisions` (who held each report decided, from their claim
to the decision), filled from the audit trail's state changes for the reports decided before; and one
index on audit events by kind and time (reveals per analyst over a day, the triage weights' history),
which replaces the index on the kind alone.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_DECIDED = ('referred', 'informational', 'closed_no_action')
_BATCH = 1000


def upgrade() -> None:
    op.create_table('review_decisions',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('report_id', _BIG_ID, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_review_decisions_report_id_reports')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_review_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decisions'))
    )
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_review_decisions_decided_at', ['decided_at', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_decisions_report_id'), ['report_id'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action_at', ['action', 'at'], unique=False)
        batch_op.drop_index('ix_audit_events_action')
    _fill_from_the_audit_trail(op.get_bind())


def _utc(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _fill_from_the_audit_trail(connection: sa.Connection) -> None:
    """Each decision already made, from the state changes in the order they were written: the claim
    (by the claimer, or "claimed by NAME" when a supervisor assigned it) and the decision after it."""
    events = sa.table('audit_events', sa.column('seq', sa.BigInteger()), sa.column('at', sa.DateTime(timezone=True)),
                      sa.column('actor_type', sa.String()), sa.column('actor_id', sa.String()),
                      sa.column('action', sa.String()), sa.column('report_id', sa.BigInteger()),
                      sa.column('details', sa.JSON()))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('username', sa.String()))
    reports = sa.table('reports', sa.column('id', sa.BigInteger()))
    decisions = sa.table('review_decisions', sa.column('report_id', sa.BigInteger()),
                         sa.column('user_id', sa.Integer()), sa.column('claimed_at', sa.DateTime(timezone=True)),
                         sa.column('decided_at', sa.DateTime(timezone=True)), sa.column('outcome', sa.String()))
    user_ids = {name: user_id for user_id, name in connection.execute(sa.select(users.c.id, users.c.username))}
    known_users = set(user_ids.values())
    sqlite = connection.dialect.name == 'sqlite'

    def person(actor_type: str, actor_id: str | None) -> int | None:
        if actor_type == 'user' and actor_id and actor_id.isdigit() and int(actor_id) in known_users:
            return int(actor_id)
        return None

    claims: dict[int, tuple[datetime, int | None]] = {}
    found: list[dict[str, Any]] = []
    rows = connection.execute(
        sa.select(events.c.at, events.c.actor_type, events.c.actor_id, events.c.report_id, events.c.details)
        .where(events.c.action == 'report.state_changed').order_by(events.c.seq)
        .execution_options(yield_per=_BATCH))
    for at, actor_type, actor_id, report_id, details in rows:
        if report_id is None:
            continue
        if isinstance(details, str):
            details = json.loads(details)
        source, target, reason = details.get('from'), details.get('to'), str(details.get('reason') or '')
        if target == 'in_review':
            holder = user_ids.get(reason[len('claimed by '):]) if reason.startswith('claimed by ') else None
            claims[report_id] = (_utc(at), holder or person(actor_type, actor_id))
        elif source == 'in_review':
            claimed = claims.pop(report_id, None)
            if target in _DECIDED:
                holder = claimed[1] if claimed and claimed[1] is not None else person(actor_type, actor_id)
                decided = _utc(at)
                found.append({'report_id': report_id, 'user_id': holder,
                              'claimed_at': (claimed[0] if claimed else None), 'decided_at': decided,
                              'outcome': target})
    if sqlite:  # SQLite keeps UTC times without their zone (tipline.store.types.UTCDateTime)
        for row in found:
            row['decided_at'] = row['decided_at'].replace(tzinfo=None)
            if row['claimed_at'] is not None:
                row['claimed_at'] = row['claimed_at'].replace(tzinfo=None)
    for start in range(0, len(found), _BATCH):
        batch = found[start:start + _BATCH]
        # a purged report keeps its audit events but has no row to point at
        kept = set(connection.execute(sa.select(reports.c.id).where(
            reports.c.id.in_({row['report_id'] for row in batch}))).scalars())
        present = [row for row in batch if row["report_id"] in kept]
        if present:
            connection.execute(sa.insert(decisions), present)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action', ['action'], unique=False)
        batch_op.drop_index('ix_audit_events_action_at')
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_decisions_report_id'))
        batch_op.drop_index('ix_review_decisions_decided_at')
    op.drop_table('review_decisions')
