"""Connecting to the database: engines tuned for SQLite (embedded) and PostgreSQL (scale-out), sessions."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from tipline.config import Settings
from tipline.statefiles import secure_state
from tipline.store import metadata as _metadata  # noqa: F401 - every table registered before the first session
from tipline.store.types import fold_case, json_text

# PostgreSQL connections idle in the pool longer than this are checked with a round trip before use.
PING_AFTER_IDLE_SECONDS = 10.0
READ_ONLY = "tipline_read_only"  # execution option: a SQLite transaction that only reads
FOLD_FUNCTION = "tipline_fold"  # SQLite: Unicode case folding (store.types.fold_case)


def make_engine(settings: Settings, *, foreign_keys: bool = True, **overrides: Any) -> Engine:
    """An engine for the configured database. SQLite runs in WAL mode with full fsync and takes
    the write lock at BEGIN, so concurrent writers queue instead of failing half-way.
    `foreign_keys=False` is for schema migrations only: SQLite rebuilds a table by copying it and
    dropping the old one, and with foreign keys on, the drop would cascade to every child row."""
    if settings.is_sqlite:
        secure_state(settings)  # the data directory 0700 and the database file 0600 before SQLite makes them
        engine = create_engine(
            settings.database_url,
            connect_args={"timeout": 30, "check_same_thread": False},
            json_serializer=json_text,
            **overrides,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            dbapi_connection.create_function(FOLD_FUNCTION, 1, fold_case, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 20}
    options.update(overrides)
    engine = create_engine(settings.database_url, **options)
    if not options.get("pool_pre_ping"):
        ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection with a round trip before use only if it sat idle for more than
    `idle_seconds` (SQLAlchemy's pool_pre_ping pings on every checkout, a round trip per request).
    A connection that fails the check is replaced before anyone uses it, so a database restart
    during a quiet spell costs no request. A connection that breaks while in steady use fails its
    request (answered as a server error, nothing acknowledged) and SQLAlchemy then replaces every
    pooled connection opened before the failure."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["tipline_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("tipline_idle_since")
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"a pooled connection failed its check ({error})") from error


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_SQLITE_WRITERS_LOCK = threading.Lock()


def sqlite_writer_lock(engine: Engine) -> Any:
    """The in-process lock that SQLite writers of one database queue on (SQLite allows one writer
    and makes the others sleep and retry 1 to 100 ms at a time; a lock hands the database over as
    soon as it is free). SQLite serves from one process, so the lock covers every writer that takes it.
    Reentrant: a writer's commit seals its audit events (inline sealing) while it still holds it."""
    with _SQLITE_WRITERS_LOCK:
        return _SQLITE_WRITERS.setdefault(engine, threading.RLock())


def forget_loaded(session: Session, model: type[Any], key: Any) -> None:
    """After a Core statement changed a row, drop what the session may hold of it from an earlier
    ORM read, so that the session reads it afresh instead of working from stale values."""
    loaded = session.identity_map.get(session.identity_key(model, key))
    if loaded is not None:
        session.expire(loaded)


class Database:
    """The engine and session factory of one instance."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or not at all."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def writer_queue(self) -> AbstractContextManager[Any]:
        """On SQLite, the in-process queue of writers (`sqlite_writer_lock`); nothing on PostgreSQL."""
        return sqlite_writer_lock(self.engine) if self.dialect == "sqlite" else nullcontext()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a few reads that change nothing and need no common snapshot. On
        PostgreSQL each statement stands alone (autocommit: no BEGIN and COMMIT round trips); on
        SQLite the reads run in a deferred transaction, which does not wait for the write lock."""
        with self.engine.connect() as connection:
            if self.dialect == "postgresql":
                connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                connection.execution_options(**{READ_ONLY: True})
            yield connection

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for long reads that change nothing (verifying the audit chain): on SQLite it
        does not hold the write lock, so intake carries on while it runs; on PostgreSQL each
        statement sees what is committed when it runs."""
        with self.reading() as connection:
            session = Session(bind=connection)
            try:
                yield session
            finally:
                session.close()

    def dispose(self) -> None:
        self.engine.dispose()
