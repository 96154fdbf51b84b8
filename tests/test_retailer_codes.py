"""Retailer codes whatever their characters: a slash (JPR/0042), spaces, `#`, `?`, `%`, the longest the
column keeps. Imported from a real workbook, then looked up, drilled into and mapped over HTTP."""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from devtools.loopback import admin_key_for, free_port, start_server
from devtools.tally_emulator import Ledger, TallyServer
from models import RETAILER_CODE_CHARS
from tests.prm_factory import row, sheet

MakeXlsx = Callable[..., Path]
SLASHED = "JPR/0042"
ODD = "JPR 7#1?x%/B"  # a space, a fragment mark, a query mark, a percent sign and a slash
# Starlette's TestClient decodes the path twice (uvicorn once), so a code holding an escape
# sequence itself is tried against a real uvicorn (the last test).
ESCAPED = "JPR%2F0042/B"
LONGEST = "LONG/" + "X" * (RETAILER_CODE_CHARS - 5)
TOO_LONG = "DEALER/" + "Y" * 66  # 73 characters: more than the column keeps
CODES = [SLASHED, ODD, LONGEST]


def code_path(code: str) -> str:
    """As the docs say: the code as it is, a slash kept, spaces, `#`, `?` and `%` percent-encoded."""
    return quote(code, safe="/")


@pytest.fixture
def app(tally_client_app: TestClient, tally: TallyServer, make_xlsx: MakeXlsx) -> TestClient:
    tally.state.companies[0].ledgers = [Ledger("Jaipur Phone House", "Sundry Debtors", "-90000.00")]
    rows: list[list[Any]] = [row(n, retailer=code, retailer_name=f"Shop {n}") for n, code in enumerate(CODES, start=1)]
    rows.append(row(9, retailer=TOO_LONG, retailer_name="Too Long Traders"))
    response = tally_client_app.post("/run/prm-sync", files={"file": ("prm.xlsx", make_xlsx(sheet(*rows)).read_bytes())})
    assert response.status_code == 200, response.text
    assert response.json()["rows_imported"] == len(CODES)
    return tally_client_app


@pytest.mark.parametrize("code", CODES)
def test_a_retailer_is_found_by_its_code_whatever_its_characters(app: TestClient, code: str) -> None:
    response = app.get(f"/retailers/{code_path(code)}")

    assert response.status_code == 200, response.text
    assert response.json()["code"] == code
    assert [item["retailer_code"] for item in app.get("/inventory", params={"retailer_code": code}).json()["items"]] == [code]


@pytest.mark.parametrize("code", CODES)
def test_the_od_drill_down_takes_the_code_whatever_its_characters(app: TestClient, code: str) -> None:
    response = app.get(f"/reports/negative/{code_path(code)}")

    assert response.status_code == 200, response.text
    assert response.json()["retailer_codes"] == [code]


@pytest.mark.parametrize("code", CODES)
def test_a_ledger_is_set_for_the_code_whatever_its_characters(app: TestClient, code: str) -> None:
    response = app.put(f"/admin/retailers/{code_path(code)}/ledger", json={"ledger_name": "Jaipur Phone House"})

    assert response.status_code == 200, response.text
    assert (response.json()["retailer_code"], response.json()["ledger_name"]) == (code, "Jaipur Phone House")
    assert app.get(f"/reports/negative/{code_path(code)}").json()["closing_balance"] == "90000.00"


def test_the_reports_hint_names_a_put_path_that_works_as_written(app: TestClient) -> None:
    unmatched = {item["retailer_code"]: item["reason"] for item in app.get("/reports/negative").json()["unmatched_retailers"]}
    path = unmatched[ODD].split("PUT ", 1)[1].rstrip(")")

    response = app.put(path, json={"ledger_name": "Jaipur Phone House"})

    assert path == "/admin/retailers/JPR%207%231%3Fx%25/B/ledger"
    assert response.status_code == 200, response.text
    assert response.json()["retailer_code"] == ODD


def test_a_code_longer_than_the_column_is_a_row_error_not_a_retailer(app: TestClient) -> None:
    run = app.get("/debug/sync-logs").json()["items"][0]
    errors = app.get(f"/debug/sync-logs/{run['id']}").json()["row_errors"]["items"]

    looked_up = app.get(f"/retailers/{code_path(TOO_LONG)}")

    assert [(e["column"], e["message"]) for e in errors] == [
        ("Retailer ID", f"Retailer ID is 73 characters long; at most {RETAILER_CODE_CHARS} are kept")]
    assert looked_up.status_code == 422
    assert looked_up.json()["errors"][0]["loc"] == ["path", "code"]


def test_an_empty_code_is_refused_naming_the_path_parameter(app: TestClient) -> None:
    response = app.get("/retailers/")

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "code"]


def test_a_real_server_decodes_the_path_once_so_an_escape_inside_a_code_survives(
        database_url: str, make_xlsx: MakeXlsx) -> None:
    key = admin_key_for(database_url, "codes")
    port = free_port()
    server = start_server(database_url, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, trust_env=False,
                          timeout=30) as client:
            book = make_xlsx(sheet(row(1, retailer=ESCAPED, retailer_name="Escaped Mobiles")))
            assert client.post("/run/prm-sync", files={"file": ("prm.xlsx", book.read_bytes())}).status_code == 200

            response = client.get(f"/retailers/{code_path(ESCAPED)}")
    finally:
        server.kill()
        server.wait(10)

    assert code_path(ESCAPED) == "JPR%252F0042/B"
    assert response.status_code == 200, response.text
    assert response.json()["code"] == ESCAPED
