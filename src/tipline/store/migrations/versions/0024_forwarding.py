"""Forwarding reports to CyberTipline-compatible services: the destinations (credentials sealed with
the instance's forwarding key) and each forwarding with its progress (docs/forwarding.md).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 05:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('forward_destinations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('sealed_password', sa.Text(), nullable=False),
    sa.Column('environment', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forward_destinations')),
    sa.UniqueConstraint('name', name=op.f('uq_forward_destinations_name'))
    )
    op.create_table('forwardings',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('report_id', _BIG_ID, nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('remote_report_id', sa.String(length=64), nullable=True),
    sa.Column('progress', _JSON, nullable=False),
    sa.Column('retracted_remote_ids', _JSON, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['destination_id'], ['forward_destinations.id'],
                            name=op.f('fk_forwardings_destination_id_forward_destinations')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_forwardings_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forwardings'))
    )
    with op.batch_alter_table('forwardings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forwardings_destination_id'), ['destination_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forwardings_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forwardings_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('forwardings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forwardings_state'))
        batch_op.drop_index(batch_op.f('ix_forwardings_report_id'))
        batch_op.drop_index(batch_op.f('ix_forwardings_destination_id'))
    op.drop_table('forwardings')
    op.drop_table('forward_destinations')
