"""Driver-level bulk statements: `executemany` with plain tuples, for the few hot paths.

SQLAlchemy's per-row parameter processing costs more than the database's own work on bulk
writes, so imports and price updates hand tuples straight to the driver. Values must then be in
the driver's form: money as integer paise, datetimes via `datetime_writer`.
"""

import itertools
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
IN_CHUNK = 5000  # values per `IN (...)`, well under SQLite's parameter limit
# Rows per multi-row `INSERT ... VALUES (...), (...)`: each statement execution sets up its
# cursors (table, indexes, every foreign key's parent) once, so 200 rows a statement wrote the
# import's 100,000 devices in 0.19 s against 0.35 s one row a statement. 200 x 10 columns stays
# far below SQLite's (32,766) and PostgreSQL's (65,535) parameter limits.
ROWS_PER_INSERT = 200


def datetime_writer(dialect_name: str) -> Callable[[datetime], Any]:
    """How a UTC-aware datetime goes to this driver, exactly as the `UtcDateTime` column stores it."""
    if dialect_name == "sqlite":
        # SQLAlchemy's SQLite storage format ("2026-11-21 08:35:00.000000"), in one C call;
        # tests read such rows back through the ORM to prove the format is the same.
        return lambda moment: moment.isoformat(" ", "microseconds")[:26]
    return lambda moment: moment


def naive_utc_writer(dialect_name: str) -> Callable[[datetime], Any] | None:
    """The same form made from a naive UTC datetime, one call cheaper per cell; None: no such form.

    The importer converts 100,000s of Excel date cells (naive IST) and skips attaching a zone it
    would only print away again: `naive_utc_writer(d)(m)` == `datetime_writer(d)(m aware in UTC)`.
    """
    if dialect_name == "sqlite":
        return lambda moment: moment.isoformat(" ", "microseconds")
    return None


def marker(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def insert_sql(connection: Connection, table: str, columns: Iterable[str], suffix: str = "", *, rows: int = 1) -> str:
    """`INSERT INTO table (columns) VALUES (...)` with `rows` row groups, then `suffix`."""
    names = list(columns)
    one_row = "(" + ", ".join([marker(connection)] * len(names)) + ")"
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([one_row] * rows)} {suffix}".strip()


def insert_rows(connection: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]],
                suffix: str = "", *, rows_per_insert: int = ROWS_PER_INSERT) -> None:
    """`INSERT` every row, `rows_per_insert` rows to a statement; `suffix` follows `VALUES` (ON CONFLICT ...).

    Rows in one statement must not conflict with each other: PostgreSQL refuses an
    `ON CONFLICT DO UPDATE` that touches one row twice in a statement.
    """
    flatten = itertools.chain.from_iterable
    whole = len(rows) - len(rows) % rows_per_insert
    if whole:
        connection.exec_driver_sql(insert_sql(connection, table, columns, suffix, rows=rows_per_insert), [
            tuple(flatten(rows[start:start + rows_per_insert])) for start in range(0, whole, rows_per_insert)])
    if whole < len(rows):
        connection.exec_driver_sql(insert_sql(connection, table, columns, suffix, rows=len(rows) - whole),
                                   tuple(flatten(rows[whole:])))


@contextmanager
def indexes_rebuilt_for_bulk_insert(connection: Connection, table: str, rows_added: int) -> Iterator[None]:
    """On SQLite, drop `table`'s secondary indexes for the block and build them again after it,
    when the block adds more rows than the table holds (a first import, a large backfill).

    Building an index from the finished table is a sort; keeping it up to date row by row is a
    B-tree insert per row and index: the import's first 35,000 activations took 0.09 s this way
    against 0.18 s. It is part of the caller's transaction, so a rollback restores the indexes, and
    readers (WAL) keep the indexes of their snapshot. PostgreSQL is left alone: there `DROP INDEX`
    would lock readers out of the table until the commit.
    """
    if connection.dialect.name != "sqlite" or rows_added <= _row_count(connection, table):
        yield
        return
    definitions = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,)).all()
    for name, _sql in definitions:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _name, sql in definitions:
        connection.exec_driver_sql(sql)


def _row_count(connection: Connection, table: str) -> int:
    return int(connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar() or 0)


def update_sql(connection: Connection, table: str, columns: Iterable[str], key: str) -> str:
    mark = marker(connection)
    assignments = ", ".join(f"{name} = {mark}" for name in columns)
    return f"UPDATE {table} SET {assignments} WHERE {key} = {mark}"


def executemany(connection: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        connection.exec_driver_sql(sql, list(rows))


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
