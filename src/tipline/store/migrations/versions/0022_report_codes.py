"""The public form's own records: the secret code a reporter receives with their report number (kept
only as a keyed hash), with which they may add to the report later and see whether it has been read;
and files held, encrypted, across a refused submission so the reporter need not choose them again.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_codes',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('additions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_codes_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_report_codes'))
    )
    op.create_table('held_uploads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('blob_address', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=1024), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=False),
    sa.Column('sha1', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_uploads'))
    )
    with op.batch_alter_table('held_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_uploads_token_hash'), ['token_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_uploads_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('held_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_uploads_expires_at'))
        batch_op.drop_index(batch_op.f('ix_held_uploads_token_hash'))
    op.drop_table('held_uploads')
    op.drop_table('report_codes')
