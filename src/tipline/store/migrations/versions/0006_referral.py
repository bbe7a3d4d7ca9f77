"""Referral: the agency directory, each agency user's agency, report jurisdictions, referrals, outcomes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 22:17:22.215093
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('agency_type', sa.String(length=30), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('contact_phone', sa.String(length=64), nullable=True),
    sa.Column('public_key', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agencies_country'), ['country'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('package_name', sa.String(length=200), nullable=False),
    sa.Column('package_size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('package_sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('recipient_key_id', sa.String(length=16), nullable=False),
    sa.Column('signing_key_id', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_by', sa.String(length=200), nullable=True),
    sa.Column('last_downloaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('download_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_referrals_agency_id_agencies')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_referrals_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('report_id', name=op.f('uq_referrals_report_id'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_agency_id_created_at', ['agency_id', 'created_at'], unique=False)

    op.create_table('report_jurisdictions',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resolution', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('suggested_agency_id', sa.Integer(), nullable=True),
    sa.Column('suggestion', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('chosen_agency_id', sa.Integer(), nullable=True),
    sa.Column('chosen_by', sa.String(length=200), nullable=True),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('choice_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['chosen_agency_id'], ['agencies.id'], name=op.f('fk_report_jurisdictions_chosen_agency_id_agencies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_jurisdictions_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suggested_agency_id'], ['agencies.id'], name=op.f('fk_report_jurisdictions_suggested_agency_id_agencies'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_report_jurisdictions'))
    )
    op.create_table('referral_outcomes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('referral_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('referred_to', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_outcomes_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_outcomes'))
    )
    with op.batch_alter_table('referral_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_outcomes_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_outcomes_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_outcomes_report_id'), ['report_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: batch mode would copy and drop `users`, and with foreign keys on,
        # dropping it would delete every row that references a user (sessions, notes).
        op.execute("ALTER TABLE users ADD COLUMN agency_id INTEGER "
                   "CONSTRAINT fk_users_agency_id_agencies REFERENCES agencies (id)")
    else:
        op.add_column('users', sa.Column('agency_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_users_agency_id_agencies'), 'users', 'agencies', ['agency_id'], ['id'])
    op.create_index(op.f('ix_users_agency_id'), 'users', ['agency_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_users_agency_id'), table_name='users')
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN agency_id")  # SQLite 3.35+; no batch copy of `users`
    else:
        op.drop_constraint(op.f('fk_users_agency_id_agencies'), 'users', type_='foreignkey')
        op.drop_column('users', 'agency_id')

    with op.batch_alter_table('referral_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_outcomes_report_id'))
        batch_op.drop_index(batch_op.f('ix_referral_outcomes_referral_id'))
        batch_op.drop_index(batch_op.f('ix_referral_outcomes_outcome'))

    op.drop_table('referral_outcomes')
    op.drop_table('report_jurisdictions')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_agency_id_created_at')

    op.drop_table('referrals')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agencies_country'))

    op.drop_table('agencies')
