"""Hostile workbooks against a real server, and what the workbook gate costs an honest import.

    python bench/bench_hostile_workbooks.py [--rows 100000]

Part 1 starts the service (uvicorn on 127.0.0.1, a scratch SQLite file, Tally on a closed loopback
port) and posts every file of devtools/hostile_workbooks.py to each upload route: the answer's
status and time, whether the server is still up, and its peak RSS at the end. Targets (issue 14):
a 4xx within 10 s on every route, the process survives, peak RSS under 1 GiB.

Part 2 times the gate alone on an ordinary generated export of `--rows` rows, against the
python-calamine parse of the same file, in this one run (the gate's share of an import).
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.hostile_workbooks import HOSTILE_WORKBOOKS, build  # noqa: E402
from devtools.loopback import admin_key_for, free_port, peak_rss_mib, scratch_dir, start_server  # noqa: E402

ROUTES = {"import": "/run/prm-sync", "price list": "/admin/products/prices/upload",
          "mapping": "/admin/ledger-mapping/upload"}


def hostile_over_http(workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'hostile.db'}"
    key = admin_key_for(url, "bench-hostile")
    port = free_port()
    server = start_server(url, port)
    slowest, refused, survived = 0.0, 0, True
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=60) as http:
            print(f"{'file':28} " + " ".join(f"{route:>16}" for route in ROUTES))
            for name in HOSTILE_WORKBOOKS:
                data = build(name)
                cells = []
                for path in ROUTES.values():
                    started = time.perf_counter()
                    try:
                        status = str(http.post(path, files={"file": (f"{name}.xlsx", data)}).status_code)
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    took = time.perf_counter() - started
                    slowest = max(slowest, took)
                    refused += status.startswith("4")
                    survived = survived and server.poll() is None
                    cells.append(f"{status} {took * 1000:7.1f} ms")
                print(f"{name + f' ({len(data):,} B)':28} " + " ".join(f"{cell:>16}" for cell in cells))
        rss = peak_rss_mib(server)
    finally:
        server.terminate()
        server.wait(30)
    total = len(HOSTILE_WORKBOOKS) * len(ROUTES)
    print(f"\n4xx answers: {refused} of {total} (deep-column is a legal size for an import: its 4xx is about its rows)")
    print(f"slowest answer: {slowest:.2f} s (target < 10 s); server alive throughout: {survived}; "
          f"server peak RSS {rss:.0f} MiB (target < 1024)")


GATE_SNIPPET = """
import sys, time
from pathlib import Path
from kit.workbook_gate import PRM_LIMITS, check_workbook
from python_calamine import CalamineWorkbook
path = Path(sys.argv[1])
for _ in range(3):
    started = time.perf_counter(); check_workbook(path, PRM_LIMITS); gate = time.perf_counter() - started
    started = time.perf_counter()
    CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    parse = time.perf_counter() - started
    print(f"gate {gate:6.2f} s   calamine parse {parse:6.2f} s   gate / parse {gate / parse:5.2f}")
"""


def gate_cost(workdir: Path, rows: int) -> None:
    book = workdir / f"prm_{rows}.xlsx"
    subprocess.run([sys.executable, str(ROOT / "devtools" / "sample_prm.py"), str(book), "--rows", str(rows)],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"\nthe gate on an ordinary export: {rows:,} rows, {book.stat().st_size / 1024**2:.1f} MiB")
    subprocess.run([sys.executable, "-c", GATE_SNIPPET, str(book)], check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    workdir = scratch_dir("bench-hostile-")
    hostile_over_http(workdir)
    gate_cost(workdir, args.rows)


if __name__ == "__main__":
    main()
