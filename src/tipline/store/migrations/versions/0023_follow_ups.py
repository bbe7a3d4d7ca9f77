"""Follow-up after a public report: a reporter's request to be contacted (channel, detail, safe
times), what advocates did about it (contacts, referrals, notes), and the hotline's directory of
support services by country and situation.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('follow_ups',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('report_id', BIG_ID, nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('safe_times', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('situation', sa.String(length=30), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_follow_ups_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_report_id'), ['report_id'], unique=False)
        batch_op.create_index('ix_follow_ups_state_due_at', ['state', 'due_at'], unique=False)
    op.create_table('follow_up_actions',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('follow_up_id', BIG_ID, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('service', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_follow_up_actions_follow_up_id_follow_ups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_actions'))
    )
    with op.batch_alter_table('follow_up_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_actions_follow_up_id'), ['follow_up_id'], unique=False)
    op.create_table('support_resources',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('situations', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('hours', sa.String(length=200), nullable=True),
    sa.Column('languages', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_resources'))
    )
    with op.batch_alter_table('support_resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_resources_country'), ['country'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('support_resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_resources_country'))
    op.drop_table('support_resources')
    with op.batch_alter_table('follow_up_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_actions_follow_up_id'))
    op.drop_table('follow_up_actions')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_state_due_at')
        batch_op.drop_index(batch_op.f('ix_follow_ups_report_id'))
    op.drop_table('follow_ups')
