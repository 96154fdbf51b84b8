"""Helpers for tools that start the service on 127.0.0.1: a free port, a key in a database, a
scratch folder that goes away when the tool exits, and the service as a real uvicorn process."""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def admin_key_for(database_url: str, name: str) -> str:
    """Bring the database at `database_url` to the latest schema and make an admin key in it."""
    import database
    from access import keys

    engine = database.make_engine(database_url)
    database.upgrade_schema(engine)
    try:
        with database.make_sessionmaker(engine)() as session:
            return keys.create_key(session, name=name, role="admin").key
    finally:
        engine.dispose()


def scratch_dir(prefix: str) -> Path:
    """A new folder under the system's temp folder, removed when the process exits.

    Benchmarks write hundreds of MB of workbooks and databases; left behind, a few runs fill /tmp.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def start_server(database_url: str, port: int, env_extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "TALLY_HOST": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING",
           **(env_extra or {})}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the server did not start")


def peak_rss_mib(process: subprocess.Popen[bytes]) -> float:
    """The process's high-water resident memory so far (Linux's VmHWM)."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc: not Linux?")
