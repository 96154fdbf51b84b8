"""The product catalogue: reads, and categories derived from names for goods the PRM import creates.

A person's choice wins: once an admin sets a category, imports leave it alone.
"""

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Product
from kit.paging import PageParams, contains, paginate
from schemas import Page, ProductRead

# First match wins, so narrower words come before the brand words that also name phones.
CATEGORY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("TV", (" tv", "tv ", "television")),
    ("Pad", (" pad", "pad ", "tablet")),
    ("Wearables", ("watch", " band")),
    ("Audio", ("buds", "earphone", "headphone", "speaker", "soundbar", "neckband")),
    ("eco", ("power bank", "powerbank", "charger", "cable", "trimmer", "purifier", "vacuum",
             "scooter", "bulb", "lamp", "router", "camera", "adapter")),
)
DEFAULT_CATEGORY = "Phones"
# How goods are headed in the portal's export and in price lists (normalised, see `normalise_header`).
GOODS_ID_HEADERS = ("goods id", "goodsid", "sku", "sku code", "item code", "material code", "product code")
PRODUCT_NAME_HEADERS = ("product name", "goods name", "model", "model name", "item name")


def category_for_name(name: str) -> str:
    text = f" {name.lower()} "
    for category, words in CATEGORY_RULES:
        if any(word in text for word in words):
            return category
    return DEFAULT_CATEGORY


def list_products(session: Session, *, page: PageParams, category: str | None = None, search: str | None = None,
                  priced: bool | None = None) -> Page[ProductRead]:
    stmt = select(Product).order_by(Product.goods_id)
    if category:
        stmt = stmt.where(Product.category.ilike(category.strip()))
    if search and search.strip():
        pattern = contains(search)
        stmt = stmt.where(or_(Product.goods_id.ilike(pattern, escape="\\"), Product.name.ilike(pattern, escape="\\")))
    if priced is not None:
        stmt = stmt.where(Product.price.is_not(None) if priced else Product.price.is_(None))
    return paginate(session, stmt, page, ProductRead.model_validate)
