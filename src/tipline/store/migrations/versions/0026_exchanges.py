"""Hash-list exchanges: configured sources of banks (credentials sealed with the instance's exchanges
key), each fetched entry's provenance, feedback and quarantine, and the bad input a fetch met
(docs/exchanges.md); file matches indexed by entry (an entry's matches are counted for quarantine).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 09:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('exchanges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('api', sa.String(length=40), nullable=False),
    sa.Column('config', _JSON, nullable=False),
    sa.Column('sealed_credentials', sa.Text(), nullable=True),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('checkpoint', _JSON, nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('counts', _JSON, nullable=False),
    sa.Column('last_fetch_started_at', _TS, nullable=True),
    sa.Column('last_fetch_finished_at', _TS, nullable=True),
    sa.Column('last_success_at', _TS, nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], name=op.f('fk_exchanges_bank_id_banks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchanges')),
    sa.UniqueConstraint('name', name=op.f('uq_exchanges_name'))
    )
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchanges_bank_id'), ['bank_id'], unique=False)
    op.create_table('exchange_entries',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('remote_id', sa.String(length=200), nullable=False),
    sa.Column('signal_type', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('bank_entry_id', _BIG_ID, nullable=False),
    sa.Column('tags', _JSON, nullable=False),
    sa.Column('first_seen', _TS, nullable=False),
    sa.Column('last_seen', _TS, nullable=False),
    sa.Column('seen_generation', sa.Integer(), nullable=False),
    sa.Column('deleted_at', _TS, nullable=True),
    sa.Column('feedback', sa.String(length=20), nullable=True),
    sa.Column('feedback_reason', sa.Text(), nullable=True),
    sa.Column('feedback_by', sa.String(length=200), nullable=True),
    sa.Column('feedback_at', _TS, nullable=True),
    sa.Column('feedback_sent', sa.String(length=20), nullable=True),
    sa.Column('feedback_error', sa.Text(), nullable=True),
    sa.Column('hold', sa.String(length=20), nullable=True),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('hold_at', _TS, nullable=True),
    sa.Column('released_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['bank_entry_id'], ['bank_entries.id'],
                            name=op.f('fk_exchange_entries_bank_entry_id_bank_entries')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_exchange_entries_exchange_id_exchanges'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_entries')),
    sa.UniqueConstraint('exchange_id', 'remote_id', 'signal_type',
                        name=op.f('uq_exchange_entries_exchange_id_remote_id_signal_type'))
    )
    with op.batch_alter_table('exchange_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_entries_bank_entry_id'), ['bank_entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_entries_hold'), ['hold'], unique=False)
    op.create_table('exchange_problems',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('at', _TS, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('remote_id', sa.String(length=200), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'],
                            name=op.f('fk_exchange_problems_exchange_id_exchanges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_problems'))
    )
    with op.batch_alter_table('exchange_problems', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_problems_exchange_at', ['exchange_id', 'at'], unique=False)
    with op.batch_alter_table('file_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_matches_entry_id'), ['entry_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('file_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_matches_entry_id'))
    op.drop_table('exchange_problems')
    op.drop_table('exchange_entries')
    op.drop_table('exchanges')
