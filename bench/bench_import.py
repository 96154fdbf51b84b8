"""Benchmark the PRM import against the parse of the same file, in one run.

    python bench/bench_import.py [--rows 100000] [--naive-rows 20000] [--keep DIR]

Prints: the python-calamine parse of the workbook (load + every cell to Python), a first import
into an empty SQLite file, a re-import of the same file with force=true, and the naive path
(pandas read_excel with openpyxl, then one ORM merge per row) measured on a sample and
extrapolated. Also the peak RSS of the import process. Targets (issue #4): first import and
re-import at most 2.0x the parse; at least 20x faster than the naive path; peak RSS at most
1 GiB at 500k rows.
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.loopback import scratch_dir  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, rows: int) -> None:
    # In a child process, so the generator's memory never counts toward the import's peak RSS.
    subprocess.run([sys.executable, str(ROOT / "devtools" / "sample_prm.py"), str(path), "--rows", str(rows),
                    "--retailers", "500", "--goods", "200", "--bad-rows", "5"], check=True, stdout=subprocess.DEVNULL)


PARSE_SNIPPET = """
import sys, time
from python_calamine import CalamineWorkbook
started = time.perf_counter()
rows = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python(skip_empty_area=False)
print(time.perf_counter() - started)
"""


def time_parse(path: Path) -> float:
    """In a child process, so the parse's own memory never counts toward the import's peak RSS."""
    result = subprocess.run([sys.executable, "-c", PARSE_SNIPPET, str(path)], check=True, capture_output=True, text=True)
    return float(result.stdout.strip())


def time_import(url: str, book: Path, *, force: bool) -> tuple[float, object]:
    """The import as the HTTP route runs it: from the upload spooled to a file on disk."""
    import database
    import prm_import

    engine = database.make_engine(url)
    database.upgrade_schema(engine)
    try:
        with database.make_sessionmaker(engine)() as session:
            started = time.perf_counter()
            summary = prm_import.import_workbook(session, path=book, filename="bench.xlsx",
                                                 options=prm_import.ImportOptions(force=force))
            return time.perf_counter() - started, summary
    finally:
        engine.dispose()


def time_naive(path: Path, url: str) -> float:
    """pandas + openpyxl to read, then one `session.merge` per row: the path this service avoids."""
    import pandas as pd

    import database
    from models import Device, Product, PrmSyncRun, Retailer

    engine = database.make_engine(url)
    database.upgrade_schema(engine)
    started = time.perf_counter()
    frame = pd.read_excel(path, engine="openpyxl", header=3, dtype=str)
    with database.make_sessionmaker(engine)() as session:
        run = PrmSyncRun(status="running", file_name=path.name, file_sha256="0" * 64)
        session.add(run)
        session.flush()
        for record in frame.itertuples(index=False):
            imei, imei2, _sn, goods_id, name, _c, _m, status, code, shop = record[:10]
            session.merge(Product(goods_id=goods_id, name=name))
            if isinstance(code, str):
                session.merge(Retailer(code=code, name=shop))
            session.merge(Device(imei=imei, imei2=imei2, goods_id=goods_id, retailer_code=code if isinstance(code, str) else None,
                                 status=status, first_seen_run=run.id, last_seen_run=run.id))
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the generated files and databases in this folder")
    args = parser.parse_args()

    workdir = args.keep or scratch_dir("bench-import-")
    workdir.mkdir(parents=True, exist_ok=True)
    book = workdir / f"prm_{args.rows}.xlsx"
    print(f"generating {args.rows} rows (500 retailers, 200 goods) ...", flush=True)
    generate(book, args.rows)
    size = book.stat().st_size
    url = f"sqlite:///{workdir / 'bench.db'}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{workdir / 'bench.db'}{suffix}").unlink(missing_ok=True)

    parse = time_parse(book)
    first, summary = time_import(url, book, force=False)
    again, _ = time_import(url, book, force=True)
    rss = peak_rss_mib()

    print(f"\nfile: {book.name}, {size / 1024**2:.1f} MiB, {args.rows} rows")
    print(f"  imported {summary.rows_imported} rows, rejected {summary.rows_rejected}, "  # type: ignore[attr-defined]
          f"{summary.stock_units} units in stock")  # type: ignore[attr-defined]
    print(f"calamine parse            {parse:8.2f} s")
    print(f"first import              {first:8.2f} s   {first / parse:5.2f}x parse   (target <= 2.0x)")
    print(f"re-import (force=true)    {again:8.2f} s   {again / parse:5.2f}x parse   (target <= 2.0x)")
    print(f"peak RSS                  {rss:8.0f} MiB  (target <= 1024 MiB at 500k rows)")
    if not args.skip_naive:
        sample = workdir / f"prm_{args.naive_rows}.xlsx"
        generate(sample, args.naive_rows)
        naive_url = f"sqlite:///{workdir / 'naive.db'}"
        Path(workdir / "naive.db").unlink(missing_ok=True)
        naive = time_naive(sample, naive_url)
        extrapolated = naive * args.rows / args.naive_rows
        print(f"naive, {args.naive_rows} rows measured {naive:8.2f} s")
        print(f"naive, extrapolated to {args.rows} rows {extrapolated:8.2f} s   (extrapolated, not measured)")
        print(f"first import speed-up     {extrapolated / first:8.1f}x   (target >= 20x)")


if __name__ == "__main__":
    main()
