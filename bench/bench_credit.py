"""Benchmark the credit reads and the ageing report, in one run.

    python bench/bench_credit.py [--ledgers 2000] [--bills 60000] [--devices 100000] [--repeat 7]

Starts the Tally emulator on 127.0.0.1 with `--ledgers` debtors and `--bills` open bills spread
over them, then:
1. the bill read and parse as the service does it (TallyClient.open_bills streaming into
   BillsReader), in a child process of its own so its peak memory is its own;
2. the service with uvicorn on 127.0.0.1 over a generated PRM import: the ageing report over HTTP
   cold (and how many Tally requests that cost: exactly two) and warm, against its floor: the
   grouped SQL query of the buckets per ledger over the cached bills and the stock per retailer,
   on the same database in the same run.
Targets (issue 16): read and parse within 3 s and under 300 MiB; the warm report within 3x its floor.
"""

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import admin_key_for, import_and_price, scratch_dir, start_uvicorn, stop_process  # noqa: E402
from devtools.sample_prm import generate, make_retailers  # noqa: E402
from devtools.tally_emulator import Bill, Company, Ledger, TallyServer, TallyState  # noqa: E402

COMPANY = "Bench Distributors"
# The floor: what any ageing report must at least ask the database for.
FLOOR_SQL = """
SELECT ledger_key, SUM(CASE WHEN d <= 0 THEN amount ELSE 0 END), SUM(CASE WHEN d BETWEEN 1 AND 30 THEN amount ELSE 0 END),
       SUM(CASE WHEN d BETWEEN 31 AND 60 THEN amount ELSE 0 END), SUM(CASE WHEN d BETWEEN 61 AND 90 THEN amount ELSE 0 END),
       SUM(CASE WHEN d > 90 THEN amount ELSE 0 END), MAX(d)
FROM (SELECT ledger_key, amount, julianday(?) - julianday(COALESCE(due_date, bill_date)) AS d FROM tally_open_bills)
GROUP BY ledger_key
"""
STOCK_SQL = """
SELECT s.retailer_code, SUM(s.units), SUM(CASE WHEN p.price IS NULL THEN 0 ELSE s.units * p.price END)
FROM prm_inventory_snapshot s JOIN products p ON p.goods_id = s.goods_id
WHERE s.run_id = ? GROUP BY s.retailer_code
"""
READ_SNIPPET = """
import resource, sys, time
from datetime import date
from credit.tally_bills import BillsReader
from tally_client import TallyClient
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
client = TallyClient(sys.argv[1], sys.argv[2], connect_timeout=5, read_timeout=120)
started = time.perf_counter()
answer = client.open_bills(date.today(), BillsReader, timeout=120)
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{took:.3f} {len(answer.bills)} {before:.0f} {peak:.0f}")
"""


def make_ledgers(names: list[str], bills: int, rng: random.Random) -> list[Ledger]:
    today = date.today()
    ledgers = [Ledger(name, "Sundry Debtors", "0.00", credit_limit=f"-{rng.randrange(1, 50) * 100000}.00",
                      credit_period=rng.choice(["30 Days", "45", ""]), is_bill_wise="Yes") for name in names]
    totals = [0] * len(ledgers)
    for n in range(bills):
        index = n % len(ledgers)
        paise = rng.randrange(1000_00, 2_00_000_00)
        totals[index] += paise
        billed = today - timedelta(days=rng.randrange(0, 400))
        period = rng.choice([None, "30 Days", "15 Days", ""])
        ledgers[index].bills.append(Bill(f"GST/{n:06d}", billed.strftime("%Y%m%d"), f"-{paise / 100:.2f}", period))
    for ledger, paise in zip(ledgers, totals):
        ledger.closing_balance = f"-{(paise + rng.randrange(0, 50_000_00)) / 100:.2f}"  # some received on account
    return ledgers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ledgers", type=int, default=2000)
    parser.add_argument("--bills", type=int, default=60_000)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    workdir = scratch_dir("bench-credit-")
    book, db = workdir / "prm.xlsx", workdir / "credit.db"
    print(f"generating {args.devices} devices at {args.ledgers} retailers, {args.bills} open bills ...", flush=True)
    generate(book, rows=args.devices, retailers=args.ledgers, goods=200)
    names = [r.name for r in make_retailers(args.ledgers, random.Random(7))]  # the names generate() used
    state = TallyState([Company(COMPANY, {"Sundry Debtors": None}, make_ledgers(names, args.bills, random.Random(11)))])
    tally = TallyServer(0, state).start()
    try:
        read = subprocess.run([sys.executable, "-c", READ_SNIPPET, tally.url, COMPANY], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.split()
        read_seconds, read_bills, rss_before, rss_peak = float(read[0]), int(read[1]), float(read[2]), float(read[3])

        url = f"sqlite:///{db}"
        key = admin_key_for(url, "bench-admin")
        server, base = start_uvicorn({"DATABASE_URL": url, "TALLY_HOST": tally.url, "TALLY_COMPANY": COMPANY,
                                      "TALLY_READ_TIMEOUT_SECONDS": "120", "TALLY_DEADLINE_SECONDS": "120",
                                      "LOG_LEVEL": "WARNING"}, cwd=ROOT)
        try:
            with httpx.Client(base_url=base, trust_env=False, headers={"X-API-Key": key}, timeout=600) as client:
                run_id = import_and_price(client, book)
                state.requests = 0
                started = time.perf_counter()
                cold = client.get("/reports/ageing")
                cold_seconds, cold_requests = time.perf_counter() - started, state.requests
                cold.raise_for_status()
                warm_times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    warm = client.get("/reports/ageing")
                    warm_times.append(time.perf_counter() - started)
                warm.raise_for_status()
                rows = len(warm.json()["rows"])
        finally:
            stop_process(server)
    finally:
        tally.stop()

    connection = sqlite3.connect(db)
    floor_times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        buckets = connection.execute(FLOOR_SQL, (date.today().isoformat(),)).fetchall()
        connection.execute(STOCK_SQL, (run_id,)).fetchall()
        floor_times.append(time.perf_counter() - started)
    connection.close()

    warm_median, floor = statistics.median(warm_times), statistics.median(floor_times)
    print(f"\n{args.ledgers} ledgers, {read_bills} open bills, {args.devices} devices; {rows} ageing rows, "
          f"{len(buckets)} ledgers with bills")
    print(f"bill read and parse          {read_seconds:8.2f} s   peak RSS {rss_peak:.0f} MiB "
          f"(from {rss_before:.0f} at start)   (target <= 3 s and < 300 MiB)")
    print(f"ageing report, cold (HTTP)   {cold_seconds:8.2f} s   Tally requests: {cold_requests}   (target: exactly 2)")
    print(f"floor: grouped SQL           {floor * 1000:8.1f} ms  (buckets per ledger + stock per retailer; "
          f"median of {args.repeat})")
    print(f"ageing report, warm (HTTP)   {warm_median * 1000:8.1f} ms  (median of {args.repeat})  "
          f"{warm_median / floor:5.1f}x floor   (target <= 3x)")


if __name__ == "__main__":
    main()
