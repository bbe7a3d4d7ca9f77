"""Connections: a pooled PostgreSQL connection that died while idle is replaced before use; reads
through `Database.reading` neither wait for SQLite's write lock nor leave a connection changed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from support import make_settings, require_postgres, sample_content

from tipline.domain.audit import Actor
from tipline.domain.report import ReportContent, ReportSource
from tipline.instance import Instance
from tipline.store import db
from tipline.store.tables import ReportRow


def _report(instance: Instance) -> int:
    with instance.db.transaction() as session:
        return instance.reports.create(session, ReportContent.model_validate(sample_content()),
                                       ReportSource.ESP_JSON, Actor.system("test")).id


@pytest.mark.postgres
def test_an_idle_connection_that_died_is_replaced_before_use(postgres_database: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    require_postgres()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # any idle time at all counts
    engine = db.make_engine(make_settings(tmp_path, postgres_database), pool_size=1, max_overflow=0)
    admin = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:  # the server ends the pooled connection while it is idle
            assert connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": first}).scalar_one()
        with engine.connect() as connection:
            second = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_checked_each_time(postgres_database: str, tmp_path: Path) -> None:
    require_postgres()
    engine = db.make_engine(make_settings(tmp_path, postgres_database), pool_size=1, max_overflow=0)
    statements: list[str] = []
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        original = engine.dialect.do_ping

        def counting_ping(dbapi_connection: object) -> bool:
            statements.append("ping")
            return original(dbapi_connection)

        engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
        for _ in range(5):
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert statements == []
    finally:
        engine.dispose()


def test_reads_do_not_wait_for_sqlites_write_lock(sqlite_instance: Instance) -> None:
    report_id = _report(sqlite_instance)
    writer_holds_lock, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with sqlite_instance.db.transaction() as session:
            session.execute(text("UPDATE reports SET version = version + 1"))
            writer_holds_lock.set()
            release.wait(10)

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    try:
        assert writer_holds_lock.wait(10)
        with sqlite_instance.db.reading() as connection:
            state = connection.execute(select(ReportRow.state).where(ReportRow.id == report_id)).scalar_one()
        # read while the writer still holds the lock (a read that waited for it would have outlasted it)
        assert state == "received" and writer.is_alive()
    finally:
        release.set()
        writer.join()


def test_a_connection_used_for_reading_goes_back_to_transactions(instance: Instance) -> None:
    """After `reading` (autocommit on PostgreSQL), the pooled connection rolls back again."""
    report_id = _report(instance)
    for _ in range(3):  # more than the pool hands out in a row, on either backend
        with instance.db.reading() as connection:
            connection.execute(select(ReportRow.id)).all()
    with pytest.raises(RuntimeError, match="undo"):
        with instance.db.transaction() as session:
            session.execute(text("UPDATE reports SET platform = 'changed' WHERE id = :id"), {"id": report_id})
            raise RuntimeError("undo")
    with instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).platform == "Chirp"
