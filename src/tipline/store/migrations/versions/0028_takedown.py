"""Notice and takedown: the abuse-contact directory, where each URL of a report is hosted, and the
notices sent to hosting providers with their states and re-checks (docs/takedown.md).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 09:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('abuse_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('asns', _JSON, nullable=False),
    sa.Column('domain_suffixes', _JSON, nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('web_form', sa.String(length=500), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.Column('updated_at', _WHEN, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_abuse_contacts')),
    sa.UniqueConstraint('code', name=op.f('uq_abuse_contacts_code'))
    )
    op.create_table('hosting_lookups',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('report_id', _BIG_ID, nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=True),
    sa.Column('addresses', _JSON, nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('asn', _BIG_ID, nullable=True),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('looked_up_at', _WHEN, nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_hosting_lookups_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hosting_lookups')),
    sa.UniqueConstraint('report_id', 'url', name='uq_hosting_lookups_report_id_url')
    )
    with op.batch_alter_table('hosting_lookups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hosting_lookups_report_id'), ['report_id'], unique=False)
    op.create_table('takedown_notices',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('report_id', _BIG_ID, nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=True),
    sa.Column('hosting_country', sa.String(length=2), nullable=True),
    sa.Column('asn', _BIG_ID, nullable=True),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_web_form', sa.String(length=500), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('found_at', _WHEN, nullable=False),
    sa.Column('drafted_at', _WHEN, nullable=False),
    sa.Column('drafted_by', sa.String(length=200), nullable=False),
    sa.Column('sent_at', _WHEN, nullable=True),
    sa.Column('sent_by', sa.String(length=200), nullable=True),
    sa.Column('acknowledged_at', _WHEN, nullable=True),
    sa.Column('removed_at', _WHEN, nullable=True),
    sa.Column('refused_at', _WHEN, nullable=True),
    sa.Column('unreachable_at', _WHEN, nullable=True),
    sa.Column('state_changed_at', _WHEN, nullable=False),
    sa.Column('state_changed_by', sa.String(length=200), nullable=False),
    sa.Column('checks', _JSON, nullable=False),
    sa.Column('last_checked_at', _WHEN, nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('mail_requested_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['abuse_contacts.id'],
                            name=op.f('fk_takedown_notices_contact_id_abuse_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_takedown_notices_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takedown_notices'))
    )
    with op.batch_alter_table('takedown_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takedown_notices_report_id'), ['report_id'], unique=False)
        batch_op.create_index('ix_takedown_notices_state_sent_at', ['state', 'sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('takedown_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_takedown_notices_state_sent_at')
        batch_op.drop_index(batch_op.f('ix_takedown_notices_report_id'))
    op.drop_table('takedown_notices')
    with op.batch_alter_table('hosting_lookups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hosting_lookups_report_id'))
    op.drop_table('hosting_lookups')
    op.drop_table('abuse_contacts')
