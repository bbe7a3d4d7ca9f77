"""Messages between an agency and the hotline on a referral (store/referral_messages.py and referral/messages.py, docs/referral.md).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 10:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('referral_messages',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('referral_id', _BIG_ID, nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_messages_referral_id_referrals'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_messages'))
    )
    with op.batch_alter_table('referral_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_messages_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referral_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_messages_referral_id'))
    op.drop_table('referral_messages')
