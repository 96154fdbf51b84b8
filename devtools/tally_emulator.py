"""A loopback Tally: speaks enough of the XML-over-HTTP protocol for tests and the demo.

    python devtools/tally_emulator.py --port 9000 [--ledgers devtools/tally_sample.json] [--fault trickle]

Answers Object (one ledger) and Collection (a group, with sub-groups, and the credit terms it
fetches) exports, the open bills of parties by primary group (`TYPE Bill`, as of SVTODATE), and
the company list, mirrors the request's charset, sends `&#4;` where Tally does, answers `Unknown Request`
to malformed XML or a charset mismatch and STATUS 0 + LINEERROR to an unknown company, and has
fault switches for tests: delay, hang (accept, then silence, as with a dialog open on Tally's
screen), refuse (stop listening), and the bad days of a flaky LAN (`fault`): trickle (the answer
one byte every `trickle_seconds`), cut (a Content-Length longer than the body, then close),
http500, and html (a web page where Tally's XML should be).
It binds to 127.0.0.1 only. See ../shared/docs/tally-xml.md §10.
"""

import argparse
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

BANNER = "<RESPONSE>TallyPrime Server is Running</RESPONSE>"
UNKNOWN = "<RESPONSE>Unknown Request, cannot be processed</RESPONSE>"
FAULTS = ("hang", "trickle", "cut", "http500", "html")
HTML_PAGE = b"<html><head><title>Router login</title></head><body><h1>Please sign in</h1></body></html>"


@dataclass
class Bill:
    """One open bill, every value as Tally writes it; None = the element is left out."""

    ref: str
    bill_date: str  # "20251003" or "3-Oct-2025"
    closing_balance: str  # Tally-signed ("-118000.00" = owed to us), or a forex "... = -₹ 99900.00"
    credit_period: str | None = None  # "30 Days", "45", a date, "" (an empty element) or None (absent)


@dataclass
class Ledger:
    name: str
    parent: str
    closing_balance: str | None  # Tally-signed text ("-125000.00" = owes us); None = empty element
    aliases: list[str] = field(default_factory=list)
    # Ledger master fields as Tally writes them (None: left out); sent only when the request fetches them.
    credit_limit: str | None = None
    credit_period: str | None = None
    is_bill_wise: str | None = None  # "Yes" / "No"
    mobile: str | None = None
    email: str | None = None
    bills: list[Bill] = field(default_factory=list)


@dataclass
class Company:
    name: str
    groups: dict[str, str | None]  # group -> parent group (None for a primary group)
    ledgers: list[Ledger]


SAMPLE = Path(__file__).with_name("tally_sample.json")
LEDGER_MASTER_FIELDS = ("credit_limit", "credit_period", "is_bill_wise", "mobile", "email")


def sample_companies() -> list[Company]:
    """The sample book in tally_sample.json: balances, credit terms and open bills."""
    return load_companies(SAMPLE)


def _ledger_from(data: dict[str, Any]) -> Ledger:
    return Ledger(data["name"], data["parent"], data.get("closing_balance"), data.get("aliases", []),
                  **{name: data.get(name) for name in LEDGER_MASTER_FIELDS},
                  bills=[Bill(b["ref"], b["bill_date"], b["closing_balance"], b.get("credit_period"))
                         for b in data.get("bills", [])])


def load_companies(path: Path) -> list[Company]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Company(name=c["name"], groups=c["groups"], ledgers=[_ledger_from(l) for l in c["ledgers"]])
            for c in data["companies"]]


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


class TallyState:
    """What the emulator knows and how it misbehaves; tests change it between requests."""

    def __init__(self, companies: list[Company] | None = None) -> None:
        self.companies = companies or sample_companies()
        self.delay_seconds = 0.0
        self.hang = threading.Event()  # set: accept requests, never answer until released
        self.release = threading.Event()
        self.serial = threading.Lock()  # Tally answers one request at a time
        self.requests = 0  # POSTs that reached the emulator (counted on arrival, before waiting their turn)
        self.gets = 0
        self.fault: str | None = None  # one of FAULTS besides hang (which is the `hang` event)
        self.bills_fault: str | None = None  # one of FAULTS but hang, for open-bills requests only
        self.trickle_seconds = 1.0
        self.bom = False  # answer UTF-16 with a BOM (real Tally does both)
        self.canned: tuple[bytes, str] | None = None  # a fixed answer (body, content type)
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.companies = sample_companies()
        self.delay_seconds = 0.0
        self.release.set()
        self.hang.clear()
        self.release = threading.Event()
        self.requests = 0
        self.gets = 0
        self.fault = None
        self.bills_fault = None
        self.trickle_seconds = 1.0
        self.bom = False
        self.canned = None

    def set_fault(self, fault: str | None) -> None:
        """Switch to one bad-day mode (None: a good day again)."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        if fault == "hang":
            self.hang.set()
        else:
            self.hang.clear()
            self.release.set()
            self.release = threading.Event()
        self.fault = None if fault == "hang" else fault

    @property
    def active(self) -> Company:
        return self.companies[0]

    def company(self, name: str | None) -> Company | None:
        if name is None:
            return self.active
        return next((c for c in self.companies if _fold(c.name) == _fold(name)), None)


def _under(company: Company, group: str, wanted: str, sub_groups: bool) -> bool:
    if _fold(group) == _fold(wanted):
        return True
    parent = company.groups.get(group)
    return sub_groups and parent is not None and _under(company, parent, wanted, sub_groups)


def _primary_group(company: Company, group: str) -> str:
    parent = company.groups.get(group)
    return group if parent is None else _primary_group(company, parent)


def _period_xml(period: str | None) -> str:
    if period is None:
        return ""
    shown = escape(period, {'"': "&quot;"})
    return f"<BILLCREDITPERIOD TYPE=\"Due Date\" P=\"{shown}\">{escape(period)}</BILLCREDITPERIOD>"


def _master_xml(ledger: Ledger, fetched: set[str]) -> str:
    """The credit-term fields the request fetched and the ledger has (§12)."""
    parts = []
    if "creditlimit" in fetched and ledger.credit_limit is not None:
        parts.append(f"<CREDITLIMIT TYPE=\"Amount\">{escape(ledger.credit_limit)}</CREDITLIMIT>")
    if "billcreditperiod" in fetched:
        parts.append(_period_xml(ledger.credit_period))
    for tag, value, kind in (("ISBILLWISEON", ledger.is_bill_wise, "Logical"), ("LEDGERMOBILE", ledger.mobile, "String"),
                             ("EMAIL", ledger.email, "String")):
        if tag.lower() in fetched and value is not None:
            parts.append(f"<{tag} TYPE=\"{kind}\">{escape(value)}</{tag}>")
    return "".join(parts)


def _bill_xml(ledger: Ledger, bill: Bill) -> str:
    ref = escape(bill.ref, {'"': "&quot;"})
    return (f"<BILL NAME=\"{ref}\">"
            f"<PARENT TYPE=\"String\">{escape(ledger.name)}</PARENT>"
            f"<BILLDATE TYPE=\"Date\">{escape(bill.bill_date)}</BILLDATE>"
            f"<TAXTYPE TYPE=\"String\">&#4; Not Applicable</TAXTYPE>"
            f"<CLOSINGBALANCE TYPE=\"Amount\">{escape(bill.closing_balance)}</CLOSINGBALANCE>"
            f"{_period_xml(bill.credit_period)}</BILL>")


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _date_number(text: str) -> int:
    """'20251003' or '3-Oct-2025' as 20251003, to compare with SVTODATE."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    day, month, year = text.split("-")
    return int(year) * 10000 + (_MONTHS.index(month.lower()[:3]) + 1) * 100 + int(day)


def _bills_answer(company: Company, root: ET.Element, collection: ET.Element) -> str:
    """`TYPE Bill`, kept to parties whose group's primary group the filter names, dated up to SVTODATE."""
    wanted: str | None = None
    for name in (collection.findtext("FILTER") or "").split(","):
        formula = next((f.text or "" for f in root.iter("SYSTEM") if _fold(f.get("NAME", "")) == _fold(name)), "")
        match = re.search(r'_PrimaryGroup.*:"([^"]*)"', formula)
        wanted = match.group(1) if match else wanted
    to_date = (root.findtext(".//STATICVARIABLES/SVTODATE") or "").strip()
    last = _date_number(to_date) if to_date else None
    return "<COLLECTION>" + "".join(
        _bill_xml(ledger, bill) for ledger in company.ledgers
        if wanted is None or _fold(_primary_group(company, ledger.parent)) == _fold(wanted)
        for bill in ledger.bills if last is None or _date_number(bill.bill_date) <= last) + "</COLLECTION>"


def _ledger_xml(ledger: Ledger, fetched: set[str] | None = None) -> str:
    amount = ("<CLOSINGBALANCE TYPE=\"Amount\"></CLOSINGBALANCE>" if ledger.closing_balance is None
              else f"<CLOSINGBALANCE TYPE=\"Amount\">{ledger.closing_balance}</CLOSINGBALANCE>")
    aliases = "".join(f"<NAME>{escape(a)}</NAME>" for a in ledger.aliases)
    name_attribute = escape(ledger.name, {'"': "&quot;"})
    return (f"<LEDGER NAME=\"{name_attribute}\" RESERVEDNAME=\"\">"
            f"<PARENT TYPE=\"String\">{escape(ledger.parent)}</PARENT>"
            # Tally adds fields nobody fetched, some with the illegal &#4; prefix (§7).
            f"<TAXTYPE TYPE=\"String\">&#4; Not Applicable</TAXTYPE>{amount}{_master_xml(ledger, fetched or set())}"
            f"<LANGUAGENAME.LIST><NAME.LIST TYPE=\"String\"><NAME>{escape(ledger.name)}</NAME>{aliases}</NAME.LIST>"
            "<LANGUAGEID TYPE=\"Number\"> 1033</LANGUAGEID></LANGUAGENAME.LIST></LEDGER>")


def _envelope(data: str, status: int = 1) -> str:
    return (f"<ENVELOPE><HEADER><VERSION>1</VERSION><STATUS>{status}</STATUS></HEADER><BODY><DESC><CMPINFO>"
            "<COMPANY>0</COMPANY><GROUP>0</GROUP><LEDGER>0</LEDGER><VOUCHER>0</VOUCHER></CMPINFO></DESC>"
            f"<DATA>{data}</DATA></BODY></ENVELOPE>")


def answer(state: TallyState, xml: str) -> str:
    """The text Tally would send back for one request."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return UNKNOWN
    kind = (root.findtext("./HEADER/TYPE") or "").strip().lower()
    request_id = (root.findtext("./HEADER/ID") or "").strip()
    company_name = root.findtext(".//STATICVARIABLES/SVCURRENTCOMPANY")
    if kind == "collection" and root.find(".//COLLECTION/TYPE") is not None \
            and (root.findtext(".//COLLECTION/TYPE") or "").strip().lower() == "company":
        return _envelope("<COLLECTION>" + "".join(
            f"<COMPANY NAME=\"{escape(c.name)}\"><NAME>{escape(c.name)}</NAME></COMPANY>" for c in state.companies)
            + "</COLLECTION>")
    company = state.company(company_name)
    if company is None:
        name = escape(company_name or "", {"'": "&apos;"})
        return _envelope(f"<LINEERROR>Could not set &apos;SVCurrentCompany&apos; to &apos;{name}&apos;</LINEERROR>", 0)
    if kind == "object" and (root.findtext("./HEADER/SUBTYPE") or "").strip().lower() == "ledger":
        found = [l for l in company.ledgers if _fold(l.name) == _fold(request_id)]
        return _envelope("".join(f"<TALLYMESSAGE xmlns:UDF=\"TallyUDF\">{_ledger_xml(l)}</TALLYMESSAGE>" for l in found))
    if kind == "collection":
        collection = root.find(".//TDL/TDLMESSAGE/COLLECTION")
        kind_of = "" if collection is None else (collection.findtext("TYPE") or "").strip().lower()
        if collection is None or kind_of not in ("ledger", "bill"):
            return UNKNOWN
        if re.sub(r"\s", "", collection.get("NAME", "")).lower() != re.sub(r"\s", "", request_id).lower():
            return UNKNOWN
        if kind_of == "bill":
            return _envelope(_bills_answer(company, root, collection))
        fetched = {field.strip().lower() for fetch in collection.iter("FETCH") for field in (fetch.text or "").split(",")}
        child_of = (collection.findtext("CHILDOF") or "").strip()
        group = "Sundry Debtors" if child_of.lower() == "$$groupsundrydebtors" else child_of
        sub_groups = (collection.findtext("BELONGSTO") or "").strip().lower() == "yes"
        found = [l for l in company.ledgers if _under(company, l.parent, group, sub_groups)]
        return _envelope("<COLLECTION>" + "".join(_ledger_xml(l, fetched) for l in found) + "</COLLECTION>")
    return UNKNOWN


def _declared_charset(content_type: str) -> str:
    match = re.search(r"charset\s*=\s*\"?([\w-]+)", content_type, re.IGNORECASE)
    return match.group(1).lower() if match else "utf-8"


class _Handler(BaseHTTPRequestHandler):
    server: "TallyServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        pass

    def _send(self, body: bytes, content_type: str, *, is_bills: bool = False) -> None:
        fault = self.server.state.fault or (self.server.state.bills_fault if is_bills else None)
        status = 500 if fault == "http500" else 200
        if fault == "http500":
            body, content_type = b"Internal Server Error", "text/plain"
        elif fault == "html":
            body, content_type = HTML_PAGE, "text/html; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) + (len(body) + 100 if fault == "cut" else 0)))
        # One connection per request, so a stopped emulator really refuses the next one.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if fault == "cut":
            self.wfile.write(body[:len(body) // 2])
            return
        if fault == "trickle":
            self._trickle(body)
            return
        self.wfile.write(body)

    def _trickle(self, body: bytes) -> None:
        state = self.server.state
        for index in range(len(body)):
            try:
                if "trickle" not in (state.fault, state.bills_fault):  # a good day again: the rest at once
                    self.wfile.write(body[index:])
                    return
                self.wfile.write(body[index:index + 1])
                self.wfile.flush()
            except OSError:  # the client gave up
                return
            time.sleep(state.trickle_seconds)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.gets += 1
        if state.hang.is_set():
            state.release.wait(60)
            return
        charset = "utf-16" if "utf-16" in self.headers.get("Content-Type", "").lower() else "utf-8"
        body = BANNER.encode("utf-16-le" if charset == "utf-16" else "utf-8")
        self._send(body, f"text/xml; charset={charset}")

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with state.lock:
            state.requests += 1
        with state.serial:
            if state.hang.is_set():
                state.release.wait(60)
                return
            if state.delay_seconds:
                time.sleep(state.delay_seconds)
            if state.canned is not None:
                self._send(*state.canned)
                return
            charset = _declared_charset(self.headers.get("Content-Type", ""))
            if charset in ("utf-16", "utf16"):
                utf16 = raw.startswith((b"\xff\xfe", b"<\x00"))
                text = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("utf-16-le", "replace")
                reply = answer(state, text) if utf16 else UNKNOWN
                body = reply.encode("utf-16-le")
                self._send((b"\xff\xfe" if state.bom else b"") + body, "text/xml; charset=utf-16",
                           is_bills="<TYPE>Bill</TYPE>" in text)
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = ""
                reply = answer(state, text) if text.lstrip().startswith("<") else UNKNOWN
                # Tally loses anything outside ASCII on a UTF-8 round trip (§2).
                self._send(reply.encode("ascii", "replace"), "text/xml; charset=utf-8")


class TallyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, state: TallyState | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state or TallyState()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "TallyServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.release.set()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--ledgers", type=Path, help="JSON with companies, groups and ledgers (see tally_sample.json)")
    parser.add_argument("--fault", choices=FAULTS, help="misbehave from the start, as on a bad day")
    args = parser.parse_args()
    state = TallyState(load_companies(args.ledgers) if args.ledgers else None)
    state.set_fault(args.fault)
    server = TallyServer(args.port, state)
    print(f"Tally emulator on {server.url} (companies: {', '.join(c.name for c in state.companies)}); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
