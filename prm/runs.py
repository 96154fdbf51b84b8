"""Reads of the import run log: runs with their saved progress, one run with its row errors, errors as xlsx."""

import io
from collections.abc import Iterable
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

import errors
from kit.files import XLSX_TYPE, Download, inert_text
from models import PrmSyncRowError, PrmSyncRun
from kit.paging import PageParams, paginate
from prm.outcome import error_counts, errors_note
from schemas import Page, RowErrorRead, SyncRunDetail, SyncRunRead

FETCH_ROWS = 2_000  # row errors read per round trip while the workbook is written


def _run_read(run: PrmSyncRun) -> SyncRunRead:
    """A run as stored: its progress too, saved in the row, so every worker reads the same."""
    read = SyncRunRead.model_validate(run)
    read.errors_note = errors_note(run)
    return read


def latest_success(session: Session) -> PrmSyncRun | None:
    """The newest successful import: the snapshot every stock figure comes from."""
    return session.scalars(select(PrmSyncRun).where(PrmSyncRun.status == "success")
                           .order_by(desc(PrmSyncRun.id)).limit(1)).first()


def list_runs(session: Session, *, page: PageParams, status: str | None = None) -> Page[SyncRunRead]:
    stmt = select(PrmSyncRun).order_by(desc(PrmSyncRun.id))
    if status:
        stmt = stmt.where(PrmSyncRun.status == status)
    return paginate(session, stmt, page, _run_read)


def _get_run_or_raise(session: Session, run_id: int) -> PrmSyncRun:
    run = session.get(PrmSyncRun, run_id)
    if run is None:
        raise errors.NotFound(f"There is no import run {run_id}.")
    return run


def get_run(session: Session, *, run_id: int, page: PageParams, severity: str | None = None) -> SyncRunDetail:
    run = _get_run_or_raise(session, run_id)
    stmt = select(PrmSyncRowError).where(PrmSyncRowError.run_id == run_id).order_by(PrmSyncRowError.id)
    if severity:
        stmt = stmt.where(PrmSyncRowError.severity == severity)
    row_errors = paginate(session, stmt, page, RowErrorRead.model_validate)
    read = _run_read(run).model_dump()
    read["error_counts"] = error_counts(session, run_id)
    return SyncRunDetail(**read, row_errors=row_errors)


def _bold_row(sheet: Any, values: Iterable[str]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def row_errors_workbook(session: Session, *, run_id: int) -> Download:
    """A run's kept row errors and warnings (Row, Column, Value, Message, Severity), then a second
    sheet "Counts by kind" with every issue counted, kept or not.

    Written streaming (openpyxl's write-only mode) from rows fetched in batches: the run keeps at
    most ROW_ERRORS_KEPT of each severity, and neither the query nor the sheet holds them all.
    """
    from openpyxl import Workbook

    run = _get_run_or_raise(session, run_id)
    note = errors_note(run)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Row errors")
    for letter, width in zip("ABCDE", (8, 18, 24, 90, 10)):
        sheet.column_dimensions[letter].width = width
    if note:
        sheet.freeze_panes = "A3"
        sheet.append(_bold_row(sheet, [f"{note[0].upper()}{note[1:]} (sheet 'Counts by kind')."]))
    else:
        sheet.freeze_panes = "A2"
    sheet.append(_bold_row(sheet, ["Row", "Column", "Value", "Message", "Severity"]))
    result = session.execute(
        select(PrmSyncRowError.row, PrmSyncRowError.column, PrmSyncRowError.value, PrmSyncRowError.message,
               PrmSyncRowError.severity).where(PrmSyncRowError.run_id == run_id).order_by(PrmSyncRowError.id)
        .execution_options(yield_per=FETCH_ROWS))
    for row, column, value, message, severity in result:
        sheet.append([row, inert_text(column or ""), inert_text(value or ""), inert_text(message), severity])
    counts = workbook.create_sheet("Counts by kind")
    for letter, width in zip("ABCD", (10, 18, 90, 10)):
        counts.column_dimensions[letter].width = width
    counts.freeze_panes = "A2"
    counts.append(_bold_row(counts, ["Severity", "Column", "Kind", "Count"]))
    for severity, column, kind, number in error_counts(session, run_id):
        counts.append([severity, inert_text(column), inert_text(kind), number])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Download(buffer.getvalue(), XLSX_TYPE, f"run_{run_id}_row_errors.xlsx")
