"""Ageing, limits and holds, as pure functions of open bills and balances (no database, no Tally).

Amounts follow the service's sign: positive = the party owes us. Every amount is a Decimal;
sums stay exact and each output field is quantised once, by `Money` where it is serialised.
"""

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from credit.tally_bills import OpenBill, on_account

NOT_DUE = "not_due"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Slabs:
    """Overdue buckets from their upper bounds in days: (30, 60, 90) gives 1-30, 31-60, 61-90, 91+."""

    bounds: tuple[int, ...] = (30, 60, 90)
    names: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.bounds or any(b <= a for a, b in zip((0, *self.bounds), self.bounds)):
            raise ValueError(f"ageing slabs must rise from above 0, e.g. 30,60,90; got {self.bounds}")
        lows = (1, *(bound + 1 for bound in self.bounds[:-1]))
        # not_due, overdue_1_30, overdue_31_60, overdue_61_90, overdue_90_plus for the default bounds
        object.__setattr__(self, "names", (NOT_DUE, *(f"overdue_{low}_{high}" for low, high in zip(lows, self.bounds)),
                                           f"overdue_{self.bounds[-1]}_plus"))

    def bucket(self, overdue_days: int) -> str:
        if overdue_days <= 0:
            return NOT_DUE
        return self.names[1 + bisect_left(self.bounds, overdue_days)]


@dataclass(frozen=True)
class AgedBill:
    bill: OpenBill
    due_date: date | None  # None: Tally gave the bill no readable date
    overdue_days: int  # from the due date (or the bill date for basis=bill_date); <= 0: not due
    bucket: str


def age_bill(bill: OpenBill, *, due: date | None, as_of: date, slabs: Slabs, basis: str = "due_date") -> AgedBill:
    """`due` comes from the bill's own period, else its ledger's credit days (`CreditBook.due_date`)."""
    start = due if basis == "due_date" else bill.bill_date
    days = 0 if start is None else (as_of - start).days  # an undated bill cannot be called overdue
    return AgedBill(bill=bill, due_date=due, overdue_days=days, bucket=slabs.bucket(days))


@dataclass
class LedgerAgeing:
    """One ledger's balance split by age: its bills by bucket, and what no bill explains (worked
    out once: a remembered ageing serves many reports)."""

    balance: Decimal
    buckets: dict[str, Decimal]
    bills: list[AgedBill] = field(default_factory=list)

    @cached_property
    def overdue_total(self) -> Decimal:
        return sum((amount for name, amount in self.buckets.items() if name != NOT_DUE), ZERO)

    @cached_property
    def on_account(self) -> Decimal:
        """Receipts not set against a bill, advances, a ledger with bill-wise off: never aged."""
        return on_account(self.balance, (aged.bill for aged in self.bills))

    @cached_property
    def oldest_overdue(self) -> AgedBill | None:
        """The overdue bill still owed (a positive amount) that is overdue the longest; the older
        bill first on a tie, then the reference, so the answer never depends on order."""
        owed = [aged for aged in self.bills if aged.overdue_days > 0 and aged.bill.amount > 0]
        return min(owed, key=lambda aged: (-aged.overdue_days, aged.bill.bill_date or date.max, aged.bill.ref),
                   default=None)


def age_ledger(balance: Decimal, bills: list[OpenBill], *, due_of: Callable[[OpenBill], date | None], as_of: date,
               slabs: Slabs, basis: str = "due_date") -> LedgerAgeing:
    aged = sorted((age_bill(bill, due=due_of(bill), as_of=as_of, slabs=slabs, basis=basis) for bill in bills),
                  key=lambda a: (a.bill.bill_date or date.max, a.bill.ref))
    buckets = dict.fromkeys(slabs.names, ZERO)
    for one in aged:
        buckets[one.bucket] += one.bill.amount
    return LedgerAgeing(balance=balance, buckets=buckets, bills=aged)


def limit_used_pct(balance: Decimal, credit_limit: Decimal | None) -> Decimal | None:
    """The share of the credit limit in use, in per cent with two places; None without a limit."""
    if not credit_limit:
        return None
    return (balance * 100 / credit_limit).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def hold_reasons(*, balance: Decimal, credit_limit: Decimal | None, oldest_overdue_days: int | None,
                 od_amount: Decimal | None, hold_overdue_days: int, hold_min_od: Decimal) -> list[str]:
    """Every reason that puts a retailer on hold, in a fixed order: over_limit, overdue, uncovered."""
    reasons = []
    if credit_limit is not None and credit_limit > 0 and balance > credit_limit:
        reasons.append("over_limit")
    if oldest_overdue_days is not None and oldest_overdue_days > hold_overdue_days:
        reasons.append("overdue")
    if od_amount is not None and od_amount > hold_min_od:
        reasons.append("uncovered")
    return reasons
