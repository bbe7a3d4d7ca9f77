"""Partner hotlines: an agency's signing key (packages and outcome files from a partner hotline are
verified with it), the referral packages imported from partners, and the outcome files partners sent
back (docs/referral.md, "Partner hotlines").

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signing_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_agencies_signing_key'), ['signing_key'], unique=True)
    op.create_table('imported_referrals',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('report_id', _BIG_ID, nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('sender_referral_id', _BIG_ID, nullable=False),
    sa.Column('sender_report_id', _BIG_ID, nullable=False),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('signing_key_id', sa.String(length=16), nullable=False),
    sa.Column('package_sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('referred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=200), nullable=False),
    sa.Column('outcome_files', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['agencies.id'], name=op.f('fk_imported_referrals_partner_id_agencies')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_imported_referrals_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_referrals')),
    sa.UniqueConstraint('partner_id', 'sender_referral_id',
                        name=op.f('uq_imported_referrals_partner_id_sender_referral_id')),
    sa.UniqueConstraint('report_id', name=op.f('uq_imported_referrals_report_id'))
    )
    with op.batch_alter_table('imported_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imported_referrals_partner_id'), ['partner_id'], unique=False)
    op.create_table('partner_outcome_files',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('referral_id', _BIG_ID, nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('outcome_ids', _JSON, nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'],
                            name=op.f('fk_partner_outcome_files_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_outcome_files')),
    sa.UniqueConstraint('file_id', name=op.f('uq_partner_outcome_files_file_id')),
    sa.UniqueConstraint('referral_id', 'sequence', name=op.f('uq_partner_outcome_files_referral_id_sequence'))
    )
    with op.batch_alter_table('partner_outcome_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_outcome_files_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('partner_outcome_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_outcome_files_referral_id'))
    op.drop_table('partner_outcome_files')
    with op.batch_alter_table('imported_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imported_referrals_partner_id'))
    op.drop_table('imported_referrals')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agencies_signing_key'))
        batch_op.drop_column('signing_key')
