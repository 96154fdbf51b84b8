"""Which column is which: header names, their accepted variants, and the status vocabulary."""

import re
from dataclasses import dataclass, field
from typing import Any

REQUIRED_FIELDS = ("imei1", "goods_id", "product_name", "status", "retailer_code", "retailer_name")

# Normalised header text -> field. Keep each variant normalised (see `normalise_header`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "imei1": ("imei1", "imei 1", "imei", "imei no", "imei sn", "primary imei", "imei number"),
    "goods_id": ("goods id", "goodsid", "sku", "sku code", "item code", "material code", "product code"),
    "product_name": ("product name", "goods name", "model", "model name", "item name"),
    "status": ("status", "imei status", "stock status"),
    "retailer_code": ("retailer id", "retailer code", "store code", "dealer code", "outlet code"),
    "retailer_name": ("retailer name", "store name", "dealer name", "shop name"),
    "imei2": ("imei2", "imei 2", "secondary imei"),
    "serial": ("sn", "serial", "serial no", "serial number"),
    "activation_at": ("activation time", "activation date", "activated time", "activated date", "activation date time"),
    "inward_at": ("inward time", "inward date", "inward date time"),
    "color": ("color", "colour"),
    "memory": ("memory", "storage", "variant"),
    "distributor_code": ("distributor code", "distributor id"),
    "distributor_name": ("distributor name",),
    "region": ("region", "zone"),
    "state": ("state",),
    "city": ("city", "town"),
    "retailer_mobile": ("retailer mobile", "retailer phone", "mobile", "mobile no", "contact no"),
}
FIELD_BY_HEADER = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

# Portal status text (normalised) -> what it means here. One map, edited in one place.
STATUS_MAP: dict[str, str] = {
    "inward by retailer": "in_stock",
    "in stock": "in_stock",
    "retailer stock": "in_stock",
    "activated": "activated",
    "outward by distributor": "in_transit",
    "return to distributor": "returned",
}
STATUSES_AT_RETAILER = frozenset({"in_stock", "activated", "returned"})
KNOWN_STATUS_TEXT = "Inward by Retailer, In Stock, Retailer Stock, Activated, Outward by Distributor, Return to Distributor"

HEADER_SCAN_ROWS = 30
_HEADER_PUNCTUATION = re.compile(r"[_\-./()#]+")
_SPACES = re.compile(r"\s+")


def normalise_header(value: Any) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return _SPACES.sub(" ", _HEADER_PUNCTUATION.sub(" ", text.strip().lower())).strip()


def normalise_status(value: str) -> str:
    return _SPACES.sub(" ", value.strip().lower())


@dataclass
class HeaderMatch:
    """The header row of a sheet and where each field's column is."""

    row_index: int  # 0-based within the rows read
    columns: dict[str, int]  # field -> 0-based column index
    headers: list[str]  # header text as written in the file
    ignored: list[str] = field(default_factory=list)
    clashes: dict[str, list[str]] = field(default_factory=dict)  # field -> headers that all map to it

    @property
    def missing(self) -> list[str]:
        return [name for name in REQUIRED_FIELDS if name not in self.columns]


def match_header_row(cells: list[Any], row_index: int) -> HeaderMatch:
    headers = ["" if cell is None else str(cell).strip() for cell in cells]
    columns: dict[str, int] = {}
    seen: dict[str, list[str]] = {}
    ignored = []
    for index, header in enumerate(headers):
        if not header:
            continue
        name = FIELD_BY_HEADER.get(normalise_header(header))
        if name is None:
            ignored.append(header)
            continue
        seen.setdefault(name, []).append(header)
        columns.setdefault(name, index)
    clashes = {name: found for name, found in seen.items() if len(found) > 1}
    return HeaderMatch(row_index=row_index, columns=columns, headers=headers, ignored=ignored, clashes=clashes)


def find_header(rows: list[list[Any]]) -> tuple[HeaderMatch | None, HeaderMatch | None]:
    """(the header row, or None; the closest candidate, to explain a failure)."""
    best: HeaderMatch | None = None
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        candidate = match_header_row(cells, index)
        if not candidate.missing:
            return candidate, candidate
        if best is None or len(candidate.columns) > len(best.columns):
            best = candidate
    return None, best
