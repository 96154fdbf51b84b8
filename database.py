"""Engine, per-request session, and `init_db()` (Alembic upgrade to the latest schema)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from kit import lanes

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WRITE_OPTION = "begin_for_write"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build the engine; SQLite gets the pragmas a multi-threaded web service needs."""
    if not is_sqlite(url):
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=30)

    # Routes run on the lanes' threads (kit.lanes), so one connection may serve several threads.
    # A pool as large as the lanes together (40 + 16 + READ_THREADS + 4), so no thread waits for one.
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=20, max_overflow=50)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the "begin" hook below), so BEGIN covers
        # DDL and SAVEPOINTs too and an import really is all-or-nothing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores foreign keys unless told
        cursor.execute("PRAGMA journal_mode=WAL")  # readers keep reading while an import writes
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses no committed run
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: imports rewrite whole indexes
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front (see `begin_write`): a deferred transaction
        # that read first cannot upgrade once another writer has committed in between.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")

    return engine


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a writer (SQLite: BEGIN IMMEDIATE).

    Call it before the first read of a read-then-write unit of work, so concurrent writers queue
    (up to the busy timeout) instead of failing; PostgreSQL needs nothing here.
    """
    if session.in_transaction():
        raise RuntimeError("begin_write() must come before the transaction's first statement")
    session.connection(execution_options={WRITE_OPTION: True})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the latest migration; a no-op when it is already there.

    Under a lock across processes: several workers start at once, and on a new database each
    would otherwise try to create the same tables.
    """
    from alembic import command

    from kit.process_lock import ProcessLock

    with ProcessLock(engine, "migrations"), engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def init_db(database_url: str | None = None) -> None:
    """Create or upgrade the database at `database_url` (default: DATABASE_URL from settings).

    Kept callable with no arguments for `python -c "from database import init_db; init_db()"`.
    """
    if database_url is None:
        from settings import Settings

        database_url = Settings().database_url
    engine = make_engine(database_url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; services commit, closing discards anything uncommitted.

    Making a session does no I/O (it connects on its first query). The route's lane closes it in
    its own thread (kit.lanes); if a session still holds a transaction here, closing it is a
    rollback, a round trip on PostgreSQL, so `lanes.release` runs it on a thread, never on the
    event loop, and on threads of its own: a close queued behind routes waiting for a pooled
    connection, which only closes hand back, once deadlocked a loaded server.
    """
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        await lanes.release(session)


SessionDep = Annotated[Session, Depends(get_session)]
