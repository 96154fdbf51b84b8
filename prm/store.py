"""Set-based database writes of one PRM import, all inside the caller's transaction.

The file's devices go into a temporary staging table with one bulk insert; everything else
(new, moved and vanished IMEIs, the device upsert, activations, the snapshot) is a handful of
`INSERT ... SELECT` statements, so the database does the per-row work, not Python.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from catalog import category_for_name
from models import Activation, Device, DeviceEvent, InventorySnapshot, Product, Retailer, UtcDateTime
from prm.rows import DeviceRecord

SAMPLE_SIZE = 100

_staging_metadata = MetaData()
STAGING = Table(
    "prm_staging",
    _staging_metadata,
    Column("imei", String(15), primary_key=True),
    Column("imei2", String(15)),
    Column("serial", String(64)),
    Column("goods_id", String(64)),
    Column("status", String(16)),
    Column("retailer_code", String(64)),
    Column("inward_at", UtcDateTime),
    Column("activation_at", UtcDateTime),
    prefixes=["TEMPORARY"],
)
S = STAGING.c
D = Device.__table__.c
A = Activation.__table__.c


def upsert(connection: Connection, table: Any) -> Any:
    """`INSERT` that understands `on_conflict_do_update`, for SQLite and PostgreSQL alike."""
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


STAGING_COLUMNS = ("imei", "imei2", "serial", "goods_id", "status", "retailer_code", "inward_at", "activation_at")


def load_staging(connection: Connection, devices: list[DeviceRecord]) -> None:
    """Bulk-load the file's devices: one driver-level executemany of plain tuples.

    SQLAlchemy's per-row parameter processing would cost about as much as reading the workbook.
    Datetimes from `prm.rows` are always UTC-aware.
    """
    STAGING.drop(connection, checkfirst=True)
    STAGING.create(connection)
    if not devices:
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO prm_staging ({', '.join(STAGING_COLUMNS)}) VALUES ({', '.join([marker] * len(STAGING_COLUMNS))})"
    if connection.dialect.name == "sqlite":
        # SQLAlchemy's SQLite storage format for a UTC datetime ("2026-11-21 08:35:00.000000"),
        # written in one C call; test_prm_import checks it reads back through the ORM unchanged.
        rows = [
            (d.imei, d.imei2, d.serial, d.goods_id, d.status, d.retailer_code,
             None if d.inward_at is None else d.inward_at.isoformat(" ", "microseconds")[:26],
             None if d.activation_at is None else d.activation_at.isoformat(" ", "microseconds")[:26])
            for d in devices
        ]
    else:
        rows = [(d.imei, d.imei2, d.serial, d.goods_id, d.status, d.retailer_code, d.inward_at, d.activation_at)
                for d in devices]
    connection.exec_driver_sql(sql, rows)


def drop_staging(connection: Connection) -> None:
    STAGING.drop(connection, checkfirst=True)


def _not_activated(imei_column: Any) -> Any:
    return ~exists().where(A.imei == imei_column)


@dataclass
class ChannelChanges:
    """How the file differs from what the database holds now."""

    new_imeis: int = 0
    moved_imeis: int = 0
    disappeared_imeis: int = 0
    activations_new: int = 0
    stock_units_before: int = 0
    stock_units_after: int = 0
    samples: dict[str, list[Any]] = field(default_factory=dict)


def stock_units_of_run(session: Session, run_id: int | None) -> int:
    if run_id is None:
        return 0
    return int(session.scalar(select(func.coalesce(func.sum(InventorySnapshot.units), 0))
                              .where(InventorySnapshot.run_id == run_id)) or 0)


def measure_changes(session: Session, previous_run_id: int | None, *, with_samples: bool) -> ChannelChanges:
    moved_filter = and_(D.imei == S.imei, S.retailer_code.is_not(None), D.retailer_code.is_not(None),
                        S.retailer_code != D.retailer_code)
    new_filter = ~exists().where(D.imei == S.imei)
    gone_filter = and_(D.last_seen_run == previous_run_id, ~exists().where(S.imei == D.imei))
    changes = ChannelChanges(
        new_imeis=session.scalar(select(func.count()).select_from(STAGING).where(new_filter)) or 0,
        moved_imeis=session.scalar(select(func.count()).select_from(STAGING.join(Device.__table__, D.imei == S.imei))
                                   .where(moved_filter)) or 0,
        disappeared_imeis=(session.scalar(select(func.count()).select_from(Device).where(gone_filter)) or 0)
        if previous_run_id is not None else 0,
        activations_new=session.scalar(select(func.count()).select_from(STAGING).where(
            S.status == "activated", S.activation_at.is_not(None), _not_activated(S.imei))) or 0,
        stock_units_before=stock_units_of_run(session, previous_run_id),
        stock_units_after=session.scalar(select(func.count()).select_from(STAGING).where(
            S.status == "in_stock", S.retailer_code.is_not(None), _not_activated(S.imei))) or 0,
    )
    if with_samples:
        changes.samples = {
            "new_imeis": list(session.scalars(select(S.imei).where(new_filter).order_by(S.imei).limit(SAMPLE_SIZE))),
            "moved_imeis": [
                {"imei": imei, "from_retailer": old, "to_retailer": new}
                for imei, old, new in session.execute(
                    select(S.imei, D.retailer_code, S.retailer_code)
                    .select_from(STAGING.join(Device.__table__, D.imei == S.imei))
                    .where(moved_filter).order_by(S.imei).limit(SAMPLE_SIZE))
            ],
            "disappeared_imeis": list(session.scalars(select(D.imei).where(gone_filter).order_by(D.imei).limit(SAMPLE_SIZE)))
            if previous_run_id is not None else [],
        }
    return changes


def stock_delta_by_retailer(session: Session, previous_run_id: int | None) -> list[dict[str, Any]]:
    """Units per retailer before (latest snapshot) and after (this file), where they differ."""
    after = dict(session.execute(
        select(S.retailer_code, func.count()).where(
            S.status == "in_stock", S.retailer_code.is_not(None), _not_activated(S.imei))
        .group_by(S.retailer_code)).all())
    before: dict[str, int] = {}
    if previous_run_id is not None:
        before = {code: int(units) for code, units in session.execute(
            select(InventorySnapshot.retailer_code, func.sum(InventorySnapshot.units))
            .where(InventorySnapshot.run_id == previous_run_id)
            .group_by(InventorySnapshot.retailer_code)).all()}
    rows = []
    for code in sorted(set(after) | set(before)):
        old, new = before.get(code, 0), int(after.get(code, 0))
        if old != new:
            rows.append({"retailer_code": code, "units_before": old, "units_after": new, "delta": new - old})
    return rows


def unpriced_goods_in_file(session: Session) -> list[dict[str, Any]]:
    """Goods held in retailer stock (per this file) that have no price yet."""
    priced = exists().where(Product.goods_id == S.goods_id, Product.price.is_not(None))
    return [{"goods_id": goods_id, "units": units} for goods_id, units in session.execute(
        select(S.goods_id, func.count()).where(S.status == "in_stock", ~priced)
        .group_by(S.goods_id).order_by(S.goods_id))]


@dataclass
class UpsertCounts:
    retailers_created: int = 0
    retailers_updated: int = 0
    products_created: int = 0


def upsert_products(session: Session, products: dict[str, str | None]) -> int:
    """Insert new goods, rename known ones; returns how many were created."""
    if not products:
        return 0
    connection = session.connection()
    existing = set(session.scalars(select(Product.goods_id)))
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
            "category": case((table.category_locked, table.category), else_=statement.excluded.category),
            "updated_at": statement.excluded.updated_at,
        },
    )
    connection.execute(statement, rows)
    return sum(1 for goods_id in products if goods_id not in existing)


def upsert_retailers(session: Session, retailers: dict[str, dict[str, str | None]], run_id: int) -> tuple[int, int]:
    """Insert new retailers, update changed ones; returns (created, updated)."""
    if not retailers:
        return 0, 0
    connection = session.connection()
    existing = {row.code: row for row in session.execute(
        select(Retailer.code, Retailer.name, Retailer.mobile, Retailer.city, Retailer.state))}
    now = datetime.now().astimezone()
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
        rows.append({"code": code, **merged, "first_seen_run": run_id, "last_seen_run": run_id,
                     "created_at": now, "updated_at": now})
    statement = upsert(connection, Retailer.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=[Retailer.__table__.c.code],
        set_={key: statement.excluded[key] for key in ("name", "mobile", "city", "state", "last_seen_run", "updated_at")},
    )
    connection.execute(statement, rows)
    return created, updated


def write_devices(session: Session, *, run_id: int, previous_run_id: int | None, at: datetime) -> int:
    """Events, device upsert, activations, snapshot; returns the activations recorded."""
    connection = session.connection()
    events = DeviceEvent.__table__
    connection.execute(events.insert().from_select(
        ["imei", "run_id", "kind", "from_retailer", "to_retailer", "at"],
        select(S.imei, literal(run_id), literal("moved"), D.retailer_code, S.retailer_code, literal(at, UtcDateTime))
        .select_from(STAGING.join(Device.__table__, D.imei == S.imei))
        .where(S.retailer_code.is_not(None), D.retailer_code.is_not(None), S.retailer_code != D.retailer_code),
    ))
    if previous_run_id is not None:
        connection.execute(events.insert().from_select(
            ["imei", "run_id", "kind", "from_retailer", "to_retailer", "at"],
            select(D.imei, literal(run_id), literal("not_seen"), D.retailer_code, literal(None, String), literal(at, UtcDateTime))
            .where(D.last_seen_run == previous_run_id, ~exists().where(S.imei == D.imei)),
        ))

    # Only new or changed devices go through the upsert: rewriting an unchanged row still
    # rewrites its index entries, which made a re-import of the same file twice as slow.
    columns = ["imei", "imei2", "serial", "goods_id", "retailer_code", "status", "inward_at", "activation_at"]
    unchanged = exists().where(D.imei == S.imei, *[D[name].is_not_distinct_from(S[name]) for name in columns[1:]])
    device_insert = upsert(connection, Device.__table__)
    device_insert = device_insert.from_select(
        [*columns, "first_seen_run", "last_seen_run"],
        select(*[S[name] for name in columns], literal(run_id), literal(run_id)).where(~unchanged),
    ).on_conflict_do_update(
        index_elements=[D.imei],
        set_={name: device_insert.excluded[name] for name in [*columns[1:], "last_seen_run"]},
    )
    connection.execute(device_insert)
    connection.execute(update(Device).where(D.last_seen_run != run_id, exists().where(S.imei == D.imei))
                       .values(last_seen_run=run_id))

    activation_insert = upsert(connection, Activation.__table__).from_select(
        ["imei", "retailer_code", "goods_id", "activated_at", "recorded_run"],
        select(S.imei, S.retailer_code, S.goods_id, S.activation_at, literal(run_id))
        .where(S.status == "activated", S.activation_at.is_not(None)),
    ).on_conflict_do_nothing(index_elements=[A.imei])
    connection.execute(activation_insert)
    # Counted, not taken from rowcount: drivers disagree on rowcount for INSERT ... SELECT.
    activations_new = connection.scalar(select(func.count()).select_from(Activation).where(A.recorded_run == run_id))

    # The file is the snapshot: its in-stock rows, less any IMEI ever activated.
    connection.execute(delete(InventorySnapshot))
    connection.execute(InventorySnapshot.__table__.insert().from_select(
        ["run_id", "retailer_code", "goods_id", "units"],
        select(literal(run_id), S.retailer_code, S.goods_id, func.count())
        .where(S.status == "in_stock", S.retailer_code.is_not(None), _not_activated(S.imei))
        .group_by(S.retailer_code, S.goods_id),
    ))
    return int(activations_new or 0)
