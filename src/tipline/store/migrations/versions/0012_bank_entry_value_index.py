"""An index to ask whether a bank already holds a hash, so that importing a list again adds nothing twice.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 01:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_bank_entries_value', 'bank_entries',
                    ['bank_id', 'signal_type', sa.text('substr(value, 1, 64)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_bank_entries_value', table_name='bank_entries')
