"""Idempotency keys for report submission; on SQLite, report content re-written with its text as
written (not as \\u escapes), so that search finds "Zoë" in reports stored before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

BATCH = 500


def _as_written(value: Any) -> str:
    """tipline.store.types.json_text as of this revision (a migration must not change later)."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value)
    return text


def rewrite_sqlite_content(connection: sa.Connection) -> int:
    """Re-serialise every report whose stored content holds a \\u escape, BATCH rows at a time in id
    order (memory stays bounded whatever the number of reports). Returns how many changed."""
    changed = 0
    after = 0
    select = sa.text("SELECT id, content FROM reports WHERE id > :after AND instr(content, '\\u') > 0 "
                     "ORDER BY id LIMIT :batch")
    write = sa.text("UPDATE reports SET content = :content WHERE id = :id")
    while True:
        rows = connection.execute(select, {"after": after, "batch": BATCH}).all()
        if not rows:
            return changed
        updates = []
        for report_id, stored in rows:
            rewritten = _as_written(json.loads(stored))
            if rewritten != stored:
                updates.append({"id": report_id, "content": rewritten})
        if updates:
            connection.execute(write, updates)
            changed += len(updates)
        after = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('api_account_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('answer', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['api_account_id'], ['api_accounts.id'],
                                name=op.f('fk_idempotency_keys_api_account_id_api_accounts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_idempotency_keys_report_id_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
        sa.UniqueConstraint('api_account_id', 'endpoint', 'key',
                            name=op.f('uq_idempotency_keys_api_account_id_endpoint_key')),
    )
    op.create_index(op.f('ix_idempotency_keys_expires_at'), 'idempotency_keys', ['expires_at'], unique=False)
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        rewrite_sqlite_content(connection)


def downgrade() -> None:
    op.drop_index(op.f('ix_idempotency_keys_expires_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
