"""serve.py: the supervisor keeps restarting workers that die, with growing pauses, and never gives up."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.loopback import free_port
from serve import MAX_RESTART_DELAY_SECONDS, STEADY_SECONDS, describe_exit, restart_delay

ROOT = Path(__file__).resolve().parent.parent


def worker_pids(supervisor: int) -> set[int]:
    """The supervisor's worker processes, read from /proc (its multiprocessing spawn children)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # it ended while we looked
            continue
        parent = int(stat.rpartition(")")[2].split()[1])  # the field after the state; comm may hold spaces
        if parent == supervisor and b"spawn_main" in cmdline:  # not multiprocessing's resource tracker
            pids.add(int(entry.name))
    return pids


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port, log = free_port(), tmp_path / "serve.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "WORKERS": "2", "LOG_LEVEL": "WARNING",
           "TALLY_HOST": "http://127.0.0.1:9"}
    with log.open("wb") as out:
        supervisor = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", str(port)], cwd=ROOT, env=env,
                                      stdout=out, stderr=subprocess.STDOUT)
    try:
        yield supervisor, port, log
    finally:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
            try:
                supervisor.wait(30)
            except subprocess.TimeoutExpired:
                supervisor.kill()
        for pid in worker_pids(supervisor.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_workers_killed_again_and_again_are_restarted_and_the_service_answers(
        served: tuple[subprocess.Popen[bytes], int, Path]) -> None:
    supervisor, port, log = served
    assert wait_for(lambda: answers(port), 30), "the service did not start"
    killed: set[int] = set()

    # Three rounds in a row, each killing both workers as soon as their replacements exist: six
    # quick deaths, where the old supervisor stopped the service for good after two.
    for _ in range(3):
        assert wait_for(lambda: len(worker_pids(supervisor.pid) - killed) == 2, 15), log.read_text()[-2000:]
        for pid in worker_pids(supervisor.pid) - killed:
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)

    assert wait_for(lambda: answers(port), 20), log.read_text()[-2000:]
    assert supervisor.poll() is None
    assert len(worker_pids(supervisor.pid) - killed) == 2
    lines = log.read_text()
    assert lines.count("(killed by SIGKILL)") == 6
    assert "; starting another in 1 s" in lines
    assert "; starting another in 2 s" in lines
    assert "; starting another in 4 s" in lines
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) == 0


@pytest.mark.slow
def test_serve_starts_two_workers_that_both_answer_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "WORKERS": "2",
           "LOG_LEVEL": "WARNING", "TALLY_HOST": "http://127.0.0.1:9"}
    server = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        prefixes: set[str] = set()
        deadline = time.monotonic() + 60
        while len(prefixes) < 2 and time.monotonic() < deadline:
            try:  # a new connection each time: the kernel spreads them over the workers' sockets
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2, trust_env=False)
                prefixes.add(response.headers["x-request-id"][:4])  # the per-process part of the id
            except httpx.HTTPError:
                time.sleep(0.2)
        assert len(prefixes) == 2, "two worker processes should answer"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output[-3000:]
    assert "with 2 worker processes" in output


def test_the_pause_before_a_restart_doubles_up_to_its_cap() -> None:
    delays = [restart_delay(None, 0.5)]
    for _ in range(8):
        delays.append(restart_delay(delays[-1], 0.5))

    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert MAX_RESTART_DELAY_SECONDS == 60.0


def test_a_worker_that_ran_steadily_is_restarted_after_the_first_pause_again() -> None:
    assert restart_delay(60.0, STEADY_SECONDS) == 1.0


@pytest.mark.parametrize(("exitcode", "text"), [(-9, "killed by SIGKILL"), (-15, "killed by SIGTERM"), (3, "exit code 3"),
                                                (None, "no exit code")])
def test_a_worker_exit_is_described_by_its_code_or_signal(exitcode: int | None, text: str) -> None:
    assert describe_exit(exitcode) == text
