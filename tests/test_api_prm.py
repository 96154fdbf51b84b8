"""POST /run/prm-sync and the channel reads, over HTTP against the real app."""

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from models import PrmSyncRun
from prm_import import IMPORT_LOCK, abandon_stale_runs
from kit.process_lock import ProcessLock
from tests.conftest import table_contents
from tests.prm_factory import imei, row, sheet

MakeXlsx = Callable[..., Path]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(client: TestClient, content: bytes, name: str = "prm.xlsx", **params: str) -> object:
    return client.post("/run/prm-sync", files={"file": (name, content, XLSX)}, params=params)


@pytest.fixture
def imported(client: TestClient, make_xlsx: MakeXlsx) -> dict:
    path = make_xlsx(sheet(
        row(1), row(2), row(3, goods="G2"), row(4, retailer="R002", retailer_name="Ram & Sons"),
        row(5, status="Activated", activation="20-11-2026 18:30:00"), row(6, status="Lost")))
    response = upload(client, path.read_bytes())
    assert response.status_code == 200, response.text
    return response.json()


class TestImportEndpoint:
    def test_an_upload_answers_the_documented_summary(self, imported: dict) -> None:
        assert set(imported) >= {
            "run_id", "status", "file_name", "file_sha256", "sheet", "header_row", "rows_total", "rows_imported",
            "rows_rejected", "retailers_created", "retailers_updated", "products_created", "activations_new",
            "stock_units", "warnings", "errors", "errors_total", "duration_ms"}
        assert (imported["status"], imported["rows_total"], imported["rows_imported"]) == ("success", 6, 5)
        assert imported["errors"] == [{"row": 10, "column": "Status", "value": "Lost", "message": imported["errors"][0]["message"]}]
        assert imported["errors"][0]["message"].startswith("unknown status 'Lost'")

    def test_without_an_upload_the_file_at_prm_file_path_is_imported(self, client: TestClient, settings,
                                                                      make_xlsx: MakeXlsx) -> None:
        make_xlsx(sheet(row(1)), name=settings.prm_file_path.name)

        response = client.post("/run/prm-sync")

        assert response.status_code == 200
        assert response.json()["file_name"] == "prm.xlsx"

    def test_without_an_upload_or_a_file_at_prm_file_path_the_answer_says_what_to_do(self, client: TestClient) -> None:
        response = client.post("/run/prm-sync")

        assert response.status_code == 400
        assert "upload the workbook in the 'file' field or set PRM_FILE_PATH" in response.json()["detail"]

    def test_strict_mode_answers_422_listing_each_bad_cell(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2, status="Lost")), name="export.xlsx")

        response = upload(client, path.read_bytes(), "export.xlsx", strict="true")

        assert response.status_code == 422
        body = response.json()
        assert body["detail"] == ("export.xlsx: 1 of 2 rows have errors, so nothing was imported (strict mode); "
                                  "fix the rows listed and upload again.")
        assert body["errors"][0]["loc"] == ["row", 6, "Status"]

    def test_a_year_one_inward_time_is_a_row_error_and_the_run_finishes(self, client: TestClient,
                                                                        make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2, inward="01-01-0001")))

        response = upload(client, path.read_bytes())

        assert response.status_code == 200
        assert [(e["row"], e["column"], e["value"]) for e in response.json()["errors"]] == [(6, "Inward Time", "01-01-0001")]
        assert [run["status"] for run in client.get("/debug/sync-logs").json()["items"]] == ["success"]

    def test_the_same_file_twice_answers_duplicate(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        content = make_xlsx(sheet(row(1), row(2))).read_bytes()
        first = upload(client, content)

        again = upload(client, content)

        assert again.status_code == 200
        assert (again.json()["status"], again.json()["run_id"]) == ("duplicate", first.json()["run_id"])

    def test_a_second_import_while_another_process_imports_gets_409(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        with client.app.state.sessionmaker() as session:
            session.add(PrmSyncRun(status="running", file_name="other.xlsx", file_sha256="0" * 64))
            session.commit()
        # The lock a live importer holds (a lock file or a PostgreSQL advisory lock, per connection).
        other_importer = ProcessLock(client.app.state.engine, IMPORT_LOCK)
        assert other_importer.acquire(blocking=False)
        try:
            response = upload(client, make_xlsx(sheet(row(1))).read_bytes())
        finally:
            other_importer.release()

        assert response.status_code == 409
        assert response.json()["detail"].startswith("Import run 1 (other.xlsx) is still running since")

    def test_a_run_left_running_by_a_dead_process_is_abandoned_by_the_next_import(
            self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        with client.app.state.sessionmaker() as session:
            session.add(PrmSyncRun(status="running", file_name="crashed.xlsx", file_sha256="0" * 64))
            session.commit()

        response = upload(client, make_xlsx(sheet(row(1))).read_bytes())

        assert response.status_code == 200
        crashed = client.get("/debug/sync-logs/1").json()
        assert crashed["status"] == "abandoned"
        assert "stopped while this import ran" in crashed["message"]

    def test_a_worker_starting_beside_a_live_import_leaves_its_run_alone(self, client: TestClient) -> None:
        with client.app.state.sessionmaker() as session:
            session.add(PrmSyncRun(status="running", file_name="live.xlsx", file_sha256="0" * 64))
            session.commit()
            live_importer = ProcessLock(client.app.state.engine, IMPORT_LOCK)
            assert live_importer.acquire(blocking=False)
            try:
                assert abandon_stale_runs(session) == 0
            finally:
                live_importer.release()
            assert abandon_stale_runs(session) == 1

    def test_a_shrinking_file_answers_409_with_both_counts(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        upload(client, make_xlsx(sheet(*(row(n) for n in range(1, 9)))).read_bytes())

        response = upload(client, make_xlsx(sheet(row(1))).read_bytes())

        assert response.status_code == 409
        assert "leaves 1 units in retailer stock, fewer than half of the 8" in response.json()["detail"]


class TestBadFiles:
    @pytest.mark.parametrize(("content", "name", "status", "phrase"), [
        (b"IMEI1,Goods ID\n490154203237518,G1\n", "export.csv", 415, "is a CSV/text file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old.xls", 415, "is an old Excel .xls file"),
        (b"%PDF-1.7\n%\xe2\xe3", "report.pdf", 415, "is a PDF"),
        (b"", "empty.xlsx", 400, "is empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le"),
         "locked.xlsx", 400, "is password-protected"),
        (b"PK\x03\x04" + b"\x00" * 200, "broken.xlsx", 400, "is damaged"),
        (b"<html><body><table></table></body></html>", "portal.xls", 415, "is an HTML or XML page"),
    ])
    def test_a_file_that_is_not_a_usable_xlsx_is_refused_by_name(self, client: TestClient, engine: Engine,
                                                                   content: bytes, name: str, status: int, phrase: str) -> None:
        before = table_contents(engine)

        response = upload(client, content, name)

        assert response.status_code == status
        assert response.json()["detail"].startswith(f"{name} {phrase}")
        assert table_contents(engine) == before
        logged = client.get("/debug/sync-logs").json()["items"][0]
        assert (logged["status"], logged["file_name"]) == ("failed", name)

    def test_a_workbook_without_a_prm_header_lists_the_headers_it_found(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx([["Invoice No", "Amount"], ["1", "100"]], sheet="Invoices")

        response = upload(client, path.read_bytes(), "invoices.xlsx")

        assert response.status_code == 422
        detail = response.json()["detail"]
        assert "sheet 'Invoices' has no header row with IMEI1, Goods ID" in detail
        assert "closest row 1 has: Invoice No, Amount" in detail

    def test_an_empty_workbook_is_refused(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        response = upload(client, make_xlsx([]).read_bytes(), "blank.xlsx")

        assert response.status_code == 422
        assert response.json()["detail"] == "blank.xlsx has no data: every sheet is empty."

    def test_a_header_without_data_rows_is_refused(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        response = upload(client, make_xlsx(sheet()).read_bytes(), "header-only.xlsx")

        assert response.status_code == 422
        assert "has a header on row 4 of sheet 'IMEI Details' but no data rows" in response.json()["detail"]

    def test_two_columns_for_one_field_are_named(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        header = ["IMEI1", "IMEI", "Goods ID", "Product Name", "Status", "Retailer ID", "Retailer Name"]

        response = upload(client, make_xlsx([header]).read_bytes(), "twice.xlsx")

        assert response.status_code == 422
        assert "has two columns for one field: IMEI1, IMEI all mean IMEI1" in response.json()["detail"]

    def test_a_zip_bomb_is_refused_before_it_is_inflated(self, client: TestClient) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))

        response = upload(client, buffer.getvalue(), "bomb.xlsx")

        assert response.status_code == 413
        assert "looks like a zip bomb" in response.json()["detail"]

    def test_an_upload_over_the_limit_is_refused_with_413(self, client: TestClient) -> None:
        response = upload(client, b"PK\x03\x04" + b"\x00" * (6 * 1024 * 1024), "huge.xlsx")

        assert response.status_code == 413
        assert response.json()["detail"].startswith("The upload is larger than the 5 MB limit")

    @pytest.mark.parametrize("name", ["../../etc/passwd.xlsx", "dir/prm.xlsx", "..xlsx/../a.xlsx"])
    def test_a_file_name_with_path_characters_is_refused(self, client: TestClient, make_xlsx: MakeXlsx, name: str) -> None:
        response = upload(client, make_xlsx(sheet(row(1))).read_bytes(), name)

        assert response.status_code == 400
        assert "contains path characters" in response.json()["detail"]

    def test_a_windows_path_sent_as_the_file_name_is_cut_to_its_base_name(self, client: TestClient,
                                                                           make_xlsx: MakeXlsx) -> None:
        response = upload(client, make_xlsx(sheet(row(1))).read_bytes(), "C:\\Users\\x\\prm.xlsx")

        assert response.status_code == 200
        assert response.json()["file_name"] == "prm.xlsx"


class TestChannelReads:
    def test_retailers_are_listed_paginated_and_searchable(self, client: TestClient, imported: dict) -> None:
        everything = client.get("/retailers").json()
        found = client.get("/retailers", params={"search": "ram &"}).json()

        assert (everything["total"], everything["limit"], everything["offset"]) == (2, 50, 0)
        assert [r["code"] for r in found["items"]] == ["R002"]

    def test_a_retailer_shows_its_stock_by_goods(self, client: TestClient, imported: dict) -> None:
        body = client.get("/retailers/R001").json()

        assert body["stock_units"] == 3
        assert [(s["goods_id"], s["units"]) for s in body["stock"]] == [("G1", 2), ("G2", 1)]
        assert body["prm_run_id"] == imported["run_id"]

    def test_an_unknown_retailer_is_404(self, client: TestClient) -> None:
        response = client.get("/retailers/NOPE")

        assert response.status_code == 404
        assert response.json() == {"detail": "There is no retailer with code 'NOPE'; codes come from the PRM import.", "errors": []}

    def test_inventory_filters_by_retailer_and_goods(self, client: TestClient, imported: dict) -> None:
        body = client.get("/inventory", params={"retailer_code": "R001", "goods_id": "G2"}).json()

        assert body["items"] == [{"retailer_code": "R001", "goods_id": "G2", "units": 1}]

    def test_activations_filter_by_date_range(self, client: TestClient, imported: dict) -> None:
        inside = client.get("/activations", params={"since": "2026-11-20T00:00:00+05:30", "until": "2026-11-21T00:00:00+05:30"})
        outside = client.get("/activations", params={"since": "2026-11-21T00:00:00+05:30"})

        assert [a["imei"] for a in inside.json()["items"]] == [imei(5)]
        assert inside.json()["items"][0]["activated_at"] == "2026-11-20T13:00:00Z"
        assert outside.json()["total"] == 0

    def test_activation_dates_may_be_typed_as_people_write_them(self, client: TestClient, imported: dict) -> None:
        # The activation is at 18:30 IST on 20 November (13:00 UTC).
        whole_day = client.get("/activations", params={"since": "20-11-2026", "until": "20-11-2026"})
        iso_day = client.get("/activations", params={"since": "2026-11-20", "until": "2026-11-20"})
        naive_is_ist = client.get("/activations", params={"since": "2026-11-20T18:31:00"})
        before_it = client.get("/activations", params={"until": "20-11-2026 18:29"})

        assert whole_day.status_code == 200, whole_day.text
        assert [a["imei"] for a in whole_day.json()["items"]] == [imei(5)]
        assert iso_day.json()["total"] == 1
        assert naive_is_ist.status_code == 200, naive_is_ist.text
        assert naive_is_ist.json()["total"] == 0
        assert before_it.json()["total"] == 0

    def test_products_filter_by_price_state(self, client: TestClient, imported: dict) -> None:
        body = client.get("/products", params={"priced": "false"}).json()

        assert [p["goods_id"] for p in body["items"]] == ["G1", "G2"]
        assert body["items"][0]["price"] is None
        assert body["items"][0]["category"] == "Phones"

    def test_an_imei_shows_its_device_and_timeline(self, client: TestClient, imported: dict) -> None:
        body = client.get(f"/imei/{imei(5)}").json()

        assert (body["status"], body["retailer_code"], body["in_latest_import"]) == ("activated", "R001", True)
        assert [event["kind"] for event in body["timeline"]] == ["activated", "seen"] or \
               [event["kind"] for event in body["timeline"]] == ["seen", "activated"]

    def test_an_invalid_imei_in_the_path_is_422(self, client: TestClient) -> None:
        response = client.get("/imei/123")

        assert response.status_code == 422
        assert response.json()["detail"] == "'123' is not a valid IMEI: it has 3 digits; an IMEI has 15."

    def test_an_unknown_imei_is_404(self, client: TestClient) -> None:
        response = client.get(f"/imei/{imei(99)}")

        assert response.status_code == 404

    def test_limit_over_1000_is_refused_with_the_field_named(self, client: TestClient) -> None:
        response = client.get("/retailers", params={"limit": 5000})

        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "limit"]
        assert response.json()["detail"].startswith("Invalid value for limit:")


class TestSyncLogs:
    def test_sync_logs_list_runs_newest_first(self, client: TestClient, imported: dict) -> None:
        body = client.get("/debug/sync-logs").json()

        assert body["total"] == 1
        assert body["items"][0]["id"] == imported["run_id"]
        assert body["items"][0]["phase"] == "done"

    def test_a_sync_log_pages_through_its_row_errors(self, client: TestClient, imported: dict) -> None:
        body = client.get(f"/debug/sync-logs/{imported['run_id']}", params={"limit": 1}).json()

        assert body["status"] == "success"
        assert body["row_errors"]["total"] == 1
        assert body["row_errors"]["items"][0]["row"] == 10

    def test_an_unknown_run_is_404(self, client: TestClient) -> None:
        assert client.get("/debug/sync-logs/999").status_code == 404


def test_a_prm_file_path_that_is_a_folder_is_a_clear_400(database_url: str, tmp_path: Path) -> None:
    from tests.conftest import make_settings, open_client

    settings = make_settings(database_url=database_url, prm_file_path=tmp_path)
    with open_client(settings) as client:
        response = client.post("/run/prm-sync")

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"PRM_FILE_PATH ({tmp_path}) cannot be read")
