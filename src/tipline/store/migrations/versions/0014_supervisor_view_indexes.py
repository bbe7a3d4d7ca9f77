"""Indexes for the supervisor's view at scale: received-per-day by priority from the index alone,
the escalated reports and the unopened referrals without reading every row.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

ESCALATED = sa.text('escalated_to_supervisor_at IS NOT NULL')
UNOPENED = sa.text('opened_at IS NULL')


def upgrade() -> None:
    op.create_index('ix_reports_received_at_priority', 'reports', ['received_at', 'priority'], unique=False)
    op.drop_index('ix_reports_received_at', table_name='reports')
    op.create_index('ix_reports_escalated', 'reports', ['escalated_to_supervisor_at'], unique=False,
                    postgresql_where=ESCALATED, sqlite_where=ESCALATED)
    op.create_index('ix_referrals_unopened', 'referrals', ['created_at', 'id'], unique=False,
                    postgresql_where=UNOPENED, sqlite_where=UNOPENED)


def downgrade() -> None:
    op.drop_index('ix_referrals_unopened', table_name='referrals', postgresql_where=UNOPENED, sqlite_where=UNOPENED)
    op.drop_index('ix_reports_escalated', table_name='reports', postgresql_where=ESCALATED, sqlite_where=ESCALATED)
    op.create_index('ix_reports_received_at', 'reports', ['received_at'], unique=False)
    op.drop_index('ix_reports_received_at_priority', table_name='reports')
