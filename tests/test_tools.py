"""The benchmark scripts run end to end on tiny data, so they keep working as the code changes."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("script", "args", "expected"), [
    ("bench/bench_import.py", ["--rows", "2000", "--naive-rows", "500"], "first import speed-up"),
    ("bench/bench_prices.py", ["--items", "200", "--repeat", "1"], "ratio service / plain"),
    ("bench/bench_report.py", ["--retailers", "30", "--devices", "3000", "--repeat", "1"], "Tally requests: 1"),
])
def test_a_benchmark_runs_and_prints_its_ratio(script: str, args: list[str], expected: str, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / script), *args], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)

    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout


def test_the_load_benchmark_runs_without_errors(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--clients", "4", "--seconds", "2"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr[-3000:]
    assert ", 0 errors" in result.stdout
    assert "all list endpoints" in result.stdout


def test_serve_starts_two_workers_that_both_answer_and_stop_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time

    import httpx

    from devtools.loopback import free_port

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


def test_every_step_of_the_windows_launcher_stops_on_failure_with_the_window_open() -> None:
    # cmd.exe is not here to run it; each step that runs a program must jump to :error, which pauses.
    lines = [line.strip() for line in (ROOT / "start_server.bat").read_text().splitlines()]
    steps = [line for line in lines if line.startswith((".venv\\Scripts\\python", "%PY%"))]

    assert len(steps) >= 5 and any("serve.py" in step for step in steps)
    assert all(step.endswith("|| goto :error") for step in steps), steps
    assert "pause" in lines[lines.index(":error"):]
    assert any("sys.version_info >= (3, 11)" in line for line in lines)
    assert any("%COMPUTERNAME%:8000/ui/" in line for line in lines)
