"""The review queue's index: the queue in its order, only the reports in it, with what its counts read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

IN_QUEUE = sa.text("state IN ('awaiting_review', 'in_review')")


def upgrade() -> None:
    op.create_index('ix_reports_queue', 'reports', ['priority', sa.text('priority_rank DESC'), 'received_at', 'id'],
                    unique=False, postgresql_include=['state', 'incident_type', 'reviewed_incident_type'],
                    postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)


def downgrade() -> None:
    op.drop_index('ix_reports_queue', table_name='reports', postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)
