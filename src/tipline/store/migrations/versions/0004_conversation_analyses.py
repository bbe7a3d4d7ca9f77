"""Enticement detection results: one row per conversation found in a report.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:09:49.944464
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_analyses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('risk', sa.Double(), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=True),
    sa.Column('alert', sa.Boolean(), nullable=False),
    sa.Column('suspected_author', sa.String(length=200), nullable=True),
    sa.Column('first_alert_message', sa.String(length=200), nullable=True),
    sa.Column('suggested_incident_type', sa.String(length=100), nullable=True),
    sa.Column('suggested_annotations', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('analysed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_conversation_analyses_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_analyses'))
    )
    with op.batch_alter_table('conversation_analyses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_analyses_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_analyses_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('conversation_analyses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_analyses_report_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_analyses_level'))

    op.drop_table('conversation_analyses')
