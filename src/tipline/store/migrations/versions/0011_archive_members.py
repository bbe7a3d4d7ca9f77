"""Files found inside a report's ZIP attachments: each member is a file of the report, linked to the
archive it came from and its path there; an archive records when it was unpacked.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_files') as batch:
        batch.add_column(sa.Column('parent_file_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('archive_path', sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column('unpacked_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_index('ix_report_files_parent_file_id', ['parent_file_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_files') as batch:
        batch.drop_index('ix_report_files_parent_file_id')
        batch.drop_column('unpacked_at')
        batch.drop_column('archive_path')
        batch.drop_column('parent_file_id')
