"""The price manager: bulk price updates with a complete history, price-list workbooks, reads.

Every write is one transaction: all updates of a request are checked first, then written with
two bulk statements, or none is written. `price_history` gets one row per real change.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from access import audit
from kit import bulk
import errors
from database import begin_write
from access.actor import SYSTEM, Actor
from catalogue.products import GOODS_ID_HEADERS, PRODUCT_NAME_HEADERS, category_for_name
from models import PriceHistory, Product, utcnow
from kit.money import from_paise, to_paise
from kit.paging import PageParams, check_period, paginate
from kit.cells import cell_text, parse_price
from schemas import (
    Page,
    PriceAsOf,
    PriceChange,
    PriceHistoryRead,
    PriceUpdate,
    PriceUpdateResult,
    ProductDetail,
    ProductRead,
)
from kit.files import (Download, clean_upload_name, from_inert_text, header_sheet, inert_text, put_rupees,
                       upload_bytes, xlsx_download)
from kit.workbook_gate import PRICE_LIST_LIMITS
from kit.workbooks import FileProblem, HeaderSpec, open_sheet

RECENT_CHANGES = 20

PRICE_LIST_COLUMNS = HeaderSpec(
    aliases={
        "goods_id": GOODS_ID_HEADERS,
        "price": ("price", "dp", "dealer price", "dealer price dp", "new price", "price inr", "price rs"),
        "name": ("name", *PRODUCT_NAME_HEADERS),
        "category": ("category", "product category"),
    },
    required=("goods_id", "price"),
    titles={"goods_id": "Goods ID", "price": "Price", "name": "Name", "category": "Category"},
)
TEMPLATE_HEADER = ["Goods ID", "Name", "Category", "Price"]


class PriceUpdatesRejected(errors.InvalidInput):
    pass


@dataclass(frozen=True, slots=True)
class _Stored:
    """A product as the driver returns it: price in integer paise."""

    goods_id: str
    name: str
    category: str | None
    category_locked: bool
    price_paise: int | None


def _existing_products(session: Session, goods_ids: list[str]) -> dict[str, _Stored]:
    connection = session.connection()
    mark = bulk.marker(connection)
    # FOR UPDATE (PostgreSQL): a concurrent update waits, so each history row's old price is true.
    lock = "" if connection.dialect.name == "sqlite" else " FOR UPDATE"
    found: dict[str, _Stored] = {}
    for chunk in bulk.chunks(goods_ids):
        sql = (f"SELECT goods_id, name, category, category_locked, price FROM products "
               f"WHERE goods_id IN ({', '.join([mark] * len(chunk))}){lock}")
        for goods_id, name, category, locked, paise in connection.exec_driver_sql(sql, tuple(chunk)).fetchall():
            found[goods_id] = _Stored(goods_id, name, category, bool(locked), paise)
    return found


@dataclass(frozen=True)
class _Located:
    """An update and how to name its fields in an error: updates[3].price, or row 7, Price."""

    update: PriceUpdate
    where: list[str | int]  # e.g. ["body", "updates", 3] or ["row", 7]


def _field_loc(located: _Located, field: str) -> list[str | int]:
    return [*located.where, field]


def _check_against_catalogue(located: list[_Located], existing: dict[str, _Stored]) -> list[errors.ErrorItem]:
    problems = []
    first_seen: dict[str, list[str | int]] = {}
    for entry in located:
        goods_id = entry.update.goods_id
        if goods_id in first_seen:
            problems.append(errors.item(_field_loc(entry, "goods_id"),
                                        f"{goods_id} is already at {errors.field_path(first_seen[goods_id])}", "duplicate"))
            continue
        first_seen[goods_id] = entry.where
        if goods_id not in existing and not entry.update.name:
            problems.append(errors.item(_field_loc(entry, "name"),
                                        f"is required because {goods_id} is a new product", "missing"))
    return problems


def _apply(session: Session, located: list[_Located], *, source: str, actor: Actor,
           note: str | None, what: str, skipped: int = 0, dry_run: bool = False) -> PriceUpdateResult:
    """Check everything, then write everything in one transaction (or nothing; always nothing on a dry run)."""
    goods_ids = [entry.update.goods_id for entry in located]
    session.rollback()  # end any read transaction so the write lock is taken first
    begin_write(session)
    existing = _existing_products(session, goods_ids)
    problems = _check_against_catalogue(located, existing)
    if problems:
        shown = "; ".join(f"{errors.field_path(problem.loc)}: {problem.msg}" for problem in problems[:5])
        raise PriceUpdatesRejected(f"{what}: {len(problems)} of {len(located)} entries are invalid, so no price "
                                   f"was changed: {shown}{' ...' if len(problems) > 5 else ''}.", problems)

    connection = session.connection()
    now = utcnow()
    when = bulk.datetime_writer(connection.dialect.name)(now)
    changed_by = actor.name
    items: list[PriceChange] = []
    history: list[tuple[Any, ...]] = []
    new_products: list[tuple[Any, ...]] = []
    # Prices and descriptions are updated apart: rewriting an unchanged indexed name costs as
    # much as the price change itself.
    repriced_products: list[tuple[Any, ...]] = []
    described_products: list[tuple[Any, ...]] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for entry in located:
        update = entry.update
        paise = to_paise(update.price)
        stored = existing.get(update.goods_id)
        if stored is None:
            name = update.name or update.goods_id
            new_products.append((update.goods_id, name, update.category or category_for_name(name),
                                 update.category is not None, paise, when, when))
            history.append((update.goods_id, None, paise, source, changed_by, when, note))
            change, old_price = "created", None
        else:
            old_price = None if stored.price_paise is None else from_paise(stored.price_paise)
            price_changed = stored.price_paise != paise
            if ((update.name is not None and update.name != stored.name)
                    or (update.category is not None and update.category != stored.category)):
                described_products.append((update.name or stored.name, update.category or stored.category,
                                           stored.category_locked or update.category is not None, when, stored.goods_id))
            if price_changed:
                repriced_products.append((paise, when, stored.goods_id))
            if price_changed:
                history.append((stored.goods_id, stored.price_paise, paise, source, changed_by, when, note))
            change = "updated" if price_changed else "unchanged"
        counts[change] += 1
        items.append(PriceChange(goods_id=update.goods_id, old_price=old_price, new_price=update.price, change=change))
    if dry_run:
        return _preview(session, items, counts, skipped=skipped, history_rows=len(history))

    bulk.executemany(connection, bulk.insert_sql(
        connection, "products", ("goods_id", "name", "category", "category_locked", "price", "created_at", "updated_at")),
        new_products)
    bulk.executemany(connection, bulk.update_sql(connection, "products", ("price", "updated_at"), "goods_id"),
                     repriced_products)
    bulk.executemany(connection, bulk.update_sql(
        connection, "products", ("name", "category", "category_locked", "updated_at"), "goods_id"),
        described_products)
    bulk.executemany(connection, bulk.insert_sql(
        connection, "price_history", ("goods_id", "old_price", "new_price", "source", "changed_by", "changed_at", "note")),
        history)
    audit.record(session, actor, f"prices.{source}", target=what, detail={
        **counts, "skipped": skipped, "history_rows": len(history),
        "goods": [entry.update.goods_id for entry in located[:50]]})
    session.commit()
    return PriceUpdateResult.model_construct(**counts, skipped=skipped, history_rows=len(history), items=items)


def _preview(session: Session, items: list[PriceChange], counts: dict[str, int], *, skipped: int,
             history_rows: int) -> PriceUpdateResult:
    """A dry run's answer: what would change, each item with its last change so an undo shows."""
    last: dict[str, PriceHistoryRead] = {}
    for chunk in bulk.chunks([item["goods_id"] for item in items]):
        newest = (select(func.max(PriceHistory.id)).where(PriceHistory.goods_id.in_(chunk))
                  .group_by(PriceHistory.goods_id))
        for change in session.scalars(select(PriceHistory).where(PriceHistory.id.in_(newest))):
            last[change.goods_id] = PriceHistoryRead.model_validate(change)
    session.rollback()  # releases the write lock; nothing was written
    for item in items:
        item["last_change"] = last.get(item["goods_id"])
    return PriceUpdateResult.model_construct(**counts, skipped=skipped, history_rows=history_rows, items=items)


def update_prices(session: Session, *, updates: list[PriceUpdate], note: str | None = None,
                  source: str = "admin_api", actor: Actor = SYSTEM) -> PriceUpdateResult:
    """Create or update many products' prices at once; all or nothing. History names the actor."""
    located = [_Located(update, ["body", "updates", index]) for index, update in enumerate(updates)]
    return _apply(session, located, source=source, actor=actor, note=note, what="The price update")


def _read_price_list(data: bytes, file_name: str) -> tuple[list[_Located], int]:
    """The rows to apply, and how many rows were skipped because their price is blank."""
    from pydantic import ValidationError

    try:
        sheet = open_sheet(data, PRICE_LIST_COLUMNS, what="a price list header (Goods ID and Price)",
                           limits=PRICE_LIST_LIMITS)
    except FileProblem as problem:
        raise problem.as_app_error(file_name) from None
    columns, headers = sheet.header.columns, sheet.header.headers
    located: list[_Located] = []
    problems: list[errors.ErrorItem] = []
    skipped = 0
    for row_number, cells in sheet.rows:
        if not any(cells):
            continue

        def cell(name: str) -> Any:
            index = columns.get(name)
            return cells[index] if index is not None and index < len(cells) else ""

        raw_price = cell("price")
        if cell_text(raw_price) == "":
            # The template lists every product, priced or not: a price left blank changes nothing.
            skipped += 1
            continue
        # Text comes back as `price_list_template` wrote it, apostrophe before a formula and all.
        values: dict[str, Any] = {"goods_id": from_inert_text(cell_text(cell("goods_id")))}
        for optional in ("name", "category"):
            if cell_text(cell(optional)):
                values[optional] = from_inert_text(cell_text(cell(optional)))
        try:
            # A numeric cell is a float; its shortest repr is what Excel shows, so no binary noise.
            values["price"] = parse_price(raw_price)
        except ValueError as exc:
            problems.append(errors.item(["row", row_number, headers[columns["price"]]], f"Price {exc}"))
            continue
        try:
            located.append(_Located(PriceUpdate.model_validate(values), ["row", row_number]))
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "goods_id"
                title = headers[columns[field]] if field in columns else PRICE_LIST_COLUMNS.titles.get(field, field)
                problems.append(errors.item(["row", row_number, title], f"{title}: {error['msg']}"))
    if problems:
        raise PriceUpdatesRejected(
            f"{file_name}: {len(problems)} rows have errors, so no price was changed: "
            + "; ".join(f"row {p.loc[1]} {p.loc[2]}: {p.msg}" for p in problems[:5]) + ".", problems)
    if not located and not skipped:
        raise errors.InvalidInput(f"{file_name} has a price list header but no rows under it.")
    return located, skipped


def upload_price_list(session: Session, *, data: bytes | BinaryIO, file_name: str | None, note: str | None = None,
                      actor: Actor = SYSTEM, dry_run: bool = False) -> PriceUpdateResult:
    """Apply a price-list workbook (Goods ID, Price; optional Name, Category); all or nothing.

    A row whose price is blank changes nothing and is counted as skipped. With `dry_run` nothing is
    saved: the answer shows what would change and each product's last change.
    """
    file_name = clean_upload_name(file_name, default="prices.xlsx")
    located, skipped = _read_price_list(upload_bytes(data), file_name)
    return _apply(session, located, source="price_upload", actor=actor,
                  note=note or f"price list {file_name}", what=file_name, skipped=skipped, dry_run=dry_run)


def price_list_template(session: Session) -> Download:
    """Every product with its current price, as a workbook to edit and upload back."""
    workbook, sheet = header_sheet("Prices", TEMPLATE_HEADER)
    for product in session.scalars(select(Product).order_by(Product.goods_id)):
        # Names come from the portal's export: "=HYPERLINK(...)" must stay text in Excel.
        sheet.append([inert_text(product.goods_id), inert_text(product.name),
                      None if product.category is None else inert_text(product.category), None])
        put_rupees(sheet.cell(row=sheet.max_row, column=4), product.price, symbol=False)
    for column, width in zip("ABCD", (16, 40, 12, 14)):
        sheet.column_dimensions[column].width = width
    return xlsx_download(workbook, "price_list.xlsx")


# --- reads ------------------------------------------------------------------------------------


def get_product(session: Session, *, goods_id: str) -> ProductDetail:
    product = session.get(Product, goods_id.strip())
    if product is None:
        raise errors.NotFound(f"There is no product with goods id {goods_id!r}.")
    changes = session.scalars(select(PriceHistory).where(PriceHistory.goods_id == product.goods_id)
                              .order_by(desc(PriceHistory.changed_at), desc(PriceHistory.id)).limit(RECENT_CHANGES))
    return ProductDetail(**ProductRead.model_validate(product).model_dump(), category_locked=product.category_locked,
                         recent_changes=[PriceHistoryRead.model_validate(change) for change in changes])


def price_as_of(session: Session, *, goods_id: str, as_of: datetime | None) -> PriceAsOf:
    """The price in force at `as_of` (now when None), from the history."""
    product = session.get(Product, goods_id.strip())
    if product is None:
        raise errors.NotFound(f"There is no product with goods id {goods_id!r}.")
    moment = as_of or utcnow()  # aware: query moments are read by routers.deps.UntilDateTime
    change = session.scalars(select(PriceHistory).where(PriceHistory.goods_id == product.goods_id,
                                                        PriceHistory.changed_at <= moment)
                             .order_by(desc(PriceHistory.changed_at), desc(PriceHistory.id)).limit(1)).first()
    return PriceAsOf(goods_id=product.goods_id, as_of=moment, price=change.new_price if change else None,
                     set_at=change.changed_at if change else None, source=change.source if change else None)


def list_price_history(session: Session, *, page: PageParams, goods_id: str | None = None, source: str | None = None,
                       since: datetime | None = None, until: datetime | None = None) -> Page[PriceHistoryRead]:
    check_period(since, until)
    stmt = select(PriceHistory).order_by(desc(PriceHistory.changed_at), desc(PriceHistory.id))
    if goods_id:
        stmt = stmt.where(PriceHistory.goods_id == goods_id.strip())
    if source:
        stmt = stmt.where(PriceHistory.source == source)
    if since:
        stmt = stmt.where(PriceHistory.changed_at >= since)
    if until:
        stmt = stmt.where(PriceHistory.changed_at <= until)
    return paginate(session, stmt, page, PriceHistoryRead.model_validate)

