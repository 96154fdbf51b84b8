"""Rupee amounts as `Decimal`: the one rounding rule and the paise conversion."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import Field, PlainSerializer

PAISA = Decimal("0.01")


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantise to paise with ROUND_HALF_UP; `-0.00` becomes `0.00`.

    Floats are refused: `Decimal(0.1)` keeps the float's binary error. Convert a float cell
    with `Decimal(str(cell))` at the edge instead.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass Decimal(str(value))")
    try:
        amount = Decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    return amount + 0 if amount else Decimal("0.00")


def to_paise(amount: Decimal) -> int:
    return int(to_money(amount) * 100)


def from_paise(paise: int) -> Decimal:
    return to_money(Decimal(paise) / 100)


def format_money(amount: Decimal) -> str:
    """Two places, no exponent, never `-0.00`: how money is written in JSON."""
    return f"{to_money(amount):f}"


# The only way a schema spells money: two places, written to JSON as a string.
Money = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2),
    PlainSerializer(format_money, return_type=str, when_used="json"),
]


def format_inr(amount: Decimal) -> str:
    """Indian digit grouping for people: 12345678.5 -> "1,23,45,678.50"."""
    text = format_money(amount)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, paise = text.split(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        whole = ",".join([head, *groups, tail]) if head else ",".join([*groups, tail])
    return f"{sign}{whole}.{paise}"
