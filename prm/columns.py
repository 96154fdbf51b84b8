"""Which column is which: header names, their accepted variants, and the status vocabulary."""

import re

from catalogue.products import GOODS_ID_HEADERS, PRODUCT_NAME_HEADERS
from kit.workbooks import HeaderSpec

REQUIRED_FIELDS = ("imei1", "goods_id", "product_name", "status", "retailer_code", "retailer_name")

# Normalised header text -> field. Keep each variant normalised (see `normalise_header`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "imei1": ("imei1", "imei 1", "imei", "imei no", "imei sn", "primary imei", "imei number"),
    "goods_id": GOODS_ID_HEADERS,
    "product_name": PRODUCT_NAME_HEADERS,
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

PRM_COLUMNS = HeaderSpec(
    aliases=HEADER_ALIASES,
    required=REQUIRED_FIELDS,
    titles={
        "imei1": "IMEI1", "goods_id": "Goods ID", "product_name": "Product Name", "status": "Status",
        "retailer_code": "Retailer ID", "retailer_name": "Retailer Name",
    },
)
_SPACES = re.compile(r"\s+")


def normalise_status(value: str) -> str:
    return _SPACES.sub(" ", value.strip().lower())
