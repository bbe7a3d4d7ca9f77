"""What a report's free text says that bears on urgency: threats, deadlines, money demands, meeting
plans and children's ages, each with the sentence quoted (read by the read_free_text stage).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('text_findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_text_findings_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_findings'))
    )
    with op.batch_alter_table('text_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_text_findings_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('text_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_text_findings_report_id'))
    op.drop_table('text_findings')
