"""`make demo`: the whole service on the embedded default, with a loopback Tally, in one command.

Generates a sample PRM workbook, starts the Tally emulator on 127.0.0.1 with matching ledgers
(some owing more than their stock, one credit balance, one name Tally does not know), starts the
service on SQLite at http://127.0.0.1:8000, imports the file, sets prices, prints the OD report
as a table, and leaves both running for you to explore /docs. Ctrl-C stops both.
"""

import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import admin_key_for, free_port  # noqa: E402
from devtools.sample_prm import generate, make_goods, make_retailers  # noqa: E402
from devtools.tally_emulator import Company, Ledger, TallyServer, TallyState  # noqa: E402
from kit.money import format_inr  # noqa: E402

DEMO_DIR = ROOT / "demo_data"
RETAILERS, GOODS, ROWS = 40, 30, 3000
PORT = int(os.environ.get("DEMO_PORT", "8000"))


def demo_ledgers() -> list[Ledger]:
    rng = random.Random(3)
    ledgers = []
    for index, retailer in enumerate(make_retailers(RETAILERS, random.Random(7))):
        if index == 5:
            continue  # this retailer has no ledger in Tally: it shows up as unmatched
        if index == 7:
            ledgers.append(Ledger(retailer.name, "Sundry Debtors", "45000.00"))  # a credit balance: we owe them
            continue
        owed = rng.choice([60_000, 150_000, 400_000, 900_000, 2_500_000]) + rng.randrange(0, 100_000)
        ledgers.append(Ledger(retailer.name, "Sundry Debtors", f"-{owed}.{rng.randrange(100):02d}"))
    ledgers.append(Ledger("HDFC Bank", "Bank Accounts", "-1500000.00"))
    return ledgers


def print_report(report: dict) -> None:
    owing = "1 retailer owes" if len(report["rows"]) == 1 else f"{len(report['rows'])} retailers owe"
    print(f"\nNegative / OD report (stock from import run {report['prm_run_id']}; {owing} "
          "more than their stock is worth)\n")
    print(f"{'Code':<10} {'Retailer':<28} {'Owed (Rs)':>15} {'Units':>6} {'Stock value':>15} {'OD (Rs)':>15}  Source")
    print("-" * 104)
    for row in report["rows"]:
        print(f"{', '.join(row['retailer_codes']):<10} {row['retailer_name'][:28]:<28} "
              f"{format_inr(Decimal(row['closing_balance'])):>15} {row['stock_units']:>6} "
              f"{format_inr(Decimal(row['stock_value'])):>15} {format_inr(Decimal(row['od_amount'])):>15}  "
              f"{row['balance_source']}")
    totals = report["totals"]
    print("-" * 104)
    print(f"{'Total':<39} {format_inr(Decimal(totals['closing_balance'])):>15} {'':>6} "
          f"{format_inr(Decimal(totals['stock_value'])):>15} {format_inr(Decimal(totals['od_amount'])):>15}")
    for item in report["unmatched_retailers"]:
        print(f"\nNot matched to a Tally ledger: {item['retailer_code']} {item['retailer_name']} ({item['stock_units']} units)")
    for item in report["credit_balances"]:
        print(f"Credit balance (we owe them): {item['ledger_name']} {format_inr(Decimal(item['closing_balance']))}")
    for warning in report["warnings"]:
        print(f"Note: {warning}")


def main() -> None:
    DEMO_DIR.mkdir(exist_ok=True)
    for stale in DEMO_DIR.glob("demo.db*"):
        stale.unlink()
    book = DEMO_DIR / "prm_imei_sample.xlsx"
    generate(book, rows=ROWS, retailers=RETAILERS, goods=GOODS, bad_rows=2)
    print(f"wrote {book.relative_to(ROOT)} ({ROWS} rows, 2 of them bad on purpose)")

    database_url = f"sqlite:///{DEMO_DIR / 'demo.db'}"
    admin_key = admin_key_for(database_url, "demo-admin")

    tally = TallyServer(free_port(), TallyState([Company(
        "Galaxy Mobile Distributors", {"Sundry Debtors": None, "Bank Accounts": None}, demo_ledgers())])).start()
    print(f"Tally emulator on {tally.url}")
    env = {**os.environ, "DATABASE_URL": database_url, "TALLY_HOST": tally.url,
           "TALLY_COMPANY": "Galaxy Mobile Distributors", "PRM_FILE_PATH": str(book)}
    service = subprocess.Popen([sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(PORT),
                                "--no-access-log"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{PORT}"
    try:
        with httpx.Client(base_url=url, timeout=120, trust_env=False, headers={"X-API-Key": admin_key}) as client:
            for _ in range(150):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise SystemExit(f"the service did not start on {url}")
            summary = client.post("/run/prm-sync").json()
            print(f"\nimported run {summary['run_id']}: {summary['rows_imported']} of {summary['rows_total']} rows, "
                  f"{summary['rows_rejected']} rejected, {summary['stock_units']} units in retailer stock")
            for error in summary["errors"]:
                print(f"  row {error['row']} {error['column']}: {error['message']}")
            rng = random.Random(5)
            updates = [{"goods_id": goods_id, "price": f"{rng.choice([8999, 11999, 14999, 19999, 27999])}.00"}
                       for goods_id, _ in make_goods(GOODS)[:-2]]  # the last two stay unpriced on purpose
            client.post("/admin/products/prices", json={"updates": updates, "note": "demo price list"}).raise_for_status()
            print_report(client.get("/reports/negative").json())
        print(f"\nThe service is running at {url}: the office page is {url}/ui/ and the Swagger UI {url}/docs.")
        print(f"Sign in with the demo's admin key: {admin_key}")
        print("Ctrl-C stops the service and the Tally emulator.")
        service.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if service.poll() is None:
            service.send_signal(signal.SIGINT)
            try:
                service.wait(10)
            except subprocess.TimeoutExpired:
                service.kill()
        tally.stop()


if __name__ == "__main__":
    main()
