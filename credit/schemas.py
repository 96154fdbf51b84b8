"""The credit reports' request and response bodies (schemas.py is full: the shared ones live there).

Money is `Money`: a Decimal with two places, a JSON string ("125000.00"), never a float.
"""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from kit.cells import query_day
from kit.money import Money
from schemas import BalanceUnavailable, CreditBalance, UnmatchedRetailer, UnpricedGoodsHeld


class BillRef(BaseModel):
    ref: str
    bill_date: date | None
    due_date: date | None
    amount: Money


class AgeingRow(BaseModel):
    ledger_name: str
    retailer_codes: list[str]
    retailer_name: str
    balance: Money = Field(description="Receivable: positive = the retailer owes us")
    not_due: Money
    overdue_1_30: Money = Field(description="The first overdue bucket (AGEING_SLABS; 1-30 days by default)")
    overdue_31_60: Money
    overdue_61_90: Money
    overdue_90_plus: Money
    overdue_total: Money
    on_account: Money = Field(description="Balance minus the open bills: unallocated receipts, advances, "
                                          "ledgers with bill-wise off; never aged")
    oldest_overdue_days: int | None
    oldest_overdue_bill: BillRef | None
    credit_limit: Money | None = Field(description="Tally's credit limit; null when none is set")
    credit_days: int | None
    limit_used_pct: Money | None = Field(description="Balance as a share of the credit limit, in per cent")
    stock_units: int
    stock_value: Money
    od_amount: Money = Field(description="balance - stock_value, as in the OD report")
    hold_reasons: list[str] = Field(description="over_limit | overdue | uncovered")


class AgeingTotals(BaseModel):
    balance: Money
    not_due: Money
    overdue_1_30: Money
    overdue_31_60: Money
    overdue_61_90: Money
    overdue_90_plus: Money
    overdue_total: Money
    on_account: Money
    rows: int
    on_hold: int


class AgeingReport(BaseModel):
    as_of: date
    basis: str = Field(description="due_date | bill_date: what overdue days count from")
    bucket_labels: list[str] = Field(description="The buckets in the office's words, e.g. 1-30 days")
    bills_source: str = Field(description="live | cache | stale_cache")
    bills_as_of: date | None
    bills_age_seconds: int | None
    balances_source: str
    warnings: list[str]
    rows: list[AgeingRow]
    totals: AgeingTotals
    unmatched_retailers: list[UnmatchedRetailer]
    balance_unavailable: list[BalanceUnavailable]
    credit_balances: list[CreditBalance]
    unpriced_goods: list[UnpricedGoodsHeld]


class AgedBillRead(BaseModel):
    ref: str
    bill_date: date | None
    due_date: date | None
    amount: Money
    overdue_days: int
    bucket: str


class RetailerBills(BaseModel):
    retailer_codes: list[str]
    retailer_name: str
    ledger_name: str
    as_of: date
    basis: str
    balance: Money
    on_account: Money
    bills_source: str
    bills: list[AgedBillRead]


class HoldRead(BaseModel):
    retailer_code: str
    retailer_codes: list[str]
    ledger_name: str
    reasons: list[str]
    active: bool = Field(description="On hold now: some reason applies and no release holds")
    released_until: date | None
    release_reason: str | None


class HoldList(BaseModel):
    as_of: date
    items: list[HoldRead]


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: Annotated[date, BeforeValidator(query_day)] = Field(description="The last day the release holds (IST)",
                                                               examples=["2026-12-15"])
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] = Field(
        examples=["Cheque of ₹1,18,000 promised for 10-12"])


class ReleaseRead(BaseModel):
    retailer_code: str
    until: date
    reason: str
    released_by: str
    released_at: datetime


class DayTotalsRead(BaseModel):
    day: date
    od_amount: Money = Field(description="The OD list's total that day")
    overdue_total: Money
    retailers_in_od: int
    on_hold: int


class HistoryRead(BaseModel):
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    days: list[DayTotalsRead] = Field(description="Days with a snapshot, oldest first")


class ChangeRead(BaseModel):
    ledger_name: str
    retailer_codes: list[str]
    kinds: list[str] = Field(description="entered_od | left_od | entered_hold | left_hold | worse | better")
    od_change: Money
    overdue_change: Money
    od_before: Money | None
    od_after: Money | None
    hold_reasons_before: list[str]
    hold_reasons_after: list[str]


class ChangesRead(BaseModel):
    since: date
    compared_from: date | None = Field(description="The snapshot day compared from: the last one on or before since")
    compared_to: date | None = Field(description="The latest snapshot day")
    items: list[ChangeRead] = Field(description="Largest movement first")


class LedgerDayRead(BaseModel):
    day: date
    ledger_name: str
    balance: Money
    overdue_total: Money
    od_amount: Money
    hold_reasons: list[str]


class RetailerHistory(BaseModel):
    retailer_code: str
    days: list[LedgerDayRead]


class SnapshotTaken(BaseModel):
    day: date
    ledgers: int
