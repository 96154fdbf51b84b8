"""Benchmark the negative / OD report, in one run.

    python bench/bench_report.py [--retailers 2000] [--devices 200000] [--repeat 7]

Builds a temporary SQLite database through the real import (a generated PRM workbook), prices
every goods, starts the Tally emulator with one ledger per retailer and the service with uvicorn
on 127.0.0.1, then prints: the report over HTTP with a warm cache, with a cold cache (and how
many Tally requests it made: it must be exactly one), and as the floor the single grouped SQL
query of stock units and value per retailer. Targets (issue #7): warm report at most 5x the
floor and at most 0.5 s.
"""

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import admin_key_for, free_port, import_and_price, scratch_dir  # noqa: E402
from devtools.sample_prm import generate, make_retailers  # noqa: E402
from devtools.tally_emulator import Company, Ledger, TallyServer, TallyState  # noqa: E402

FLOOR_SQL = """
SELECT s.retailer_code, SUM(s.units), SUM(CASE WHEN p.price IS NULL THEN 0 ELSE s.units * p.price END)
FROM prm_inventory_snapshot s JOIN products p ON p.goods_id = s.goods_id
WHERE s.run_id = ? GROUP BY s.retailer_code
"""


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not start")


def timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url, timeout=120)
    return time.perf_counter() - started, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--retailers", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    workdir = scratch_dir("bench-report-")
    book, db = workdir / "prm.xlsx", workdir / "report.db"
    print(f"generating {args.devices} devices at {args.retailers} retailers ...", flush=True)
    generate(book, rows=args.devices, retailers=args.retailers, goods=200)
    retailers = make_retailers(args.retailers, random.Random(7))  # the same names generate() used
    rng = random.Random(11)
    ledgers = [Ledger(r.name, "Sundry Debtors", f"-{rng.randrange(0, 2_000_000_00) / 100:.2f}") for r in retailers]
    state = TallyState([Company("Bench Distributors", {"Sundry Debtors": None}, ledgers)])
    tally = TallyServer(0, state).start()

    admin_key = admin_key_for(f"sqlite:///{db}", "bench-admin")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TALLY_HOST": tally.url, "TALLY_COMPANY": "Bench Distributors",
           "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port),
                               "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        with httpx.Client(base_url=url, trust_env=False, headers={"X-API-Key": admin_key}) as client:
            run_id = import_and_price(client, book)

            state.requests = 0
            cold, cold_response = timed_get(client, "/reports/negative")
            cold_requests = state.requests
            warm_times = []
            for _ in range(args.repeat):
                elapsed, response = timed_get(client, "/reports/negative")
                warm_times.append(elapsed)
            rows = len(response.json()["rows"])
        connection = sqlite3.connect(db)
        floor_times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = connection.execute(FLOOR_SQL, (run_id,)).fetchall()
            floor_times.append(time.perf_counter() - started)
        connection.close()
    finally:
        server.terminate()
        server.wait(10)
        tally.stop()

    warm, floor = statistics.median(warm_times), statistics.median(floor_times)
    print(f"\n{args.retailers} retailers, {args.devices} devices, {len(result)} retailers with stock, {rows} OD rows")
    print(f"floor: grouped SQL query     {floor * 1000:8.1f} ms  (median of {args.repeat})")
    print(f"report, warm cache (HTTP)    {warm * 1000:8.1f} ms  (median of {args.repeat})  {warm / floor:5.1f}x floor"
          "   (target <= 5x and <= 500 ms)")
    print(f"report, cold cache (HTTP)    {cold * 1000:8.1f} ms  Tally requests: {cold_requests}   (target: exactly 1)")
    assert cold_response.status_code == 200


if __name__ == "__main__":
    main()
