"""Pydantic v2 request and response bodies (kept apart from the ORM classes in models.py).

Money is always `Money` (kit.money): a Decimal with two places, a JSON string ("125000.00"), never a float.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema
from typing_extensions import NotRequired, TypedDict

from kit.money import Money
from kit.paging import Page
from kit.cells import input_price
from models import RETAILER_CODE_CHARS


class RootRead(BaseModel):
    name: str
    version: str
    docs: str
    redoc: str
    health: str
    ui: str


class HealthRead(BaseModel):
    status: str
    database: str
    version: str
    tally: str = Field(description="reachable | unreachable | unknown: as last seen; never calls Tally, never fails")
    tally_seen_at: datetime | None = Field(default=None, description="When Tally was last heard from or missed")


class ORMRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Timestamped(ORMRead):
    created_at: datetime
    updated_at: datetime


# --- PRM import -------------------------------------------------------------------------------
class RowErrorRead(ORMRead):
    row: int | None
    column: str | None
    value: str | None
    message: str


class MovedImei(BaseModel):
    imei: str
    from_retailer: str | None
    to_retailer: str | None


class StockDelta(BaseModel):
    retailer_code: str
    units_before: int
    units_after: int
    delta: int


class UnpricedGoods(BaseModel):
    goods_id: str
    units: int


class ImportChanges(BaseModel):
    """What a dry run would change (counts, and the first 100 of each list)."""

    new_imeis: int
    moved_imeis: int
    disappeared_imeis: int
    stock_units_before: int
    stock_units_after: int
    new_imei_samples: list[str]
    moved: list[MovedImei]
    disappeared_samples: list[str]
    stock_delta: list[StockDelta]
    unpriced_goods: list[UnpricedGoods]


class RunCounts(BaseModel):
    """What an import run found and did; shared by the import's answer and the run log."""

    file_name: str
    file_sha256: str
    sheet: str | None
    header_row: int | None
    rows_total: int
    rows_imported: int
    rows_rejected: int
    retailers_created: int
    retailers_updated: int
    products_created: int
    activations_new: int
    stock_units: int
    errors_total: int
    warnings_total: int
    errors_kept: int = Field(description="How many of errors_total are stored with their rows (the first 10,000)")
    warnings_kept: int
    errors_note: str | None = Field(default=None, description="Says when not every error was kept")
    error_counts: list[tuple[str, str, str, int]] = Field(
        default_factory=list, description="[severity, column, kind, count], kept or not; not in the run list")


class ImportSummary(RunCounts):
    run_id: int
    status: str = Field(description="success | dry_run | duplicate (the same bytes as the last import: nothing done)")
    ignored_columns: list[str] = Field(default_factory=list)
    warnings: list[RowErrorRead]
    errors: list[RowErrorRead] = Field(description="The first 200 row errors.")
    duration_ms: int
    changes: ImportChanges | None = Field(default=None, description="Only for dry runs.")


class SyncRunRead(RunCounts, ORMRead):
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    file_bytes: int
    options: str
    phase: str = Field(description="reading | validating | comparing | writing | snapshot | done")
    rows_processed: int
    duration_ms: int | None
    message: str | None
    started_by: str | None


class SyncRunDetail(SyncRunRead):
    row_errors: Page[RowErrorRead]


# --- the channel: retailers, products, stock, activations, devices ----------------------------
class RetailerRead(Timestamped):
    code: str
    name: str
    mobile: str | None
    city: str | None
    state: str | None
    tally_ledger_name: str | None
    first_seen_run: int | None
    last_seen_run: int | None


class GoodsUnits(BaseModel):
    goods_id: str
    name: str | None
    units: int


class RetailerDetail(RetailerRead):
    stock_units: int
    stock: list[GoodsUnits]
    prm_run_id: int | None = Field(description="The import run the stock figures come from.")
    ledger_name: str | None = Field(description="The Tally ledger used for this retailer, from the cached ledgers")
    ledger_mapping: str = Field(description="explicit | by_name | by_code | unmatched")


class ProductRead(Timestamped):
    goods_id: str
    name: str
    category: str | None
    price: Money | None


class InventoryItem(BaseModel):
    retailer_code: str
    goods_id: str
    units: int


class ActivationRead(ORMRead):
    imei: str
    retailer_code: str | None
    goods_id: str
    activated_at: datetime
    recorded_run: int


class DeviceEventRead(BaseModel):
    kind: str = Field(description="seen | moved | activated | not_seen")
    at: datetime
    run_id: int | None
    from_retailer: str | None = None
    to_retailer: str | None = None


class DeviceRead(ORMRead):
    imei: str
    imei2: str | None
    serial: str | None
    goods_id: str
    retailer_code: str | None
    status: str
    inward_at: datetime | None
    activation_at: datetime | None
    first_seen_run: int
    last_seen_run: int


class DeviceTimeline(DeviceRead):
    in_latest_import: bool
    activation: ActivationRead | None
    timeline: list[DeviceEventRead]


# --- prices -----------------------------------------------------------------------------------

# Documented as the string it should be (Swagger then shows "14999.00"); a JSON number is accepted too.
InputPrice = Annotated[Decimal, BeforeValidator(input_price), WithJsonSchema({"type": "string", "examples": ["14999.00"]}),
                       Field(description='Rupees as a string, "14999.00" (a JSON number such as 14999 works too)')]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class PriceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goods_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), Field(examples=["MZB0J8RIN"])]
    name: NonEmptyText | None = Field(default=None, description="Required when the goods id is new.",
                                      examples=["Redmi 13 5G (8GB/128GB) Ocean Blue"])
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = Field(
        default=None, examples=["Phones"])
    price: InputPrice


class PriceUpdateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    updates: list[PriceUpdate] = Field(min_length=1, max_length=20000)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = Field(
        default=None, examples=["DP revision of 27-11-2026"])


class PriceChange(TypedDict):
    """A dict, not a model: a 5,000-item answer builds these in a hot loop (bench/bench_prices.py)."""

    goods_id: str
    old_price: Money | None
    new_price: Money
    change: Annotated[str, Field(description="created | updated | unchanged")]
    last_change: NotRequired[Annotated["PriceHistoryRead | None", Field(description="Dry runs only: the last change")]]


class PriceUpdateResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(default=0, description="Price-list rows with a blank price: left as they were.")
    history_rows: int
    items: list[PriceChange]


class PriceHistoryRead(ORMRead):
    id: int
    goods_id: str
    old_price: Money | None
    new_price: Money
    source: str
    changed_by: str | None
    changed_at: datetime
    note: str | None


class ProductDetail(ProductRead):
    category_locked: bool
    recent_changes: list[PriceHistoryRead] = Field(description="The last 20 price changes, newest first.")


class PriceAsOf(BaseModel):
    goods_id: str
    as_of: datetime
    price: Money | None = Field(description="null when the goods had no price yet at that moment")
    set_at: datetime | None
    source: str | None


# --- Tally ------------------------------------------------------------------------------------
class BalanceRead(BaseModel):
    ledger: str = Field(description="The ledger name as Tally spells it.")
    closing_balance: Money = Field(description="Positive: the party owes us (debit). Negative: credit.")
    dr_cr: str | None = Field(description="Dr (owes us), Cr (we owe), or null for a zero balance")
    blank: bool = Field(description="Tally sent an empty amount: a nil balance")
    source: str = Field(description="live | cache | stale_cache")
    fetched_at: datetime
    age_seconds: int
    stale_reason: str | None = Field(default=None, description="Why a stale_cache value was served: what Tally did")


class LedgerRead(BalanceRead):
    parent: str | None
    group_name: str | None


class LedgerPage(Page[LedgerRead]):
    group: str
    source: str = Field(description="live | cache | stale_cache: where this page's balances came from")
    warning: str | None = None


class CacheEntryRead(BaseModel):
    ledger_key: str
    ledger: str
    parent: str | None
    group_name: str | None
    closing_balance: Money
    blank: bool
    fetched_at: datetime
    age_seconds: int
    fresh: bool
    read_as: str = Field(description="group | ledger: how it was read")


class TallyStatus(BaseModel):
    host: str
    company: str
    debtors_group: str
    reachable: str = Field(description="reachable | unreachable | busy (a read is under way)")
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    cache_entries: int
    oldest_entry_age_seconds: int | None
    ttl_minutes: float
    counters: dict[str, int] = Field(description="hits, misses, stale_serves, tally_requests, tally_errors, names_lost, "
                                     "breaker_skips (Tally failed moments ago, not asked), busy_skips (enough wait)")


class RefreshResult(BaseModel):
    group: str
    ledgers: int
    fetched_at: datetime
    duration_ms: int


# --- ledger mapping and the negative / OD report ----------------------------------------------
class LedgerMappingRead(BaseModel):
    retailer_code: str
    retailer_name: str
    ledger_name: str | None = Field(description="The Tally ledger used for this retailer, if any")
    how: str = Field(description="explicit | by_name | by_code | unmatched")
    reason: str | None = Field(default=None, description="Why it is unmatched")
    suggestions: list[str] = Field(default_factory=list, description="Closest Tally ledger names, for unmatched ones")


class LedgerMappingPage(Page[LedgerMappingRead]):
    ledgers_known: int = Field(description="Ledgers of the debtors group in the cache")


class LedgerAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ledger_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = Field(
        description="The Tally ledger's name; null or empty clears it (back to matching by name or code)",
        examples=["Sharma Mobile Point"])


class LedgerAssignmentItem(LedgerAssignment):
    retailer_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=RETAILER_CODE_CHARS),
                             Field(examples=["RT100005"])]


class LedgerAssignmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mappings: list[LedgerAssignmentItem] = Field(min_length=1, max_length=20000)


class LedgerAssignmentResult(BaseModel):
    updated: int
    cleared: int
    unchanged: int


class OdRow(BaseModel):
    retailer_codes: list[str]
    retailer_name: str
    ledger_name: str
    closing_balance: Money = Field(description="Receivable: positive = the retailer owes us")
    stock_units: int
    stock_value: Money
    unpriced_units: int
    od_amount: Money = Field(description="closing_balance - stock_value")
    balance_source: str = Field(description="live | cache | stale_cache")
    balance_as_of: datetime
    valuation_complete: bool
    # From the open bills as last read (GET /reports/ageing reads them); null before the first read.
    overdue_total: Money | None = None
    oldest_overdue_days: int | None = None
    credit_limit: Money | None = Field(default=None, description="Tally's credit limit; null when none is set")
    hold_reasons: list[str] = Field(default_factory=list, description="over_limit | overdue | uncovered")


class OdTotals(BaseModel):
    od_amount: Money
    closing_balance: Money
    stock_value: Money
    rows: int
    unmatched_retailers: int
    balance_unavailable: int
    credit_balances: int
    unpriced_goods: int


class UnmatchedRetailer(BaseModel):
    retailer_code: str
    retailer_name: str
    stock_units: int
    reason: str


class BalanceUnavailable(BaseModel):
    retailer_codes: list[str]
    ledger_name: str | None = Field(description="null when no ledger could be matched because Tally is unread")
    stock_units: int
    reason: str


class CreditBalance(BaseModel):
    retailer_codes: list[str]
    ledger_name: str
    closing_balance: Money
    stock_value: Money


class UnpricedGoodsHeld(BaseModel):
    goods_id: str
    name: str
    units: int


class OdReport(BaseModel):
    as_of: datetime
    prm_run_id: int | None
    prm_run_at: datetime | None
    prm_snapshot_age_days: int | None
    warnings: list[str]
    rows: list[OdRow]
    totals: OdTotals
    unmatched_retailers: list[UnmatchedRetailer]
    balance_unavailable: list[BalanceUnavailable]
    credit_balances: list[CreditBalance]
    unpriced_goods: list[UnpricedGoodsHeld]


class ValuedGoods(BaseModel):
    goods_id: str
    name: str
    units: int
    unit_price: Money | None
    value: Money


class OdDrillDown(BaseModel):
    retailer_codes: list[str]
    retailer_name: str
    ledger_name: str | None
    mapping: str = Field(description="explicit | by_name | by_code | unmatched")
    closing_balance: Money | None
    balance_source: str | None
    balance_as_of: datetime | None
    balance_age_seconds: int | None
    stock_units: int
    stock_value: Money
    unpriced_units: int
    od_amount: Money | None
    goods: list[ValuedGoods]
    unpriced_goods: list[UnpricedGoodsHeld]
    prm_run_id: int | None
