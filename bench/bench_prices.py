"""Benchmark a bulk price update against a plain executemany of the same rows, in one run.

    python bench/bench_prices.py [--items 5000] [--repeat 5]

Measures, on a fresh SQLite file: creating N products with prices through the price manager
(validation, history, one transaction), then changing all N prices, and as the floor a plain
driver `executemany` of the same rows: the same N `UPDATE products SET price` and N
`INSERT INTO price_history`, in one transaction, with no checks and no lookups.
Target (issue #5): the 5,000-item update at most 3x the plain executemany. Best of --repeat.
"""

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import database  # noqa: E402
from catalogue import prices  # noqa: E402
from devtools.loopback import scratch_dir  # noqa: E402
from schemas import PriceUpdate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    path = scratch_dir("bench-prices-") / "prices.db"
    engine = database.make_engine(f"sqlite:///{path}")
    database.upgrade_schema(engine)
    sessions = database.make_sessionmaker(engine)
    goods = [f"MZB{n:06d}IN" for n in range(args.items)]

    def updates(base: int) -> list[PriceUpdate]:
        return [PriceUpdate(goods_id=g, name=f"Model {n}", price=Decimal(base + n) / 100) for n, g in enumerate(goods)]

    with sessions() as session:
        started = time.perf_counter()
        created = prices.update_prices(session, updates=updates(100_000), note="bench create")
        create_time = time.perf_counter() - started

    service_times, plain_times = [], []
    for round_number in range(args.repeat):
        batch = updates(200_000 + round_number * 10_000)  # every price changes each round
        with sessions() as session:
            started = time.perf_counter()
            result = prices.update_prices(session, updates=batch, note="bench update")
            service_times.append(time.perf_counter() - started)
        assert result.updated == args.items, result.updated
        paise = [300_000 + round_number * 10_000 + n for n in range(len(goods))]
        now = "2026-11-25 00:00:00.000000"
        raw = engine.raw_connection()
        try:
            started = time.perf_counter()
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            cursor.executemany("UPDATE products SET price = ?, updated_at = ? WHERE goods_id = ?",
                               [(p, now, g) for p, g in zip(paise, goods)])
            cursor.executemany(
                "INSERT INTO price_history (goods_id, old_price, new_price, source, changed_by, changed_at, note) "
                "VALUES (?, ?, ?, 'admin_api', NULL, ?, 'plain')", [(g, p - 1, p, now) for p, g in zip(paise, goods)])
            cursor.execute("COMMIT")
            plain_times.append(time.perf_counter() - started)
        finally:
            raw.close()
    engine.dispose()

    service, plain = min(service_times), min(plain_times)
    print(f"items                          {args.items}")
    print(f"create {args.items} priced products    {create_time * 1000:8.1f} ms  ({created.history_rows} history rows)")
    print(f"update {args.items} prices (service)   {service * 1000:8.1f} ms  (best of {args.repeat})")
    print(f"plain executemany, same rows    {plain * 1000:8.1f} ms  (best of {args.repeat})")
    print(f"ratio service / plain          {service / plain:8.2f}x   (target <= 3x)")


if __name__ == "__main__":
    main()
