"""The review queue's index by incident type; the queue index keeps only the state beside its keys.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 00:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

IN_QUEUE = sa.text("state IN ('awaiting_review', 'in_review')")
ORDER: list[str | sa.TextClause] = ['priority', sa.text('priority_rank DESC'), 'received_at', 'id']


def upgrade() -> None:
    op.drop_index('ix_reports_queue', table_name='reports', postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)
    op.create_index('ix_reports_queue', 'reports', ORDER, unique=False, postgresql_include=['state'],
                    postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)
    op.create_index('ix_reports_queue_type', 'reports',
                    [sa.text('coalesce(reviewed_incident_type, incident_type)'), *ORDER], unique=False,
                    postgresql_include=['incident_type', 'reviewed_incident_type'],
                    postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)


def downgrade() -> None:
    op.drop_index('ix_reports_queue_type', table_name='reports', postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)
    op.drop_index('ix_reports_queue', table_name='reports', postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)
    op.create_index('ix_reports_queue', 'reports', ORDER, unique=False,
                    postgresql_include=['state', 'incident_type', 'reviewed_incident_type'],
                    postgresql_where=IN_QUEUE, sqlite_where=IN_QUEUE)
