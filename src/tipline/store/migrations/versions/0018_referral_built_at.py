"""Referrals are reserved before their package is built and completed after: `built_at` is empty
while the package is being written (outside any transaction), so no lock is held through the build.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('referrals', sa.Column('built_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE referrals SET built_at = created_at")  # every referral until now was built at once


def downgrade() -> None:
    op.execute("DELETE FROM referrals WHERE built_at IS NULL")
    with op.batch_alter_table('referrals') as batch:
        batch.drop_column('built_at')
