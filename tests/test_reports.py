"""The negative / OD report, hand-computed on small cases, over HTTP with the Tally emulator."""

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from devtools.tally_emulator import Ledger, TallyServer
from tests.conftest import TALLY_COMPANY, make_settings, open_client
from tests.prm_factory import row, sheet

MakeXlsx = Callable[..., Path]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def set_ledgers(tally: TallyServer, *ledgers: tuple[str, str | None]) -> None:
    """Ledgers under Sundry Debtors, with Tally-signed balances (negative = owes us)."""
    tally.state.companies[0].ledgers = [Ledger(name, "Sundry Debtors", amount) for name, amount in ledgers]


def import_rows(client: TestClient, make_xlsx: MakeXlsx, *rows: list[Any]) -> None:
    response = client.post("/run/prm-sync", files={"file": ("prm.xlsx", make_xlsx(sheet(*rows)).read_bytes(), XLSX)})
    assert response.status_code == 200, response.text


def set_prices(client: TestClient, **prices: str) -> None:
    response = client.post("/admin/products/prices", json={"updates": [
        {"goods_id": goods_id, "price": price} for goods_id, price in prices.items()]})
    assert response.status_code == 200, response.text


def report(client: TestClient, **params: str) -> dict:
    response = client.get("/reports/negative", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def shop(n: int, code: str, name: str, goods: str = "G1", **kw: Any) -> list[Any]:
    return row(n, retailer=code, retailer_name=name, goods=goods, **kw)


@pytest.fixture
def app(tally_client_app: TestClient) -> TestClient:
    return tally_client_app


class TestTheComputation:
    def test_od_is_the_balance_less_the_stock_value(self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Sharma Mobile Point", "-50000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"), shop(2, "R1", "Sharma Mobile Point", goods="G2"))
        set_prices(app, G1="10000.00", G2="15999.50")

        body = report(app)

        assert [(r["retailer_codes"], r["closing_balance"], r["stock_units"], r["stock_value"], r["od_amount"])
                for r in body["rows"]] == [(["R1"], "50000.00", 2, "25999.50", "24000.50")]
        assert body["rows"][0]["valuation_complete"] is True and body["rows"][0]["balance_source"] == "live"
        assert body["totals"]["od_amount"] == "24000.50"

    def test_the_stock_value_follows_every_price_change_even_one_made_outside_the_service(
            self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Sharma Mobile Point", "-50000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"), shop(2, "R1", "Sharma Mobile Point"))
        set_prices(app, G1="10000.00")
        assert report(app)["rows"][0]["stock_value"] == "20000.00"

        set_prices(app, G1="12000.00")
        assert report(app)["rows"][0]["stock_value"] == "24000.00"
        with app.app.state.engine.begin() as connection:  # by hand, with no history row: still seen
            connection.exec_driver_sql("UPDATE products SET price = 1100000 WHERE goods_id = 'G1'")
        assert report(app)["rows"][0]["stock_value"] == "22000.00"

        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"))
        assert report(app)["rows"][0]["stock_value"] == "11000.00"

    def test_a_debtor_with_zero_stock_is_in_the_report(self, app: TestClient, tally: TallyServer,
                                                       make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Empty Shelves", "-7500.00"), ("Full Shelves", "-100.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Empty Shelves", status="Activated", activation="20-11-2026"),
                    shop(2, "R2", "Full Shelves"))
        set_prices(app, G1="5000.00")

        rows = report(app)["rows"]

        assert [(r["retailer_codes"], r["stock_units"], r["od_amount"]) for r in rows] == [(["R1"], 0, "7500.00")]

    def test_a_credit_balance_is_listed_apart_never_as_od(self, app: TestClient, tally: TallyServer,
                                                          make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Verma Telecom", "18500.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Verma Telecom"))
        set_prices(app, G1="100.00")

        body = report(app)

        assert body["rows"] == []
        assert body["credit_balances"] == [{"retailer_codes": ["R1"], "ledger_name": "Verma Telecom",
                                            "closing_balance": "-18500.00", "stock_value": "100.00"}]

    def test_unpriced_goods_count_as_zero_and_say_so(self, app: TestClient, tally: TallyServer,
                                                     make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Sharma Mobile Point", "-1000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"), shop(2, "R1", "Sharma Mobile Point", goods="G2"))
        set_prices(app, G1="300.00")

        body = report(app)

        row_ = body["rows"][0]
        assert (row_["stock_value"], row_["unpriced_units"], row_["od_amount"], row_["valuation_complete"]) == (
            "300.00", 1, "700.00", False)
        assert body["unpriced_goods"] == [{"goods_id": "G2", "name": "Redmi Phone G2", "units": 1}]

    def test_an_activated_imei_listed_at_the_retailer_is_not_stock(self, app: TestClient, tally: TallyServer,
                                                                   make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Sharma Mobile Point", "-1000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point", status="Activated", activation="20-11-2026"),
                    shop(2, "R1", "Sharma Mobile Point"))
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"), shop(2, "R1", "Sharma Mobile Point"))
        set_prices(app, G1="100.00")

        assert report(app)["rows"][0]["stock_units"] == 1

    def test_several_codes_on_one_ledger_are_one_row_with_the_balance_once(self, app: TestClient, tally: TallyServer,
                                                                          make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Ram & Sons Mobiles", "-10000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Ram Mobiles Station Road"), shop(2, "R2", "Ram Mobiles Bazaar"))
        set_prices(app, G1="1000.00")
        for code in ("R1", "R2"):
            assert app.put(f"/admin/retailers/{code}/ledger", json={"ledger_name": "ram & sons mobiles"}).status_code == 200

        rows = report(app)["rows"]

        assert [(r["retailer_codes"], r["ledger_name"], r["closing_balance"], r["stock_units"], r["od_amount"])
                for r in rows] == [(["R1", "R2"], "Ram & Sons Mobiles", "10000.00", 2, "8000.00")]

    def test_a_retailer_without_a_ledger_is_listed_with_the_reason(self, app: TestClient, tally: TallyServer,
                                                                   make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Sharma Mobile Point", "-10.00"))
        import_rows(app, make_xlsx, shop(1, "R9", "Nobody Knows Mobiles"))

        body = report(app)

        [unmatched] = body["unmatched_retailers"]
        assert (unmatched["retailer_code"], unmatched["stock_units"]) == ("R9", 1)
        assert "no ledger in Tally's debtors group is named 'Nobody Knows Mobiles' or 'R9'" in unmatched["reason"]

    def test_a_retailer_page_names_its_ledger(self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Sharma Mobile Point", "-10.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"))
        report(app)  # reads the debtors group into the cache

        body = app.get("/retailers/R1").json()

        assert (body["ledger_name"], body["ledger_mapping"]) == ("Sharma Mobile Point", "by_name")

    def test_a_retailer_page_never_takes_a_ledger_of_another_group(self, app: TestClient, tally: TallyServer,
                                                                   make_xlsx: MakeXlsx) -> None:
        import_rows(app, make_xlsx, shop(1, "R1", "HDFC Bank"))
        assert app.get("/tally/ledgers", params={"group": "Bank Accounts"}).status_code == 200  # caches the bank

        body = app.get("/retailers/R1").json()

        assert (body["ledger_name"], body["ledger_mapping"]) == (None, "unmatched")

    def test_a_retailer_page_matches_the_debtors_group_in_any_spelling(self, app: TestClient, tally: TallyServer,
                                                                       make_xlsx: MakeXlsx) -> None:
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"))
        assert app.get("/tally/ledgers", params={"group": "sundry  DEBTORS"}).status_code == 200

        body = app.get("/retailers/R1").json()

        assert (body["ledger_name"], body["ledger_mapping"]) == ("Sharma Mobile Point", "by_name")

    def test_a_ledger_named_like_the_code_matches_by_code(self, app: TestClient, tally: TallyServer,
                                                          make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("r1", "-500.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Some Other Name"))

        mapping = app.get("/admin/ledger-mapping").json()["items"]

        assert [(m["retailer_code"], m["ledger_name"], m["how"]) for m in mapping] == [("R1", "r1", "by_code")]
        assert report(app)["rows"][0]["od_amount"] == "500.00"

    def test_ties_order_by_balance_then_code(self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Shop C", "-1000.00"), ("Shop B", "-2000.00"), ("Shop A", "-1000.00"), ("Shop D", "-3000.00"))
        import_rows(app, make_xlsx, shop(1, "RC", "Shop C"), shop(2, "RB", "Shop B"), shop(3, "RB", "Shop B"),
                    shop(4, "RA", "Shop A"), shop(5, "RD", "Shop D"), shop(6, "RD", "Shop D"), shop(7, "RD", "Shop D"))
        set_prices(app, G1="500.00")

        rows = report(app)["rows"]

        # C, A: 500 OD on 1000 owed; B: 1000 on 2000; D: 1500 on 3000.
        assert [(r["retailer_codes"][0], r["od_amount"]) for r in rows] == [
            ("RD", "1500.00"), ("RB", "1000.00"), ("RA", "500.00"), ("RC", "500.00")]

    def test_an_od_of_exactly_zero_is_not_listed_and_one_paisa_is(self, app: TestClient, tally: TallyServer,
                                                                  make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Even Shop", "-999.99"), ("Paisa Shop", "-1000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Even Shop"), shop(2, "R2", "Paisa Shop"))
        set_prices(app, G1="999.99")

        rows = report(app)["rows"]

        assert [(r["retailer_codes"], r["od_amount"]) for r in rows] == [(["R2"], "0.01")]

    def test_filters_by_min_od_and_retailer(self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Shop A", "-100.00"), ("Shop B", "-5000.00"))
        import_rows(app, make_xlsx, shop(1, "RA", "Shop A"), shop(2, "RB", "Shop B"))
        set_prices(app, G1="1.00")

        assert [r["retailer_codes"] for r in report(app, min_od="1000")["rows"]] == [["RB"]]
        assert [r["retailer_codes"] for r in report(app, retailer_code="RA")["rows"]] == [["RA"]]

    def test_min_od_may_be_written_in_indian_grouping(self, app: TestClient, tally: TallyServer,
                                                      make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Shop A", "-1,50,000.00"), ("Shop B", "-50,000.00"))
        import_rows(app, make_xlsx, shop(1, "RA", "Shop A"), shop(2, "RB", "Shop B"))
        set_prices(app, G1="1.00")

        grouped = report(app, min_od="₹ 1,00,000")["rows"]
        emptied = report(app, min_od="")["rows"]

        assert [r["retailer_codes"] for r in grouped] == [["RA"]]
        assert [r["retailer_codes"] for r in emptied] == [["RA"], ["RB"]]

    def test_a_negative_min_od_is_422(self, app: TestClient) -> None:
        response = app.get("/reports/negative", params={"min_od": "-1"})

        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "min_od"]


class TestWhenTallyIsDown:
    def test_cached_balances_are_used_and_marked_stale(self, database_url: str, own_tally: TallyServer,
                                                       make_xlsx: MakeXlsx) -> None:
        set_ledgers(own_tally, ("Sharma Mobile Point", "-1000.00"))
        settings = make_settings(database_url=database_url, tally_host=own_tally.url, tally_company=TALLY_COMPANY,
                                 tally_read_timeout_seconds=0.5)
        with open_client(settings) as client:
            import_rows(client, make_xlsx, shop(1, "R1", "Sharma Mobile Point"))
            set_prices(client, G1="100.00")
            assert report(client)["rows"][0]["balance_source"] == "live"
            own_tally.stop()

            body = report(client, refresh="true")

        assert body["rows"][0]["od_amount"] == "900.00"
        assert body["rows"][0]["balance_source"] in ("cache", "stale_cache")
        assert any(w.startswith("Tally could not be read") for w in body["warnings"])

    def test_with_nothing_cached_the_retailers_are_listed_as_unavailable(self, database_url: str,
                                                                        own_tally: TallyServer,
                                                                        make_xlsx: MakeXlsx) -> None:
        settings = make_settings(database_url=database_url, tally_host=own_tally.url, tally_company=TALLY_COMPANY)
        own_tally.stop()
        with open_client(settings) as client:
            import_rows(client, make_xlsx, shop(1, "R1", "Sharma Mobile Point"))
            client.put("/admin/retailers/R1/ledger", json={"ledger_name": None})
            with client.app.state.sessionmaker() as session:
                from models import Retailer

                session.get(Retailer, "R1").tally_ledger_name = "Sharma Mobile Point"
                session.commit()

            body = report(client)

        assert body["rows"] == []
        [unavailable] = body["balance_unavailable"]
        assert unavailable["retailer_codes"] == ["R1"]
        assert unavailable["reason"].startswith("Tally could not be read and nothing is cached: Tally is not reachable")


class TestDrillDownAndMapping:
    def test_the_drill_down_values_each_goods(self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Sharma Mobile Point", "-50000.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Sharma Mobile Point"), shop(2, "R1", "Sharma Mobile Point"),
                    shop(3, "R1", "Sharma Mobile Point", goods="G2"), shop(4, "R1", "Sharma Mobile Point", goods="G3"))
        set_prices(app, G1="10000.00", G2="0.10")

        body = app.get("/reports/negative/R1").json()

        assert [(g["goods_id"], g["units"], g["unit_price"], g["value"]) for g in body["goods"]] == [
            ("G1", 2, "10000.00", "20000.00"), ("G2", 1, "0.10", "0.10"), ("G3", 1, None, "0.00")]
        assert (body["stock_value"], body["od_amount"], body["mapping"], body["balance_source"]) == (
            "20000.10", "29999.90", "by_name", "live")
        assert [g["goods_id"] for g in body["unpriced_goods"]] == ["G3"]

    def test_an_unknown_retailer_drill_down_is_404(self, app: TestClient) -> None:
        assert app.get("/reports/negative/NOPE").status_code == 404

    def test_mapping_to_a_ledger_tally_does_not_have_is_422_with_the_closest_names(
            self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("M/s. Ram & Sons Mobiles", "-1.00"), ("Sharma Mobile Point", "-1.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Ram and Sons Mobiles"))

        response = app.put("/admin/retailers/R1/ledger", json={"ledger_name": "Ram Sons Mobile"})

        assert response.status_code == 422
        assert "closest: M/s. Ram & Sons Mobiles" in response.json()["errors"][0]["msg"]

    def test_unmatched_retailers_get_fuzzy_suggestions(self, app: TestClient, tally: TallyServer,
                                                       make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("M/s. Ram & Sons Mobiles", "-1.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "Mobiles Ram and Sons"))

        [item] = app.get("/admin/ledger-mapping", params={"how": "unmatched"}).json()["items"]

        assert item["suggestions"] == ["M/s. Ram & Sons Mobiles"]

    def test_many_mappings_are_all_or_nothing(self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
        set_ledgers(tally, ("Shop A", "-1.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "X"), shop(2, "R2", "Y"))

        bad = app.post("/admin/ledger-mapping", json={"mappings": [
            {"retailer_code": "R1", "ledger_name": "Shop A"}, {"retailer_code": "R2", "ledger_name": "No Such"}]})
        good = app.post("/admin/ledger-mapping", json={"mappings": [
            {"retailer_code": "R1", "ledger_name": "Shop A"}, {"retailer_code": "R2", "ledger_name": "shop a"}]})

        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "mappings", 1, "ledger_name"]
        assert good.json() == {"updated": 2, "cleared": 0, "unchanged": 0}
        assert {m["retailer_code"]: m["how"] for m in app.get("/admin/ledger-mapping").json()["items"]} == {
            "R1": "explicit", "R2": "explicit"}


class TestExports:
    @pytest.fixture
    def loaded(self, app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> TestClient:
        set_ledgers(tally, ("+cmd|' /C calc'!A0", "-12345678.00"), ("Shop B", "-200000.00"), ("Credit Co", "100.00"))
        import_rows(app, make_xlsx, shop(1, "R1", "+cmd|' /C calc'!A0"), shop(2, "R2", "Shop B"),
                    shop(3, "R3", "Credit Co"), shop(4, "R4", "Unmatched Mobiles"))
        set_prices(app, G1="1000.00")
        return app

    def test_the_excel_export_has_rows_totals_and_the_explanations(self, loaded: TestClient) -> None:
        from openpyxl import load_workbook

        response = loaded.get("/reports/negative", params={"format": "xlsx"})
        workbook = load_workbook(io.BytesIO(response.content))
        main_sheet, why = workbook["OD report"], workbook["Not in report"]
        values = [[cell.value for cell in row] for row in main_sheet.iter_rows()]
        header_at = next(i for i, row in enumerate(values) if row[0] == "Retailer code(s)")

        assert response.headers["content-type"].startswith(XLSX)
        assert values[0][0].startswith("Negative / OD report as of ")
        assert main_sheet.freeze_panes == f"A{header_at + 2}"
        assert values[header_at + 1][:3] == ["R1", "'+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"]
        assert values[header_at + 1][7] == 12344678 and values[header_at + 2][7] == 199000
        assert values[-1][0] == "Total" and values[-1][7] == 12543678
        assert "₹" in main_sheet.cell(row=header_at + 2, column=8).number_format
        explained = [row[0] for row in why.iter_rows(values_only=True)]
        assert "Unmatched retailers (no Tally ledger): 1" in explained and "R4" in explained
        assert "Credit balances (we owe them): 1" in explained

    def test_the_csv_export_reads_back(self, loaded: TestClient) -> None:
        response = loaded.get("/reports/negative", params={"format": "csv"})

        assert response.content.startswith("\ufeff".encode())  # Excel on Windows then reads UTF-8
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

        assert rows[0][:4] == ["Retailer code(s)", "Retailer", "Tally ledger", "Balance owed"]
        assert [r[0] for r in rows[1:3]] == ["R1", "R2"]
        assert rows[1][1].startswith("'+") and rows[1][7] == "12344678.00"
        assert rows[3][0] == "Total" and rows[3][7] == response_total(loaded)
        assert rows[5][0].startswith("Negative / OD report as of ")
        sections = [r[0] for r in rows if r and r[0].endswith(tuple(f": {n}" for n in range(10)))]
        assert "Unmatched retailers (no Tally ledger): 1" in sections
        assert "Credit balances (we owe them): 1" in sections


def response_total(client: TestClient) -> str:
    return client.get("/reports/negative").json()["totals"]["od_amount"]


def test_the_number_of_sql_statements_does_not_grow_with_retailers(app: TestClient, tally: TallyServer,
                                                                   make_xlsx: MakeXlsx) -> None:
    engine = app.app.state.engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def statements_for(retailers: int) -> int:
        set_ledgers(tally, *[(f"Shop {n}", "-1000.00") for n in range(retailers)])
        import_rows(app, make_xlsx, *[shop(n + 1000 * retailers, f"R{n}", f"Shop {n}") for n in range(retailers)])
        set_prices(app, G1="1.00")
        report(app, refresh="true")  # warm the cache with these ledgers
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert len(report(app)["rows"]) == retailers
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    assert statements_for(3) == statements_for(30)


def test_the_mapping_sheet_round_trips(app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> None:
    from openpyxl import load_workbook

    set_ledgers(tally, ("Shop A", "-1.00"), ("Ram & Sons", "-1.00"))
    import_rows(app, make_xlsx, shop(1, "R1", "Shop A"), shop(2, "R2", "Ram Sons"))
    workbook = load_workbook(io.BytesIO(app.get("/admin/ledger-mapping/sheet").content))
    sheet = workbook.active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][:4] == ["R1", "Shop A", "Shop A", "by_name"]
    assert rows[2][:4] == ["R2", "Ram Sons", "", "unmatched"] or rows[2][:4] == ["R2", "Ram Sons", None, "unmatched"]
    sheet.cell(row=3, column=3).value = "Ram & Sons"
    edited = io.BytesIO()
    workbook.save(edited)

    response = app.post("/admin/ledger-mapping/upload", files={"file": ("m.xlsx", edited.getvalue(), XLSX)})

    assert response.json() == {"updated": 1, "cleared": 0, "unchanged": 1}
    assert {m["retailer_code"]: m["how"] for m in app.get("/admin/ledger-mapping").json()["items"]} == {
        "R1": "by_name", "R2": "explicit"}


@pytest.mark.parametrize(("cells", "loc", "msg"), [
    (["R" * 70, "Shop A"], ["row", 2, "Retailer Code"], "Retailer Code is 70 characters; at most 64"),
    (["R1", "L" * 300], ["row", 2, "Tally Ledger"], "Tally Ledger is 300 characters; at most 255"),
])
def test_a_mapping_sheet_cell_too_long_is_a_422_naming_its_row_and_column(
        app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx, cells: list[str], loc: list, msg: str) -> None:
    set_ledgers(tally, ("Shop A", "-1.00"))
    import_rows(app, make_xlsx, shop(1, "R1", "Shop B"))
    path = make_xlsx([["Retailer Code", "Tally Ledger"], cells], sheet="Ledger mapping")

    response = app.post("/admin/ledger-mapping/upload", files={"file": ("m.xlsx", path.read_bytes(), XLSX)})

    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": f"m.xlsx: 1 cell is invalid, so no mapping was saved: row 2 {loc[2]}: {msg}.",
        "errors": [{"loc": loc, "msg": msg, "type": "invalid"}]}


def test_rupees_are_written_with_indian_grouping() -> None:
    from decimal import Decimal

    from kit.money import format_inr

    assert [format_inr(Decimal(v)) for v in ("0", "999.5", "1000", "123456.78", "12345678", "-1234567.891")] == [
        "0.00", "999.50", "1,000.00", "1,23,456.78", "1,23,45,678.00", "-12,34,567.89"]
