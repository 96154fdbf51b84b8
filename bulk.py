"""Driver-level bulk statements: `executemany` with plain tuples, for the few hot paths.

SQLAlchemy's per-row parameter processing costs more than the database's own work on bulk
writes, so imports and price updates hand tuples straight to the driver. Values must then be in
the driver's form: money as integer paise, datetimes via `datetime_writer`.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
IN_CHUNK = 5000  # values per `IN (...)`, well under SQLite's parameter limit


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


def insert_sql(connection: Connection, table: str, columns: Iterable[str], suffix: str = "") -> str:
    names = list(columns)
    markers = ", ".join([marker(connection)] * len(names))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({markers}) {suffix}".strip()


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
