"""Triage and review: priority on each report, analysts' decisions, notes, dismissed links.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 22:12:47.660132
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_report_notes_author_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_notes_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_notes'))
    )
    with op.batch_alter_table('report_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_notes_report_id'), ['report_id'], unique=False)

    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_classification', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('reviewed_annotations', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))

    with op.batch_alter_table('report_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dismissed_by', sa.String(length=200), nullable=True))

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('priority_rank', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('priority_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('priority_reasons', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('assigned_to', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_incident_type', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('reviewed_annotations', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('escalated_to_supervisor_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalation_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('ready_for_referral_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_reports_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_index('ix_reports_state_priority_rank', ['state', 'priority_rank'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reports_assigned_to_users'), 'users', ['assigned_to'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reports_assigned_to_users'), type_='foreignkey')
        batch_op.drop_index('ix_reports_state_priority_rank')
        batch_op.drop_index(batch_op.f('ix_reports_assigned_to'))
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('ready_for_referral_at')
        batch_op.drop_column('escalation_note')
        batch_op.drop_column('escalated_to_supervisor_at')
        batch_op.drop_column('reviewed_annotations')
        batch_op.drop_column('reviewed_incident_type')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('assigned_to')
        batch_op.drop_column('scored_at')
        batch_op.drop_column('priority_reasons')
        batch_op.drop_column('priority_score')
        batch_op.drop_column('priority_rank')
        batch_op.drop_column('priority')

    with op.batch_alter_table('report_links', schema=None) as batch_op:
        batch_op.drop_column('dismissed_by')
        batch_op.drop_column('dismissed_at')

    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.drop_column('reviewed_annotations')
        batch_op.drop_column('reviewed_classification')

    with op.batch_alter_table('report_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_notes_report_id'))

    op.drop_table('report_notes')
