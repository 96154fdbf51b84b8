"""Which Tally ledger belongs to which PRM retailer, decided from names alone. No I/O.

Tally keys ledgers by name and the PRM portal keys retailers by code, and the two are not one
to one. A retailer's ledger is `retailers.tally_ledger_name` when set; otherwise the one debtors
ledger whose normalised name equals the retailer's name, or else its code.
"""

import difflib
import re
from typing import NamedTuple
from urllib.parse import quote

from kit.cells import normalise_name

SUGGESTIONS = 3
_HONORIFICS = re.compile(r"\b(m\s*/\s*s|messrs|mess)\b\.?")
_PUNCTUATION = re.compile(r"[^\w\s]")
_FILLER = {"the", "and", "co", "company", "pvt", "ltd", "private", "limited"}


def fuzzy_key(name: str) -> str:
    """A loose form for suggestions: '&' = 'and', no 'M/s', no punctuation, words in any order."""
    text = normalise_name(name).replace("&", " and ")
    text = _PUNCTUATION.sub(" ", _HONORIFICS.sub(" ", text))
    return " ".join(sorted(word for word in text.split() if word not in _FILLER))


class Mapping(NamedTuple):  # a NamedTuple: the OD report builds one per retailer on every call
    retailer_code: str
    retailer_name: str
    ledger_key: str | None
    ledger_name: str | None  # as Tally spells it, when known
    how: str  # explicit | by_name | by_code | unmatched
    reason: str | None = None


def ledger_path(code: str) -> str:
    """The path that sets a retailer's ledger: the code as it is, a slash kept, `% # ?` and spaces encoded."""
    return f"/admin/retailers/{quote(code, safe='/')}/ledger"


def resolve(code: str, name: str, explicit: str | None, ledgers: dict[str, str]) -> Mapping:
    """Pure: map one retailer given the known ledgers (normalised name -> Tally's spelling)."""
    if explicit:
        key = normalise_name(explicit)
        return Mapping(code, name, key, ledgers.get(key, explicit), "explicit")
    for how, candidate in (("by_name", name), ("by_code", code)):
        key = normalise_name(candidate)
        if key in ledgers:
            return Mapping(code, name, key, ledgers[key], how)
    return Mapping(code, name, None, None, "unmatched",
                   f"no ledger in Tally's debtors group is named {name!r} or {code!r}; choose its ledger on "
                   f"the Mapping tab of the office page (or PUT {ledger_path(code)})")


def suggest(name: str, code: str, ledgers: dict[str, str], fuzzy: dict[str, list[str]]) -> list[str]:
    found: list[str] = []
    for candidate in (name, code):
        for ledger in fuzzy.get(fuzzy_key(candidate), []):
            if ledger not in found:
                found.append(ledger)
    close = difflib.get_close_matches(fuzzy_key(name), list(fuzzy), n=SUGGESTIONS, cutoff=0.75)
    for key in close:
        for ledger in fuzzy[key]:
            if ledger not in found:
                found.append(ledger)
    return found[:SUGGESTIONS]


def fuzzy_index(ledgers: dict[str, str]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for ledger in ledgers.values():
        index.setdefault(fuzzy_key(ledger), []).append(ledger)
    return index
