"""SQLAlchemy 2.0 ORM classes.

Money is stored as integer paise (see `Money`): SQLite has no exact decimal type, and report
sums in SQL must be exact on SQLite and PostgreSQL alike. Timestamps are stored in UTC.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.money import from_paise, to_paise

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Money(TypeDecorator[Decimal]):
    """Integer paise in the database, `Decimal` rupees in Python."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_paise(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        # SUM() over paise can come back as Decimal on PostgreSQL; int() keeps it exact.
        return None if value is None else from_paise(int(value))


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PrmSyncRun(Base):
    """One PRM import attempt, with its counts and progress."""

    __tablename__ = "prm_sync_run_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # running | success | failed | dry_run | abandoned (a "duplicate" import stores no run)
    status: Mapped[str] = mapped_column(String(16), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    options: Mapped[str] = mapped_column(String(200), default="")
    sheet: Mapped[str | None] = mapped_column(String(255))
    header_row: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(16), default="reading")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_processed: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    retailers_created: Mapped[int] = mapped_column(Integer, default=0)
    retailers_updated: Mapped[int] = mapped_column(Integer, default=0)
    products_created: Mapped[int] = mapped_column(Integer, default=0)
    activations_new: Mapped[int] = mapped_column(Integer, default=0)
    stock_units: Mapped[int] = mapped_column(Integer, default=0)
    errors_total: Mapped[int] = mapped_column(Integer, default=0)
    warnings_total: Mapped[int] = mapped_column(Integer, default=0)
    # How many of those have a row in prm_sync_row_error (the first ROW_ERRORS_KEPT of each).
    errors_kept: Mapped[int] = mapped_column(Integer, default=0)
    warnings_kept: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(String(100))


class PrmSyncRowError(Base):
    """A row the import rejected (`severity="error"`) or accepted with a remark ("warning")."""

    __tablename__ = "prm_sync_row_error"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("prm_sync_run_log.id", ondelete="CASCADE"), index=True)
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8), default="error")


class PrmSyncErrorCount(Base):
    """How many row errors or warnings of one kind (column and message) a run found, kept or not."""

    __tablename__ = "prm_sync_error_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("prm_sync_run_log.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    column: Mapped[str] = mapped_column(String(100))
    message_kind: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)


# The longest retailer code kept: the import refuses longer ones, routes accept up to it.
RETAILER_CODE_CHARS = 64


class Retailer(Base):
    __tablename__ = "retailers"

    code: Mapped[str] = mapped_column(String(RETAILER_CODE_CHARS), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    mobile: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    # NULL means "match by name or code"; set it when Tally's ledger is named differently.
    tally_ledger_name: Mapped[str | None] = mapped_column(String(255), index=True)
    first_seen_run: Mapped[int | None] = mapped_column(ForeignKey("prm_sync_run_log.id"))
    last_seen_run: Mapped[int | None] = mapped_column(ForeignKey("prm_sync_run_log.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Product(Base):
    __tablename__ = "products"

    goods_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    # Set by an admin or a price upload; NULL until someone prices the goods.
    price: Mapped[Decimal | None] = mapped_column(Money)
    # True once a person set the category, so the import's name rule stops overriding it.
    category_locked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Device(Base):
    """The latest known state of one handset, keyed by its primary IMEI."""

    __tablename__ = "devices"

    imei: Mapped[str] = mapped_column(String(15), primary_key=True)
    imei2: Mapped[str | None] = mapped_column(String(15))
    serial: Mapped[str | None] = mapped_column(String(64))
    goods_id: Mapped[str] = mapped_column(ForeignKey("products.goods_id"))
    retailer_code: Mapped[str | None] = mapped_column(ForeignKey("retailers.code"))
    # in_stock | activated | in_transit | returned (see prm_import.STATUS_MAP)
    status: Mapped[str] = mapped_column(String(16))
    inward_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    activation_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Run ids without foreign keys, and no secondary indexes, on purpose: every import writes
    # these for up to every device, and each extra check or index cost the import a tenth of a
    # second per 100,000 devices (bench/bench_import.py). Only the importer writes them.
    first_seen_run: Mapped[int] = mapped_column(Integer)
    last_seen_run: Mapped[int] = mapped_column(Integer)


class Activation(Base):
    """A device activation: a fact that no later import deletes or moves."""

    __tablename__ = "activations"

    imei: Mapped[str] = mapped_column(String(15), primary_key=True)
    retailer_code: Mapped[str | None] = mapped_column(ForeignKey("retailers.code"), index=True)
    goods_id: Mapped[str] = mapped_column(ForeignKey("products.goods_id"), index=True)
    activated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    recorded_run: Mapped[int] = mapped_column(ForeignKey("prm_sync_run_log.id"))


class InventorySnapshot(Base):
    """Units in retailer stock per retailer and goods, as of the latest successful import."""

    __tablename__ = "prm_inventory_snapshot"

    run_id: Mapped[int] = mapped_column(ForeignKey("prm_sync_run_log.id"), primary_key=True)
    retailer_code: Mapped[str] = mapped_column(ForeignKey("retailers.code"), primary_key=True)
    goods_id: Mapped[str] = mapped_column(ForeignKey("products.goods_id"), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)


class DeviceEvent(Base):
    """A step in a device's timeline: seen, moved, activated, not_seen."""

    __tablename__ = "device_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imei: Mapped[str] = mapped_column(String(15), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("prm_sync_run_log.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_retailer: Mapped[str | None] = mapped_column(String(64))
    to_retailer: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PriceHistory(Base):
    """One row per actual price change; never updated or deleted."""

    __tablename__ = "price_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    goods_id: Mapped[str] = mapped_column(ForeignKey("products.goods_id"))
    old_price: Mapped[Decimal | None] = mapped_column(Money)
    new_price: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(16), index=True)  # admin_api | price_upload
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_price_history_goods_changed", "goods_id", "changed_at"),)


class TallyLedgerCache(Base):
    """The last closing balance read from Tally for one ledger (positive = the party owes us)."""

    __tablename__ = "tally_ledger_cache"

    ledger_key: Mapped[str] = mapped_column(String(255), primary_key=True)  # normalised name
    ledger_name: Mapped[str] = mapped_column(String(255))  # as Tally spells it
    parent: Mapped[str | None] = mapped_column(String(255))
    # The group read that brought this ledger (None: read on its own, outside any group read).
    group_name: Mapped[str | None] = mapped_column(String(255), index=True)
    closing_balance: Mapped[Decimal] = mapped_column(Money)
    is_blank: Mapped[bool] = mapped_column(default=False)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    source: Mapped[str] = mapped_column(String(16))  # group | ledger


class TallyLedgerTerms(Base):
    """A debtors-group ledger's credit terms, read from Tally in the same request as its balance."""

    __tablename__ = "tally_ledger_terms"

    ledger_key: Mapped[str] = mapped_column(String(255), primary_key=True)  # normalised name
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)  # the limit's magnitude; None = no limit
    credit_days: Mapped[int | None] = mapped_column(Integer)  # the ledger's default credit days; None = not set
    credit_due_date: Mapped[date | None] = mapped_column(Date)  # a fixed due date instead of days
    is_bill_wise: Mapped[bool | None] = mapped_column()  # None: Tally did not say
    mobile: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class TallyOpenBill(Base):
    """One open bill of a debtors-group party, as of the last bills read (positive = owed to us)."""

    __tablename__ = "tally_open_bills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_key: Mapped[str] = mapped_column(String(255), index=True)  # normalised party ledger name
    ledger_name: Mapped[str] = mapped_column(String(255))
    bill_ref: Mapped[str] = mapped_column(String(255))
    bill_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    # The bill's own credit period (both None: the ledger's credit days apply).
    credit_days: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)


class TallyBillRead(Base):
    """When the open bills were last read, as of which date, and how many (none is an answer too)."""

    __tablename__ = "tally_bill_reads"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)  # "debtors"
    as_of_date: Mapped[date] = mapped_column(Date)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    bill_count: Mapped[int] = mapped_column(Integer)


class ApiKey(Base):
    """A named API key; only its SHA-256 is stored, so a leaked database leaks no key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # viewer | accounts | admin
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to tell keys apart
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who changed what, when and from where; rows are only ever added."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(32))


class CreditRelease(Base):
    """An accounts user's release of a retailer from the hold list until a date; it lapses by
    itself, and an admin may end it early. Rows are kept: the history of who released whom."""

    __tablename__ = "credit_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    retailer_code: Mapped[str] = mapped_column(String(255), index=True)
    until_date: Mapped[date] = mapped_column(Date)  # the last day it holds, in IST
    reason: Mapped[str] = mapped_column(Text)
    released_by: Mapped[str] = mapped_column(String(100))
    released_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_by: Mapped[str | None] = mapped_column(String(100))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CreditSnapshot(Base):
    """One ledger's credit position on one day (IST). Past days are never rewritten; a second
    snapshot the same day replaces that day's."""

    __tablename__ = "credit_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    ledger_name: Mapped[str] = mapped_column(String(255))
    retailer_codes: Mapped[str] = mapped_column(Text)  # comma-separated, as the report lists them
    balance: Mapped[Decimal] = mapped_column(Money)
    overdue_total: Mapped[Decimal] = mapped_column(Money)
    buckets: Mapped[str] = mapped_column(Text)  # JSON {bucket: "amount"}: the slabs are a setting
    stock_value: Mapped[Decimal] = mapped_column(Money)
    od_amount: Mapped[Decimal] = mapped_column(Money)
    hold_reasons: Mapped[str] = mapped_column(String(100))  # comma-separated, "" when none
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_credit_snapshots_day_ledger", "day", "ledger_name", unique=True),)
