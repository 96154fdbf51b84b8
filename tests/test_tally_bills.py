"""Open bills from Tally (credit.tally_bills): streamed parsing of every answer shape, and the pure sums."""

from datetime import date
from decimal import Decimal

import pytest

from credit.tally_bills import (
    BillsReader,
    OpenBill,
    credit_days,
    due_date,
    on_account,
    on_account_by_ledger,
    read_open_bills,
)
from errors import TallyError
from kit.periods import CreditPeriod

BILLS = """<ENVELOPE>
 <HEADER><VERSION>1</VERSION><STATUS>1</STATUS></HEADER>
 <BODY>
  <DESC><CMPINFO><COMPANY>0</COMPANY><BILL>0</BILL></CMPINFO></DESC>
  <DATA><COLLECTION>
   <BILL NAME="GST/25-26/0412">
    <PARENT TYPE="String">Sharma Mobile Point</PARENT>
    <BILLDATE TYPE="Date">20251003</BILLDATE>
    <CLOSINGBALANCE TYPE="Amount">-118000.00</CLOSINGBALANCE>
    <BILLCREDITPERIOD TYPE="Due Date" P="30 Days">30 Days</BILLCREDITPERIOD>
   </BILL>
   <BILL NAME="R&amp;S/001"><PARENT TYPE="String">Ram &amp; Sons  Mobiles</PARENT>
    <BILLDATE TYPE="Date">3-Oct-2025</BILLDATE><TAXTYPE>&#4; Not Applicable</TAXTYPE>
    <CLOSINGBALANCE TYPE="Amount">-1,43,900.00</CLOSINGBALANCE><BILLCREDITPERIOD TYPE="Due Date"></BILLCREDITPERIOD>
   </BILL>
   <BILL NAME="EXP/7"><PARENT>गुप्ता मोबाइल</PARENT><BILLDATE>1-Nov-2025</BILLDATE>
    <CLOSINGBALANCE>-USD1200.00 @ ? 83.25/USD = -? 99900.00</CLOSINGBALANCE>
    <BILLCREDITPERIOD P="15-Dec-2025">15-Dec-2025</BILLCREDITPERIOD></BILL>
   <BILL NAME="ADV/12"><PARENT>Verma Telecom</PARENT><BILLDATE>20251105</BILLDATE>
    <CLOSINGBALANCE>18500.00</CLOSINGBALANCE><BILLCREDITPERIOD JD="45966" P="15 Days"/></BILL>
   <BILL NAME="PAID/1"><PARENT>Verma Telecom</PARENT><BILLDATE>20250401</BILLDATE><CLOSINGBALANCE>0.00</CLOSINGBALANCE></BILL>
  </COLLECTION></DATA>
 </BODY>
</ENVELOPE>
"""
EXPECTED = [
    OpenBill("GST/25-26/0412", "Sharma Mobile Point", date(2025, 10, 3), Decimal("118000.00"), CreditPeriod(days=30)),
    OpenBill("R&S/001", "Ram & Sons Mobiles", date(2025, 10, 3), Decimal("143900.00"), None),
    OpenBill("EXP/7", "गुप्ता मोबाइल", date(2025, 11, 1), Decimal("99900.00"), CreditPeriod(due_date=date(2025, 12, 15))),
    OpenBill("ADV/12", "Verma Telecom", date(2025, 11, 5), Decimal("-18500.00"), CreditPeriod(days=15)),
]


def streamed(body: bytes, content_type: str | None, size: int) -> list[OpenBill]:
    reader = BillsReader(content_type)
    for start in range(0, len(body), size):
        reader.feed(body[start:start + size])
    return reader.close().bills


class TestParsing:
    def test_every_bill_is_read_with_its_party_date_amount_and_period(self) -> None:
        answer = read_open_bills(BILLS.encode("utf-8"), "text/xml; charset=utf-8")

        assert answer.bills == EXPECTED
        assert answer.cleared == 1

    def test_amounts_are_decimal_positive_when_owed_to_us(self) -> None:
        bills = read_open_bills(BILLS.encode("utf-8"), "text/xml; charset=utf-8").bills

        assert all(isinstance(bill.amount, Decimal) for bill in bills)
        assert [str(bill.amount) for bill in bills] == ["118000.00", "143900.00", "99900.00", "-18500.00"]

    @pytest.mark.parametrize("prefix", [b"", b"\xff\xfe"], ids=["no BOM", "BOM"])
    @pytest.mark.parametrize("size", [1, 3, 7, 64 * 1024])
    def test_utf16_in_chunks_of_any_size_reads_the_same(self, prefix: bytes, size: int) -> None:
        body = prefix + BILLS.encode("utf-16-le")

        assert streamed(body, "text/xml; charset=utf-16", size) == EXPECTED

    def test_a_forbidden_reference_split_across_chunks_is_still_dropped(self) -> None:
        body = BILLS.replace("<PARENT>Verma", "<PARENT>&#4; Verma").encode("utf-8")
        split = body.index(b"&#4;") + 2

        reader = BillsReader("text/xml; charset=utf-8")
        reader.feed(body[:split])
        reader.feed(body[split:])

        assert [bill.ledger for bill in reader.close().bills][-1] == "Verma Telecom"

    def test_an_empty_envelope_is_no_bills_not_an_error(self) -> None:
        assert read_open_bills(b"<ENVELOPE></ENVELOPE>", None).bills == []

    def test_question_mark_party_names_are_counted_and_left_out(self) -> None:
        xml = ("<ENVELOPE><BODY><DATA><COLLECTION><BILL NAME='1'><PARENT>????? ?????</PARENT>"
               "<BILLDATE>20251003</BILLDATE><CLOSINGBALANCE>-1.00</CLOSINGBALANCE></BILL></COLLECTION></DATA></BODY></ENVELOPE>")

        answer = read_open_bills(xml.encode(), "text/xml; charset=utf-8")

        assert (answer.bills, answer.names_lost) == ([], 1)

    def test_a_bill_outside_body_data_or_without_a_name_is_not_a_bill(self) -> None:
        xml = ("<ENVELOPE><HEADER><BILL NAME='x'><PARENT>A</PARENT><CLOSINGBALANCE>-1.00</CLOSINGBALANCE></BILL></HEADER>"
               "<BODY><DATA><BILL><PARENT>A</PARENT><CLOSINGBALANCE>-1.00</CLOSINGBALANCE></BILL></DATA></BODY></ENVELOPE>")

        assert read_open_bills(xml.encode(), None).bills == []

    def test_an_unreadable_bill_date_is_none_not_a_failed_read(self) -> None:
        xml = ("<ENVELOPE><BODY><DATA><BILL NAME='1'><PARENT>A</PARENT><BILLDATE>31-Feb-2025</BILLDATE>"
               "<CLOSINGBALANCE>-5.00</CLOSINGBALANCE></BILL></DATA></BODY></ENVELOPE>")

        [bill] = read_open_bills(xml.encode(), None).bills

        assert (bill.bill_date, bill.amount) == (None, Decimal("5.00"))


class TestErrorsInsideHttp200:
    @pytest.mark.parametrize(("body", "message"), [
        ("<RESPONSE>Unknown Request, cannot be processed</RESPONSE>\r\n", "did not understand the request"),
        ("<RESPONSE>TallyPrime Server is Running</RESPONSE>", "'Server is Running' banner"),
        ("<ENVELOPE><HEADER><STATUS>0</STATUS></HEADER><BODY><DATA><LINEERROR>Could not set &apos;SVCurrentCompany&apos;"
         " to &apos;Nope&apos;</LINEERROR></DATA></BODY></ENVELOPE>", "Could not set 'SVCurrentCompany' to 'Nope'"),
        ("<ENVELOPE><BODY><EXCEPTION>Could not find Report</EXCEPTION></BODY></ENVELOPE>", "Could not find Report"),
        ("<ENVELOPE><HEADER><STATUS>0</STATUS></HEADER></ENVELOPE>", "STATUS 0"),
        ("<ERRORMSG>Could not find (null):Bill!</ERRORMSG>", "is not Tally XML"),
        ("<html><body><h1>Please sign in</h1></body></html>", "is not Tally XML (it starts with <html>: Please sign in)"),
        ("<ENVELOPE><HEADER><STATUS>1</STATUS></HEADER><BODY><DATA><BILL NAME='1'><PARENT>A</PA", "not readable XML"),
        ("", "not readable XML"),
        ("<!DOCTYPE x [<!ENTITY a 'b'>]><ENVELOPE>&a;</ENVELOPE>", "not readable XML"),
    ], ids=["unknown", "banner", "lineerror", "exception", "status0", "errormsg", "html", "truncated", "empty", "dtd"])
    def test_an_error_answer_is_a_tally_error_in_tallys_words(self, body: str, message: str) -> None:
        with pytest.raises(TallyError, match=message.replace("(", r"\(").replace(")", r"\)")):
            streamed(body.encode("utf-16-le"), "text/xml; charset=utf-16", 5)

    def test_a_bill_amount_that_is_not_a_number_fails_the_read(self) -> None:
        xml = "<ENVELOPE><BODY><DATA><BILL NAME='1'><PARENT>A</PARENT><CLOSINGBALANCE>-1.2.3</CLOSINGBALANCE></BILL>"

        with pytest.raises(TallyError, match="not a number"):
            read_open_bills((xml + "</DATA></BODY></ENVELOPE>").encode(), None)


SHARMA_30 = CreditPeriod(days=30)


class TestCreditDaysAndDueDates:
    def test_the_bills_own_days_win_over_the_ledgers(self) -> None:
        bill = OpenBill("1", "A", date(2025, 10, 3), Decimal("1.00"), CreditPeriod(days=15))

        assert credit_days(bill, ledger_period=SHARMA_30, default_days=7) == 15
        assert due_date(bill, ledger_period=SHARMA_30, default_days=7) == date(2025, 10, 18)

    def test_a_bill_without_a_period_takes_the_ledgers_days(self) -> None:
        bill = OpenBill("1", "A", date(2025, 10, 3), Decimal("1.00"), None)

        assert due_date(bill, ledger_period=SHARMA_30, default_days=7) == date(2025, 11, 2)

    def test_with_no_period_anywhere_the_default_days_apply(self) -> None:
        bill = OpenBill("1", "A", date(2025, 12, 31), Decimal("1.00"), None)

        assert credit_days(bill, ledger_period=None, default_days=7) == 7
        assert due_date(bill, ledger_period=CreditPeriod(due_date=date(2026, 1, 1)), default_days=7) == date(2026, 1, 7)

    def test_a_bills_fixed_due_date_is_its_due_date(self) -> None:
        bill = OpenBill("1", "A", date(2025, 11, 1), Decimal("1.00"), CreditPeriod(due_date=date(2025, 12, 15)))

        assert credit_days(bill, ledger_period=SHARMA_30, default_days=0) is None
        assert due_date(bill, ledger_period=SHARMA_30, default_days=0) == date(2025, 12, 15)

    def test_a_bill_without_a_date_has_no_due_date(self) -> None:
        assert due_date(OpenBill("1", "A", None, Decimal("1.00"), None), ledger_period=None, default_days=30) is None


class TestOnAccount:
    def test_a_hand_computed_book(self) -> None:
        # Sharma: 125,000.00 owed; bills 118,000.00 + 12,000.00 -> a 5,000.00 receipt not set against a bill.
        # Ram & Sons: 243,900.00; bills 143,900.00 + 99,900.00 (forex) -> 100.00 on account.
        # Gupta: bill-wise off, 15,000.50, no bills -> all on account. Verma: advance 18,500.00 Cr, one
        # credit bill of 18,500.00 -> nothing on account. A bill of a ledger outside the book is ignored.
        balances = {"sharma mobile point": Decimal("125000.00"), "ram & sons mobiles": Decimal("243900.00"),
                    "gupta": Decimal("15000.50"), "verma telecom": Decimal("-18500.00")}
        bills = [OpenBill("a", "Sharma Mobile Point", None, Decimal("118000.00"), None),
                 OpenBill("b", "SHARMA  mobile point", None, Decimal("12000.00"), None),
                 OpenBill("c", "Ram & Sons Mobiles", None, Decimal("143900.00"), None),
                 OpenBill("d", "Ram & Sons Mobiles", None, Decimal("99900.00"), None),
                 OpenBill("e", "Verma Telecom", None, Decimal("-18500.00"), None),
                 OpenBill("f", "Somebody Else", None, Decimal("1.00"), None)]

        assert on_account_by_ledger(balances, bills) == {
            "sharma mobile point": Decimal("-5000.00"), "ram & sons mobiles": Decimal("100.00"),
            "gupta": Decimal("15000.50"), "verma telecom": Decimal("0.00")}

    def test_a_ledger_without_bills_is_all_on_account(self) -> None:
        assert on_account(Decimal("15000.50"), []) == Decimal("15000.50")


class TestBoundedAnswers:
    """A Tally that sends far more than a book can hold is refused while it streams, over real HTTP."""

    @staticmethod
    def _flood(tally, bills: int) -> None:  # type: ignore[no-untyped-def]
        from devtools.tally_emulator import Bill, Ledger

        tally.state.companies[0].ledgers = [Ledger("Sharma Mobile Point", "Sundry Debtors", "-1.00", bills=[
            Bill(f"B/{n:06d}", "20261001", "-1.00") for n in range(bills)])]

    def test_an_answer_larger_than_the_cap_is_a_tally_error_not_a_full_memory(self, own_tally) -> None:  # type: ignore[no-untyped-def]
        from tally_client import TallyClient, build_open_bills_request
        from tests.conftest import TALLY_COMPANY

        self._flood(own_tally, 2000)
        client = TallyClient(own_tally.url, TALLY_COMPANY, connect_timeout=2, read_timeout=10)

        with pytest.raises(TallyError, match="larger than"):
            client.export_stream(build_open_bills_request(company=TALLY_COMPANY, as_of=date(2026, 12, 2)), BillsReader,
                                 max_bytes=64 * 1024)
        assert client.probe() == "reachable"  # the client and the emulator both go on

    def test_more_bills_than_a_book_holds_are_refused(self, own_tally, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
        import credit.tally_bills as tally_bills
        from tally_client import TallyClient
        from tests.conftest import TALLY_COMPANY

        monkeypatch.setattr(tally_bills, "MAX_OPEN_BILLS", 100)  # the flood itself is real, only the cap is small
        self._flood(own_tally, 150)
        client = TallyClient(own_tally.url, TALLY_COMPANY, connect_timeout=2, read_timeout=10)

        with pytest.raises(TallyError, match="more than 100 open bills"):
            client.open_bills(date(2026, 12, 2), BillsReader)
