"""Helpers for tools that start the service on 127.0.0.1: a free port, a key in a database, a
scratch folder that goes away when the tool exits, a uvicorn process and its memory (Linux)."""

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


def start_uvicorn(env: dict[str, str], *, cwd: Path = ROOT, seconds: float = 60,
                  port: int | None = None) -> tuple["subprocess.Popen[bytes]", str]:
    """One uvicorn process of the service on a free 127.0.0.1 port, once `/health` answers.

    `env` holds the settings (DATABASE_URL, TALLY_HOST...) on top of this process's environment.
    Returns the process and its base URL; the caller stops it with `stop_process`.
    """
    import httpx

    port = port or free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port),
                               "--no-access-log", "--log-level", "warning"], cwd=cwd, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(base + "/health", timeout=1, trust_env=False).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_process(server)
    raise RuntimeError("the service did not start")


def stop_process(process: "subprocess.Popen[bytes]") -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (VmRSS) or at its peak (VmHWM), from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} for process {pid}")


def reset_peak_rss(pid: int) -> None:
    """Start a process's VmHWM over from its current RSS, so the next peak is one step's own."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def start_server(database_url: str, port: int, env_extra: dict[str, str] | None = None) -> "subprocess.Popen[bytes]":
    """The service on `port` with `database_url`, Tally on a closed loopback port unless `env_extra` says."""
    server, _base = start_uvicorn({"DATABASE_URL": database_url, "TALLY_HOST": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING",
                                   **(env_extra or {})}, port=port, seconds=30)
    return server


def peak_rss_mib(process: "subprocess.Popen[bytes]") -> float:
    """The process's high-water resident memory so far."""
    return rss_mib(process.pid, "VmHWM")


def import_and_price(client: "httpx.Client", book: Path, *, goods: int = 200) -> int:
    """POST a generated PRM workbook to a running service, price every goods, and return the run id.

    The benchmarks' set-up: the same import and the same prices (5,000.00 rising by 37.00) each time.
    """
    from devtools.sample_prm import make_goods

    with book.open("rb") as handle:
        imported = client.post("/run/prm-sync", files={"file": ("prm.xlsx", handle)}, timeout=600)
    imported.raise_for_status()
    client.post("/admin/products/prices", json={"updates": [
        {"goods_id": goods_id, "price": f"{5000 + n * 37}.00"} for n, (goods_id, _) in enumerate(make_goods(goods))]},
        timeout=600).raise_for_status()
    return int(imported.json()["run_id"])
