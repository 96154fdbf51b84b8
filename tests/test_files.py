"""kit/files.py: no text we write into a workbook or CSV ever runs as a formula in Excel.

The payloads go in the way an attacker would send them: as names in the portal's export and in a
price list. Then every export is read back as written.
"""

import csv
from collections.abc import Callable
from pathlib import Path
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from devtools.tally_emulator import Ledger, TallyServer
from kit.files import from_inert_text, inert_text
from tests.prm_factory import row, sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = ['=HYPERLINK("http://127.0.0.1/x","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-1+1", "\t=1", "\r=2", " =1+1"]
# The import trims, so " =1+1" arrives as "=1+1": a formula again unless the export neutralises it.
STORED = [payload.strip() for payload in PAYLOADS]


def _assert_inert_workbook(content: bytes) -> set[str]:
    """Every text cell of every sheet is plain text that does not start a formula; returns the texts."""
    texts: set[str] = set()
    for worksheet in load_workbook(io.BytesIO(content)).worksheets:
        for cells in worksheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", f"{worksheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_START), f"{worksheet.title}!{cell.coordinate}: {cell.value!r}"
                    texts.add(cell.value)
    return texts


@pytest.fixture
def hostile(tally_client_app: TestClient, tally: TallyServer, make_xlsx: Callable[..., Path]) -> TestClient:
    """Retailers, products and ledgers named with formula payloads, and one import with a bad row."""
    app = tally_client_app
    tally.state.companies[0].ledgers = [Ledger(name, "Sundry Debtors", "-100000.00") for name in STORED]
    rows = [row(n + 1, retailer=f"R{n}", retailer_name=payload, goods=f"G{n}", product=payload)
            for n, payload in enumerate(PAYLOADS)]
    rows.append(row(99, status=PAYLOADS[0]))  # an unknown status: a row error that quotes the payload
    prm = make_xlsx(sheet(*rows), text_cells=True).read_bytes()
    imported = app.post("/run/prm-sync", files={"file": ("prm.xlsx", prm, XLSX)})
    assert imported.status_code == 200, imported.text
    price_list = make_xlsx([["Goods ID", "Name", "Price"], *([f"P{n}", payload, "10.00"] for n, payload in enumerate(PAYLOADS))],
                           sheet="Prices", text_cells=True).read_bytes()
    priced = app.post("/admin/products/prices/upload", files={"file": ("p.xlsx", price_list, XLSX)})
    assert priced.status_code == 200, priced.text
    names = {product["name"] for product in app.get("/products", params={"limit": 100}).json()["items"]}
    assert set(STORED) <= names  # the payloads really went in, trimmed
    return app


def test_the_od_report_workbook_writes_hostile_names_as_text(hostile: TestClient) -> None:
    response = hostile.get("/reports/negative", params={"format": "xlsx", "refresh": "true"})

    assert response.status_code == 200
    assert {inert_text(name) for name in STORED} <= _assert_inert_workbook(response.content)


def test_the_od_report_csv_writes_hostile_names_as_text(hostile: TestClient) -> None:
    response = hostile.get("/reports/negative", params={"format": "csv", "refresh": "true"})

    rows = list(csv.reader(io.StringIO(response.text)))
    texts = {value for values in rows[1:] for value in values}
    assert {inert_text(name) for name in STORED} <= texts
    for value in texts:
        assert not value.startswith(FORMULA_START) or value.replace(".", "").lstrip("-").isdigit(), value


def test_the_mapping_sheet_writes_hostile_names_as_text(hostile: TestClient) -> None:
    response = hostile.get("/admin/ledger-mapping/sheet")

    assert response.status_code == 200
    assert {inert_text(name) for name in STORED} <= _assert_inert_workbook(response.content)


def test_the_price_template_writes_hostile_names_as_text(hostile: TestClient) -> None:
    response = hostile.get("/admin/products/prices/template")

    assert response.status_code == 200
    assert {inert_text(name) for name in STORED} <= _assert_inert_workbook(response.content)


def test_the_row_errors_workbook_writes_hostile_values_as_text(hostile: TestClient) -> None:
    run_id = hostile.get("/debug/sync-logs").json()["items"][0]["id"]

    response = hostile.get(f"/debug/sync-logs/{run_id}/errors.xlsx")

    assert response.status_code == 200
    assert inert_text(STORED[0]) in _assert_inert_workbook(response.content)


@pytest.mark.parametrize("text", [*STORED, "'=1", "''-1", "'plain", "plain", "", "'", "a=b"])
def test_inert_text_reads_back_as_exactly_the_text_written(text: str) -> None:
    assert from_inert_text(inert_text(text)) == text
