"""Shared fixtures: a real database per test, the real app, real workbooks.

SQLite (the default): one migrated template file per session, copied to a fresh file per test.
PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://...; the schema is migrated once and
every table is emptied before each test.
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import database
from main import create_app
from models import Base
from settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")

requires_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs TEST_DATABASE_URL pointing at PostgreSQL")
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="exercises the SQLite file itself")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file to copy (fast), or the migrated PostgreSQL URL."""
    if ON_POSTGRES:
        engine = database.make_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        database.upgrade_schema(engine)
        engine.dispose()
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    database.init_db(f"sqlite:///{path}")
    return str(path)


def _empty_postgres_tables(url: str) -> None:
    engine = database.make_engine(url)
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    if ON_POSTGRES:
        _empty_postgres_tables(migrated_template)
        return migrated_template
    path = tmp_path / "app.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


def make_settings(**overrides: Any) -> Settings:
    """Settings with every value given here, never from `.env`."""
    values: dict[str, Any] = {
        "database_url": "sqlite:///./never-used.db",
        "tally_host": "http://127.0.0.1:9",
        "tally_company": "Galaxy Mobile Distributors",
        "cache_ttl_minutes": 120,
        "prm_file_path": Path("./missing.xlsx"),
        "max_upload_mb": 5,
        "cors_origins": "",
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url=database_url, prm_file_path=tmp_path / "prm.xlsx")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app, sending an admin API key."""
    with open_client(settings) as test_client:
        yield test_client


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    db_engine = database.make_engine(database_url)
    yield db_engine
    db_engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with database.make_sessionmaker(engine)() as db_session:
        yield db_session


@pytest.fixture
def make_xlsx(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (lists of cell values) to a real .xlsx file; returns its path."""
    from openpyxl import Workbook

    counter = {"n": 0}

    def _make(rows: list[list[Any]], *, sheet: str = "IMEI Details", name: str | None = None,
              text_cells: bool = False) -> Path:
        counter["n"] += 1
        workbook = Workbook()
        worksheet = workbook.active
        assert worksheet is not None
        worksheet.title = sheet
        for row in rows:
            worksheet.append(row)
        if text_cells:  # openpyxl turns "=..." into a formula; the portal's export writes text cells
            for cells in worksheet.iter_rows():
                for cell in cells:
                    if isinstance(cell.value, str):
                        cell.data_type = "s"
        path = tmp_path / (name or f"book{counter['n']}.xlsx")
        workbook.save(path)
        return path

    return _make


DATA_TABLES = ("retailers", "products", "devices", "activations", "prm_inventory_snapshot", "device_events",
               "price_history", "tally_ledger_cache")


def table_contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table, sorted: equal results mean the tables are unchanged."""
    with engine.connect() as connection:
        return {name: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {name}")))
                for name in DATA_TABLES}


@contextmanager
def failing_inserts(engine: Engine, table: str, message: str = "disk full (injected)") -> Iterator[None]:
    """A real database error part-way through a write: a trigger that aborts inserts into `table`.

    A context manager, so the trigger goes even when the test fails: on PostgreSQL the database
    outlives the test, and a leftover trigger would fail every later test that writes the table.
    """
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(
                f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END"))
        else:
            connection.execute(text(
                f"CREATE OR REPLACE FUNCTION fail_{table}() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql"))
            connection.execute(text(
                f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fail_{table}()"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text(f"DROP TRIGGER IF EXISTS fail_{table}"))
            else:
                connection.execute(text(f"DROP TRIGGER IF EXISTS fail_{table} ON {table}"))
                connection.execute(text(f"DROP FUNCTION IF EXISTS fail_{table}()"))


# --- a real Tally stand-in on loopback ---------------------------------------------------------

from devtools.tally_emulator import TallyServer  # noqa: E402

TALLY_COMPANY = "Galaxy Mobile Distributors"


@pytest.fixture(scope="session")
def tally_server() -> Iterator[TallyServer]:
    server = TallyServer().start()
    yield server
    server.stop()


@pytest.fixture
def tally(tally_server: TallyServer) -> TallyServer:
    """The shared emulator, reset to the sample ledgers with no faults."""
    tally_server.state.reset()
    return tally_server


@pytest.fixture
def own_tally() -> Iterator[TallyServer]:
    """An emulator of this test's own, which the test may stop to play 'Tally is down'."""
    server = TallyServer().start()
    yield server
    try:
        server.stop()
    except OSError:
        pass


@pytest.fixture
def tally_settings(database_url: str, tmp_path: Path, tally: TallyServer) -> Settings:
    return make_settings(database_url=database_url, prm_file_path=tmp_path / "prm.xlsx", tally_host=tally.url,
                         tally_company=TALLY_COMPANY, tally_read_timeout_seconds=2)


@pytest.fixture
def tally_client_app(tally_settings: Settings) -> Iterator[TestClient]:
    with open_client(tally_settings) as test_client:
        yield test_client


# --- API keys: every endpoint but /, /health and the docs needs one ---------------------------

@contextmanager
def open_client(settings: Settings, *, role: str | None = "admin") -> Iterator[TestClient]:
    """The real app with a key of `role` in every request's X-API-Key header (None: no key)."""
    from access import keys

    with TestClient(create_app(settings)) as test_client:
        if role is not None:
            with test_client.app.state.sessionmaker() as session:
                created = keys.create_key(session, name=f"test-{role}-{uuid.uuid4().hex[:6]}", role=role)
            test_client.headers["X-API-Key"] = created.key
        yield test_client
