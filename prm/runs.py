"""Reads of the import run log: runs with live progress, one run with its row errors, errors as xlsx."""


from sqlalchemy import desc, select
from sqlalchemy.orm import Session

import errors
from kit.files import Download, header_sheet, inert_text, xlsx_download
from models import PrmSyncRowError, PrmSyncRun
from kit.paging import PageParams, paginate
from prm.progress import live_progress
from schemas import Page, RowErrorRead, SyncRunDetail, SyncRunRead


def _with_live_progress(run: PrmSyncRun) -> SyncRunRead:
    read = SyncRunRead.model_validate(run)
    live = live_progress(run.id)
    if run.status == "running" and live:
        read.phase, read.rows_processed = live
    return read


def latest_success(session: Session) -> PrmSyncRun | None:
    """The newest successful import: the snapshot every stock figure comes from."""
    return session.scalars(select(PrmSyncRun).where(PrmSyncRun.status == "success")
                           .order_by(desc(PrmSyncRun.id)).limit(1)).first()


def list_runs(session: Session, *, page: PageParams, status: str | None = None) -> Page[SyncRunRead]:
    stmt = select(PrmSyncRun).order_by(desc(PrmSyncRun.id))
    if status:
        stmt = stmt.where(PrmSyncRun.status == status)
    return paginate(session, stmt, page, _with_live_progress)


def get_run(session: Session, *, run_id: int, page: PageParams, severity: str | None = None) -> SyncRunDetail:
    run = session.get(PrmSyncRun, run_id)
    if run is None:
        raise errors.NotFound(f"There is no import run {run_id}.")
    stmt = select(PrmSyncRowError).where(PrmSyncRowError.run_id == run_id).order_by(PrmSyncRowError.id)
    if severity:
        stmt = stmt.where(PrmSyncRowError.severity == severity)
    row_errors = paginate(session, stmt, page, RowErrorRead.model_validate)
    return SyncRunDetail(**_with_live_progress(run).model_dump(), row_errors=row_errors)


def row_errors_workbook(session: Session, *, run_id: int) -> Download:
    """A run's row errors and warnings as a workbook: Row, Column, Value, Message, Severity."""
    if session.get(PrmSyncRun, run_id) is None:
        raise errors.NotFound(f"There is no import run {run_id}.")
    workbook, sheet = header_sheet("Row errors", ["Row", "Column", "Value", "Message", "Severity"])
    for issue in session.scalars(select(PrmSyncRowError).where(PrmSyncRowError.run_id == run_id)
                                 .order_by(PrmSyncRowError.id)):
        sheet.append([issue.row, inert_text(issue.column or ""), inert_text(issue.value or ""), inert_text(issue.message),
                      issue.severity])
    for letter, width in zip("ABCDE", (8, 18, 24, 90, 10)):
        sheet.column_dimensions[letter].width = width
    return xlsx_download(workbook, f"run_{run_id}_row_errors.xlsx")


