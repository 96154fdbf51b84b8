"""errors.py: which database failures say "busy, try again", which say what is wrong, which are bugs."""

import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

import database
from tests.conftest import sqlite_only

pytestmark = sqlite_only

PRICES = {"updates": [{"goods_id": "SM-A155F", "name": "Galaxy A15", "price": "15999.00"}]}


def _serve_from(client: TestClient, engine: Engine) -> None:
    """Point the running app's sessions at `engine` (the app's own engine keeps its connections)."""
    client.app.state.sessionmaker = database.make_sessionmaker(engine)


@pytest.fixture
def database_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


@pytest.fixture
def extra_engines() -> Iterator[list[Engine]]:
    engines: list[Engine] = []
    yield engines
    for extra in engines:
        extra.dispose()


def test_a_write_to_a_read_only_database_file_is_a_503_that_says_so(
        client: TestClient, database_path: str, extra_engines: list[Engine]) -> None:
    read_only = database.make_engine(f"sqlite:///file:{database_path}?mode=ro&uri=true")
    extra_engines.append(read_only)
    _serve_from(client, read_only)

    response = client.post("/admin/products/prices", json=PRICES)

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The database file is read-only; ask the administrator to make it writable for the service.",
        "errors": [], "request_id": response.headers["x-request-id"]}


def test_a_full_database_disk_is_a_503_that_says_so(client: TestClient, database_url: str,
                                                    extra_engines: list[Engine]) -> None:
    full = database.make_engine(database_url)
    extra_engines.append(full)

    @event.listens_for(full, "connect")
    def _no_room_to_grow(dbapi_connection: Any, _record: Any) -> None:
        # A real SQLITE_FULL: the file may not grow by a single page.
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    _serve_from(client, full)
    many = {"updates": [{"goods_id": f"G{number:05d}", "name": "x" * 200, "price": "100.00"}
                        for number in range(2000)]}

    response = client.post("/admin/products/prices", json=many)

    assert response.status_code == 503
    assert response.json()["detail"] == "The database disk is full; free space on the server's disk, then try again."


def test_a_database_locked_by_another_writer_is_a_503_busy(client: TestClient, database_url: str,
                                                          database_path: str, extra_engines: list[Engine]) -> None:
    impatient = database.make_engine(database_url)
    extra_engines.append(impatient)

    @event.listens_for(impatient, "connect")
    def _wait_briefly(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")  # after make_engine's 30 s: the test stays fast

    _serve_from(client, impatient)
    other_program = sqlite3.connect(database_path, isolation_level=None)
    other_program.execute("BEGIN IMMEDIATE")
    try:
        response = client.post("/admin/products/prices", json=PRICES)
    finally:
        other_program.execute("ROLLBACK")
        other_program.close()

    assert response.status_code == 503
    assert response.json()["detail"] == "The database is busy; try again in a moment."


def test_a_missing_column_is_a_500_with_its_traceback_logged_once(
        client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE products DROP COLUMN category_locked"))
    caplog.set_level(logging.ERROR, logger="dist.errors")

    response = client.get("/products")

    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.json() == {"detail": f"Internal server error (request id {request_id}).", "errors": [],
                               "request_id": request_id}
    logged = [record for record in caplog.records if record.name == "dist.errors"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None and "no such column" in str(logged[0].exc_info[1])
    assert request_id in logged[0].getMessage()
    assert response.headers.get_list("x-request-id") == [request_id]
