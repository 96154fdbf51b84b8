"""What a careless or hostile client can send: each gets a clear 4xx and nothing is written."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import table_contents


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/retailers", {"limit": -1}, "limit"),
    ("/retailers", {"limit": 0}, "limit"),
    ("/retailers", {"offset": 10**12}, "offset"),
    ("/retailers", {"search": "x" * 5000}, "search"),
    ("/activations", {"since": "yesterday"}, "since"),
    ("/debug/price-history", {"source": "hacker"}, "source"),
    ("/reports/negative", {"min_od": "1e400"}, "min_od"),
    ("/reports/negative", {"format": "pdf"}, "format"),
])
def test_absurd_query_values_are_422_naming_the_field(client: TestClient, path: str, params: dict, field: str) -> None:
    response = client.get(path, params=params)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", field]


def test_a_body_that_is_not_utf8_json_is_422(client: TestClient, engine: Engine) -> None:
    before = table_contents(engine)

    response = client.post("/admin/products/prices", content=b"\xff\xfe{\x00", headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert table_contents(engine) == before


def test_a_body_of_the_wrong_content_type_is_422(client: TestClient) -> None:
    response = client.post("/admin/products/prices", content=b"goods_id=P1&price=1",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 422


def test_a_very_long_name_is_refused(client: TestClient) -> None:
    response = client.post("/admin/products/prices", json={"updates": [{"goods_id": "P1", "name": "n" * 10_000, "price": 1}]})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "updates", 0, "name"]


def test_too_many_updates_in_one_request_are_refused(client: TestClient) -> None:
    updates = [{"goods_id": f"P{n}", "name": "n", "price": 1} for n in range(20_001)]

    response = client.post("/admin/products/prices", json={"updates": updates})

    assert response.status_code == 422


def test_a_json_bomb_of_nesting_is_a_422_not_a_500(client: TestClient) -> None:
    response = client.post("/admin/products/prices", content=b"[" * 100_000 + b"]" * 100_000,
                           headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("The request body could not be read")


def test_a_path_traversal_in_a_path_parameter_is_just_a_missing_thing(client: TestClient) -> None:
    assert client.get("/retailers/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
    assert client.get("/products/%00").status_code in (404, 422)  # PostgreSQL cannot store NUL: 422


def test_a_ledger_name_with_control_characters_is_422_not_a_tally_error(tally_client_app: TestClient) -> None:
    response = tally_client_app.get("/tally/closing-balance", params={"ledger": "Sharma\x10 Mobile"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "ledger"]


def test_a_number_is_not_taken_for_a_date(client: TestClient) -> None:
    response = client.get("/debug/price-history", params={"until": "0.5"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "until"]


@pytest.mark.parametrize("path", ["/activations", "/debug/price-history", "/admin/audit"])
@pytest.mark.parametrize("moment", ["2026-11-21", "2026-11-21T10:00:00", "21/11/2026 10:00", "2026-11-21T10:00:00Z"])
def test_a_date_without_a_zone_is_read_as_ist_never_a_500(client: TestClient, path: str, moment: str) -> None:
    response = client.get(path, params={"since": moment, "until": "2099-01-01"})

    assert response.status_code == 200, response.text


def test_an_impossible_date_names_the_field(client: TestClient) -> None:
    response = client.get("/activations", params={"until": "31-02-2026"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "until"]
    assert "not a real date" in response.json()["errors"][0]["msg"]


def test_405_names_every_method_the_path_allows(client: TestClient) -> None:
    response = client.request("OPTIONS", "/admin/keys")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(("path", "field"), [
    ("/activations", "since"), ("/activations", "until"),
    ("/debug/price-history", "since"), ("/debug/price-history", "until"),
    ("/admin/audit", "since"), ("/admin/audit", "until"),
    ("/products/SM-A155F/price", "as_of"),
])
@pytest.mark.parametrize("moment", ["0001-01-01", "01-01-0001 00:00", "0001-01-01T00:00:00+05:30",
                                    "9999-12-31T23:00:00-05:00"])
def test_a_moment_outside_what_a_datetime_holds_is_422_naming_the_parameter(
        client: TestClient, path: str, field: str, moment: str) -> None:
    response = client.get(path, params={field: moment})

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"loc": ["query", field], "type": "datetime_format",
         "msg": "is out of range; use a date between 0001-01-02 and 9999-12-30, such as 21-11-2026"}]


def test_the_earliest_moment_a_datetime_holds_is_still_a_filter(client: TestClient) -> None:
    response = client.get("/activations", params={"since": "0001-01-02", "until": "9999-12-30"})

    assert response.status_code == 200, response.text
