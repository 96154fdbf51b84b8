"""Benchmark a flood of bad rows: a PRM export whose status wording changed overnight.

    python bench/bench_bad_rows.py [--rows 200000]

Generates the workbook with every status in new wording (every row invalid), starts the service
with uvicorn on 127.0.0.1 (SQLite in a temporary folder, Tally on a closed loopback port) and
uploads it over HTTP as a user would: a dry run, then a real import. Prints, per attempt, the
answer, its time and how much the database grew, then the time, size and the server's peak RSS
of each run's "Download errors as Excel" (`GET /debug/sync-logs/{id}/errors.xlsx`). Targets
(issue 14): at most 40 MB of database per attempt; the errors workbook within 20 s with the
server under 1 GiB. Figures, not asserts.
"""

import argparse
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import (admin_key_for, free_port, reset_peak_rss, rss_mib, scratch_dir,  # noqa: E402
                               start_uvicorn, stop_process)


def generate(path: Path, rows: int) -> None:
    # In a child process, as bench_import does: the generator's memory is nobody's figure.
    subprocess.run([sys.executable, str(ROOT / "devtools" / "sample_prm.py"), str(path), "--rows", str(rows),
                    "--retailers", "500", "--goods", "200", "--reworded"], check=True, stdout=subprocess.DEVNULL)


def database_mb(db: Path) -> tuple[float, float]:
    """(pages the database holds, WAL included, as the file will be once checkpointed; the files on disk now)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    on_disk = sum(Path(f"{db}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{db}{suffix}").exists())
    return pages * size / 1e6, on_disk / 1e6


def newest_run_id(client: httpx.Client) -> int:
    return int(client.get("/debug/sync-logs", params={"limit": 1}).raise_for_status().json()["items"][0]["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()

    workdir = scratch_dir("bench-bad-rows-")
    book, db = workdir / "reworded.xlsx", workdir / "bad_rows.db"
    print(f"generating {args.rows} rows, every status in new wording ...", flush=True)
    generate(book, args.rows)
    key = admin_key_for(f"sqlite:///{db}", "bench-admin")
    closed_tally = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server, base = start_uvicorn({"DATABASE_URL": f"sqlite:///{db}", "TALLY_HOST": closed_tally, "LOG_LEVEL": "WARNING"},
                                 cwd=ROOT)
    attempts, downloads = [], []
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=600, trust_env=False) as client:
            for label, params in (("dry run", {"dry_run": "true"}), ("import", {})):
                before, _ = database_mb(db)
                reset_peak_rss(server.pid)
                started = time.perf_counter()
                with book.open("rb") as handle:
                    response = client.post("/run/prm-sync", params=params, files={"file": (book.name, handle)})
                took = time.perf_counter() - started
                after, on_disk = database_mb(db)
                body = response.json()
                attempts.append((label, response.status_code, took, after - before, on_disk, rss_mib(server.pid, "VmHWM"),
                                 body.get("detail") or body.get("errors_note") or body.get("status")))
                run_id = newest_run_id(client)
                reset_peak_rss(server.pid)
                started = time.perf_counter()
                workbook = client.get(f"/debug/sync-logs/{run_id}/errors.xlsx")
                took = time.perf_counter() - started
                downloads.append((label, run_id, workbook.status_code, took, len(workbook.content) / 1e6,
                                  rss_mib(server.pid, "VmHWM"), rss_mib(server.pid)))
    finally:
        stop_process(server)

    print(f"\n{args.rows} rows, every one invalid; {book.stat().st_size / 1e6:.1f} MB workbook; SQLite; one uvicorn process")
    print(f"{'attempt':<9} {'HTTP':>4} {'time s':>7} {'DB growth MB':>13} {'DB files MB':>12} {'server peak MiB':>16}  answer")
    for label, status, took, grown, on_disk, peak, said in attempts:
        print(f"{label:<9} {status:>4} {took:7.1f} {grown:13.1f} {on_disk:12.1f} {peak:16.0f}  {str(said)[:90]}")
    print("  (target: DB growth <= 40 MB per attempt)")
    print(f"\n{'errors.xlsx of':<15} {'run':>4} {'HTTP':>4} {'time s':>7} {'size MB':>8} {'server peak MiB':>16} {'RSS after MiB':>14}")
    for label, run_id, status, took, size, peak, after_rss in downloads:
        print(f"{label:<15} {run_id:>4} {status:>4} {took:7.2f} {size:8.2f} {peak:16.0f} {after_rss:14.0f}")
    print("  (target: < 20 s, server < 1024 MiB)")


if __name__ == "__main__":
    main()
