"""Trends: each report's counted facts, the daily counts by dimension, and emerging-threat alerts
(kept current by the count_trends stage; rebuilt by `tipline trends rebuild`).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('trend_facts',
    sa.Column('report_id', BIG_ID, nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_trend_facts_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'dimension', 'value', name=op.f('pk_trend_facts'))
    )
    op.create_index('ix_trend_facts_dimension_value_day', 'trend_facts', ['dimension', 'value', 'day'], unique=False)
    op.create_table('trend_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'dimension', 'value', name=op.f('pk_trend_counts'))
    )
    op.create_index('ix_trend_counts_dimension_value_day', 'trend_counts', ['dimension', 'value', 'day'], unique=False)
    op.create_table('trend_alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=1024), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('observed', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Double(), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('report_ids', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trend_alerts'))
    )
    op.create_index('ix_trend_alerts_key', 'trend_alerts', ['kind', 'dimension', 'value', 'last_day'], unique=False)
    op.create_index('ix_trend_alerts_status', 'trend_alerts', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_trend_alerts_status', table_name='trend_alerts')
    op.drop_index('ix_trend_alerts_key', table_name='trend_alerts')
    op.drop_table('trend_alerts')
    op.drop_index('ix_trend_counts_dimension_value_day', table_name='trend_counts')
    op.drop_table('trend_counts')
    op.drop_index('ix_trend_facts_dimension_value_day', table_name='trend_facts')
    op.drop_table('trend_facts')
