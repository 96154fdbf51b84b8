"""Kill the real server with SIGKILL in the middle of an import's write; nothing may change."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine

from devtools.loopback import admin_key_for, free_port, start_server
from devtools.sample_prm import generate
from tests.conftest import table_contents

pytestmark = pytest.mark.slow


@pytest.fixture
def admin_key(database_url: str) -> str:
    return admin_key_for(database_url, "crash-test")


@pytest.fixture
def workbooks(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    small, large = tmp_path / "small.xlsx", tmp_path / "large.xlsx"
    generate(small, rows=2000, retailers=50, goods=20)
    generate(large, rows=100_000, retailers=500, goods=200, seed=9)
    yield small, large


def test_a_server_killed_mid_write_leaves_every_table_as_it_was(database_url: str, admin_key: str,
                                                                  workbooks: tuple[Path, Path], tmp_path: Path) -> None:
    small, large = workbooks
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": admin_key}
    # The killed server cannot remove its spooled upload; keep it where pytest cleans up.
    spool = {"TMPDIR": str(tmp_path)}
    server = start_server(database_url, port, spool)
    try:
        first = httpx.post(f"{url}/run/prm-sync", headers=headers, files={"file": ("small.xlsx", small.read_bytes())},
                           timeout=60)
        assert first.status_code == 200, first.text
        engine = create_engine(database_url)
        before = table_contents(engine)

        with httpx.Client(timeout=120) as uploader:
            request = uploader.build_request("POST", f"{url}/run/prm-sync", headers=headers,
                                             files={"file": ("large.xlsx", large.read_bytes())})
            import threading

            threading.Thread(target=lambda: _send_ignoring_errors(uploader, request), daemon=True).start()
            phase = _wait_for_write_phase(url, headers, database_url)
            os.kill(server.pid, signal.SIGKILL)
            server.wait(10)
        assert phase in ("writing", "snapshot"), f"killed in phase {phase}"

        after_kill = table_contents(engine)
        server = start_server(database_url, port, spool)
        runs = httpx.get(f"{url}/debug/sync-logs", headers=headers).json()["items"]
        after_restart = table_contents(engine)
        engine.dispose()
    finally:
        server.kill()
        server.wait(10)

    assert after_kill == before
    assert after_restart == before
    assert [run["status"] for run in runs] == ["abandoned", "success"]
    assert "nothing from it was saved" in runs[0]["message"]


def _send_ignoring_errors(client: httpx.Client, request: httpx.Request) -> None:
    try:
        client.send(request)
    except httpx.HTTPError:
        pass  # the server is killed under it


def _wait_for_write_phase(url: str, headers: dict[str, str], database_url: str) -> str:
    """Wait until the import is writing. Readers see `comparing` until its write transaction
    commits (progress lives in the run row), so the writes are watched in the database itself:
    SQLite's write-ahead log growing, or PostgreSQL running the import's INSERTs."""
    deadline = time.time() + 90
    phase = "none"
    engine = create_engine(database_url)
    wal = Path(database_url.removeprefix("sqlite:///") + "-wal") if database_url.startswith("sqlite") else None
    baseline = wal.stat().st_size if wal is not None and wal.exists() else 0
    try:
        while time.time() < deadline:
            try:
                items = httpx.get(f"{url}/debug/sync-logs", params={"status": "running"}, headers=headers,
                                  timeout=5).json()["items"]
            except httpx.HTTPError:
                items = []
            if items and items[0]["phase"] == "comparing" and _writing(engine, wal, baseline):
                return "writing"
            phase = items[0]["phase"] if items else phase
            time.sleep(0.01)
    finally:
        engine.dispose()
    return phase


def _writing(engine: Engine, wal: Path | None, baseline: int) -> bool:
    if wal is not None:  # the write-ahead log takes the import's pages before its commit
        return wal.exists() and wal.stat().st_size > baseline + 1024 * 1024
    with engine.connect() as connection:  # a transaction holding an id has written (PostgreSQL assigns it then)
        return bool(connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()").scalar())
