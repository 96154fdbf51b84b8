"""Talk to Tally over its XML-over-HTTP port: a pure half (build, decode, clean, parse) and a
transport half (`TallyClient`). Section numbers (§) refer to ../shared/docs/tally-xml.md.

Only `tally_cache.py` and `credit/bills_cache.py` (through tally_cache's flights) use `TallyClient`; routes ask the caches.
"""

import codecs
import http.client
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol, TypeVar
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from errors import ErrorItem, InvalidInput, TallyError, TallyUnavailable
from kit.cells import check_name, normalise_name
from kit.money import to_money
from kit.periods import CreditPeriod, parse_credit_period, parse_date, parse_logical  # noqa: F401 (re-exported)

BANNER_TEXT = "Server is Running"
UNKNOWN_REQUEST = "Unknown Request"
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # §9.7: bound what we read; a group of thousands is a few MB
MAX_STREAM_BYTES = 256 * 1024 * 1024  # streamed answers are parsed as they come; 60,000 bills are ~30 MB
SUNDRY_DEBTORS = "sundry debtors"
COLLECTION_ID = "PartyBalances"
BILLS_COLLECTION_ID = "OpenBills"
LEDGER_FIELDS = "Name, Parent, ClosingBalance, CreditLimit, BillCreditPeriod, IsBillWiseOn, LedgerMobile, Email"
T = TypeVar("T")
TALLY_ROOTS = ("ENVELOPE", "RESPONSE")  # §4, §6: a document with any other root is not Tally speaking


# --- pure half: requests ------------------------------------------------------------------------


def xml_text(value: str) -> str:
    """§8: escape every inserted value; line breaks as &#13;&#10;."""
    escaped = escape(value, {'"': "&quot;", "'": "&apos;"})
    return escaped.replace("\r\n", "&#13;&#10;").replace("\n", "&#13;&#10;")


def financial_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def _static_variables(company: str, as_of: date | None) -> str:
    parts = ["<SVEXPORTFORMAT>$$SysName:XML</SVEXPORTFORMAT>"]
    if company:  # §3: always send it when known; otherwise Tally silently uses the active one
        parts.append(f"<SVCURRENTCOMPANY>{xml_text(company)}</SVCURRENTCOMPANY>")
    if as_of is not None:  # §3: closing balance as of D = from the start of the FY to D
        parts.append(f'<SVFROMDATE TYPE="Date">{financial_year_start(as_of):%Y%m%d}</SVFROMDATE>')
        parts.append(f'<SVTODATE TYPE="Date">{as_of:%Y%m%d}</SVTODATE>')
    return "<STATICVARIABLES>" + "".join(parts) + "</STATICVARIABLES>"


def group_reference(group: str) -> str:
    """§3b: the reserved name survives a user renaming Sundry Debtors; other groups by name."""
    return "$$GroupSundryDebtors" if normalise_name(group) == SUNDRY_DEBTORS else xml_text(group)


def build_group_balances_request(*, company: str, group: str, as_of: date | None = None) -> str:
    """§3b: every ledger under `group` and its sub-groups, in one request."""
    return (
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST>"
        f"<TYPE>Collection</TYPE><ID>{COLLECTION_ID}</ID></HEADER><BODY><DESC>"
        f"{_static_variables(company, as_of)}"
        f'<TDL><TDLMESSAGE><COLLECTION NAME="{COLLECTION_ID}" ISMODIFY="No"><TYPE>Ledger</TYPE>'
        f"<CHILDOF>{group_reference(group)}</CHILDOF><BELONGSTO>Yes</BELONGSTO>"
        f"<FETCH>{LEDGER_FIELDS}</FETCH></COLLECTION></TDLMESSAGE></TDL>"
        "</DESC></BODY></ENVELOPE>"
    )


def build_open_bills_request(*, company: str, as_of: date, primary_group: str = "Sundry Debtors") -> str:
    """§12: every open bill of every party whose group's primary group is `primary_group`, as of a
    date, in one request. The name goes into a TDL formula, where a `"` cannot be escaped (§8)."""
    if '"' in primary_group:
        raise InvalidInput(f"The group name {primary_group!r} has a double quote, which Tally formulas cannot hold.")
    formula = f'$$IsEqual:($_PrimaryGroup:Group:($Parent:Ledger:$Parent)):"{xml_text(primary_group)}"'
    return (
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST>"
        f"<TYPE>Collection</TYPE><ID>{BILLS_COLLECTION_ID}</ID></HEADER><BODY><DESC>"
        f"{_static_variables(company, as_of)}"
        f'<TDL><TDLMESSAGE><COLLECTION NAME="{BILLS_COLLECTION_ID}" ISMODIFY="No"><TYPE>Bill</TYPE>'
        "<FETCH>Name, Parent, BillDate, ClosingBalance, BillCreditPeriod</FETCH>"
        "<FILTER>DebtorBills</FILTER></COLLECTION>"
        f'<SYSTEM TYPE="Formulae" NAME="DebtorBills">{formula}</SYSTEM></TDLMESSAGE></TDL>'
        "</DESC></BODY></ENVELOPE>"
    )


def build_ledger_request(*, company: str, ledger: str, as_of: date | None = None) -> str:
    """§3a: one ledger by name (Object export)."""
    return (
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST>"
        f'<TYPE>Object</TYPE><SUBTYPE>Ledger</SUBTYPE><ID TYPE="Name">{xml_text(ledger)}</ID></HEADER>'
        f"<BODY><DESC>{_static_variables(company, as_of)}"
        "<FETCHLIST><FETCH>Name</FETCH><FETCH>Parent</FETCH><FETCH>ClosingBalance</FETCH></FETCHLIST>"
        "</DESC></BODY></ENVELOPE>"
    )


def encode_request(xml: str) -> bytes:
    """§2: UTF-16LE, so Hindi names travel intact (UTF-8 requests get '?' back)."""
    return xml.encode("utf-16-le")


REQUEST_HEADERS = {"Content-Type": "text/xml;charset=utf-16"}


# --- pure half: answers -------------------------------------------------------------------------


def response_encoding(head: bytes, content_type: str | None) -> tuple[str, int]:
    """§2: (codec, BOM length) from the first two bytes, then the declared charset, then UTF-8."""
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le", 2
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be", 2
    if head[:2] == b"<\x00":
        return "utf-16-le", 0
    match = re.search(r"charset\s*=\s*\"?([\w-]+)", content_type or "", re.IGNORECASE)
    charset = match.group(1).lower() if match else "utf-8"
    if charset in ("utf-16", "utf16"):
        return "utf-16-le", 0  # no BOM was found above, and Tally writes little-endian
    try:
        return codecs.lookup(charset).name, 0
    except LookupError:
        return "utf-8", 0


def decode_response(body: bytes, content_type: str | None) -> str:
    """§2: the whole answer as text (see response_encoding)."""
    codec, bom = response_encoding(body[:2], content_type)
    return body[bom:].decode(codec, errors="replace")


_CHARACTER_REFERENCE = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);( ?)")
_FORBIDDEN_RAW = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _allowed_in_xml(code: int) -> bool:
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def _keep_or_drop(match: re.Match[str]) -> str:
    number = match.group(1)
    code = int(number[1:], 16) if number[0] in "xX" else int(number)
    return match.group(0) if _allowed_in_xml(code) else ""


def clean_xml(text: str) -> str:
    """§7: drop references to characters XML 1.0 forbids (Tally's `&#4; Primary`, with the space
    after it), raw control characters, and the undefined `&tab;`, so a strict parser accepts the rest."""
    text = _CHARACTER_REFERENCE.sub(_keep_or_drop, text)
    text = _FORBIDDEN_RAW.sub("", text)
    return text.replace("&tab;", " ")


def parse_document(text: str) -> Element:
    """A hardened parse (§7): no DTDs, no entity expansion, no external entities."""
    try:
        return fromstring(clean_xml(text).strip(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise TallyError(f"Tally's answer is not readable XML ({exc}).") from None


def _text(element: Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def raise_for_tally_error(root: Element) -> None:
    """§6: HTTP 200 carries errors too: Unknown Request, the banner, LINEERROR, EXCEPTION, STATUS 0.

    A document that is neither an ENVELOPE nor a RESPONSE (an HTML page from a router, §11's bare
    ERRORMSG) is not an empty answer: read as one, it would empty the cache of the whole group.
    """
    if root.tag == "RESPONSE":
        message = " ".join(_text(root).split())
        if BANNER_TEXT.lower() in message.lower():
            raise TallyError("Tally answered with its 'Server is Running' banner instead of data; "
                             "check TALLY_HOST points at Tally's XML port.")
        if UNKNOWN_REQUEST.lower() in message.lower():
            raise TallyError("Tally did not understand the request (Unknown Request, cannot be processed).")
        raise TallyError(f"Tally answered: {message[:300]}")
    if root.tag.upper() not in TALLY_ROOTS:
        text = " ".join("".join(root.itertext()).split())[:200]
        raise TallyError(f"Tally's answer is not Tally XML (it starts with <{root.tag[:40]}>{': ' + text if text else ''}); "
                         "check that TALLY_HOST points at Tally's XML port.")
    for tag in ("LINEERROR", "EXCEPTION"):
        found = root.find(f".//{tag}")
        if found is not None:
            raise TallyError(f"Tally reported an error: {' '.join(_text(found).split())[:300]}")
    status = root.find("./HEADER/STATUS")
    if status is not None and _text(status).strip() == "0":
        raise TallyError("Tally refused the request (STATUS 0) without saying why.")


@dataclass(frozen=True)
class LedgerTerms:
    """§12: a ledger master's credit terms, read with its balance."""

    credit_limit: Decimal | None  # the limit's magnitude; None = no limit
    credit_period: CreditPeriod | None  # None = not set
    is_bill_wise: bool | None  # None = Tally did not say
    mobile: str | None
    email: str | None


@dataclass(frozen=True)
class LedgerBalance:
    name: str
    parent: str | None
    closing_balance: Decimal  # positive = the party owes us (debit)
    blank: bool  # Tally sent an empty amount: a nil balance, not a parse failure
    name_lost: bool = False  # the name came back as '???': a UTF-8 round trip lost it
    terms: LedgerTerms | None = None  # None: the request did not fetch them (one-ledger reads)

    @property
    def key(self) -> str:
        return normalise_name(self.name)


_AMOUNT_JUNK = re.compile(r"[^0-9.\-]")


def parse_amount(text: str | None) -> tuple[Decimal, bool]:
    """§5: (amount with positive = owes us, blank). Tally's native sign is debit-negative."""
    raw = "".join((text or "").split())
    if "=" in raw:  # forex: "-USD1250.00 @ ₹ 83.10/USD = -₹ 103875.00" -> the base-currency part
        raw = raw.rsplit("=", 1)[1]
    suffix = raw[-2:].lower() if len(raw) >= 2 else ""
    if suffix in ("dr", "cr"):
        raw = raw[:-2]
    negative_prefix = raw.startswith("(-)")
    raw = raw.replace("(-)", "-", 1) if negative_prefix else raw
    digits = _AMOUNT_JUNK.sub("", raw.replace("Rs.", "").replace("rs.", ""))
    if digits in ("", "-", ".", "-."):
        if any(char.isdigit() for char in raw):
            raise TallyError(f"Tally sent an amount that is not a number: {text!r}")
        return Decimal("0.00"), True
    try:
        number = Decimal(digits)
    except InvalidOperation:
        raise TallyError(f"Tally sent an amount that is not a number: {text!r}") from None
    if suffix == "dr":
        return to_money(abs(number)), False
    if suffix == "cr":
        return to_money(-abs(number)), False
    return to_money(-number), False


def name_was_lost(name: str) -> bool:
    stripped = name.replace(" ", "")
    return bool(stripped) and set(stripped) <= {"?"}


def _ledger_elements(root: Element) -> list[Element]:
    """§4: ledgers live under BODY/DATA (COLLECTION or TALLYMESSAGE); CMPINFO's LEDGER is a count."""
    data = root.find("./BODY/DATA")
    if data is None:
        return []
    return [element for element in data.iter("LEDGER") if element.get("NAME") is not None]


def _terms(element: Element) -> LedgerTerms | None:
    found = {tag: element.find(tag) for tag in ("CREDITLIMIT", "BILLCREDITPERIOD", "ISBILLWISEON", "LEDGERMOBILE", "EMAIL")}
    if all(item is None for item in found.values()):
        return None
    text = {tag: " ".join(_text(item).split()) for tag, item in found.items()}
    try:
        limit: Decimal | None = abs(parse_amount(text["CREDITLIMIT"])[0]) or None
    except TallyError:  # an unreadable limit is no limit, not a failed read of every balance
        limit = None
    shown = found["BILLCREDITPERIOD"].get("P") if found["BILLCREDITPERIOD"] is not None else None
    return LedgerTerms(credit_limit=limit, credit_period=parse_credit_period(text["BILLCREDITPERIOD"], shown),
                       is_bill_wise=parse_logical(text["ISBILLWISEON"]), mobile=text["LEDGERMOBILE"] or None,
                       email=text["EMAIL"] or None)


def parse_ledger_balances(root: Element) -> list[LedgerBalance]:
    balances = []
    for element in _ledger_elements(root):
        name = " ".join((element.get("NAME") or "").split())
        parent = " ".join(_text(element.find("PARENT")).split()) or None
        amount, blank = parse_amount(_text(element.find("CLOSINGBALANCE")))
        balances.append(LedgerBalance(name=name, parent=parent, closing_balance=amount, blank=blank,
                                      name_lost=name_was_lost(name), terms=_terms(element)))
    return balances


def read_balances(body: bytes, content_type: str | None) -> list[LedgerBalance]:
    root = parse_document(decode_response(body, content_type))
    raise_for_tally_error(root)
    return parse_ledger_balances(root)


# --- transport half -----------------------------------------------------------------------------


def _check_answer(status: int, content_type: str | None) -> None:
    if status != 200:
        raise TallyError(f"Tally answered HTTP {status}, not an XML answer.")
    if "html" in (content_type or "").lower():
        raise TallyError("Tally's port answered with an HTML page, not Tally XML: check that TALLY_HOST "
                         "points at Tally's XML port and not a router or web server.")


@dataclass
class _Answer:
    status: int
    content_type: str | None
    body: bytes  # empty when the answer went to a stream reader


class AnswerReader(Protocol[T]):  # type: ignore[misc]
    """Takes an answer as it arrives (`feed`) and gives the result at the end (`close`)."""

    def feed(self, chunk: bytes) -> None: ...

    def close(self) -> T: ...


class TallyClient:
    """Talks to Tally with one overall deadline per request (connect + the whole answer).

    Plain `http.client` rather than requests: requests' read timeout restarts on every byte, so a
    Tally that trickles one byte a second never times out, and urllib3 blocks until its buffer
    fills. Here a watchdog shuts the socket at the deadline, whatever phase the request is in.
    The lock keeps one request at a time inside this process (§1); tally_cache adds the lock
    shared by every process.
    """

    def __init__(self, base_url: str, company: str = "", *, connect_timeout: float = 5.0,
                 read_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.company = company
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout  # the longest any one request may take, unless told less
        parts = urlsplit(self.base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path or "/"
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing is kept open between requests (one connection per request)."""

    def _unreachable(self) -> TallyUnavailable:
        return TallyUnavailable(f"Tally is not reachable at {self.base_url}: is it running with the XML port enabled?")

    def _timed_out(self, seconds: float) -> TallyUnavailable:
        return TallyUnavailable(f"Tally at {self.base_url} did not answer within {round(seconds, 1):g} s: it may be busy "
                                "or a dialog may be open on the Tally screen.")

    def _exchange(self, method: str, body: bytes | None, timeout: float | None,
                  sink: Callable[[str | None], Callable[[bytes], None]] | None = None,
                  max_bytes: int = MAX_RESPONSE_BYTES) -> _Answer:
        """One request and its whole answer within `timeout` s; with `sink`, a 200 XML answer goes to it."""
        limit = self.read_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        if not self._lock.acquire(timeout=max(limit, 0.0)):
            raise TallyUnavailable(f"Tally at {self.base_url} is still answering another request after {limit:g} s.")
        try:
            return self._exchange_locked(method, body, limit, deadline, sink, max_bytes)
        finally:
            self._lock.release()

    def _exchange_locked(self, method: str, body: bytes | None, limit: float, deadline: float,
                         sink: Callable[[str | None], Callable[[bytes], None]] | None, max_bytes: int) -> _Answer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out(limit)
        connection_class = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = connection_class(self._host, self._port, timeout=min(self.connect_timeout, remaining))
        expired = threading.Event()
        watchdog: threading.Timer | None = None
        try:
            try:
                connection.connect()
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise self._timed_out(limit) from None
                raise TallyUnavailable(f"Tally at {self.base_url} did not accept a connection within "
                                       f"{self.connect_timeout:g} s.") from None
            sock = connection.sock
            assert sock is not None
            remaining = deadline - time.monotonic()
            sock.settimeout(max(remaining, 0.001))

            def cut_off() -> None:  # from the timer's thread: unblocks whatever read is waiting
                expired.set()
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            watchdog = threading.Timer(max(remaining, 0.0), cut_off)
            watchdog.daemon = True
            watchdog.start()
            headers = dict(REQUEST_HEADERS) if body is not None else {}
            connection.request(method, self._path, body=body, headers=headers)
            response = connection.getresponse()
            declared = response.getheader("Content-Length")
            chunks: list[bytes] = []
            size, keep = 0, chunks.append
            if sink is not None:
                _check_answer(response.status, response.getheader("Content-Type"))
                keep = sink(response.getheader("Content-Type"))
            while True:
                chunk = response.read1(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise TallyError(f"Tally's answer is larger than {max_bytes // 1024**2} MB; not read.")
                keep(chunk)
            if expired.is_set():
                raise self._timed_out(limit)
            if declared is not None and declared.isdigit() and size < int(declared):
                raise TallyUnavailable(f"Tally's answer was cut short: {size} of {int(declared)} bytes arrived "
                                       "before the connection closed.")
            return _Answer(response.status, response.getheader("Content-Type"), b"".join(chunks))
        except (TallyError, TallyUnavailable):
            raise
        except ConnectionRefusedError:
            raise self._unreachable() from None
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise self._timed_out(limit) from None
            if isinstance(exc, socket.gaierror):
                raise self._unreachable() from None
            raise TallyUnavailable(f"Tally at {self.base_url} broke off its answer ({type(exc).__name__}).") from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
            connection.close()

    def _post(self, xml: str, timeout: float | None) -> tuple[bytes, str | None]:
        answer = self._exchange("POST", encode_request(xml), timeout)
        _check_answer(answer.status, answer.content_type)
        return answer.body, answer.content_type

    def export_stream(self, xml: str, open_reader: Callable[[str | None], AnswerReader[T]], *,
                      timeout: float | None = None, max_bytes: int = MAX_STREAM_BYTES) -> T:
        """POST one request and hand its answer to `open_reader(content_type)` as it arrives."""
        readers: list[AnswerReader[T]] = []

        def sink(content_type: str | None) -> Callable[[bytes], None]:
            readers.append(open_reader(content_type))
            return readers[0].feed

        self._exchange("POST", encode_request(xml), timeout, sink=sink, max_bytes=max_bytes)
        return readers[0].close()

    def probe(self, timeout: float = 1.0) -> str:
        """§1: `GET /` answers the banner. 'reachable', 'unreachable' or 'busy' (a read is under way)."""
        if not self._lock.acquire(blocking=False):
            return "busy"
        self._lock.release()
        try:
            answer = self._exchange("GET", None, timeout)
        except (TallyError, TallyUnavailable):
            return "unreachable"
        text = decode_response(answer.body, answer.content_type)
        return "reachable" if BANNER_TEXT.lower() in text.lower() else "unreachable"

    def group_balances(self, group: str, as_of: date | None = None, *, timeout: float | None = None
                       ) -> list[LedgerBalance]:
        body, content_type = self._post(build_group_balances_request(company=self.company, group=group, as_of=as_of),
                                        timeout)
        return read_balances(body, content_type)

    def open_bills(self, as_of: date, open_reader: Callable[[str | None], AnswerReader[T]], *,
                   timeout: float | None = None) -> T:
        """§12: every open bill under Sundry Debtors as of `as_of`, read by `open_reader` as it streams."""
        return self.export_stream(build_open_bills_request(company=self.company, as_of=as_of), open_reader,
                                  timeout=timeout)

    def ledger_balance(self, ledger: str, as_of: date | None = None, *, timeout: float | None = None
                       ) -> LedgerBalance | None:
        body, content_type = self._post(build_ledger_request(company=self.company, ledger=ledger, as_of=as_of), timeout)
        wanted = normalise_name(ledger)
        return next((balance for balance in read_balances(body, content_type) if balance.key == wanted), None)
