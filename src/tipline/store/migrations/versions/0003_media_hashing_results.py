"""Media hashing results: what each file turned out to be, its PDQ, and video frame signatures.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:03:32.170438
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('file_signals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('signal_type', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('quality', sa.Integer(), nullable=True),
    sa.Column('frame_number', sa.Integer(), nullable=True),
    sa.Column('timestamp_ms', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['report_files.id'], name=op.f('fk_file_signals_file_id_report_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_signals'))
    )
    with op.batch_alter_table('file_signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_signals_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_file_signals_report_id'), ['report_id'], unique=False)

    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('declared_type', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pdq', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pdq_quality', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('media_problems', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('hashed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_files_pdq'), ['pdq'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_files_pdq'))
        batch_op.drop_column('hashed_at')
        batch_op.drop_column('media_problems')
        batch_op.drop_column('pdq_quality')
        batch_op.drop_column('pdq')
        batch_op.drop_column('height')
        batch_op.drop_column('width')
        batch_op.drop_column('declared_type')
        batch_op.drop_column('media_kind')

    with op.batch_alter_table('file_signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_signals_report_id'))
        batch_op.drop_index(batch_op.f('ix_file_signals_file_id'))

    op.drop_table('file_signals')
