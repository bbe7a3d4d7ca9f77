"""Audit events are written without locking the chain and chained afterwards by one sealer: each
event gets its number from the database and its own content seal when written, its place in the
chain (chain_seq, prev_hash, hash) when sealed; the head carries the audit key's seal.

Events written before this revision keep their seals and take their number as their place.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

UNSEALED = sa.text('chain_seq IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
    op.execute('UPDATE audit_events SET chain_seq = seq')
    op.create_index('ix_audit_events_chain_seq', 'audit_events', ['chain_seq'], unique=True)
    op.create_index('ix_audit_events_unsealed', 'audit_events', ['seq'], unique=False,
                    postgresql_where=UNSEALED, sqlite_where=UNSEALED)
    if op.get_bind().dialect.name == 'postgresql':
        # The database numbers events as they are inserted (SQLite's INTEGER PRIMARY KEY does so already).
        op.execute('CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq')
        op.execute("SELECT setval('audit_events_seq_seq', COALESCE(MAX(seq), 0) + 1, false) FROM audit_events")
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq')")
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Only a chain whose events are all sealed can go back: the older code needs prev_hash and hash.
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('seal')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT')
        op.execute('DROP SEQUENCE audit_events_seq_seq')
    op.drop_index('ix_audit_events_unsealed', table_name='audit_events', postgresql_where=UNSEALED,
                  sqlite_where=UNSEALED)
    op.drop_index('ix_audit_events_chain_seq', table_name='audit_events')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('chain_seq')
        batch_op.drop_column('mac')
