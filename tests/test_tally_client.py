"""The Tally client: pure parsing with literal strings, then the transport against the emulator."""

import time
from datetime import date
from decimal import Decimal

import pytest
import httpx

import tally_client
from devtools.tally_emulator import TallyServer
from errors import InvalidInput, TallyError, TallyUnavailable
from tally_client import (
    CreditPeriod,
    LedgerTerms,
    TallyClient,
    build_group_balances_request,
    build_open_bills_request,
    build_ledger_request,
    clean_xml,
    decode_response,
    parse_amount,
    parse_document,
    parse_ledger_balances,
    raise_for_tally_error,
    read_balances,
)
from tests.conftest import TALLY_COMPANY

COLLECTION_ANSWER = """<ENVELOPE>
 <HEADER><VERSION>1</VERSION><STATUS>1</STATUS></HEADER>
 <BODY>
  <DESC><CMPINFO><COMPANY>0</COMPANY><GROUP>3</GROUP><LEDGER>7</LEDGER></CMPINFO></DESC>
  <DATA>
   <COLLECTION>
    <LEDGER NAME="Ram &amp; Sons Mobiles" RESERVEDNAME="">
     <PARENT TYPE="String">Sundry Debtors</PARENT>
     <CLOSINGBALANCE TYPE="Amount">-125000.00</CLOSINGBALANCE>
     <LANGUAGENAME.LIST>
      <NAME.LIST TYPE="String"><NAME>Ram &amp; Sons Mobiles</NAME><NAME>RSM</NAME></NAME.LIST>
      <LANGUAGEID TYPE="Number"> 1033</LANGUAGEID>
     </LANGUAGENAME.LIST>
    </LEDGER>
    <LEDGER NAME="Blank Traders"><PARENT>&#4; Primary</PARENT><CLOSINGBALANCE TYPE="Amount"/></LEDGER>
   </COLLECTION>
  </DATA>
 </BODY>
</ENVELOPE>"""


class TestRequests:
    def test_names_are_xml_escaped(self) -> None:
        xml = build_ledger_request(company="A & B <Co>", ledger='Jain "Star" & Sons\'')

        assert "<SVCURRENTCOMPANY>A &amp; B &lt;Co&gt;</SVCURRENTCOMPANY>" in xml
        assert '<ID TYPE="Name">Jain &quot;Star&quot; &amp; Sons&apos;</ID>' in xml

    def test_the_debtors_group_uses_tallys_reserved_name(self) -> None:
        assert "<CHILDOF>$$GroupSundryDebtors</CHILDOF>" in build_group_balances_request(company="X", group="sundry  debtors")
        assert "<CHILDOF>Delhi Retailers</CHILDOF>" in build_group_balances_request(company="X", group="Delhi Retailers")

    def test_a_group_request_reads_sub_groups_and_fetches_balances_and_credit_terms_only(self) -> None:
        xml = build_group_balances_request(company="X", group="Sundry Debtors")

        assert "<BELONGSTO>Yes</BELONGSTO>" in xml
        assert ("<FETCH>Name, Parent, ClosingBalance, CreditLimit, BillCreditPeriod, IsBillWiseOn, LedgerMobile, Email"
                "</FETCH>") in xml
        assert '<ID>PartyBalances</ID>' in xml and 'COLLECTION NAME="PartyBalances"' in xml

    def test_an_as_of_date_reads_from_the_start_of_the_financial_year(self) -> None:
        xml = build_group_balances_request(company="X", group="Sundry Debtors", as_of=date(2026, 2, 15))

        assert '<SVFROMDATE TYPE="Date">20250401</SVFROMDATE>' in xml
        assert '<SVTODATE TYPE="Date">20260215</SVTODATE>' in xml

    def test_no_company_means_no_company_variable(self) -> None:
        assert "SVCURRENTCOMPANY" not in build_group_balances_request(company="", group="Sundry Debtors")

    def test_requests_are_sent_as_utf16_little_endian(self) -> None:
        assert tally_client.encode_request("<A>गुप्ता</A>") == "<A>गुप्ता</A>".encode("utf-16-le")


class TestDecoding:
    @pytest.mark.parametrize(("body", "content_type"), [
        (b"\xff\xfe" + "<R>गुप्ता</R>".encode("utf-16-le"), "text/xml; charset=utf-16"),
        ("<R>गुप्ता</R>".encode("utf-16-le"), "text/xml; charset=utf-16"),
        ("<R>गुप्ता</R>".encode("utf-16-le"), None),
        (b"\xfe\xff" + "<R>गुप्ता</R>".encode("utf-16-be"), None),
        ("<R>गुप्ता</R>".encode("utf-8"), "text/xml; charset=utf-8"),
    ])
    def test_answers_decode_by_bom_leading_bytes_or_charset(self, body: bytes, content_type: str | None) -> None:
        assert decode_response(body, content_type) == "<R>गुप्ता</R>"

    def test_forbidden_references_and_control_characters_are_cleaned(self) -> None:
        assert clean_xml("<P>&#4; Primary</P>&#x1F;\x01&tab;&#13;&#10;") == "<P>Primary</P> &#13;&#10;"

    def test_a_document_with_a_dtd_is_refused(self) -> None:
        with pytest.raises(TallyError, match="not readable XML"):
            parse_document('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')


class TestParsing:
    def test_ledgers_come_from_data_not_the_cmpinfo_counts(self) -> None:
        balances = parse_ledger_balances(parse_document(COLLECTION_ANSWER))

        assert [(b.name, b.parent, b.closing_balance, b.blank) for b in balances] == [
            ("Ram & Sons Mobiles", "Sundry Debtors", Decimal("125000.00"), False),
            ("Blank Traders", "Primary", Decimal("0.00"), True)]

    def test_an_object_answer_is_read_from_tallymessage(self) -> None:
        xml = ('<ENVELOPE><HEADER><STATUS>1</STATUS></HEADER><BODY><DATA><TALLYMESSAGE xmlns:UDF="TallyUDF">'
               '<LEDGER NAME="Verma Telecom"><CLOSINGBALANCE>18500.00</CLOSINGBALANCE></LEDGER>'
               '</TALLYMESSAGE></DATA></BODY></ENVELOPE>')

        [balance] = parse_ledger_balances(parse_document(xml))

        assert (balance.name, balance.closing_balance) == ("Verma Telecom", Decimal("-18500.00"))

    def test_an_empty_collection_is_no_ledgers_not_zero(self) -> None:
        xml = "<ENVELOPE><HEADER><STATUS>1</STATUS></HEADER><BODY><DATA><COLLECTION/></DATA></BODY></ENVELOPE>"

        assert parse_ledger_balances(parse_document(xml)) == []

    def test_question_mark_names_are_flagged_as_lost(self) -> None:
        xml = ('<ENVELOPE><BODY><DATA><COLLECTION><LEDGER NAME="?????? ??????"><CLOSINGBALANCE>-1.00</CLOSINGBALANCE>'
               "</LEDGER></COLLECTION></DATA></BODY></ENVELOPE>")

        [balance] = parse_ledger_balances(parse_document(xml))

        assert balance.name_lost

    def test_a_well_formed_document_that_is_not_tally_xml_is_an_error(self) -> None:
        with pytest.raises(TallyError, match="not Tally XML .it starts with <html>: Router login"):
            raise_for_tally_error(parse_document("<html><head><title>Router login</title></head><body/></html>"))

    @pytest.mark.parametrize(("xml", "message"), [
        ("<RESPONSE>Unknown Request, cannot be processed</RESPONSE>", "did not understand the request"),
        ("<RESPONSE>TallyPrime Server is Running</RESPONSE>", "'Server is Running' banner"),
        ("<ENVELOPE><HEADER><STATUS>0</STATUS></HEADER><BODY><DATA><LINEERROR>Could not set &apos;SVCurrentCompany&apos;"
         " to &apos;Nope&apos;</LINEERROR></DATA></BODY></ENVELOPE>", "Could not set 'SVCurrentCompany' to 'Nope'"),
        ("<ENVELOPE><LINEERROR>Could not find Company ''</LINEERROR></ENVELOPE>", "Could not find Company ''"),
        ("<ENVELOPE><BODY><EXCEPTION>Bad formula</EXCEPTION></BODY></ENVELOPE>", "Bad formula"),
        ("<ENVELOPE><HEADER><STATUS>0</STATUS></HEADER></ENVELOPE>", "STATUS 0"),
    ])
    def test_errors_inside_a_200_answer_are_raised(self, xml: str, message: str) -> None:
        with pytest.raises(TallyError, match=message):
            raise_for_tally_error(parse_document(xml))

    @pytest.mark.parametrize(("text", "amount", "blank"), [
        ("-243900.00", "243900.00", False),
        ("18500.00", "-18500.00", False),
        ("1,23,456.00 Dr", "123456.00", False),
        ("45,000.00 Cr", "-45000.00", False),
        ("(-)2,500.00", "2500.00", False),
        ("₹ 9,999.00 Dr", "9999.00", False),
        ("-USD1250.00 @ ₹ 83.10/USD = -₹ 103875.00", "103875.00", False),
        ("-$1609.71 @ ? 82.58/$ = -? 132929.85", "132929.85", False),
        ("  -125000.00\r\n", "125000.00", False),
        ("-0.00", "0.00", False),
        ("", "0.00", True),
        (None, "0.00", True),
    ])
    def test_amounts_follow_the_owes_us_is_positive_convention(self, text: str | None, amount: str, blank: bool) -> None:
        value, is_blank = parse_amount(text)

        assert (value, is_blank) == (Decimal(amount), blank)
        assert str(value) == amount  # never -0.00

    def test_an_amount_that_is_not_a_number_is_an_error(self) -> None:
        with pytest.raises(TallyError, match="not a number"):
            parse_amount("12.3.4")


TERMS_ANSWER = """<ENVELOPE><HEADER><STATUS>1</STATUS></HEADER><BODY><DATA><COLLECTION>
 <LEDGER NAME="Sharma Mobile Point"><CLOSINGBALANCE TYPE="Amount">-125000.00</CLOSINGBALANCE>
  <CREDITLIMIT TYPE="Amount">-200000.00</CREDITLIMIT>
  <BILLCREDITPERIOD JD="45931" P="30 Days">30 Days</BILLCREDITPERIOD>
  <ISBILLWISEON TYPE="Logical">Yes</ISBILLWISEON>
  <LEDGERMOBILE TYPE="String"> 98290 12345 </LEDGERMOBILE><EMAIL TYPE="String">sharma@example.in</EMAIL></LEDGER>
 <LEDGER NAME="No Limit &amp; Co"><CLOSINGBALANCE TYPE="Amount">-1.00</CLOSINGBALANCE>
  <CREDITLIMIT TYPE="Amount"></CREDITLIMIT><BILLCREDITPERIOD/><ISBILLWISEON>No</ISBILLWISEON></LEDGER>
 <LEDGER NAME="Zero Limit"><CLOSINGBALANCE>-1.00</CLOSINGBALANCE><CREDITLIMIT>0.00</CREDITLIMIT>
  <BILLCREDITPERIOD>15-Dec-2025</BILLCREDITPERIOD></LEDGER>
 <LEDGER NAME="Odd Limit"><CLOSINGBALANCE>-1.00</CLOSINGBALANCE><CREDITLIMIT>lots</CREDITLIMIT></LEDGER>
</COLLECTION></DATA></BODY></ENVELOPE>"""


class TestCreditTerms:
    def test_the_ledger_masters_terms_come_with_the_balance(self) -> None:
        [sharma, *_] = parse_ledger_balances(parse_document(TERMS_ANSWER))

        assert sharma.closing_balance == Decimal("125000.00")
        assert sharma.terms == LedgerTerms(credit_limit=Decimal("200000.00"), credit_period=CreditPeriod(days=30),
                                           is_bill_wise=True, mobile="98290 12345", email="sharma@example.in")

    def test_an_empty_or_zero_limit_is_no_limit_and_a_due_date_period_is_kept(self) -> None:
        terms = {b.name: b.terms for b in parse_ledger_balances(parse_document(TERMS_ANSWER))}

        assert terms["No Limit & Co"] == LedgerTerms(None, None, False, None, None)
        assert terms["Zero Limit"] == LedgerTerms(None, CreditPeriod(due_date=date(2025, 12, 15)), None, None, None)

    def test_an_unreadable_limit_is_no_limit_and_the_balances_still_read(self) -> None:
        terms = {b.name: b.terms for b in parse_ledger_balances(parse_document(TERMS_ANSWER))}

        assert terms["Odd Limit"] == LedgerTerms(None, None, None, None, None)

    def test_a_ledger_without_any_term_fields_has_no_terms(self) -> None:
        assert [b.terms for b in parse_ledger_balances(parse_document(COLLECTION_ANSWER))] == [None, None]

    def test_the_emulator_sends_the_terms_it_is_asked_for(self, tally: TallyServer) -> None:
        balances = {b.name: b for b in TallyClient(tally.url, TALLY_COMPANY).group_balances("Sundry Debtors")}

        assert balances["Ram & Sons Mobiles"].terms == LedgerTerms(None, CreditPeriod(days=45), True, None, None)
        assert balances["गुप्ता मोबाइल"].terms == LedgerTerms(None, None, False, None, None)
        assert balances["Sharma Mobile Point"].terms is not None
        assert balances["Sharma Mobile Point"].terms.credit_limit == Decimal("200000.00")


class TestBillsRequest:
    def test_it_reads_bills_of_sundry_debtors_parties_as_of_a_date_in_one_collection(self) -> None:
        xml = build_open_bills_request(company="Ram & Co", as_of=date(2026, 2, 15))

        assert "<TYPE>Bill</TYPE>" in xml and "<FETCH>Name, Parent, BillDate, ClosingBalance, BillCreditPeriod</FETCH>" in xml
        assert '<SVTODATE TYPE="Date">20260215</SVTODATE>' in xml and "<SVCURRENTCOMPANY>Ram &amp; Co<" in xml
        assert ('<SYSTEM TYPE="Formulae" NAME="DebtorBills">$$IsEqual:($_PrimaryGroup:Group:($Parent:Ledger:$Parent)):'
                '"Sundry Debtors"</SYSTEM>') in xml

    def test_a_group_name_with_a_double_quote_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            build_open_bills_request(company="X", as_of=date(2026, 2, 15), primary_group='Say "Hi"')


class TestOverHttp:
    def test_a_group_is_read_in_one_request_with_hindi_and_escaped_names(self, tally: TallyServer) -> None:
        client = TallyClient(tally.url, TALLY_COMPANY)

        balances = {b.name: b for b in client.group_balances("Sundry Debtors")}

        assert tally.state.requests == 1
        assert set(balances) == {"Sharma Mobile Point", "Ram & Sons Mobiles", "गुप्ता मोबाइल", "Verma Telecom",
                                 'Jain "Star" <Mobiles>'}
        assert balances["Ram & Sons Mobiles"].parent == "Jaipur Retailers"  # a sub-group, via BELONGSTO
        assert balances["गुप्ता मोबाइल"].closing_balance == Decimal("15000.50")
        assert balances['Jain "Star" <Mobiles>'].blank

    def test_an_answer_with_a_bom_reads_the_same(self, tally: TallyServer) -> None:
        tally.state.bom = True

        balances = TallyClient(tally.url, TALLY_COMPANY).group_balances("Sundry Debtors")

        assert len(balances) == 5

    def test_one_ledger_is_found_by_name_in_any_case_and_spacing(self, tally: TallyServer) -> None:
        balance = TallyClient(tally.url, TALLY_COMPANY).ledger_balance("  sharma   MOBILE point ")

        assert balance is not None and balance.closing_balance == Decimal("125000.00")

    def test_a_missing_ledger_is_none_never_zero(self, tally: TallyServer) -> None:
        assert TallyClient(tally.url, TALLY_COMPANY).ledger_balance("Nobody Mobiles") is None

    def test_an_unknown_company_is_tallys_own_message(self, tally: TallyServer) -> None:
        with pytest.raises(TallyError, match="Could not set 'SVCurrentCompany' to 'Nope & Co'"):
            TallyClient(tally.url, "Nope & Co").group_balances("Sundry Debtors")

    def test_a_utf8_round_trip_loses_hindi_names_and_they_are_flagged(self, tally: TallyServer) -> None:
        xml = build_group_balances_request(company=TALLY_COMPANY, group="Sundry Debtors")
        response = httpx.post(tally.url, content=xml.encode("utf-8"), headers={"Content-Type": "text/xml;charset=utf-8"},
                              timeout=5)

        balances = read_balances(response.content, response.headers["Content-Type"])

        assert [b.name_lost for b in balances].count(True) == 1

    def test_a_charset_mismatch_is_unknown_request(self, tally: TallyServer) -> None:
        xml = build_group_balances_request(company=TALLY_COMPANY, group="Sundry Debtors")
        response = httpx.post(tally.url, content=xml.encode("utf-8"), headers={"Content-Type": "text/xml;charset=utf-16"},
                              timeout=5)

        with pytest.raises(TallyError, match="Unknown Request"):
            read_balances(response.content, response.headers["Content-Type"])

    def test_a_refused_connection_says_tally_is_not_reachable(self, own_tally: TallyServer) -> None:
        url = own_tally.url
        own_tally.stop()

        with pytest.raises(TallyUnavailable) as caught:
            TallyClient(url, TALLY_COMPANY).group_balances("Sundry Debtors")

        assert caught.value.detail == f"Tally is not reachable at {url}: is it running with the XML port enabled?"

    def test_a_hanging_tally_times_out(self, tally: TallyServer) -> None:
        tally.state.hang.set()

        with pytest.raises(TallyUnavailable, match="did not answer within 0.5 s"):
            TallyClient(tally.url, TALLY_COMPANY, read_timeout=0.5).group_balances("Sundry Debtors")

    def test_a_trickling_tally_times_out_at_the_overall_deadline(self, tally: TallyServer) -> None:
        tally.state.set_fault("trickle")
        tally.state.trickle_seconds = 0.02  # a byte every 20 ms: each read gets data, the whole never arrives
        started = time.perf_counter()

        with pytest.raises(TallyUnavailable, match="did not answer within 0.5 s"):
            TallyClient(tally.url, TALLY_COMPANY).group_balances("Sundry Debtors", timeout=0.5)

        assert time.perf_counter() - started < 1.5

    def test_an_answer_cut_short_of_its_content_length_is_unavailable(self, tally: TallyServer) -> None:
        tally.state.set_fault("cut")

        with pytest.raises(TallyUnavailable, match=r"Tally's answer was cut short: \d+ of \d+ bytes arrived"):
            TallyClient(tally.url, TALLY_COMPANY).group_balances("Sundry Debtors")

    def test_an_http_500_is_a_tally_error(self, tally: TallyServer) -> None:
        tally.state.set_fault("http500")

        with pytest.raises(TallyError, match="Tally answered HTTP 500"):
            TallyClient(tally.url, TALLY_COMPANY).group_balances("Sundry Debtors")

    def test_an_html_page_is_a_tally_error_not_an_empty_group(self, tally: TallyServer) -> None:
        tally.state.set_fault("html")

        with pytest.raises(TallyError, match="HTML page, not Tally XML"):
            TallyClient(tally.url, TALLY_COMPANY).group_balances("Sundry Debtors")

    def test_the_probe_reads_the_banner(self, tally: TallyServer, own_tally: TallyServer) -> None:
        url = own_tally.url
        own_tally.stop()

        assert TallyClient(tally.url).probe() == "reachable"
        assert TallyClient(url).probe() == "unreachable"
