"""The review queue's index for the reports someone holds ("only reports I hold"), in the queue's order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 23:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

HELD = sa.text("state IN ('awaiting_review', 'in_review') AND assigned_to IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_reports_queue_held', 'reports',
                    ['assigned_to', 'priority', sa.text('priority_rank DESC'), 'received_at', 'id'],
                    unique=False, postgresql_where=HELD, sqlite_where=HELD)


def downgrade() -> None:
    op.drop_index('ix_reports_queue_held', table_name='reports', postgresql_where=HELD, sqlite_where=HELD)
