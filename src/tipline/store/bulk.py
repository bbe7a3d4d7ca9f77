"""Writing and reading many rows at once, for the paths that handle thousands per transaction (an exchange's
fetch, a trends rebuild, a matcher taking another process's new entries): ids reserved in one statement and
rows inserted with the driver's own bulk path; a column read raw and converted once per distinct value.

SQLAlchemy's executemany converts every value of every row through the column types (about 50 µs a row
for a bank entry, more than the insert itself); here each column's conversion is looked up once and a
value repeated down a column (a page's timestamp, its bank, its source) is converted once. PostgreSQL
takes the rows by COPY (an executemany there sends one INSERT per row), SQLite by the driver's
executemany."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Column, Table, text, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from tipline.store.types import json_text


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` new ids of `table`'s integer key, for rows this transaction inserts with them.

    PostgreSQL draws them from the key's sequence in one statement. SQLite numbers rows after the
    highest one, as it would itself: the write transaction (BEGIN IMMEDIATE) holds the database's
    write lock from its start, so no other writer can take them before the insert."""
    if count <= 0:
        return []
    key = _key(table)
    if session.get_bind().dialect.name == "postgresql":
        return list(session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, :column)) FROM generate_series(1, :count)"),
            {"table": table.name, "column": key, "count": count}).scalars())
    highest = session.execute(text(f"SELECT coalesce(max({key}), 0) FROM {table.name}")).scalar_one()  # noqa: S608 - names from the table's definition
    return list(range(highest + 1, highest + 1 + count))


def insert_many(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, in the caller's transaction): COPY on PostgreSQL (with it a
    trends rebuild of 18,700 reports took 3 s of CPU, 15 s with executemany), the driver's executemany on
    SQLite, each column's values converted as its type says (once per distinct value down a column)."""
    if not rows:
        return
    columns = list(rows[0])
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        documents: dict[Any, str] = {}  # a page's entries mostly share their tags: each written once
        driver = connection.connection.driver_connection  # the psycopg connection, in this transaction
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"  # names from the table's own definition
        ) as copy:
            for row in rows:
                values = [row[c] for c in columns]
                for i in as_json:
                    value = values[i]
                    if value is not None:
                        try:
                            values[i] = documents[value]
                        except KeyError:
                            values[i] = documents[value] = json_text(value)
                        except TypeError:  # unhashable (a list or a document)
                            values[i] = json_text(value)
                copy.write_row(values)
        return
    by_column = []
    for column in columns:
        down = [row[column] for row in rows]
        # the type as this dialect stores it (a timestamp as SQLAlchemy's SQLite text, not the driver's isoformat)
        processor = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            first = down[0]
            if down.count(first) == len(down):  # a page's timestamp, its bank: converted once
                down = [processor(first)] * len(down)
            else:
                down = list(map(_converter(processor), down))
        by_column.append(down)
    values = list(zip(*by_column, strict=True))
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",  # noqa: S608
        values)


@contextmanager
def planned_anew(session: Session) -> Iterator[None]:
    """PostgreSQL plans the statements run within anew each time (the rest of the transaction as before).

    psycopg prepares a statement it has run five times, and PostgreSQL may then keep a generic plan chosen
    while the table was small: a look-up of a page's keys (`remote_id IN (...)`) scanned the whole table at
    every page of a fetch, 188 µs of server CPU an entry at 20,000 entries and growing with the table, until
    autovacuum analysed it (never, where it is off); planned anew it took 8 µs. Not for the whole transaction:
    an insert's foreign-key checks are cheaper with their cached plans (29 against 64 µs an entry)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    try:
        yield
    finally:
        if postgresql:
            session.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))


def raw(column: Column[Any] | Any) -> ColumnElement[Any]:
    """`column` selected as the driver gives it (no conversion per row), for `read_converter` to convert."""
    return type_coerce(column, NullType())


def read_converter(session: Session, column: Column[Any] | Any) -> Callable[[Any], Any]:
    """A function giving a `raw(column)` value as the column's type gives it, converting each distinct value
    once: a page's entries share their timestamp, whose conversion (SQLite's text to an aware datetime) was
    5 µs a row of the 15 a matcher spent taking a new bank entry from the change log."""
    dialect = session.get_bind().dialect
    processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return (lambda value: value) if processor is None else _converter(processor)


def _converter(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`processor` remembering its answers for hashable values (a column mostly repeats a few)."""
    known: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            known[value] = converted = processor(value)
            return converted
        except TypeError:  # unhashable (a JSON list or document)
            return processor(value)
    return convert


def _key(table: Table) -> str:
    (column,) = table.primary_key.columns
    return str(column.name)
