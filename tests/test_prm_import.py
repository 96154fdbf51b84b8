"""The PRM importer, called directly with a real session and real generated workbooks."""

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import database
import prm_import
from errors import AppError, Conflict
from access.actor import Actor
from models import Activation, AuditEntry, Device, DeviceEvent, InventorySnapshot, Product, PrmSyncRowError, PrmSyncRun, Retailer
from kit.paging import PageParams
from prm import store
from prm_import import ImportOptions, ImportWriteFailed, RowsRejected, ShrinkRefused
from tests.conftest import failing_inserts, table_contents
from tests.prm_factory import imei, row, sheet

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MakeXlsx = Callable[..., Path]


def run_import(session: Session, path: Path, **options: bool) -> Any:
    return prm_import.import_workbook(session, data=path.read_bytes(), filename=path.name,
                                      options=ImportOptions(**options), now=NOW)


def errors_of(summary: Any) -> list[tuple[int | None, str | None, str]]:
    return [(e.row, e.column, e.message) for e in summary.errors]


class TestReadingTheFile:
    def test_a_clean_file_under_title_rows_is_imported(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2, retailer="R002"), row(3, status="Activated", activation="20-11-2026 18:30:00")))

        summary = run_import(session, path)

        assert (summary.status, summary.sheet, summary.header_row) == ("success", "IMEI Details", 4)
        assert (summary.rows_total, summary.rows_imported, summary.rows_rejected) == (3, 3, 0)
        assert (summary.retailers_created, summary.products_created, summary.activations_new) == (2, 1, 1)
        assert summary.stock_units == 2
        assert session.scalar(select(func.count()).select_from(Device)) == 3

    def test_headers_are_matched_by_name_in_any_order_and_spelling(self, session: Session, make_xlsx: MakeXlsx) -> None:
        header = ["Dealer Name", "Stock Status", "IMEI No.", "SKU Code", "Model Name", "Dealer Code", "Colour", "Remarks"]
        path = make_xlsx([header, ["Shop A", "In Stock", imei(1), "G9", "Redmi 13C", "D1", "Black", "x"]], sheet="Sheet1")

        summary = run_import(session, path)

        assert summary.rows_imported == 1
        assert summary.ignored_columns == ["Remarks"]
        assert session.get(Device, imei(1)).goods_id == "G9"

    def test_numeric_imei_and_goods_id_cells_are_kept_as_text(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1, imei1=int(imei(1)), goods=12345)))  # type: ignore[arg-type]

        run_import(session, path)

        device = session.get(Device, imei(1))
        assert device is not None and device.goods_id == "12345"

    def test_day_first_text_dates_and_excel_date_cells_are_ist(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1, inward="05/11/2026 14:05"),
                               row(2, inward=datetime(2026, 11, 5, 14, 5), status="Activated",
                                   activation="21-Nov-2026")))

        run_import(session, path)
        session.expire_all()

        assert session.get(Device, imei(1)).inward_at == datetime(2026, 11, 5, 8, 35, tzinfo=UTC)
        assert session.get(Device, imei(2)).inward_at == datetime(2026, 11, 5, 8, 35, tzinfo=UTC)
        assert session.get(Activation, imei(2)).activated_at == datetime(2026, 11, 20, 18, 30, tzinfo=UTC)

    def test_a_fourteen_digit_numeric_imei_is_repaired_with_a_warning(self, session: Session, make_xlsx: MakeXlsx) -> None:
        zero_led = imei(1, prefix="01")
        path = make_xlsx(sheet(row(1, imei1=int(zero_led))))

        summary = run_import(session, path)

        assert summary.rows_imported == 1
        assert session.get(Device, zero_led) is not None
        assert [w.message for w in summary.warnings] == [f"Excel dropped the leading zero; read as {zero_led}"]


class TestRowErrors:
    def test_every_kind_of_bad_row_is_reported_with_row_column_and_value(self, session: Session, make_xlsx: MakeXlsx) -> None:
        bad_check = imei(3)[:14] + str((int(imei(3)[14]) + 1) % 10)
        path = make_xlsx(sheet(
            row(1),
            row(2, imei1=imei(1)),                                  # row 6: duplicate of row 5
            row(3, imei1=bad_check),                                # row 7: check digit
            row(4, imei1=imei(4) + "1"),                            # row 8: 16 digits
            row(5, status="Lost"),                                  # row 9: unknown status
            row(6, retailer=None),                                  # row 10: stock without a retailer
            row(7, status="Activated"),                             # row 11: activated without a time
            row(8, status="Activated", activation="22-12-2026"),    # row 12: activation in the future
            row(9, goods=""),                                       # row 13: no goods id
            row(10, imei2=imei(10)),                                # row 14: IMEI2 equals IMEI1
            row(11, inward="31-02-2026"),                           # row 15: impossible date
        ))

        summary = run_import(session, path)

        assert summary.rows_imported == 1
        assert summary.rows_rejected == 10
        found = errors_of(summary)
        assert (6, "IMEI1", f"IMEI {imei(1)} is already on row 5") in found
        assert any(r == 7 and c == "IMEI1" and "check digit" in m for r, c, m in found)
        assert any(r == 8 and "IMEISV" in m for r, c, m in found)
        assert any(r == 9 and c == "Status" and "unknown status 'Lost'" in m and "Inward by Retailer" in m for r, c, m in found)
        assert (10, "Retailer ID", "Retailer ID is required when the status is 'Inward by Retailer'") in found
        assert (11, "Activation Time", "an Activated row needs an activation time") in found
        assert (12, "Activation Time", "activation time is in the future") in found
        assert (13, "Goods ID", "Goods ID is required") in found
        assert (14, "IMEI2", "IMEI2 is the same as IMEI1") in found
        assert any(r == 15 and c == "Inward Time" and "not a real date" in m for r, c, m in found)
        assert summary.errors[0].value == imei(1)

    def test_an_imei2_repeating_an_earlier_imei1_is_a_duplicate(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2, imei2=imei(1))))

        summary = run_import(session, path)

        assert errors_of(summary) == [(6, "IMEI2", f"IMEI {imei(1)} is already on row 5")]

    def test_row_errors_are_stored_with_the_run(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2, status="Lost")))

        summary = run_import(session, path)

        stored = session.scalars(select(PrmSyncRowError).where(PrmSyncRowError.run_id == summary.run_id)).all()
        assert [(e.row, e.column, e.value, e.severity) for e in stored] == [(6, "Status", "Lost", "error")]

    def test_two_names_for_one_goods_id_keep_the_last_with_a_warning(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1, product="Old Name"), row(2, product="New Name")))

        summary = run_import(session, path)

        assert session.get(Product, "G1").name == "New Name"
        assert "Goods ID G1 has two names: 'Old Name' (row 5) and 'New Name'; the last one is kept" in [
            w.message for w in summary.warnings]

    def test_two_names_for_one_retailer_keep_the_last_with_a_warning(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1, retailer_name="Ram Mobiles"), row(2, retailer_name="Ram & Sons Mobiles")))

        summary = run_import(session, path)

        assert session.get(Retailer, "R001").name == "Ram & Sons Mobiles"
        assert any("Retailer R001 has two names" in w.message for w in summary.warnings)

    def test_strict_mode_rejects_the_whole_file_and_writes_nothing(self, session: Session, engine: Engine,
                                                                    make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2, status="Lost")))
        before = table_contents(engine)

        with pytest.raises(RowsRejected) as caught:
            run_import(session, path, strict=True)

        assert "1 of 2 rows have errors, so nothing was imported (strict mode)" in caught.value.detail
        assert caught.value.errors[0].loc == ["row", 6, "Status"]
        assert table_contents(engine) == before
        assert session.scalars(select(PrmSyncRun.status)).all() == ["failed"]

    def test_a_file_with_no_valid_row_is_rejected(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1, status="Lost")))

        with pytest.raises(RowsRejected, match="none of the 1 rows is valid"):
            run_import(session, path)


class TestSnapshotsAndHistory:
    def test_the_snapshot_counts_stock_per_retailer_and_goods_without_activated_imeis(
            self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2), row(3, goods="G2"), row(4, retailer="R002"),
                               row(5, status="Activated", activation="20-11-2026"),
                               row(6, status="Outward by Distributor", retailer=None),
                               row(7, status="Return to Distributor")))

        run_import(session, path)

        snapshot = {(s.retailer_code, s.goods_id): s.units for s in session.scalars(select(InventorySnapshot))}
        assert snapshot == {("R001", "G1"): 2, ("R001", "G2"): 1, ("R002", "G1"): 1}

    def test_the_same_bytes_again_are_a_duplicate_and_write_nothing(self, session: Session, engine: Engine,
                                                                     make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1), row(2)))
        first = run_import(session, path)
        before = table_contents(engine)

        again = run_import(session, path)

        assert (again.status, again.run_id, again.rows_imported) == ("duplicate", first.run_id, 2)
        assert table_contents(engine) == before

    def test_force_imports_the_same_bytes_again(self, session: Session, make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1)))
        first = run_import(session, path)

        again = run_import(session, path, force=True)

        assert again.status == "success" and again.run_id != first.run_id
        assert session.get(Device, imei(1)).last_seen_run == again.run_id

    @pytest.mark.parametrize("read_during_parse", [True, False], ids=["stored-read-during-parse", "stored-read-after"])
    def test_a_device_that_changes_retailer_gets_a_moved_event(self, session: Session, make_xlsx: MakeXlsx,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               read_during_parse: bool) -> None:
        if not read_during_parse:  # the path taken for big databases
            monkeypatch.setattr(store, "READ_DURING_PARSE_UP_TO", 0)
        run_import(session, make_xlsx(sheet(row(1, retailer="R001"), row(2))))

        second = run_import(session, make_xlsx(sheet(row(1, retailer="R002"), row(2))))

        events = session.scalars(select(DeviceEvent).where(DeviceEvent.kind == "moved")).all()
        assert [(e.imei, e.from_retailer, e.to_retailer, e.run_id) for e in events] == [
            (imei(1), "R001", "R002", second.run_id)]
        assert session.get(Device, imei(1)).retailer_code == "R002"

    def test_an_activation_is_kept_after_the_imei_leaves_the_file(self, session: Session, make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(row(1, status="Activated", activation="20-11-2026"), row(2), row(3))))

        run_import(session, make_xlsx(sheet(row(2), row(3))))

        activation = session.get(Activation, imei(1))
        assert activation is not None and activation.retailer_code == "R001"
        assert session.scalars(select(DeviceEvent.kind).where(DeviceEvent.imei == imei(1))).all() == ["not_seen"]

    def test_an_activation_keeps_its_first_retailer_when_a_later_file_says_otherwise(
            self, session: Session, make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(row(1, status="Activated", activation="20-11-2026", retailer="R001"))))

        run_import(session, make_xlsx(sheet(row(1, status="Activated", activation="20-11-2026", retailer="R009"))))

        assert session.get(Activation, imei(1)).retailer_code == "R001"

    def test_an_imei_once_activated_never_counts_as_stock_again(self, session: Session, make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(row(1, status="Activated", activation="20-11-2026"), row(2))))

        run_import(session, make_xlsx(sheet(row(1), row(2))))

        assert session.scalar(select(func.sum(InventorySnapshot.units))) == 1

    def test_a_file_with_under_half_the_stock_is_refused_without_confirmation(
            self, session: Session, engine: Engine, make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(*(row(n) for n in range(1, 11)))))
        before = table_contents(engine)
        short = make_xlsx(sheet(row(1), row(2)))

        with pytest.raises(ShrinkRefused) as caught:
            run_import(session, short)

        assert "leaves 2 units in retailer stock, fewer than half of the 10" in caught.value.detail
        assert table_contents(engine) == before
        assert run_import(session, short, confirm_shrink=True).stock_units == 2

    def test_a_dry_run_reports_the_changes_and_writes_nothing(self, session: Session, engine: Engine,
                                                              make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(row(1), row(2), row(3))))
        before = table_contents(engine)
        path = make_xlsx(sheet(row(1, retailer="R002"), row(2), row(4), row(5, status="Lost")))

        summary = run_import(session, path, dry_run=True)

        assert summary.status == "dry_run"
        changes = summary.changes
        assert (changes.new_imeis, changes.moved_imeis, changes.disappeared_imeis) == (1, 1, 1)
        assert changes.new_imei_samples == [imei(4)]
        assert changes.disappeared_samples == [imei(3)]
        assert [(m.imei, m.from_retailer, m.to_retailer) for m in changes.moved] == [(imei(1), "R001", "R002")]
        assert [(d.retailer_code, d.units_before, d.units_after) for d in changes.stock_delta] == [
            ("R001", 3, 2), ("R002", 0, 1)]
        assert [(g.goods_id, g.units) for g in changes.unpriced_goods] == [("G1", 3)]
        assert summary.errors_total == 1
        assert table_contents(engine) == before


class TestFailures:
    @pytest.fixture
    def failing_activations(self, engine: Engine) -> Iterator[None]:
        with failing_inserts(engine, "activations"):
            yield

    def test_a_failure_part_way_through_the_write_leaves_every_table_unchanged(
            self, session: Session, engine: Engine, make_xlsx: MakeXlsx, failing_activations: None) -> None:
        run_import(session, make_xlsx(sheet(row(1), row(2))))
        before = table_contents(engine)
        path = make_xlsx(sheet(row(1, retailer="R002"), row(3), row(4, status="Activated", activation="20-11-2026")))

        with pytest.raises(ImportWriteFailed) as caught:
            run_import(session, path)

        assert "failed while writing and nothing was saved: disk full (injected)" in caught.value.detail
        assert table_contents(engine) == before
        failed = session.scalars(select(PrmSyncRun).order_by(PrmSyncRun.id.desc())).first()
        assert failed.status == "failed" and "disk full (injected)" in failed.message

    def test_a_second_import_while_one_runs_gets_409_naming_it(self, engine: Engine, make_xlsx: MakeXlsx) -> None:
        sessions = database.make_sessionmaker(engine)
        path = make_xlsx(sheet(*(row(n) for n in range(1, 1500))))
        in_progress, release = threading.Event(), threading.Event()
        seen_phases: list[str] = []

        def hold(phase: str, rows: int, expected: int) -> None:
            if phase == "validating" and rows >= 1000 and not in_progress.is_set():
                in_progress.set()
                release.wait(10)

        def first_import() -> None:
            with sessions() as first_session:
                prm_import.import_workbook(first_session, data=path.read_bytes(), filename="first.xlsx",
                                           progress=hold, now=NOW)

        worker = threading.Thread(target=first_import)
        worker.start()
        other_worker = database.make_engine(str(engine.url))  # what another process sees: the row alone
        try:
            assert in_progress.wait(10)
            with database.make_sessionmaker(other_worker)() as second_session:
                running = prm_import.list_runs(second_session, page=PageParams()).items[0]
                seen_phases.append(running.phase)
                with pytest.raises(Conflict) as caught:
                    prm_import.import_workbook(second_session, data=path.read_bytes(), filename="second.xlsx", now=NOW)
        finally:
            release.set()
            worker.join(20)
            other_worker.dispose()

        assert f"Import run {running.id} (first.xlsx) is still running" in caught.value.detail
        assert seen_phases == ["validating"] and running.rows_processed >= 1000

    def test_a_run_left_running_by_a_crash_is_marked_abandoned(self, session: Session) -> None:
        session.add(PrmSyncRun(status="running", file_name="x.xlsx", file_sha256="0" * 64))
        session.commit()

        prm_import.abandon_stale_runs(session)

        assert session.scalars(select(PrmSyncRun.status)).all() == ["abandoned"]


def test_an_app_error_is_never_a_bare_exception(session: Session, make_xlsx: MakeXlsx) -> None:
    path = make_xlsx([["just", "some", "cells"]])

    with pytest.raises(AppError) as caught:
        run_import(session, path)

    assert caught.value.status_code == 422
    assert "has no sheet with a PRM header" in caught.value.detail
    assert "IMEI1, Goods ID, Product Name, Status, Retailer ID, Retailer Name" in caught.value.detail


def test_every_column_of_the_portal_header_used_by_the_tests_is_read(session: Session, make_xlsx: MakeXlsx) -> None:
    path = make_xlsx(sheet(row(1, imei2=imei(2), product="Redmi 13C", retailer_name="Ram Mobiles", city="Kota",
                               status="Activated", activation="20-11-2026 18:30:00")))

    summary = run_import(session, path)

    assert summary.ignored_columns == []
    device, shop = session.get(Device, imei(1)), session.get(Retailer, "R001")
    assert (device.imei2, device.goods_id, device.status, device.retailer_code) == (imei(2), "G1", "activated", "R001")
    assert device.inward_at == datetime(2026, 11, 1, 4, 30, tzinfo=UTC)
    assert device.activation_at == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    assert (session.get(Product, "G1").name, shop.name, shop.city) == ("Redmi 13C", "Ram Mobiles", "Kota")


class TestTheImportTellsTheTruth:
    @pytest.mark.parametrize("moment", ["01-01-0001", "0001-01-01", "01-01-0001 00:00:00", "9999-12-31T23:00:00-05:00"])
    def test_a_date_out_of_range_is_a_row_error_naming_row_and_column(self, session: Session, make_xlsx: MakeXlsx,
                                                                      moment: str) -> None:
        path = make_xlsx(sheet(row(1), row(2, inward=moment), row(3, status="Activated", activation=moment)))

        summary = run_import(session, path)

        assert summary.status == "success" and summary.rows_imported == 1
        assert errors_of(summary) == [
            (6, "Inward Time",
             "inward time is out of range; use a date between 0001-01-02 and 9999-12-30, such as 21-11-2026"),
            (7, "Activation Time",
             "activation time is out of range; use a date between 0001-01-02 and 9999-12-30, such as 21-11-2026")]

    def test_an_unexpected_error_marks_the_run_failed_with_its_reason(self, session: Session,
                                                                      make_xlsx: MakeXlsx) -> None:
        path = make_xlsx(sheet(row(1)))

        def broken_progress_bar(phase: str, rows: int, expected: int) -> None:
            raise KeyError(phase)

        with pytest.raises(KeyError):
            prm_import.import_workbook(session, data=path.read_bytes(), filename="prm.xlsx", progress=broken_progress_bar,
                                       actor=Actor("ravi", "admin", "127.0.0.7", "req-42"), now=NOW)

        run = session.scalars(select(PrmSyncRun)).one()
        assert (run.status, run.message) == (
            "failed", "the import stopped on an unexpected error (KeyError); see the server log, request id req-42")
        assert run_import(session, path).status == "success"
        assert session.scalars(select(PrmSyncRun.status).order_by(PrmSyncRun.id)).all() == ["failed", "success"]

    @pytest.mark.parametrize("options", [{"strict": True}, {"dry_run": True}], ids=["failed", "dry-run"])
    def test_failed_and_dry_run_imports_are_audited_with_the_real_actor(self, session: Session, make_xlsx: MakeXlsx,
                                                                        options: dict[str, bool]) -> None:
        path = make_xlsx(sheet(row(1), row(2, status="Lost")))
        actor = Actor("ravi", "admin", "127.0.0.7", "req-42")

        try:
            prm_import.import_workbook(session, data=path.read_bytes(), filename=path.name,
                                       options=ImportOptions(**options), actor=actor, now=NOW)
        except RowsRejected:
            pass

        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "prm.import")).one()
        assert (entry.actor, entry.role, entry.address, entry.request_id) == ("ravi", "admin", "127.0.0.7", "req-42")

    def test_a_blank_product_name_never_recategorises_a_product(self, session: Session, make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(row(1, product="Xiaomi TV A 43"))))

        run_import(session, make_xlsx(sheet(row(1, product=""), row(2, product=""))))

        product = session.get(Product, "G1")
        session.refresh(product)
        assert (product.name, product.category) == ("Xiaomi TV A 43", "TV")

    def test_a_dry_run_counts_what_the_import_then_does(self, session: Session, make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(row(1), row(2, retailer="R002"), row(3, goods="G2"))))
        path = make_xlsx(sheet(row(1, retailer="R009"), row(2, retailer="R002", retailer_name="New Name"),
                               row(4, goods="G7"), row(5, goods="G8", status="Activated", activation="20-11-2026"),
                               row(6, status="Lost"), row(7, imei1=int(imei(7, prefix="01")))))
        counted = ("rows_total", "rows_imported", "rows_rejected", "retailers_created", "retailers_updated",
                   "products_created", "activations_new", "stock_units", "errors_total", "warnings_total")

        dry = run_import(session, path, dry_run=True)
        real = run_import(session, path)

        assert {name: getattr(dry, name) for name in counted} == {name: getattr(real, name) for name in counted}
        assert (real.retailers_created, real.retailers_updated, real.products_created) == (1, 1, 2)

    def test_a_dry_run_of_a_shrinking_file_shows_the_shrink_as_a_warning(self, session: Session,
                                                                         make_xlsx: MakeXlsx) -> None:
        run_import(session, make_xlsx(sheet(*(row(n) for n in range(1, 11)))))

        summary = run_import(session, make_xlsx(sheet(row(1), row(2))), dry_run=True)

        assert summary.status == "dry_run"
        assert (summary.changes.stock_units_before, summary.changes.stock_units_after) == (10, 2)
        assert summary.warnings[0].row is None
        assert summary.warnings[0].message.startswith("This file leaves 2 units in retailer stock, fewer than half of the 10")
        assert summary.warnings[0].message.endswith("The import would be refused without confirm_shrink=true.")
