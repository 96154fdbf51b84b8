"""The credit reports over HTTP against the loopback Tally emulator, on a book worked by hand.

As of 02-12-2026, Sharma Mobile Point owes 2,45,000.00 (limit 2,00,000.00, 30 days) on three
bills: GST/25-26/0412 of 03-10-2025 for 1,18,000.00 (due 02-11-2025: 395 days, over 90),
GST/26-27/0101 of 15-10-2026 for 42,000.00 with no period of its own (the ledger's 30 days: due
14-11-2026, 18 days) and GST/26-27/0190 of 20-11-2026 for 1,00,000.00 (due 20-12-2026, not due).
The bills add to 2,60,000.00, so 15,000.00 was received on account. Its retailer RT1 holds two
units at 10,000.00: OD 2,25,000.00. Verma Telecom owes 50,000.00 with bill-wise off (all on
account), holds one unit: OD 40,000.00. Patel Mobile Point has a credit balance of 45,000.00.
"""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from credit.releases import today_ist
from devtools.tally_emulator import Bill, Ledger, TallyServer
from tests.clock import controlled_clock
from tests.conftest import TALLY_COMPANY, make_settings, open_client
from tests.test_reports import MakeXlsx, import_rows, set_prices, shop

AS_OF = "2026-12-02"


@pytest.fixture
def book(database_url: str, own_tally: TallyServer, make_xlsx: MakeXlsx) -> Iterator[TestClient]:
    own_tally.state.companies[0].ledgers = [
        Ledger("Sharma Mobile Point", "Sundry Debtors", "-245000.00", credit_limit="-200000.00",
               credit_period="30 Days", is_bill_wise="Yes",
               bills=[Bill("GST/25-26/0412", "20251003", "-118000.00", "30 Days"),
                      Bill("GST/26-27/0101", "15-Oct-2026", "-42000.00"),
                      Bill("GST/26-27/0190", "20261120", "-100000.00", "30 Days")]),
        Ledger("Verma Telecom", "Sundry Debtors", "-50000.00", is_bill_wise="No"),
        Ledger("Patel Mobile Point", "Sundry Debtors", "45000.00"),
    ]
    with open_client(make_settings(database_url=database_url, tally_host=own_tally.url, tally_company=TALLY_COMPANY,
                                   tally_read_timeout_seconds=2)) as client:
        import_rows(client, make_xlsx, shop(1, "RT1", "Sharma Mobile Point"), shop(2, "RT1", "Sharma Mobile Point"),
                    shop(3, "JPR/0042", "Verma Telecom"), shop(4, "RT3", "Patel Mobile Point"))
        set_prices(client, G1="10000.00")
        yield client


def test_the_ageing_report_gives_the_hand_computed_buckets(book: TestClient) -> None:
    response = book.get("/reports/ageing", params={"as_of": AS_OF})

    assert response.status_code == 200, response.text
    answer = response.json()
    sharma, verma = answer["rows"]
    assert sharma == {
        "ledger_name": "Sharma Mobile Point", "retailer_codes": ["RT1"], "retailer_name": "Sharma Mobile Point",
        "balance": "245000.00", "not_due": "100000.00", "overdue_1_30": "42000.00", "overdue_31_60": "0.00",
        "overdue_61_90": "0.00", "overdue_90_plus": "118000.00", "overdue_total": "160000.00",
        "on_account": "-15000.00", "oldest_overdue_days": 395,
        "oldest_overdue_bill": {"ref": "GST/25-26/0412", "bill_date": "2025-10-03", "due_date": "2025-11-02",
                                "amount": "118000.00"},
        "credit_limit": "200000.00", "credit_days": 30, "limit_used_pct": "122.50", "stock_units": 2,
        "stock_value": "20000.00", "od_amount": "225000.00", "hold_reasons": ["over_limit", "overdue", "uncovered"]}
    assert (verma["retailer_codes"], verma["on_account"], verma["overdue_total"], verma["credit_limit"],
            verma["od_amount"], verma["hold_reasons"]) == (["JPR/0042"], "50000.00", "0.00", None, "40000.00",
                                                            ["uncovered"])
    assert answer["totals"] == {"balance": "295000.00", "not_due": "100000.00", "overdue_1_30": "42000.00",
                                "overdue_31_60": "0.00", "overdue_61_90": "0.00", "overdue_90_plus": "118000.00",
                                "overdue_total": "160000.00", "on_account": "35000.00", "rows": 2, "on_hold": 2}
    assert [c["ledger_name"] for c in answer["credit_balances"]] == ["Patel Mobile Point"]
    assert (answer["bills_source"], answer["basis"], answer["bucket_labels"][1]) == ("live", "due_date", "1-30 days")


def test_filters_by_overdue_and_by_a_slash_code(book: TestClient) -> None:
    over = book.get("/reports/ageing", params={"as_of": AS_OF, "min_overdue": "100000"}).json()
    verma = book.get("/reports/ageing", params={"as_of": AS_OF, "retailer_code": "JPR/0042"}).json()

    assert [r["ledger_name"] for r in over["rows"]] == ["Sharma Mobile Point"]
    assert [r["ledger_name"] for r in verma["rows"]] == ["Verma Telecom"]


def test_one_retailers_bills_oldest_first(book: TestClient) -> None:
    answer = book.get("/reports/ageing/RT1", params={"as_of": AS_OF}).json()

    assert [(b["ref"], b["due_date"], b["overdue_days"], b["bucket"]) for b in answer["bills"]] == [
        ("GST/25-26/0412", "2025-11-02", 395, "overdue_90_plus"),
        ("GST/26-27/0101", "2026-11-14", 18, "overdue_1_30"),
        ("GST/26-27/0190", "2026-12-20", 0, "not_due")]
    assert book.get("/reports/ageing/JPR/0042", params={"as_of": AS_OF}).json()["bills"] == []
    missing = book.get("/reports/ageing/NOPE")
    assert missing.status_code == 404 and missing.json()["errors"][0]["loc"] == ["path", "retailer_code"]


def test_bill_date_basis_and_bad_options(book: TestClient) -> None:
    by_bill = book.get("/reports/ageing/RT1", params={"as_of": AS_OF, "basis": "bill_date"}).json()

    assert [b["overdue_days"] for b in by_bill["bills"]] == [425, 48, 12]
    for params, field in (({"basis": "invoice"}, "basis"), ({"as_of": "2999-01-01"}, "as_of"), ({"as_of": "0"}, "as_of")):
        refused = book.get("/reports/ageing", params=params)
        assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["query", field], refused.text


def test_holds_with_a_release_that_lapses_and_one_ended_early(book: TestClient) -> None:
    until = today_ist() + timedelta(days=10)
    released = book.post("/credit/holds/JPR/0042/release", json={"until": until.isoformat(), "reason": "cheque promised"})

    assert released.status_code == 201, released.text
    items = {i["retailer_code"]: i for i in book.get("/credit/holds").json()["items"]}
    assert items["RT1"]["reasons"] == ["over_limit", "overdue", "uncovered"] and items["RT1"]["active"] is True
    assert (items["JPR/0042"]["active"], items["JPR/0042"]["released_until"], items["JPR/0042"]["release_reason"]) == (
        False, until.isoformat(), "cheque promised")
    lapsed = book.get("/credit/holds", params={"as_of": (today_ist() - timedelta(days=1)).isoformat()}).json()
    assert {i["retailer_code"]: i["active"] for i in lapsed["items"]}["JPR/0042"] is True  # made after that day

    assert book.delete("/credit/holds/JPR/0042/release").status_code == 204
    again = {i["retailer_code"]: i["active"] for i in book.get("/credit/holds").json()["items"]}
    assert again["JPR/0042"] is True
    assert book.delete("/credit/holds/JPR/0042/release").status_code == 404


def test_each_refresh_costs_two_tally_requests(book: TestClient, own_tally: TallyServer) -> None:
    before = own_tally.state.requests
    book.get("/reports/ageing", params={"refresh": "true"})

    assert own_tally.state.requests - before == 2


def test_the_first_report_of_the_day_keeps_a_snapshot(book: TestClient) -> None:
    from sqlalchemy import func, select

    from models import CreditSnapshot

    book.get("/reports/ageing")
    book.get("/reports/ageing")
    with book.app.state.sessionmaker() as session:
        days = session.execute(select(CreditSnapshot.day, func.count()).group_by(CreditSnapshot.day)).all()

    assert days == [(today_ist(), 3)]  # every ledger, the credit-balance party too


def test_history_changes_and_one_retailers_line_over_two_days(book: TestClient, own_tally: TallyServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import tally_cache
    from credit import bills_cache, releases

    clock = controlled_clock(monkeypatch, tally_cache, bills_cache, releases)
    first = today_ist()
    assert book.post("/reports/snapshots").status_code == 201
    ledgers = own_tally.state.companies[0].ledgers
    ledgers[0].closing_balance = "-300000.00"  # Sharma owes 55,000.00 more
    ledgers[1].closing_balance = "-5000.00"  # Verma paid: 5,000.00 against 10,000.00 of stock
    clock.advance(days=1)  # a day on: every cached read has expired
    taken = book.post("/reports/snapshots").json()

    history = book.get("/reports/history", params={"from": first.isoformat(), "to": taken["day"]}).json()
    found = book.get("/reports/changes", params={"since": first.isoformat()}).json()
    line = book.get("/reports/negative/JPR/0042/history", params={"from": first.isoformat(), "to": taken["day"]}).json()

    assert taken == {"day": (first + timedelta(days=1)).isoformat(), "ledgers": 3}
    assert [(d["od_amount"], d["retailers_in_od"], d["on_hold"]) for d in history["days"]] == [
        ("265000.00", 2, 2), ("280000.00", 1, 1)]
    assert (history["from"], found["compared_from"], found["compared_to"]) == (first.isoformat(), first.isoformat(),
                                                                              taken["day"])
    assert [(c["ledger_name"], c["kinds"], c["od_change"]) for c in found["items"]] == [
        ("Sharma Mobile Point", ["worse"], "55000.00"),
        ("Verma Telecom", ["left_od", "left_hold", "better"], "-40000.00")]
    assert [(d["od_amount"], d["hold_reasons"]) for d in line["days"]] == [("40000.00", ["uncovered"]), ("-5000.00", [])]


def test_the_ageing_workbook_has_a_sheet_per_view_in_office_form(book: TestClient) -> None:
    import io

    from openpyxl import load_workbook

    response = book.get("/reports/ageing", params={"as_of": AS_OF, "format": "xlsx"})

    assert response.status_code == 200 and "ageing_20261202.xlsx" in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary", "Bills", "Holds"]
    summary = {row[0].value: row for row in workbook["Summary"].iter_rows(min_row=4)}
    assert summary["RT1"][3].value == 245000 and summary["RT1"][9].value == 160000
    assert summary["RT1"][3].number_format == '"₹"#\\,##\\,##0.00'  # Indian grouping, as in the OD file
    assert summary["Total"][10].value == 35000  # on account, both rows
    bills = [(r[0].value, r[2].value, r[6].value, r[7].value) for r in workbook["Bills"].iter_rows(min_row=4)]
    assert ("RT1", "GST/25-26/0412", 395, "over 90 days") in bills and len(bills) == 3
    holds = {r[0].value: r[2].value for r in workbook["Holds"].iter_rows(min_row=4)}
    assert holds["JPR/0042"] == "owes more than stock"
    assert workbook["Summary"].page_setup.orientation == "landscape"


def test_the_od_report_rows_carry_their_credit_position_without_another_tally_request(
        book: TestClient, own_tally: TallyServer) -> None:
    from datetime import date

    before = book.get("/reports/negative").json()["rows"]
    assert before[0]["overdue_total"] is None and before[0]["hold_reasons"] == []  # no bills read yet
    book.get("/reports/ageing")  # reads the bills
    requests = own_tally.state.requests

    rows = {row["retailer_codes"][0]: row for row in book.get("/reports/negative").json()["rows"]}

    today = today_ist()
    dues = {"118000.00": date(2025, 11, 2), "42000.00": date(2026, 11, 14), "100000.00": date(2026, 12, 20)}
    overdue = sum(Decimal(amount) for amount, due in dues.items() if due < today)
    assert own_tally.state.requests == requests  # the bills as last read: no Tally request for them
    assert Decimal(rows["RT1"]["overdue_total"]) == overdue
    assert rows["RT1"]["oldest_overdue_days"] == (today - date(2025, 11, 2)).days
    assert rows["RT1"]["credit_limit"] == "200000.00"
    assert rows["RT1"]["hold_reasons"] == ["over_limit", "overdue", "uncovered"]
    assert rows["JPR/0042"]["hold_reasons"] == ["uncovered"] and rows["JPR/0042"]["credit_limit"] is None


def test_a_forex_bill_ages_in_rupees_from_its_fixed_due_date(book: TestClient, own_tally: TallyServer) -> None:
    patel = own_tally.state.companies[0].ledgers[2]
    patel.closing_balance = "-99900.00"  # in this test Patel owes the export bill, nothing else
    patel.bills = [Bill("EXP/7", "1-Nov-2025", "-USD1200.00 @ ₹ 83.25/USD = -₹ 99900.00", "15-Dec-2025")]

    rows = {r["ledger_name"]: r for r in book.get("/reports/ageing", params={"as_of": AS_OF}).json()["rows"]}
    bills = book.get("/reports/ageing/RT3", params={"as_of": AS_OF}).json()["bills"]

    assert (rows["Patel Mobile Point"]["overdue_90_plus"], rows["Patel Mobile Point"]["on_account"]) == ("99900.00",
                                                                                                         "0.00")
    assert bills == [{"ref": "EXP/7", "bill_date": "2025-11-01", "due_date": "2025-12-15", "amount": "99900.00",
                      "overdue_days": 352, "bucket": "overdue_90_plus"}]


def test_the_ageing_csv_opens_in_excel_with_the_totals(book: TestClient) -> None:
    import csv
    import io

    response = book.get("/reports/ageing", params={"as_of": AS_OF, "format": "csv"})

    assert response.status_code == 200 and response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Retailer code(s)", "Retailer", "Tally ledger", "Balance"]
    assert rows[1][0] == "RT1" and rows[1][3] == "245000.00" and rows[1][9] == "160000.00"
    assert rows[3][0] == "Total" and rows[3][10] == "35000.00"
