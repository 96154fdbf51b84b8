"""Generate a realistic PRM IMEI workbook (the portal's "IMEI/SN Report" layout).

    python devtools/sample_prm.py out.xlsx --rows 100000 --retailers 500 --goods 200 [--bad-rows 3] [--reworded]

Title rows above the header, text and numeric IMEIs, real date cells and day-first text dates,
a realistic status mix. Deterministic for a given --seed.
"""

import argparse
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HEADER = ["IMEI1", "IMEI2", "SN", "Goods ID", "Product Name", "Color", "Memory", "Status",
          "Retailer ID", "Retailer Name", "Retailer Mobile", "City", "State", "Distributor Code",
          "Inward Time", "Activation Time"]
MODELS = ["Redmi 13C", "Redmi Note 13", "Redmi Note 13 Pro+", "POCO X6", "Xiaomi 14", "Redmi A3",
          "Redmi Pad SE", "Xiaomi Pad 6", "Redmi Buds 5", "Redmi Watch 4", "Xiaomi TV A 43", "Mi Power Bank 3i"]
CITIES = [("Jaipur", "Rajasthan"), ("Lucknow", "Uttar Pradesh"), ("Indore", "Madhya Pradesh"),
          ("Patna", "Bihar"), ("Nagpur", "Maharashtra"), ("Surat", "Gujarat")]
SHOP_WORDS = ["Mobile Point", "Telecom", "Mobiles", "Communication", "Electronics", "Mobile World"]
OWNERS = ["Sharma", "Gupta", "Verma", "Agarwal", "Singh", "Jain", "Khan", "Patel", "Yadav", "Mishra"]
# The portal's wording changed overnight: every row's status is unknown (--reworded).
REWORDED = {"Inward by Retailer": "Retailer Inwarded", "Activated": "Activation Done",
            "Outward by Distributor": "Distributor Outwarded", "Return to Distributor": "Returned To Distributor"}
STATUS_WEIGHTS = [("Inward by Retailer", 55), ("Activated", 35), ("Outward by Distributor", 7), ("Return to Distributor", 3)]
NOW = datetime(2026, 11, 20, 18, 0, 0)


def luhn_complete(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return body + str((10 - total % 10) % 10)


@dataclass
class Retailer:
    code: str
    name: str
    mobile: str
    city: str
    state: str


def make_retailers(count: int, rng: random.Random) -> list[Retailer]:
    retailers = []
    for index in range(count):
        city, state = CITIES[index % len(CITIES)]
        name = f"{OWNERS[index % len(OWNERS)]} {SHOP_WORDS[(index // len(OWNERS)) % len(SHOP_WORDS)]} {index + 1}"
        retailers.append(Retailer(f"RT{100000 + index}", name, f"9{rng.randrange(10**8, 10**9)}", city, state))
    return retailers


def make_goods(count: int) -> list[tuple[str, str]]:
    goods = []
    for index in range(count):
        model = MODELS[index % len(MODELS)]
        goods.append((f"MZB{index:05d}IN", f"{model} {4 + index % 3 * 2}GB+{64 * (1 + index % 4)}GB"))
    return goods


def device_rows(rows: int, retailers: list[Retailer], goods: list[tuple[str, str]], rng: random.Random) -> list[list[Any]]:
    statuses = [status for status, weight in STATUS_WEIGHTS for _ in range(weight)]
    out = []
    for index in range(rows):
        imei1 = luhn_complete(f"86{index:012d}")
        imei2 = luhn_complete(f"87{index:012d}")
        goods_id, name = goods[rng.randrange(len(goods))]
        status = statuses[rng.randrange(len(statuses))]
        retailer = retailers[rng.randrange(len(retailers))]
        inward = NOW - timedelta(days=rng.randrange(1, 120), minutes=rng.randrange(1440))
        activation: Any = ""
        if status == "Activated":
            activated = inward + timedelta(days=rng.randrange(0, 30), minutes=rng.randrange(600))
            activation = min(activated, NOW)
        shop = retailer if status != "Outward by Distributor" else None
        # The portal mixes cell types: IMEIs as numbers or text, dates as cells or day-first text.
        imei_cell: Any = int(imei1) if index % 3 == 0 else imei1
        inward_cell: Any = inward if index % 2 == 0 else inward.strftime("%d-%m-%Y %H:%M:%S")
        out.append([imei_cell, imei2, f"SN{index:010d}", goods_id, name, "Black", "8+128", status,
                    shop.code if shop else "", shop.name if shop else "", shop.mobile if shop else "",
                    shop.city if shop else "", shop.state if shop else "", "DIST001", inward_cell, activation])
    return out


def write_workbook(path: Path, rows: list[list[Any]]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("IMEI Details")
    date_format = workbook.add_format({"num_format": "dd-mm-yyyy hh:mm:ss"})
    sheet.write_row(0, 0, ["IMEI/SN Report"])
    sheet.write_row(1, 0, [f"Exported on {NOW:%d-%m-%Y %H:%M}"])
    sheet.write_row(3, 0, HEADER)
    for offset, row in enumerate(rows):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(4 + offset, column, value, date_format)
            elif value != "":
                sheet.write(4 + offset, column, value)
    workbook.close()


def generate(path: Path, *, rows: int, retailers: int = 500, goods: int = 200, bad_rows: int = 0, seed: int = 7,
             reworded: bool = False) -> None:
    rng = random.Random(seed)
    data = device_rows(rows, make_retailers(retailers, rng), make_goods(goods), rng)
    if reworded:
        for row in data:
            row[7] = REWORDED[row[7]]
    for index in range(min(bad_rows, len(data))):
        row = data[(index * 997) % len(data)]
        if index % 2 == 0:
            row[0] = str(row[0])[:14] + str((int(str(row[0])[14]) + 1) % 10)  # wrong check digit
        else:
            row[7] = "Lost in Transit"  # unknown status
    write_workbook(path, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--retailers", type=int, default=500)
    parser.add_argument("--goods", type=int, default=200)
    parser.add_argument("--bad-rows", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reworded", action="store_true", help="every status in new wording: every row invalid")
    args = parser.parse_args()
    generate(args.out, rows=args.rows, retailers=args.retailers, goods=args.goods, bad_rows=args.bad_rows, seed=args.seed,
             reworded=args.reworded)
    print(f"wrote {args.out} with {args.rows} rows")


if __name__ == "__main__":
    main()
