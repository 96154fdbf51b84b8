"""The price manager: bulk updates, history, price-list workbooks, as-of reads."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from catalogue import prices
from models import PriceHistory, Product
from kit.cells import parse_moment
from schemas import PriceUpdate
from tests.conftest import table_contents
from tests.prm_factory import row, sheet

MakeXlsx = Callable[..., Path]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def update(goods_id: str, price: Any, **fields: Any) -> PriceUpdate:
    return PriceUpdate.model_validate({"goods_id": goods_id, "price": price, **fields})


def post_prices(client: TestClient, *updates: dict[str, Any], note: str | None = None) -> Any:
    return client.post("/admin/products/prices", json={"updates": list(updates), "note": note})


class TestBulkUpdates:
    def test_a_new_product_is_created_with_its_price_and_a_history_row(self, session: Session) -> None:
        result = prices.update_prices(session, updates=[update("PROD001", "15999.00", name="Redmi Note 13")], note="launch")

        product = session.get(Product, "PROD001")
        assert (result.created, result.updated, result.unchanged, result.history_rows) == (1, 0, 0, 1)
        assert product.price == Decimal("15999.00") and product.category == "Phones"
        history = session.scalars(select(PriceHistory)).one()
        assert (history.old_price, history.new_price, history.source, history.note) == (None, Decimal("15999.00"), "admin_api", "launch")

    def test_a_changed_price_records_old_and_new(self, session: Session) -> None:
        prices.update_prices(session, updates=[update("P1", "100.00", name="A")])

        result = prices.update_prices(session, updates=[update("P1", "120.50")])

        assert [(i["old_price"], i["new_price"], i["change"]) for i in result.items] == [(Decimal("100.00"), Decimal("120.50"), "updated")]
        assert session.scalars(select(PriceHistory.old_price).order_by(PriceHistory.id)).all() == [None, Decimal("100.00")]

    def test_setting_the_same_price_again_writes_no_history(self, session: Session) -> None:
        prices.update_prices(session, updates=[update("P1", "100.00", name="A")])

        result = prices.update_prices(session, updates=[update("P1", 100)])

        assert (result.unchanged, result.history_rows) == (1, 0)
        assert session.scalar(select(func.count()).select_from(PriceHistory)) == 1

    def test_a_mixed_batch_counts_each_kind(self, session: Session) -> None:
        prices.update_prices(session, updates=[update("P1", "10", name="A"), update("P2", "20", name="B")])

        result = prices.update_prices(session, updates=[update("P1", "10"), update("P2", "25"), update("P3", "30", name="C")])

        assert (result.created, result.updated, result.unchanged, result.history_rows) == (1, 1, 1, 2)

    def test_an_admin_category_wins_over_the_name_rule_for_good(self, session: Session) -> None:
        prices.update_prices(session, updates=[update("P1", "10", name="Redmi Pad SE")])
        assert session.get(Product, "P1").category == "Pad"

        prices.update_prices(session, updates=[update("P1", "10", category="Tablets")])

        product = session.get(Product, "P1")
        assert (product.category, product.category_locked) == ("Tablets", True)

    def test_the_tenth_bad_item_means_the_first_nine_are_not_written(self, session: Session, engine: Engine) -> None:
        updates = [update(f"P{n}", "10.00", name=f"N{n}") for n in range(9)] + [update("P9", "10.00")]
        before = table_contents(engine)

        with pytest.raises(prices.PriceUpdatesRejected) as caught:
            prices.update_prices(session, updates=updates)

        assert caught.value.errors[0].loc == ["body", "updates", 9, "name"]
        assert caught.value.errors[0].msg == "is required because P9 is a new product"
        assert table_contents(engine) == before

    def test_the_same_goods_id_twice_is_refused(self, session: Session) -> None:
        with pytest.raises(prices.PriceUpdatesRejected) as caught:
            prices.update_prices(session, updates=[update("P1", "1", name="A"), update("P1", "2", name="A")])

        assert [(e.loc, e.msg) for e in caught.value.errors] == [(["body", "updates", 1, "goods_id"], "P1 is already at updates[0]")]


class TestExactness:
    def test_paise_add_up_exactly(self, session: Session) -> None:
        prices.update_prices(session, updates=[update("A", 0.10, name="A"), update("B", 0.20, name="B")])

        total = session.scalar(select(func.sum(Product.price)))

        assert total == Decimal("0.30")

    def test_a_price_stays_a_two_place_string_in_json(self, client: TestClient) -> None:
        post_prices(client, {"goods_id": "P1", "name": "A", "price": 15999.00})

        assert client.get("/products/P1").json()["price"] == "15999.00"


class TestValidationOverHttp:
    @pytest.mark.parametrize(("price", "message"), [
        (0, "must be greater than 0"),
        (-5, "must be greater than 0"),
        (10000000.01, "must be at most 10000000.00"),
        (15999.999, "has more than two decimal places (15999.999); prices are never rounded"),
        ("abc", "must be a number like 15999.00, not 'abc'"),
        (True, "must be a number like 15999.00"),
        ("NaN", "must be a number like 15999.00"),
    ])
    def test_a_bad_price_is_named_by_index_and_field(self, client: TestClient, price: Any, message: str) -> None:
        response = post_prices(client, {"goods_id": "P1", "name": "A", "price": 1},
                               {"goods_id": "P2", "name": "B", "price": price})

        assert response.status_code == 422
        assert response.json()["errors"] == [{"loc": ["body", "updates", 1, "price"], "msg": message, "type": "price"}]
        assert response.json()["detail"] == f"Invalid value for updates[1].price: {message}."
        assert client.get("/products").json()["total"] == 0

    def test_an_unknown_field_is_refused(self, client: TestClient) -> None:
        response = post_prices(client, {"goods_id": "P1", "name": "A", "price": 1, "prise": 2})

        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "updates", 0, "prise"]

    def test_a_blank_goods_id_is_refused(self, client: TestClient) -> None:
        response = post_prices(client, {"goods_id": "  ", "name": "A", "price": 1})

        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "updates", 0, "goods_id"]

    def test_a_new_product_without_a_name_is_422_naming_the_field(self, client: TestClient) -> None:
        response = post_prices(client, {"goods_id": "P1", "price": 1})

        assert response.status_code == 422
        assert response.json() == {
            "detail": "The price update: 1 of 1 entries are invalid, so no price was changed: "
                      "updates[0].name: is required because P1 is a new product.",
            "errors": [{"loc": ["body", "updates", 0, "name"], "msg": "is required because P1 is a new product", "type": "missing"}],
        }

    def test_goods_ids_are_trimmed(self, client: TestClient) -> None:
        post_prices(client, {"goods_id": " P1 ", "name": "A", "price": "99.5"})

        assert client.get("/products/P1").json()["price"] == "99.50"


class TestHistoryReads:
    def test_history_is_newest_first_and_filtered(self, client: TestClient) -> None:
        post_prices(client, {"goods_id": "P1", "name": "A", "price": 1})
        post_prices(client, {"goods_id": "P1", "price": 2}, {"goods_id": "P2", "name": "B", "price": 5})

        everything = client.get("/debug/price-history").json()
        one = client.get("/debug/price-history", params={"goods_id": "P1"}).json()

        assert everything["total"] == 3
        assert [(h["goods_id"], h["new_price"]) for h in one["items"]] == [("P1", "2.00"), ("P1", "1.00")]

    def test_a_product_shows_its_recent_changes(self, client: TestClient) -> None:
        for price in (1, 2, 3):
            post_prices(client, {"goods_id": "P1", "name": "A", "price": price})

        body = client.get("/products/P1").json()

        assert [c["new_price"] for c in body["recent_changes"]] == ["3.00", "2.00", "1.00"]

    def test_the_price_as_of_a_moment_comes_from_the_history(self, session: Session) -> None:
        prices.update_prices(session, updates=[update("P1", "100", name="A")])
        first = session.scalars(select(PriceHistory)).one()
        first.changed_at = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
        session.commit()
        prices.update_prices(session, updates=[update("P1", "110")])

        before = prices.price_as_of(session, goods_id="P1", as_of=datetime(2026, 10, 31, tzinfo=UTC))
        on_the_day = prices.price_as_of(session, goods_id="P1", as_of=parse_moment("2026-11-01", date_means_end_of_day=True))
        now = prices.price_as_of(session, goods_id="P1", as_of=None)

        assert before.price is None
        assert on_the_day.price == Decimal("100.00")
        assert now.price == Decimal("110.00")

    def test_a_bad_as_of_is_422(self, client: TestClient) -> None:
        post_prices(client, {"goods_id": "P1", "name": "A", "price": 1})

        response = client.get("/products/P1/price", params={"as_of": "yesterday"})

        assert response.status_code == 422
        assert "is not a date" in response.json()["detail"]

    def test_an_unknown_product_is_404(self, client: TestClient) -> None:
        assert client.get("/products/NOPE").status_code == 404
        assert client.get("/products/NOPE/price").status_code == 404


class TestPriceListWorkbook:
    def test_an_uploaded_price_list_sets_prices_by_header_name(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx([["Price list Nov 2026"], [], ["SKU", "Model", "DP"],
                          ["P1", "Redmi 13C", 9999], ["P2", "Redmi Buds 5", "1999.50"]], sheet="DP")

        response = client.post("/admin/products/prices/upload", files={"file": ("dp.xlsx", path.read_bytes(), XLSX)})

        assert response.status_code == 200, response.text
        assert response.json()["created"] == 2
        history = client.get("/debug/price-history", params={"source": "price_upload"}).json()
        assert {h["goods_id"]: h["new_price"] for h in history["items"]} == {"P1": "9999.00", "P2": "1999.50"}
        assert history["items"][0]["note"] == "price list dp.xlsx"

    def test_a_bad_row_names_its_excel_row_and_nothing_is_written(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx([["Goods ID", "Name", "Price"], ["P1", "A", 10], ["P2", "B", -1], ["P3", "C", "12.345"]])

        response = client.post("/admin/products/prices/upload", files={"file": ("p.xlsx", path.read_bytes(), XLSX)})

        assert response.status_code == 422
        assert [(e["loc"], e["msg"]) for e in response.json()["errors"]] == [
            (["row", 3, "Price"], "Price must be greater than 0"),
            (["row", 4, "Price"], "Price has more than two decimal places (12.345); prices are never rounded")]
        assert client.get("/products").json()["total"] == 0

    def test_a_dry_run_shows_old_and_new_prices_and_saves_nothing(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        post_prices(client, {"goods_id": "P1", "name": "Redmi 13C", "price": "19999.00"})
        post_prices(client, {"goods_id": "P1", "price": "9499.00"}, note="festival offer")
        path = make_xlsx([["Goods ID", "Name", "Price"], ["P1", "Redmi 13C", 19999], ["P2", "Redmi Buds 5", 1999]])

        response = client.post("/admin/products/prices/upload", params={"dry_run": "true"},
                               files={"file": ("old.xlsx", path.read_bytes(), XLSX)})

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["created"], body["updated"], body["history_rows"]) == (1, 1, 2)
        repriced, created = body["items"]
        assert (repriced["old_price"], repriced["new_price"], repriced["change"]) == ("9499.00", "19999.00", "updated")
        assert {k: repriced["last_change"][k] for k in ("old_price", "new_price", "source", "note")} == {
            "old_price": "19999.00", "new_price": "9499.00", "source": "admin_api", "note": "festival offer"}
        assert (created["change"], created["last_change"]) == ("created", None)
        assert client.get("/products/P1").json()["price"] == "9499.00"
        assert client.get("/products").json()["total"] == 1
        assert client.get("/debug/price-history").json()["total"] == 2

    def test_a_file_that_is_not_a_workbook_is_415(self, client: TestClient) -> None:
        response = client.post("/admin/products/prices/upload", files={"file": ("p.csv", b"Goods ID,Price\nP1,10\n", "text/csv")})

        assert response.status_code == 415
        assert response.json()["detail"].startswith("p.csv is a CSV/text file")

    def test_the_template_round_trips(self, client: TestClient) -> None:
        post_prices(client, {"goods_id": "P1", "name": "A", "price": "15999.00"}, {"goods_id": "P2", "name": "B", "price": "0.10"})
        template = client.get("/admin/products/prices/template")
        assert template.headers["content-type"].startswith(XLSX)

        again = client.post("/admin/products/prices/upload", files={"file": ("t.xlsx", template.content, XLSX)})

        assert again.status_code == 200
        assert (again.json()["unchanged"], again.json()["history_rows"]) == (2, 0)

    def test_the_template_of_a_partly_priced_catalogue_uploads_back_unchanged(
            self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        imported = client.post("/run/prm-sync", files={"file": ("prm.xlsx", make_xlsx(sheet(
            row(1, goods="G1"), row(2, goods="G2"), row(3, goods="G3"))).read_bytes(), XLSX)})
        assert imported.status_code == 200, imported.text
        post_prices(client, {"goods_id": "G1", "price": "15999.00"})
        template = client.get("/admin/products/prices/template")

        again = client.post("/admin/products/prices/upload", files={"file": ("t.xlsx", template.content, XLSX)})

        assert again.status_code == 200, again.text
        assert {key: again.json()[key] for key in ("created", "updated", "unchanged", "skipped", "history_rows")} == {
            "created": 0, "updated": 0, "unchanged": 1, "skipped": 2, "history_rows": 0}
        assert client.get("/products", params={"priced": "false"}).json()["total"] == 2

    def test_a_blank_price_skips_its_row_while_a_bad_one_is_still_an_error(
            self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx([["Goods ID", "Name", "Price"], ["P1", "A", None], ["P2", "B", "  "], ["P3", "C", "abc"]])

        response = client.post("/admin/products/prices/upload", files={"file": ("p.xlsx", path.read_bytes(), XLSX)})

        assert response.status_code == 422
        assert [(e["loc"], e["msg"]) for e in response.json()["errors"]] == [
            (["row", 4, "Price"], "Price must be a number like 15999.00, not 'abc'")]

    def test_formula_like_goods_ids_round_trip_through_the_template(self, client: TestClient) -> None:
        goods_ids = ["=X", "'=Y", "-1+1", "@SUM(A1)", "'plain"]
        post_prices(client, *({"goods_id": goods_id, "name": goods_id, "price": "10.00"} for goods_id in goods_ids))
        template = client.get("/admin/products/prices/template")

        again = client.post("/admin/products/prices/upload", files={"file": ("t.xlsx", template.content, XLSX)})

        assert again.status_code == 200, again.text
        assert (again.json()["created"], again.json()["unchanged"]) == (0, 5)
        assert sorted(item["goods_id"] for item in client.get("/products").json()["items"]) == sorted(goods_ids)


def test_concurrent_updates_never_lose_a_history_row(engine: Engine) -> None:
    import threading

    import database

    sessions = database.make_sessionmaker(engine)
    with sessions() as session:
        prices.update_prices(session, updates=[update("P1", "1.00", name="A")])
    failures: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for step in range(10):
                with sessions() as session:
                    prices.update_prices(session, updates=[update("P1", f"{offset + step + 2}.00")])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in (0, 100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    with sessions() as session:
        history = session.scalars(select(PriceHistory).order_by(PriceHistory.id)).all()
    assert failures == []
    assert len(history) == 21
    # Each change starts from the price the one before it set: no update read a stale price.
    assert all(later.old_price == earlier.new_price for earlier, later in zip(history, history[1:]))
