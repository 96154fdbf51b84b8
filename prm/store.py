"""Database side of one PRM import: compare the file with what is stored, then write the difference.

The comparison happens in Python over plain tuples fetched with one query, and the writes are a
few driver-level multi-row `INSERT`s and set-based statements, all in the caller's transaction.
Per-row ORM work (`session.merge`) was about 28x slower than reading the workbook.
"""

import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kit import bulk
from catalogue.products import category_for_name
from models import Activation, InventorySnapshot, Product, Retailer
from prm.rows import DeviceRecord

SAMPLE_SIZE = 100
DEVICE_COLUMNS = ("imei", "imei2", "serial", "goods_id", "status", "retailer_code", "inward_at", "activation_at")
_RETAILER = DEVICE_COLUMNS.index("retailer_code")

# A device row as the database driver sees it: DEVICE_COLUMNS, then first and last seen run,
# with datetimes in the driver's form.
DbDevice = tuple[Any, ...]


def upsert(connection: Connection, table: Any) -> Any:
    """`INSERT` that understands `on_conflict_do_update`, for SQLite and PostgreSQL alike."""
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


@dataclass
class ChannelPlan:
    """How the file differs from what the database holds, and what to write."""

    previous_run_id: int | None
    to_upsert: list[DbDevice]
    new_imeis: list[str]
    moved: list[tuple[str, str, str]]  # imei, from retailer, to retailer
    gone: list[tuple[str, str | None]]  # imei, last retailer
    stock: Counter[tuple[str, str]]  # (retailer, goods) -> units in retailer stock, per this file
    stock_units_before: int
    # Activations not on record yet: imei, retailer, goods, activated_at, run
    activations: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def stock_units_after(self) -> int:
        return sum(self.stock.values())


def stock_units_of_run(session: Session, run_id: int | None) -> int:
    if run_id is None:
        return 0
    return int(session.scalar(select(func.coalesce(func.sum(InventorySnapshot.units), 0))
                              .where(InventorySnapshot.run_id == run_id)) or 0)


# imei -> (fingerprint of its DEVICE_COLUMNS in the driver's form, retailer code, last_seen_run,
# whether an activation is on record). A fingerprint, not the row: 500,000 stored rows as tuples
# of strings took 300 MB more. Every activation has its device row (both are written by the same
# import, and neither is ever deleted), so the flag answers "ever activated" for any IMEI.
StoredDevices = dict[str, tuple[int, str | None, int, bool]]
FETCH_ROWS = 20_000
# Up to this many stored devices the importer reads them while the workbook is parsed; above it,
# after the parsed sheet is freed: at 500,000 the overlap put the re-import's peak over 1 GiB.
READ_DURING_PARSE_UP_TO = 200_000


def count_devices(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(text("devices"))) or 0)


def fingerprint(row: tuple[Any, ...]) -> int:
    """Equal rows give equal fingerprints; unequal ones collide with odds of about 1 in 2**64."""
    return hash(row)


def read_stored_devices(engine: Engine) -> StoredDevices:
    """Every stored device, on a connection of its own.

    The importer calls this in a thread while python-calamine parses the workbook (which releases
    the GIL), so on a re-import the read costs no wall time. Only imports write devices, and they
    run one at a time, so the rows cannot change before the import's transaction begins.
    """
    stored: StoredDevices = {}
    intern = sys.intern  # 500,000 devices share a few hundred retailer codes
    with engine.connect() as connection:
        columns = ", ".join(f"d.{name}" for name in DEVICE_COLUMNS)
        result = connection.exec_driver_sql(
            f"SELECT {columns}, d.last_seen_run, a.imei IS NOT NULL FROM devices d "
            "LEFT JOIN activations a ON a.imei = d.imei")
        while rows := result.fetchmany(FETCH_ROWS):
            for row in rows:
                code = row[_RETAILER]
                stored[row[0]] = (fingerprint(tuple(row[:8])), intern(code) if code else None, row[8], bool(row[9]))
    return stored


def plan_changes(session: Session, devices: list[DeviceRecord], previous_run_id: int | None, *,
                 run_id: int, stored: StoredDevices) -> ChannelPlan:
    """Compare the file with the stored devices; reads only. Rows to write carry `run_id`."""
    to_upsert: list[DbDevice] = []
    new_imeis: list[str] = []
    moved: list[tuple[str, str, str]] = []
    activations: list[tuple[Any, ...]] = []
    stock: Counter[tuple[str, str]] = Counter()
    in_stock_imeis: list[str] = []
    for imei, imei2, serial, goods_id, status, code, inward_at, activation_at, _row in devices:
        # Datetimes arrive in the driver's form already (check_rows' `datetime_form`).
        row = (imei, imei2, serial, goods_id, status, code, inward_at, activation_at, run_id, run_id)
        if status == "in_stock" and code:
            stock[code, goods_id] += 1
            in_stock_imeis.append(imei)
        elif status == "activated" and activation_at is not None:
            activations.append((imei, code, goods_id, row[7], run_id))
        old = stored.get(imei)
        if old is None:
            new_imeis.append(imei)
            to_upsert.append(row)
        # An unchanged device seen by the previous run only needs its last_seen_run moved on.
        elif old[0] != fingerprint(row[:8]) or old[2] != previous_run_id:
            to_upsert.append(row)
            old_code = old[1]
            if old_code and code and old_code != code:
                moved.append((imei, old_code, code))
    gone: list[tuple[str, str | None]] = []
    if previous_run_id is not None:
        in_file = {device.imei for device in devices}
        gone = [(imei, old[1]) for imei, old in stored.items() if old[2] == previous_run_id and imei not in in_file]
    # An IMEI activated in any earlier file is never stock again, whatever this file says.
    ever_activated = {imei for imei in in_stock_imeis if (old := stored.get(imei)) is not None and old[3]}
    activations = [row for row in activations if (old := stored.get(row[0])) is None or not old[3]]
    if ever_activated:
        for device in devices:
            if device.imei in ever_activated and device.status == "in_stock" and device.retailer_code:
                stock[device.retailer_code, device.goods_id] -= 1
        stock = +stock  # drop the zeros
    return ChannelPlan(previous_run_id=previous_run_id, to_upsert=to_upsert, new_imeis=new_imeis,
                       moved=moved, gone=gone, stock=stock,
                       stock_units_before=stock_units_of_run(session, previous_run_id), activations=activations)


def new_activation_count(plan: ChannelPlan) -> int:
    return len(plan.activations)


def stock_delta_by_retailer(session: Session, plan: ChannelPlan) -> list[dict[str, Any]]:
    """Units per retailer before (latest snapshot) and after (this file), where they differ."""
    after: Counter[str] = Counter()
    for (code, _goods), units in plan.stock.items():
        after[code] += units
    before: dict[str, int] = {}
    if plan.previous_run_id is not None:
        before = {code: int(units) for code, units in session.execute(
            select(InventorySnapshot.retailer_code, func.sum(InventorySnapshot.units))
            .where(InventorySnapshot.run_id == plan.previous_run_id)
            .group_by(InventorySnapshot.retailer_code)).all()}
    rows = []
    for code in sorted(set(after) | set(before)):
        old, new = before.get(code, 0), after.get(code, 0)
        if old != new:
            rows.append({"retailer_code": code, "units_before": old, "units_after": new, "delta": new - old})
    return rows


def unpriced_goods(session: Session, plan: ChannelPlan) -> list[dict[str, Any]]:
    """Goods held in retailer stock (per this file) that have no price yet."""
    units: Counter[str] = Counter()
    for (_code, goods_id), count in plan.stock.items():
        units[goods_id] += count
    priced = set(session.scalars(select(Product.goods_id).where(Product.price.is_not(None))))
    return [{"goods_id": goods_id, "units": units[goods_id]} for goods_id in sorted(units) if goods_id not in priced]


def count_new_products(session: Session, products: dict[str, str | None]) -> int:
    """How many of these goods ids `upsert_products` would create."""
    if not products:
        return 0
    existing = set(session.scalars(select(Product.goods_id)))
    return sum(1 for goods_id in products if goods_id not in existing)


def upsert_products(session: Session, products: dict[str, str | None]) -> int:
    """Insert new goods, rename known ones; returns how many were created."""
    if not products:
        return 0
    created = count_new_products(session, products)
    connection = session.connection()
    now = datetime.now().astimezone()
    rows = [{"goods_id": goods_id, "name": name or goods_id, "category": category_for_name(name or ""),
             "category_locked": False, "created_at": now, "updated_at": now}
            for goods_id, name in products.items()]
    statement = upsert(connection, Product.__table__)
    table = Product.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=[table.goods_id],
        set_={
            # A blank name in the file keeps the name we have.
            "name": func.coalesce(func.nullif(statement.excluded.name, statement.excluded.goods_id), table.name),
            # ... and its category: a blank name says nothing about what the goods are (a TV
            # re-categorised from "" became the default, Phones).
            "category": case((table.category_locked, table.category),
                             (statement.excluded.name == statement.excluded.goods_id, table.category),
                             else_=statement.excluded.category),
            "updated_at": statement.excluded.updated_at,
        },
    )
    connection.execute(statement, rows)
    return created


def _merge_retailers(session: Session, retailers: dict[str, dict[str, str | None]]
                     ) -> tuple[int, int, list[dict[str, Any]]]:
    """(created, updated, each retailer's details merged with what is stored); reads only."""
    existing = {row.code: row for row in session.execute(
        select(Retailer.code, Retailer.name, Retailer.mobile, Retailer.city, Retailer.state))}
    created = updated = 0
    rows = []
    for code, details in retailers.items():
        old = existing.get(code)
        merged = {key: details[key] or (getattr(old, key) if old else None) for key in ("name", "mobile", "city", "state")}
        merged["name"] = merged["name"] or code
        if old is None:
            created += 1
        elif any(getattr(old, key) != merged[key] for key in merged):
            updated += 1
        rows.append({"code": code, **merged})
    return created, updated, rows


def count_retailer_changes(session: Session, retailers: dict[str, dict[str, str | None]]) -> tuple[int, int]:
    """(created, updated) as `upsert_retailers` would count them."""
    created, updated, _ = _merge_retailers(session, retailers)
    return created, updated


def upsert_retailers(session: Session, retailers: dict[str, dict[str, str | None]], run_id: int) -> tuple[int, int]:
    """Insert new retailers, update changed ones; returns (created, updated)."""
    if not retailers:
        return 0, 0
    connection = session.connection()
    created, updated, merged_rows = _merge_retailers(session, retailers)
    now = datetime.now().astimezone()
    rows = [{**merged, "first_seen_run": run_id, "last_seen_run": run_id, "created_at": now, "updated_at": now}
            for merged in merged_rows]
    statement = upsert(connection, Retailer.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=[Retailer.__table__.c.code],
        set_={key: statement.excluded[key] for key in ("name", "mobile", "city", "state", "last_seen_run", "updated_at")},
    )
    connection.execute(statement, rows)
    return created, updated


def write_devices(session: Session, plan: ChannelPlan, *, run_id: int, at: datetime) -> int:
    """Events, devices, activations and the snapshot; returns the activations newly recorded."""
    connection = session.connection()
    when = bulk.datetime_writer(connection.dialect.name)(at)
    events = [(imei, run_id, "moved", old, new, when) for imei, old, new in plan.moved]
    events += [(imei, run_id, "not_seen", old, None, when) for imei, old in plan.gone]
    if events:
        bulk.insert_rows(connection, "device_events", ("imei", "run_id", "kind", "from_retailer", "to_retailer", "at"),
                         events)

    if plan.previous_run_id is not None:
        # Devices that were in the last file and are unchanged: only their last_seen_run moves on.
        connection.execute(text("UPDATE devices SET last_seen_run = :run WHERE last_seen_run = :previous"),
                           {"run": run_id, "previous": plan.previous_run_id})
        if plan.gone:
            # ... except those missing from this file, which keep the run that last saw them.
            marker = bulk.marker(connection)
            connection.exec_driver_sql(f"UPDATE devices SET last_seen_run = {marker} WHERE imei = {marker}",
                                       [(plan.previous_run_id, imei) for imei, _ in plan.gone])
    if plan.to_upsert:
        updates = ", ".join(f"{name} = excluded.{name}" for name in (*DEVICE_COLUMNS[1:], "last_seen_run"))
        # One IMEI appears once in the file (check_rows refuses repeats), so no statement
        # updates one device twice.
        bulk.insert_rows(connection, "devices", (*DEVICE_COLUMNS, "first_seen_run", "last_seen_run"),
                         plan.to_upsert, f"ON CONFLICT (imei) DO UPDATE SET {updates}")

    if plan.activations:
        with bulk.indexes_rebuilt_for_bulk_insert(connection, "activations", len(plan.activations)):
            # DO NOTHING all the same: an activation already on record keeps its first retailer.
            bulk.insert_rows(connection, "activations", ("imei", "retailer_code", "goods_id", "activated_at", "recorded_run"),
                             plan.activations, "ON CONFLICT (imei) DO NOTHING")
    activations_new = session.scalar(select(func.count()).select_from(Activation)
                                     .where(Activation.recorded_run == run_id)) or 0

    session.execute(delete(InventorySnapshot))
    if plan.stock:
        bulk.insert_rows(connection, "prm_inventory_snapshot", ("run_id", "retailer_code", "goods_id", "units"),
                         [(run_id, code, goods_id, units) for (code, goods_id), units in sorted(plan.stock.items())])
    return int(activations_new)
