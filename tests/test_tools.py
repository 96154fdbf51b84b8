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
    ("bench/bench_bad_rows.py", ["--rows", "2000"], "errors.xlsx of"),
    ("bench/bench_bad_tally.py", ["--retailers", "5", "--waiting", "2", "--faults", "hang,cut", "--deadline", "0.5",
                                  "--read-timeout", "1"], "while 2 balance asks and 5 OD reports wait"),
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



def test_every_step_of_the_windows_launcher_stops_on_failure_with_the_window_open() -> None:
    # cmd.exe is not here to run it; each step that runs a program must jump to :error, which pauses.
    lines = [line.strip() for line in (ROOT / "start_server.bat").read_text().splitlines()]
    steps = [line for line in lines if line.startswith((".venv\\Scripts\\python", "%PY%"))]

    assert len(steps) >= 5 and any("serve.py" in step for step in steps)
    assert all(step.endswith("|| goto :error") for step in steps), steps
    assert "pause" in lines[lines.index(":error"):]
    assert any("sys.version_info >= (3, 11)" in line for line in lines)
    assert any("%COMPUTERNAME%:8000/ui/" in line for line in lines)
