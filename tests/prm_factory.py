"""Build PRM export rows for tests: valid IMEIs, the portal's header, one row per device."""

from typing import Any

from prm.cells import luhn_check_digit

HEADER = ["IMEI1", "IMEI2", "Goods ID", "Product Name", "Status", "Retailer ID", "Retailer Name",
          "City", "Inward Time", "Activation Time"]
TITLE_ROWS: list[list[Any]] = [["IMEI/SN Report"], ["Exported on 21-11-2026 10:00"], []]


def imei(n: int, prefix: str = "86") -> str:
    body = f"{prefix}{n:012d}"
    return body + luhn_check_digit(body)


def row(n: int, *, status: str = "Inward by Retailer", retailer: str | None = "R001",
        retailer_name: str | None = None, goods: str = "G1", product: str | None = None,
        imei1: Any = None, imei2: Any = "", inward: Any = "01-11-2026 10:00:00", activation: Any = "",
        city: str = "Jaipur") -> list[Any]:
    return [
        imei(n) if imei1 is None else imei1,
        imei2,
        goods,
        product if product is not None else f"Redmi Phone {goods}",
        status,
        retailer or "",
        (retailer_name if retailer_name is not None else f"Shop {retailer}") if retailer else "",
        city if retailer else "",
        inward,
        activation,
    ]


def sheet(*rows: list[Any], title: bool = True) -> list[list[Any]]:
    return [*(TITLE_ROWS if title else []), HEADER, *rows]
