"""Victim identification: the series registry rebuilt with a number, a status and the identifying
agency (the old identified flag becomes a status), aliases, pseudonymous victims, a series' history,
notifications to identifying agencies, the victim-identification queue, "child identified"
confirmations, and clusters of unidentified material across reports.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    bind = op.get_bind()
    old = list(bind.execute(sa.text("SELECT name, identified, notes, updated_at, updated_by FROM series")).mappings())
    op.drop_table('series')
    op.create_table('series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('identified_by_agency_id', sa.Integer(), nullable=True),
    sa.Column('identified_at', WHEN, nullable=True),
    sa.Column('case_reference', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('updated_at', WHEN, nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('last_seen_at', WHEN, nullable=True),
    sa.Column('report_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['identified_by_agency_id'], ['agencies.id'],
                            name=op.f('fk_series_identified_by_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series')),
    sa.UniqueConstraint('name', name=op.f('uq_series_name'))
    )
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_last_seen_at'), ['last_seen_at'], unique=False)
    series = sa.table('series', sa.column('name'), sa.column('status'), sa.column('notes'), sa.column('created_at'),
                      sa.column('updated_at'), sa.column('updated_by'), sa.column('identified_at'),
                      sa.column('report_count'))
    if old:
        op.bulk_insert(series, [{
            "name": row["name"], "status": "identified" if row["identified"] else "unidentified",
            "notes": row["notes"] or "", "created_at": row["updated_at"], "updated_at": row["updated_at"],
            "updated_by": row["updated_by"], "identified_at": row["updated_at"] if row["identified"] else None,
            "report_count": 0,
        } for row in old])

    op.create_table('series_aliases',
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('added_at', WHEN, nullable=False),
    sa.Column('added_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_aliases_series_id_series'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('alias', name=op.f('pk_series_aliases'))
    )
    with op.batch_alter_table('series_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_aliases_series_id'), ['series_id'], unique=False)

    op.create_table('series_victims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=40), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('age_band', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('added_at', WHEN, nullable=False),
    sa.Column('added_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_victims_series_id_series'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_victims'))
    )
    with op.batch_alter_table('series_victims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_victims_series_id'), ['series_id'], unique=False)

    op.create_table('series_events',
    sa.Column('id', BIG, autoincrement=True, nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('at', WHEN, nullable=False),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_events_series_id_series'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_events'))
    )
    with op.batch_alter_table('series_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_events_series_id'), ['series_id'], unique=False)

    op.create_table('series_notifications',
    sa.Column('id', BIG, autoincrement=True, nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('report_id', BIG, nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('read_at', WHEN, nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_series_notifications_agency_id_agencies')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_series_notifications_report_id_reports'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_notifications_series_id_series'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_notifications')),
    sa.UniqueConstraint('series_id', 'report_id', name=op.f('uq_series_notifications_series_id_report_id'))
    )
    with op.batch_alter_table('series_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_notifications_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_notifications_report_id'), ['report_id'], unique=False)

    op.create_table('victim_id_queue',
    sa.Column('id', BIG, autoincrement=True, nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('report_id', BIG, nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('reviewed_at', WHEN, nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_victim_id_queue_report_id_reports'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_victim_id_queue_series_id_series'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_id_queue')),
    sa.UniqueConstraint('series_id', 'report_id', name=op.f('uq_victim_id_queue_series_id_report_id'))
    )
    with op.batch_alter_table('victim_id_queue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_id_queue_report_id'), ['report_id'], unique=False)
        batch_op.create_index('ix_victim_id_queue_reviewed_at_created_at', ['reviewed_at', 'created_at'],
                              unique=False)

    op.create_table('series_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', BIG, nullable=False),
    sa.Column('report_id', BIG, nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decided_at', WHEN, nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_series_confirmations_agency_id_agencies')),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_confirmations_series_id_series'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_confirmations')),
    sa.UniqueConstraint('series_id', 'referral_id', name=op.f('uq_series_confirmations_series_id_referral_id'))
    )
    with op.batch_alter_table('series_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_confirmations_series_id'), ['series_id'], unique=False)

    op.create_table('media_clusters',
    sa.Column('id', BIG, autoincrement=True, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('providers', sa.Integer(), nullable=False),
    sa.Column('countries', sa.Integer(), nullable=False),
    sa.Column('youngest', sa.String(length=20), nullable=True),
    sa.Column('first_seen', WHEN, nullable=True),
    sa.Column('last_seen', WHEN, nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('updated_at', WHEN, nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', WHEN, nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_media_clusters_series_id_series'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_clusters'))
    )
    with op.batch_alter_table('media_clusters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_clusters_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_clusters_score'), ['score'], unique=False)

    op.create_table('cluster_files',
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('cluster_id', BIG, nullable=False),
    sa.Column('report_id', BIG, nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('distance', sa.Integer(), nullable=False),
    sa.Column('joined_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['media_clusters.id'], name=op.f('fk_cluster_files_cluster_id_media_clusters'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['report_files.id'], name=op.f('fk_cluster_files_file_id_report_files'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_cluster_files_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', name=op.f('pk_cluster_files'))
    )
    with op.batch_alter_table('cluster_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cluster_files_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cluster_files_report_id'), ['report_id'], unique=False)

    with op.batch_alter_table('file_matches', schema=None) as batch_op:
        batch_op.create_index('ix_file_matches_series_report_id', ['series', 'report_id'], unique=False)
    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_files_hashed_at'), ['hashed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_files_hashed_at'))
    with op.batch_alter_table('file_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_file_matches_series_report_id')
    for table in ('cluster_files', 'media_clusters', 'series_confirmations', 'victim_id_queue',
                  'series_notifications', 'series_events', 'series_victims', 'series_aliases'):
        op.drop_table(table)
    bind = op.get_bind()
    rows = list(bind.execute(sa.text("SELECT name, status, notes, updated_at, updated_by FROM series")).mappings())
    op.drop_table('series')
    op.create_table('series',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('identified', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('updated_at', WHEN, nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_series'))
    )
    old = sa.table('series', sa.column('name'), sa.column('identified'), sa.column('notes'), sa.column('updated_at'),
                   sa.column('updated_by'))
    if rows:
        op.bulk_insert(old, [{"name": r["name"], "identified": r["status"] == "identified", "notes": r["notes"],
                              "updated_at": r["updated_at"], "updated_by": r["updated_by"]} for r in rows])
