"""Load test: N concurrent clients against the list and report endpoints, for a bounded time.

    python bench/load.py [--clients 50] [--seconds 20] [--workers 2] [--import-during] [--url URL --key KEY]

Without --url it starts its own service on 127.0.0.1 (SQLite in a temporary folder, a loopback
Tally emulator, a 20,000-device import and prices) with serve.py, exactly as `make run` serves it
(WORKERS processes, default 2; --workers to try others). It prints requests per second,
p50/p95/p99 per endpoint and the error count. Target (issue #8): zero errors and p95 under 100 ms
for the list endpoints. Only 127.0.0.1 is ever contacted. With --import-during one PRM import of
a 100,000-row workbook starts a second into the measured run, and the latencies of the requests
sent while it ran are printed apart.

Each client is one keep-alive HTTP/1.1 connection sending its next request as soon as the last
answer is in (no think time). The clients are plain asyncio streams rather than an HTTP library,
so that the load generator, which shares the 2 cores with the server, uses as little CPU as it can.
"""

import argparse
import asyncio
import threading
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import admin_key_for, free_port, scratch_dir  # noqa: E402
from devtools.sample_prm import generate, make_goods, make_retailers  # noqa: E402
from devtools.tally_emulator import Company, Ledger, TallyServer, TallyState  # noqa: E402

LIST_PATHS = ["/retailers", "/products", "/inventory?retailer_code=RT100007", "/activations?limit=100",
              "/retailers?search=sharma", "/debug/sync-logs"]
REPORT_PATH = "/reports/negative"


IMPORT_ROWS = 100_000


def prepare_service(workdir: Path, workers: int, import_during: bool) -> tuple[str, str, subprocess.Popen[bytes], TallyServer]:
    book, db = workdir / "prm.xlsx", workdir / "load.db"
    generate(book, rows=20_000, retailers=300, goods=60)
    if import_during:
        generate(workdir / "during.xlsx", rows=IMPORT_ROWS, retailers=300, goods=60, seed=11)
    ledgers = [Ledger(r.name, "Sundry Debtors", f"-{random.Random(n).randrange(10**8) / 100:.2f}")
               for n, r in enumerate(make_retailers(300, random.Random(7)))]
    tally = TallyServer(0, TallyState([Company("Load Test Co", {"Sundry Debtors": None}, ledgers)])).start()
    url = f"sqlite:///{db}"
    admin = admin_key_for(url, "load-admin")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TALLY_HOST": tally.url, "TALLY_COMPANY": "Load Test Co", "LOG_LEVEL": "WARNING"}
    env["WORKERS"] = str(workers)
    server = subprocess.Popen([sys.executable, "serve.py", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    with httpx.Client(base_url=base, headers={"X-API-Key": admin}, timeout=300, trust_env=False) as client:
        client.post("/run/prm-sync", files={"file": ("prm.xlsx", book.read_bytes())}).raise_for_status()
        client.post("/admin/products/prices", json={"updates": [
            {"goods_id": g, "price": f"{9000 + n * 11}.00"} for n, (g, _) in enumerate(make_goods(60))]}).raise_for_status()
        client.get(REPORT_PATH).raise_for_status()  # warm the Tally cache
    return base, admin, server, tally


class ImportDuring:
    """One import posted from a thread during the load: when it ran and what it answered."""

    def __init__(self, base: str, key: str, book: Path, delay: float) -> None:
        self.base, self.key, self.book, self.delay = base, key, book, delay
        self.started = self.ended = 0.0
        self.status = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        time.sleep(self.delay)
        data = self.book.read_bytes()
        self.started = time.perf_counter()
        with httpx.Client(base_url=self.base, headers={"X-API-Key": self.key}, timeout=600, trust_env=False) as client:
            response = client.post("/run/prm-sync", params={"confirm_shrink": "true"},
                                   files={"file": ("during.xlsx", data)})
        self.ended, self.status = time.perf_counter(), response.status_code


async def run_load(base: str, key: str, clients: int, seconds: float,
                   samples: list[tuple[float, float]] | None = None) -> dict[str, list[float]]:
    """Latencies per endpoint; `samples` (if given) collects (sent at, seconds) of every list request."""
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    paths = LIST_PATHS * 4 + [REPORT_PATH]  # mostly lists, now and then the report
    host, port = base.removeprefix("http://").split(":")

    async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, bytes]:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ValueError("answer without Content-Length")
        return int(head[9:12]), await reader.readexactly(length)

    async def client_loop(number: int) -> None:
        rng = random.Random(number)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                path = rng.choice(paths)
                started = time.perf_counter()
                try:
                    status, _body = await asyncio.wait_for(get(reader, writer, path), 30)
                except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError) as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                elapsed = time.perf_counter() - started
                if status == 200:
                    latencies.setdefault(path.split("?")[0] if path != REPORT_PATH else path, []).append(elapsed)
                    if samples is not None and path != REPORT_PATH:
                        samples.append((started, elapsed))
                else:
                    errors.append(f"{path}: HTTP {status}")
        finally:
            writer.close()

    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    latencies["errors"] = [float(len(errors))]
    if errors:
        print("first errors:", errors[:5])
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--url", help="a running service on 127.0.0.1 (default: start one)")
    parser.add_argument("--key", help="an API key for --url")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the service it starts (as WORKERS)")
    parser.add_argument("--import-during", action="store_true",
                        help=f"run one {IMPORT_ROWS:,}-row PRM import during the measured load (own service only)")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit("load tests only run against 127.0.0.1 / localhost")

    if args.url and args.import_during:
        raise SystemExit("--import-during needs the service this script starts (no --url)")

    server = tally = None
    importer: ImportDuring | None = None
    samples: list[tuple[float, float]] = []
    if args.url:
        base, key = args.url.rstrip("/"), args.key or ""
    else:
        print("preparing a service with 20,000 devices, 300 retailers ...", flush=True)
        workdir = scratch_dir("bench-load-")
        base, key, server, tally = prepare_service(workdir, args.workers, args.import_during)
        if args.import_during:
            importer = ImportDuring(base, key, workdir / "during.xlsx", delay=1.0)
    try:
        asyncio.run(run_load(base, key, args.clients, 2))  # warm-up, not counted: each worker's first queries compile
        started = time.perf_counter()
        if importer is not None:
            importer.thread.start()
        latencies = asyncio.run(run_load(base, key, args.clients, args.seconds, samples))
        elapsed = time.perf_counter() - started
        if importer is not None:
            importer.thread.join(600)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if tally is not None:
            tally.stop()

    errors = int(latencies.pop("errors")[0])
    total = sum(len(values) for values in latencies.values())
    everything = [value for path, values in latencies.items() if path != REPORT_PATH for value in values]
    if server is not None:
        print(f"\nservice: serve.py with {args.workers} worker process(es), SQLite, default settings")
    print(f"\n{args.clients} clients for {elapsed:.0f} s: {total} requests, {total / elapsed:.0f} requests/s, {errors} errors")
    print(f"{'endpoint':<24} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for path, values in sorted(latencies.items()):
        print(f"{path:<24} {len(values):>7} {statistics.median(values) * 1000:>8.1f} "
              f"{percentile(values, 0.95) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f}")
    print(f"{'all list endpoints':<24} {len(everything):>7} {statistics.median(everything) * 1000:>8.1f} "
          f"{percentile(everything, 0.95) * 1000:>8.1f} {percentile(everything, 0.99) * 1000:>8.1f}   (target p95 < 100 ms)")
    if importer is not None:
        during = [seconds for sent, seconds in samples if importer.started <= sent <= importer.ended]
        print(f"\nimport of {IMPORT_ROWS:,} rows during the load: HTTP {importer.status} in "
              f"{importer.ended - importer.started:.1f} s")
        if during:
            print(f"{'list requests meanwhile':<24} {len(during):>7} {statistics.median(during) * 1000:>8.1f} "
                  f"{percentile(during, 0.95) * 1000:>8.1f} {percentile(during, 0.99) * 1000:>8.1f}   "
                  f"({len(during) / max(importer.ended - importer.started, 0.001):.0f} requests/s)")


if __name__ == "__main__":
    main()
