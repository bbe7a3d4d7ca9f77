"""Addresses people signed in from (the login throttle never holds them back there), role grants
that a second person approves, and logins waiting for that approval.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('pending_approval', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_table(
        'role_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('previous_role', sa.String(length=20), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('via', sa.String(length=20), nullable=False),
        sa.Column('requested_by', sa.String(length=200), nullable=False),
        sa.Column('requested_by_user_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_role_grants_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_role_grants'),
    )
    op.create_index('ix_role_grants_user_id', 'role_grants', ['user_id'], unique=False)
    op.create_index('ix_role_grants_decided_at', 'role_grants', ['decided_at'], unique=False)
    op.create_index('ix_role_grants_state', 'role_grants', ['state'], unique=False)
    op.create_table(
        'login_known_addresses',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=100), nullable=False),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('username', 'address', name='pk_login_known_addresses'),
    )


def downgrade() -> None:
    op.drop_table('login_known_addresses')
    op.drop_index('ix_role_grants_state', table_name='role_grants')
    op.drop_index('ix_role_grants_decided_at', table_name='role_grants')
    op.drop_index('ix_role_grants_user_id', table_name='role_grants')
    op.drop_table('role_grants')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('pending_approval')
