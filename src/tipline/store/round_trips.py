"""Several reads in one round trip to the server, and one statement sent straight to the driver, for a path
that runs once per report and whose time is mostly waiting for the server (the count_trends stage).

On PostgreSQL the statements are sent in psycopg's pipeline mode: all of them leave before the first
answer is awaited, so the server is waited for once, not once per statement (and the transaction's BEGIN,
when this is its first read, travels with them). Values go in and come out through the columns' types as
SQLAlchemy would convert them (a UTC timestamp comes back in UTC). On SQLite, which has no round trips,
they simply run one after the other."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import CompoundSelect, Select, TextClause
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

Read = tuple[Select[Any] | CompoundSelect[Any], Mapping[str, Any]]


def read_together(session: Session, reads: Sequence[Read]) -> list[list[tuple[Any, ...]]]:
    """The rows of each read (a SELECT and its parameters), in the caller's transaction, after the session's
    pending changes (as session.execute)."""
    session.flush()
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        return [[tuple(row) for row in connection.execute(statement, dict(parameters))]
                for statement, parameters in reads]
    prepared = [(_compiled(statement, dialect), parameters) for statement, parameters in reads]
    driver = connection.connection.driver_connection  # the psycopg connection, in this transaction
    assert driver is not None
    cursors = []
    with driver.pipeline():
        for compiled, parameters in prepared:
            cursor = driver.cursor()
            cursor.execute(compiled.sql, compiled.bind(parameters))
            cursors.append(cursor)
    # leaving the pipeline block sent everything and waited once for all the answers
    results = []
    for (compiled, _), cursor in zip(prepared, cursors, strict=True):
        with cursor:
            results.append([compiled.row(row) for row in cursor.fetchall()])
    return results


def run_text(session: Session, statement: TextClause, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of one textual statement (whose parameters and columns need no conversion: ints, strings,
    dates, lists), in the caller's transaction, after the session's pending changes (as session.execute).
    On PostgreSQL it goes to the driver's cursor as compiled once: SQLAlchemy's execution around it (result
    metadata, row objects) cost 0.15 ms of CPU a report in the count_trends stage's write, a quarter of the
    stage's CPU."""
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        result = connection.execute(statement, dict(parameters))
        return [tuple(row) for row in result] if result.returns_rows else []
    key = (id(statement), "text")
    found = _TEXTS.get(key)
    if found is None or found[0] is not statement:
        found = _TEXTS[key] = (statement, statement.compile(dialect=connection.dialect).string)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(found[1], dict(parameters))
        return list(cursor.fetchall()) if cursor.description is not None else []


_TEXTS: dict[tuple[int, str], tuple[TextClause, str]] = {}


class _Compiled:
    """A SELECT as the driver takes it: its SQL, how to convert its parameters and its rows."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if any(parameter.expanding for parameter in compiled.binds.values()):
            raise ValueError("read_together takes no expanding (IN list) parameters: they change the SQL")
        self.sql = compiled.string
        self._construct = compiled.construct_params
        self._binds: dict[str, Callable[[Any], Any] | None] = {
            name: parameter.type.dialect_impl(dialect).bind_processor(dialect)
            for name, parameter in compiled.binds.items()}
        self._results: list[Callable[[Any], Any] | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns]

    def bind(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        values = self._construct(dict(parameters))
        return {name: (processor(value) if (processor := self._binds.get(name)) is not None else value)
                for name, value in values.items()}

    def row(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(value if processor is None else processor(value)
                     for processor, value in zip(self._results, row, strict=True))


_COMPILED: dict[tuple[int, str], tuple[Select[Any] | CompoundSelect[Any], _Compiled]] = {}


def _compiled(statement: Select[Any] | CompoundSelect[Any], dialect: Dialect) -> _Compiled:
    """Compiled once per statement object (the callers build their statements once)."""
    key = (id(statement), dialect.name)
    found = _COMPILED.get(key)
    if found is None or found[0] is not statement:
        found = _COMPILED[key] = (statement, _Compiled(statement, dialect))
    return found[1]


__all__ = ["read_together", "run_text"]
