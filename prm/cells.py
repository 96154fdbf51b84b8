"""Pure conversions of one PRM cell: IMEIs and their check digit. No I/O.

Generic text and date conversions live in `kit.cells`; this module adds what only device rows need.
"""

from typing import Any

from kit.cells import CellError, cell_text

# Digit d at a doubled Luhn position counts as the digit sum of 2d.
_DOUBLED = str.maketrans("0123456789", "0246813579")


# Marks a cell the short path leaves to the full rules (and their messages).
NEEDS_CARE: Any = type("NeedsCare", (), {"__repr__": lambda self: "NEEDS_CARE"})()


def luhn_ok(digits: str) -> bool:
    """True when the last digit is the Luhn check digit of the others (`digits` is ASCII digits)."""
    # Counted from the right, the check digit is not doubled, the next one is, and so on; for an
    # odd length (an IMEI has 15) that is every even index from the left, no reversal needed.
    if len(digits) % 2:
        plain, doubled = digits[0::2], digits[1::2].translate(_DOUBLED)
    else:
        plain, doubled = digits[1::2], digits[0::2].translate(_DOUBLED)
    # Summing the bytes of ASCII digits is the fast way to add them: each is 48 + the digit.
    return (sum(plain.encode()) + sum(doubled.encode()) - 48 * len(digits)) % 10 == 0


def luhn_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return digit
    raise AssertionError("unreachable: one digit always completes a Luhn number")


_IMEI_JUNK = str.maketrans("", "", " -\u00a0\t")


def parse_imei(value: Any) -> tuple[str, str | None]:
    """A 15-digit IMEI with a valid check digit, and a warning when it was repaired.

    Excel stores long numbers as floats and drops a leading zero, so a 14-digit numeric cell
    whose "0" + value passes Luhn is taken with a warning.
    """
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError("is not a whole number; an IMEI has 15 digits")
        text = str(int(value))
    elif numeric:
        text = str(value)
    else:
        text = cell_text(value).translate(_IMEI_JUNK).lstrip("'")
    if not text:
        raise CellError("is empty; an IMEI is required")
    if not text.isdigit() or not text.isascii():
        raise CellError("must contain only digits (15 of them)")
    warning = None
    if len(text) == 14 and numeric and luhn_ok("0" + text):
        text = "0" + text
        warning = f"Excel dropped the leading zero; read as {text}"
    if len(text) == 16:
        raise CellError("has 16 digits: it looks like an IMEISV or serial number, not an IMEI")
    if len(text) != 15:
        raise CellError(f"has {len(text)} digits; an IMEI has 15")
    if not luhn_ok(text):
        raise CellError(f"fails the IMEI check digit (a valid IMEI would end in {luhn_check_digit(text[:14])})")
    return text, warning
