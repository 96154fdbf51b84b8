"""Workbooks built to make a spreadsheet reader allocate the whole sheet grid, or with references
that are not cells: each is refused before any reader sees it, on every upload route, and the
server process lives through all of them."""

import io
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from devtools.hostile_workbooks import HOSTILE_WORKBOOKS, build, sheet_xml, workbook_bytes
from devtools.loopback import admin_key_for, free_port, peak_rss_mib, start_server
from kit.workbook_gate import MAPPING_LIMITS, PRICE_LIST_LIMITS, PRM_LIMITS, FileProblem, check_workbook
from tests.conftest import table_contents

UPLOAD_ROUTES = {
    "import": "/run/prm-sync",
    "price list": "/admin/products/prices/upload",
    "mapping sheet": "/admin/ledger-mapping/upload",
}
# What each file must be refused for, as the message says it.
REASONS = {
    "far-corner": "XFD1048576", "wide-row": "XFD2", "row-zero": "'A0'", "letters-only": "'ABC'",
    "long-column": "'ZZZZZZZZZZ1'", "negative-row": "'A-5'", "row-2-to-32": "'A4294967296'",
    "row-number-2-to-32": "4,294,967,296", "far-dimension": "XFD1048576",
    "cells-without-references": "more than 200 cells", "far-second-sheet": "XFD1048576",
    "inside-each-cap": "1,048,576 rows by 200 columns",
}


@pytest.mark.parametrize("name", sorted(REASONS))
def test_the_gate_refuses_each_hostile_workbook_naming_what_is_wrong(name: str) -> None:
    with pytest.raises(FileProblem) as refused:
        check_workbook(build(name), PRM_LIMITS)

    assert refused.value.status in (400, 413)
    assert REASONS[name] in refused.value.message


def test_a_sheet_as_deep_as_excel_allows_is_a_prm_export_but_not_a_price_list() -> None:
    deep = build("deep-column")
    check_workbook(deep, PRM_LIMITS)

    for limits in (PRICE_LIST_LIMITS, MAPPING_LIMITS):
        with pytest.raises(FileProblem, match="row 1,048,576, beyond the"):
            check_workbook(deep, limits)


def _sheet_with(cell_xml: str) -> bytes:
    return workbook_bytes([sheet_xml([f'<row r="1">{cell_xml}</row>'])])


@pytest.mark.parametrize(("cell", "reason"), [
    ("<c r='XFD1048576' t='inlineStr'><is><t>a</t></is></c>", "XFD1048576"),  # single quotes
    ('<x:c xmlns:x="urn:x" r="XFD9"><x:v>1</x:v></x:c>', "XFD9"),  # a namespace prefix
    ('<c s="0" r="XFD9"><v>1</v></c>', "XFD9"),  # r not first
    ('<c r="A1" r="XFD1048576"><v>1</v></c>', "duplicate attribute"),  # calamine takes the last r
    ('<c\nr="XFD9"><v>1</v></c>', "XFD9"),  # a newline before r
])
def test_references_written_unusually_are_still_measured(cell: str, reason: str) -> None:
    with pytest.raises(FileProblem, match=reason):
        check_workbook(_sheet_with(cell), PRM_LIMITS)


def test_a_sheet_inside_each_cap_but_too_large_in_area_is_refused() -> None:
    # 1,048,576 rows by 200 columns would be 210 million cells for the reader: about 6 GB.
    with pytest.raises(FileProblem, match="reaching GR1048576: 1,048,576 rows by 200 columns"):
        check_workbook(_sheet_with('<c r="A1"><v>1</v></c><c r="GR1048576"><v>1</v></c>'), PRM_LIMITS)


def test_a_wide_export_within_the_area_passes() -> None:
    cells = "".join(f'<c r="{column}1"><v>1</v></c>' for column in ("A", "Z", "AD"))
    check_workbook(workbook_bytes([sheet_xml([f'<row r="1">{cells}</row>', '<row r="500000"><c r="AD500000"><v>1</v></c></row>'])]),
                   PRM_LIMITS)


def test_shared_strings_that_claim_billions_are_refused() -> None:
    data = workbook_bytes([sheet_xml(['<row r="1"><c r="A1"><v>1</v></c></row>'])])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr("xl/sharedStrings.xml", '<sst xmlns="urn:s" count="4000000000" uniqueCount="4000000000">'
                                                '<si><t>a</t></si></sst>')

    with pytest.raises(FileProblem, match="4000000000 different texts"):
        check_workbook(buffer.getvalue(), PRM_LIMITS)


def test_too_many_sheets_are_refused_with_a_short_message() -> None:
    sheets = [sheet_xml(['<row r="1"><c r="A1"><v>1</v></c></row>'])] * 60

    with pytest.raises(FileProblem) as refused:
        check_workbook(workbook_bytes(sheets), PRM_LIMITS)

    assert refused.value.message == "has 60 sheets; this upload reads at most 50"


def test_an_ordinary_export_passes_the_gate(make_xlsx) -> None:  # type: ignore[no-untyped-def]
    path = make_xlsx([["IMEI1", "Goods ID", "Status"], ["356938035643809", "G1", "In Stock"]])

    check_workbook(Path(path), PRM_LIMITS)


@pytest.mark.parametrize("route", sorted(UPLOAD_ROUTES))
def test_every_upload_route_refuses_a_far_corner_sheet_naming_the_file(client: TestClient, engine: Engine,
                                                                       route: str) -> None:
    before = table_contents(engine)

    response = client.post(UPLOAD_ROUTES[route], files={"file": ("export.xlsx", build("far-corner"))})

    assert response.status_code == 413, response.text
    detail = response.json()["detail"]
    assert detail.startswith("export.xlsx has sheet 'Sheet1' with a "), detail
    assert "this upload reads; it was not read." in detail
    assert table_contents(engine) == before


@pytest.mark.slow
def test_the_real_server_lives_through_every_hostile_workbook_on_every_route(database_url: str) -> None:
    port = free_port()
    server = start_server(database_url, port)
    headers = {"X-API-Key": admin_key_for(database_url, "hostile-workbooks")}
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            for name in HOSTILE_WORKBOOKS:
                for route, path in UPLOAD_ROUTES.items():
                    started = time.monotonic()
                    response = http.post(path, files={"file": (f"{name}.xlsx", build(name))})
                    took = time.monotonic() - started
                    if name == "deep-column" and route == "import":
                        assert response.status_code in (200, 201, 422), response.text  # a legal size: read
                    else:
                        assert 400 <= response.status_code < 500, (name, route, response.text)
                        assert response.json()["detail"].startswith(f"{name}.xlsx "), response.text
                    assert took < 10, (name, route, took)
                    assert server.poll() is None, f"the server died on {name} via {route}"
            assert http.get("/").status_code == 200
        assert peak_rss_mib(server) < 1024
    finally:
        server.terminate()
        server.wait(30)
