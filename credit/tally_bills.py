"""Open bills from Tally, parsed as the answer streams in, and the pure sums made from them.

Pure: no sockets and no database (`TallyClient.open_bills` feeds `BillsReader`; `bills_cache`
stores the result). Section numbers (§) refer to ../shared/docs/tally-xml.md.
"""

import codecs
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement
from xml.parsers import expat

from errors import TallyError
from kit.cells import normalise_name
from kit.periods import CreditPeriod, parse_credit_period, parse_date
from tally_client import clean_xml, name_was_lost, parse_amount, raise_for_tally_error, response_encoding

MAX_OPEN_BILLS = 500_000  # a big distributor has 60,000; beyond this the answer is not a book's bills
_FIELDS = {"PARENT", "BILLDATE", "CLOSINGBALANCE", "BILLCREDITPERIOD"}
_ERROR_TAGS = ("LINEERROR", "EXCEPTION")
_TEXT_KEPT = 2000  # characters of an error or a non-Tally document kept for the message
_HOLD = 32  # a character reference split across two chunks is at most this long (with its space)


@dataclass(frozen=True, slots=True)
class OpenBill:
    ref: str  # the bill reference (Tally's NAME)
    ledger: str  # the party ledger, as Tally spells it
    bill_date: date | None  # None: Tally sent no readable date
    amount: Decimal  # outstanding; positive = the party owes us on this bill (§5)
    period: CreditPeriod | None  # the bill's own; None = the ledger's credit days apply

    @property
    def ledger_key(self) -> str:
        return normalise_name(self.ledger)


@dataclass
class BillsAnswer:
    bills: list[OpenBill] = field(default_factory=list)
    cleared: int = 0  # bills with nothing outstanding: not open, left out
    names_lost: int = 0  # party names that came back as '???' (§2): left out, they match no ledger


class _BillsParser:
    """expat callbacks that keep only BODY/DATA's BILL objects and every error sign (§6)."""

    def __init__(self) -> None:
        self.answer = BillsAnswer()
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = self._refuse  # §7: Tally never sends a DTD
        self.parser.EntityDeclHandler = self._refuse
        self.parser.ExternalEntityRefHandler = self._refuse
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._characters
        self.path: list[str] = []
        self.root: str | None = None
        self.data_depth: int | None = None  # depth of BODY/DATA while inside it
        self.bill: dict[str, str] | None = None
        self.bill_depth = 0
        self.capture: list[str] | None = None
        self.root_text: list[str] = []  # for a RESPONSE or non-Tally root
        self.root_text_size = 0
        self.status = ""

    def _refuse(self, *args: object) -> None:
        raise TallyError("Tally's answer is not readable XML (it declares a DTD or entities).")

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        depth = len(self.path)
        self.path.append(tag)
        if depth == 0:
            self.root = tag
        elif depth == 2 and tag == "DATA" and self.path[1] == "BODY":
            self.data_depth = 2
        if tag in _ERROR_TAGS or (depth == 2 and tag == "STATUS" and self.path[1] == "HEADER"):
            self.capture = []
        elif self.bill is not None and depth == self.bill_depth + 1 and tag in _FIELDS:
            self.capture = []
            if tag == "BILLCREDITPERIOD":
                self.bill["P"] = attributes.get("P", "")
        elif tag == "BILL" and self.data_depth is not None and self.bill is None and "NAME" in attributes:
            self.bill, self.bill_depth = {"NAME": attributes["NAME"]}, depth

    def _characters(self, text: str) -> None:
        if self.capture is not None:
            self.capture.append(text)
        if self.root is not None and self.root.upper() != "ENVELOPE" and self.root_text_size < _TEXT_KEPT:
            self.root_text.append(text)
            self.root_text_size += len(text)

    def _end(self, tag: str) -> None:
        depth = len(self.path) - 1
        self.path.pop()
        text = "" if self.capture is None else "".join(self.capture)
        if tag in _ERROR_TAGS:
            envelope = Element("ENVELOPE")
            SubElement(envelope, tag).text = text[:_TEXT_KEPT]
            raise_for_tally_error(envelope)
        if depth == 2 and tag == "STATUS" and self.path[1] == "HEADER":
            self.status = text  # judged at the end: a LINEERROR later on says more than STATUS 0
        if self.bill is not None and depth == self.bill_depth + 1 and tag in _FIELDS:
            self.bill[tag] = text
        elif self.bill is not None and depth == self.bill_depth:
            self._keep(self.bill)
            self.bill = None
        elif depth == 2 and tag == "DATA":
            self.data_depth = None
        elif depth == 0:
            root = Element(tag)
            root.text = "".join(self.root_text)[:_TEXT_KEPT]
            SubElement(SubElement(root, "HEADER"), "STATUS").text = self.status
            raise_for_tally_error(root)  # a RESPONSE, a non-Tally root or STATUS 0; a good ENVELOPE passes
        self.capture = None

    def _keep(self, fields: dict[str, str]) -> None:
        answer = self.answer
        ledger = " ".join(fields.get("PARENT", "").split())
        amount, _ = parse_amount(fields.get("CLOSINGBALANCE"))
        if not amount:
            answer.cleared += 1
            return
        if name_was_lost(ledger) or not ledger:
            answer.names_lost += 1
            return
        if len(answer.bills) >= MAX_OPEN_BILLS:
            raise TallyError(f"Tally sent more than {MAX_OPEN_BILLS:,} open bills; not read.")
        answer.bills.append(OpenBill(
            ref=" ".join(fields["NAME"].split()), ledger=ledger, bill_date=parse_date(fields.get("BILLDATE")),
            amount=amount, period=parse_credit_period(fields.get("BILLCREDITPERIOD"), fields.get("P"))))


class BillsReader:
    """Decodes (§2), cleans (§7) and parses an open-bills answer chunk by chunk; `close` gives the bills."""

    def __init__(self, content_type: str | None) -> None:
        self.content_type = content_type
        self._head = b""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._pending = ""
        self._parser = _BillsParser()

    def feed(self, chunk: bytes) -> None:
        if self._decoder is None:
            self._head += chunk
            if len(self._head) < 2:
                return
            codec, bom = response_encoding(self._head[:2], self.content_type)
            self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")
            chunk, self._head = self._head[bom:], b""
        text = self._pending + self._decoder.decode(chunk)
        cut = text.rfind("&")
        if cut >= 0 and len(text) - cut <= _HOLD:  # a reference (and the space after `&#4;`) may go on
            text, self._pending = text[:cut], text[cut:]
        else:
            self._pending = ""
        self._parse(text, final=False)

    def close(self) -> BillsAnswer:
        if self._decoder is None:
            codec, bom = response_encoding(self._head[:2], self.content_type)
            text = self._head[bom:].decode(codec, errors="replace")
        else:
            text = self._pending + self._decoder.decode(b"", final=True)
        self._parse(text, final=True)
        return self._parser.answer

    def _parse(self, text: str, *, final: bool) -> None:
        try:
            self._parser.parser.Parse(clean_xml(text), final)
        except expat.ExpatError as exc:
            raise TallyError(f"Tally's answer is not readable XML ({exc}).") from None


def read_open_bills(body: bytes, content_type: str | None) -> BillsAnswer:
    """A whole answer at once (tests, tools); the service streams it through BillsReader."""
    reader = BillsReader(content_type)
    reader.feed(body)
    return reader.close()


# --- sums made from the bills -------------------------------------------------------------------


def credit_days(bill: OpenBill, *, ledger_period: CreditPeriod | None, default_days: int) -> int | None:
    """The days a bill is given: its own, else its ledger's, else `default_days`; None for a fixed due date."""
    if bill.period is not None:
        return bill.period.days  # None when the bill has a fixed due date instead
    if ledger_period is not None and ledger_period.days is not None:
        return ledger_period.days
    return default_days


def due_date(bill: OpenBill, *, ledger_period: CreditPeriod | None, default_days: int) -> date | None:
    """The bill's own due date, else its bill date plus its credit days (see credit_days)."""
    if bill.period is not None and bill.period.due_date is not None:
        return bill.period.due_date
    days = credit_days(bill, ledger_period=ledger_period, default_days=default_days)
    return None if bill.bill_date is None or days is None else bill.bill_date + timedelta(days=days)


def on_account(balance: Decimal, bills: Iterable[OpenBill]) -> Decimal:
    """§12: the part of a ledger's balance in no open bill (unallocated receipts, advances, bill-wise off)."""
    return balance - sum((bill.amount for bill in bills), Decimal("0.00"))


def on_account_by_ledger(balances: Mapping[str, Decimal], bills: Iterable[OpenBill]) -> dict[str, Decimal]:
    """on_account for every ledger in `balances` (by normalised name); bills of other ledgers are ignored."""
    billed: dict[str, Decimal] = {}
    for bill in bills:
        billed[bill.ledger_key] = billed.get(bill.ledger_key, Decimal("0.00")) + bill.amount
    return {key: balance - billed.get(key, Decimal("0.00")) for key, balance in balances.items()}
