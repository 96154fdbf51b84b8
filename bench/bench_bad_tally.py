"""Benchmark the bad days of Tally: hung, trickling, cut short, HTTP 500, HTML instead of XML.

    python bench/bench_bad_tally.py [--retailers 50] [--waiting 20]

Starts the loopback Tally emulator (devtools/tally_emulator.py) and the service with uvicorn on
127.0.0.1 with the default Tally settings (10 s deadline, 30 s read timeout, 30 s breaker) but a
3-second cache TTL, so a balance cached a moment ago is already stale. Imports a generated PRM
workbook and reads every balance once on a good day. Then, for each fault, in a new service
process (the breaker starts closed): the OD report while Tally misbehaves, the same report right
after, and one ledger's balance. Last, with nothing cached and Tally hung: `--waiting` balance
asks and a few OD reports at once, and meanwhile `/`, `/health` and `/retailers`. Prints a
table. Targets (issue 14): a stale answer within 12 s, a second ask within 3 s, `/` and
`/health` within 2 s while reports wait, and a 503 within 40 s with nothing cached.
"""

import argparse
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import admin_key_for, scratch_dir, start_uvicorn, stop_process  # noqa: E402
from devtools.sample_prm import generate, make_retailers  # noqa: E402
from devtools.tally_emulator import FAULTS, Company, Ledger, TallyServer, TallyState  # noqa: E402

COMPANY = "Bad Day Distributors"
REPORT = "/reports/negative"


def timed(client: httpx.Client, path: str, **params: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    return time.perf_counter() - started, response


def report_sources(response: httpx.Response) -> str:
    """How the report's balances were sourced, e.g. 'stale_cache x50'."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    body = response.json()
    counts = Counter(row["balance_source"] for row in body["rows"])
    if body["balance_unavailable"]:
        counts["unavailable"] = len(body["balance_unavailable"])
    return ", ".join(f"{source} x{count}" for source, count in sorted(counts.items())) or "no rows"


def balance_source(response: httpx.Response) -> str:
    return response.json().get("source", "?") if response.status_code == 200 else f"HTTP {response.status_code}"


def one_fault(env: dict[str, str], key: str, state: TallyState, fault: str, ledger: str) -> tuple[Any, ...]:
    server, base = start_uvicorn(env, cwd=ROOT)
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120, trust_env=False) as client:
            state.set_fault(fault)
            first, first_response = timed(client, REPORT)
            second, second_response = timed(client, REPORT)
            ask, ask_response = timed(client, "/tally/closing-balance", ledger=ledger)
    finally:
        state.set_fault(None)  # releases a hung request
        stop_process(server)
    return (fault, first, report_sources(first_response), second, report_sources(second_response), ask,
            balance_source(ask_response))


def hung_with_nothing_cached(env: dict[str, str], key: str, state: TallyState, ledgers: list[str],
                             waiting: int) -> dict[str, Any]:
    server, base = start_uvicorn(env, cwd=ROOT)
    state.set_fault("hang")

    def get(path: str, **params: str) -> tuple[float, int]:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120, trust_env=False) as client:
            took, response = timed(client, path, **params)
            return took, response.status_code

    try:
        with ThreadPoolExecutor(waiting + 5) as pool:
            asks = [pool.submit(get, "/tally/closing-balance", ledger=ledgers[n % len(ledgers)]) for n in range(waiting)]
            reports = [pool.submit(get, REPORT) for _ in range(5)]
            time.sleep(1)  # the asks are in, waiting on Tally
            side = {path: [get(path) for _ in range(5)] for path in ("/", "/health", "/retailers")}
            asks_done = [future.result() for future in asks]
            reports_done = [future.result() for future in reports]
    finally:
        state.set_fault(None)
        stop_process(server)
    return {"side": side, "asks": asks_done, "reports": reports_done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--retailers", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=20, help="balance asks sent at once to the hung Tally")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of {', '.join(FAULTS)}")
    parser.add_argument("--deadline", default="10", help="TALLY_DEADLINE_SECONDS (default: the default, 10)")
    parser.add_argument("--read-timeout", default="30", help="TALLY_READ_TIMEOUT_SECONDS (default: the default, 30)")
    args = parser.parse_args()

    workdir = scratch_dir("bench-bad-tally-")
    book = workdir / "prm.xlsx"
    generate(book, rows=2000, retailers=args.retailers, goods=20)
    rng = random.Random(5)
    names = [retailer.name for retailer in make_retailers(args.retailers, random.Random(7))]  # generate()'s names
    state = TallyState([Company(COMPANY, {"Sundry Debtors": None},
                                [Ledger(name, "Sundry Debtors", f"-{rng.randrange(1000_00, 900_000_00) / 100:.2f}")
                                 for name in names])])
    tally = TallyServer(0, state).start()
    common = {"TALLY_HOST": tally.url, "TALLY_COMPANY": COMPANY, "CACHE_TTL_MINUTES": "0.05", "LOG_LEVEL": "ERROR",
              "TALLY_DEADLINE_SECONDS": args.deadline, "TALLY_READ_TIMEOUT_SECONDS": args.read_timeout}
    cached_env = {**common, "DATABASE_URL": f"sqlite:///{workdir / 'cached.db'}"}
    empty_env = {**common, "DATABASE_URL": f"sqlite:///{workdir / 'empty.db'}"}
    cached_key = admin_key_for(cached_env["DATABASE_URL"], "bench-admin")
    empty_key = admin_key_for(empty_env["DATABASE_URL"], "bench-admin")
    try:
        for env, key in ((cached_env, cached_key), (empty_env, empty_key)):
            server, base = start_uvicorn(env, cwd=ROOT)
            try:
                with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=300, trust_env=False) as client:
                    with book.open("rb") as handle:
                        client.post("/run/prm-sync", files={"file": (book.name, handle)}).raise_for_status()
                    if env is cached_env:  # a good day: every balance read once
                        primed = client.get(REPORT).raise_for_status()
                        print(f"good day: OD report {report_sources(primed)}", flush=True)
            finally:
                stop_process(server)
        time.sleep(3.5)  # past the 3-second TTL: every cached balance is stale now

        results = []
        for fault in args.faults.split(","):
            print(f"fault {fault} ...", flush=True)
            results.append(one_fault(cached_env, cached_key, state, fault, names[0]))
        print(f"hung Tally, nothing cached, {args.waiting} balance asks and 5 OD reports at once ...", flush=True)
        hung = hung_with_nothing_cached(empty_env, empty_key, state, names, args.waiting)
    finally:
        tally.stop()

    print(f"\n{args.retailers} retailers with a cached balance (stale: 3 s TTL); deadline {args.deadline} s, "
          f"read timeout {args.read_timeout} s")
    print(f"{'fault':<8} {'1st report s':>12}  {'sources':<20} {'2nd report s':>12}  {'sources':<20} "
          f"{'balance s':>9}  source")
    for fault, first, first_sources, second, second_sources, ask, source in results:
        print(f"{fault:<8} {first:12.2f}  {first_sources:<20} {second:12.2f}  {second_sources:<20} {ask:9.2f}  {source}")
    print("  (targets: 1st report stale within 12 s; 2nd report and balance within 3 s)")
    print(f"\nhung Tally, nothing cached; while {args.waiting} balance asks and 5 OD reports wait:")
    for path, answers in hung["side"].items():
        print(f"  GET {path:<11} max {max(took for took, _ in answers) * 1000:7.0f} ms over {len(answers)}, "
              f"HTTP {sorted({status for _, status in answers})}" + ("   (target <= 2 s)" if path != "/retailers" else ""))
    for label, answers in (("balance asks", hung["asks"]), ("OD reports", hung["reports"])):
        statuses = Counter(status for _, status in answers)
        print(f"  {label:<13} slowest {max(took for took, _ in answers):6.2f} s, "
              f"HTTP {dict(sorted(statuses.items()))}" + ("   (target: 503 within 40 s)" if label == "balance asks" else ""))


if __name__ == "__main__":
    main()
