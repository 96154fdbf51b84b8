"""A flood of bad rows: a run keeps the first ROW_ERRORS_KEPT issues and exact counts by kind,
and its errors workbook stays small and quick however many rows were wrong."""

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import prm_import
from models import PrmSyncErrorCount, PrmSyncRowError, PrmSyncRun
from prm import rows
from prm.columns import KNOWN_STATUS_TEXT
from prm_import import ImportOptions, RowsRejected
from tests.conftest import make_settings, open_client
from tests.prm_factory import imei, row, sheet

MakeXlsx = Callable[..., Path]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNKNOWN_STATUS = f"unknown status '…'; known values: {KNOWN_STATUS_TEXT}"


def reworded(count: int, *, start: int = 1) -> list[list[Any]]:
    """Rows whose status the portal renamed overnight, plus one good row."""
    return [row(n, status=f"Retailer Inwarded {n % 3}") for n in range(start, start + count)]


def stored(session: Session, model: Any, run_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(model.run_id == run_id)) or 0)


class TestTheRunKeepsABoundedNumberOfErrors:
    @pytest.fixture(autouse=True)
    def keep_fewer(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(rows, "ROW_ERRORS_KEPT", 500)

    def test_the_first_errors_are_kept_and_every_one_is_counted_by_kind(self, session: Session,
                                                                       make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(9999), *reworded(1200)))

        summary = prm_import.import_workbook(session, data=path.read_bytes(), filename=path.name)

        assert (summary.errors_total, summary.errors_kept, summary.rows_rejected) == (1200, 500, 1200)
        assert summary.errors_note == "first 500 of 1,200 errors kept; counts by kind below"
        assert summary.error_counts == [("error", "Status", UNKNOWN_STATUS, 1200)]
        assert stored(session, PrmSyncRowError, summary.run_id) == 500
        kept_rows = session.scalars(select(PrmSyncRowError.row).where(PrmSyncRowError.run_id == summary.run_id)
                                    .order_by(PrmSyncRowError.id)).all()
        assert kept_rows == list(range(6, 506))  # the first 500 bad rows, under the title rows and one good row
        counts = session.scalars(select(PrmSyncErrorCount).where(PrmSyncErrorCount.run_id == summary.run_id)).all()
        assert [(c.severity, c.column, c.message_kind, c.count) for c in counts] == [
            ("error", "Status", UNKNOWN_STATUS, 1200)]

    def test_a_failed_run_keeps_the_same_bounded_amount(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(*reworded(800)))

        with pytest.raises(RowsRejected):
            prm_import.import_workbook(session, data=path.read_bytes(), filename=path.name)

        run = session.scalars(select(PrmSyncRun)).one()
        assert (run.status, run.errors_total, run.errors_kept) == ("failed", 800, 500)
        assert stored(session, PrmSyncRowError, run.id) == 500

    def test_a_dry_run_keeps_the_same_bounded_amount(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(9999), *reworded(800)))

        summary = prm_import.import_workbook(session, data=path.read_bytes(), filename=path.name,
                                             options=ImportOptions(dry_run=True))

        assert (summary.status, summary.errors_total, summary.errors_kept) == ("dry_run", 800, 500)
        assert stored(session, PrmSyncRowError, summary.run_id) == 500
        assert stored(session, PrmSyncErrorCount, summary.run_id) == 1

    def test_messages_with_different_values_count_as_one_kind(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2), row(1, retailer="R002"), row(2, retailer="R003"),
                               row(5, inward="31-02-2026"), row(6, inward="30-02-2026")))

        summary = prm_import.import_workbook(session, data=path.read_bytes(), filename=path.name)

        assert summary.errors_note is None
        assert summary.error_counts == [
            ("error", "IMEI1", "IMEI N is already on row N", 2),
            ("error", "Inward Time", "inward time is not a real date/time (day is out of range for month)", 2)]

    def test_the_run_log_says_how_many_were_kept(self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        content = make_xlsx(sheet(row(9999), *reworded(600))).read_bytes()
        run_id = client.post("/run/prm-sync", files={"file": ("prm.xlsx", content, XLSX)}).json()["run_id"]

        detail = client.get(f"/debug/sync-logs/{run_id}").json()
        listed = client.get("/debug/sync-logs").json()["items"][0]

        assert (detail["errors_total"], detail["errors_kept"], detail["row_errors"]["total"]) == (600, 500, 500)
        assert detail["errors_note"] == listed["errors_note"] == "first 500 of 600 errors kept; counts by kind below"
        assert detail["error_counts"] == [["error", "Status", UNKNOWN_STATUS, 600]]

    def test_the_errors_workbook_says_how_many_were_kept_and_counts_them_by_kind(
            self, client: TestClient, make_xlsx: MakeXlsx) -> None:
        content = make_xlsx(sheet(row(9999), *reworded(600))).read_bytes()
        run_id = client.post("/run/prm-sync", files={"file": ("prm.xlsx", content, XLSX)}).json()["run_id"]

        response = client.get(f"/debug/sync-logs/{run_id}/errors.xlsx")

        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        assert book.sheetnames == ["Row errors", "Counts by kind"]
        errors_rows = list(book["Row errors"].values)
        assert errors_rows[0] == ("First 500 of 600 errors kept; counts by kind below (sheet 'Counts by kind').",)
        assert errors_rows[1] == ("Row", "Column", "Value", "Message", "Severity")
        assert errors_rows[2][:3] == (6, "Status", "Retailer Inwarded 1")
        assert len(errors_rows) == 502
        assert list(book["Counts by kind"].values) == [("Severity", "Column", "Kind", "Count"),
                                                       ("error", "Status", UNKNOWN_STATUS, 600)]


def test_a_run_that_kept_every_error_has_no_note_in_its_workbook(client: TestClient, make_xlsx: MakeXlsx) -> None:
    content = make_xlsx(sheet(row(1), row(2, status="Lost"))).read_bytes()
    run_id = client.post("/run/prm-sync", files={"file": ("prm.xlsx", content, XLSX)}).json()["run_id"]

    book = load_workbook(io.BytesIO(client.get(f"/debug/sync-logs/{run_id}/errors.xlsx").content), read_only=True)

    assert [r[:2] for r in book["Row errors"].values] == [("Row", "Column"), (6, "Status")]


@pytest.mark.slow
def test_two_hundred_thousand_invalid_rows_grow_the_database_little_and_their_workbook_answers_quickly(
        database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite:///"):
        pytest.skip("measures the SQLite file's growth")
    book = reworded_workbook(tmp_path / "reworded.xlsx", 200_000)
    database_file = Path(database_url.removeprefix("sqlite:///"))
    settings = make_settings(database_url=database_url, prm_file_path=tmp_path / "prm.xlsx", max_upload_mb=100)

    with open_client(settings) as client:
        before = database_size(database_file)
        response = client.post("/run/prm-sync", files={"file": ("reworded.xlsx", book.read_bytes(), XLSX)})
        grown = database_size(database_file) - before
        started = time.perf_counter()
        workbook = client.get(f"/debug/sync-logs/{client.get('/debug/sync-logs').json()['items'][0]['id']}/errors.xlsx")
        download_seconds = time.perf_counter() - started

    assert response.status_code == 422
    assert "none of the 200000 rows is valid" in response.json()["detail"]
    assert grown <= 40 * 2**20, f"the database grew by {grown / 2**20:.1f} MB"
    assert workbook.status_code == 200 and download_seconds <= 20
    counts = list(load_workbook(io.BytesIO(workbook.content), read_only=True)["Counts by kind"].values)
    assert counts[1] == ("error", "Status", UNKNOWN_STATUS, 200_000)


def reworded_workbook(path: Path, count: int) -> Path:
    """`count` rows of only the required columns, every status reworded; xlsxwriter writes it in seconds."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    worksheet = workbook.add_worksheet("IMEI Details")
    worksheet.write_row(0, 0, ["IMEI1", "Goods ID", "Product Name", "Status", "Retailer ID", "Retailer Name"])
    rest = ["G1", "Redmi 13C", "Retailer Inwarded", "R001", "Shop R001"]
    for n in range(1, count + 1):
        worksheet.write_string(n, 0, imei(n))
        worksheet.write_row(n, 1, rest)
    workbook.close()
    return path


def database_size(path: Path) -> int:
    """The database file and its write-ahead log: what the disk holds for it."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
