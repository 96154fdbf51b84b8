"""PRM IMEI import: read the brand portal's device export, check every row, write one snapshot.

Public functions: `import_workbook`, `import_file`, `abandon_stale_runs`, and
the command line `.venv/bin/python prm_import.py FILE [--dry-run] [--strict] [--database URL]`.

A run is logged in `prm_sync_run_log` before the file is opened. All data changes of a run are
one transaction: a failure part-way leaves every table as it was and the run says why.
"""

import hashlib
import logging
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, desc, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from access import audit
from kit import bulk
import errors
from database import begin_write
from access.actor import SYSTEM, Actor
from models import PrmSyncRun, utcnow
from prm import outcome, store
from prm.runs import latest_success
from prm.columns import PRM_COLUMNS
from prm.progress import Progress, ProgressFn, cyclic_gc_paused, frozen_until_done, in_background
from prm.outcome import ERRORS_SHOWN
from prm.rows import ParsedRows, RowIssue, check_rows
from kit.process_lock import ProcessLock
from schemas import ImportChanges, ImportSummary, MovedImei, StockDelta, UnpricedGoods
from kit.files import clean_upload_name
from kit.workbook_gate import PRM_LIMITS
from kit.workbooks import FileProblem, open_sheet, spooled_upload

log = logging.getLogger("dist.prm_import")

IMPORT_LOCK = "prm-import"  # held by the process that imports, for the whole import
IMPORT_LOCK_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class ImportOptions:
    strict: bool = False
    dry_run: bool = False
    force: bool = False
    confirm_shrink: bool = False

    def describe(self) -> str:
        return ",".join(name for name in ("strict", "dry_run", "force", "confirm_shrink") if getattr(self, name))


class ImportInProgress(errors.Conflict):
    pass


class ShrinkRefused(errors.Conflict):
    pass


class RowsRejected(errors.InvalidInput):
    pass


class ImportWriteFailed(errors.AppError):
    status_code = 503


def _row_error_items(issues: list[RowIssue]) -> list[errors.ErrorItem]:
    return [errors.item(["row", issue.row or 0, issue.column or ""], f"{issue.message} (value {issue.value!r})", "row_error")
            for issue in issues[:ERRORS_SHOWN]]


def _running_run(session: Session) -> PrmSyncRun | None:
    return session.scalars(select(PrmSyncRun).where(PrmSyncRun.status == "running")
                           .order_by(desc(PrmSyncRun.id)).limit(1)).first()


def _import_lock(session: Session) -> ProcessLock:
    bind = session.get_bind()
    return ProcessLock(bind if isinstance(bind, Engine) else bind.engine, IMPORT_LOCK)


def _abandon_running(session: Session) -> int:
    """Mark every run still shown as running abandoned; only call it holding the import lock."""
    stale = list(session.scalars(select(PrmSyncRun.id).where(PrmSyncRun.status == "running")))
    session.rollback()
    if not stale:
        return 0
    begin_write(session)
    session.execute(update(PrmSyncRun).where(PrmSyncRun.id.in_(stale), PrmSyncRun.status == "running").values(
        status="abandoned", finished_at=utcnow(),
        message="The service stopped while this import ran; nothing from it was saved."))
    session.commit()
    log.warning("marked %d interrupted import run(s) as abandoned: %s", len(stale), stale)
    return len(stale)


def abandon_stale_runs(session: Session) -> int:
    """Mark runs cut off by a crash as abandoned (at start-up).

    A run is stale when no process holds the import lock: the lock dies with its process, so a
    worker starting beside a sibling that is importing leaves that sibling's run alone.
    """
    running = session.scalar(select(func.count()).select_from(PrmSyncRun).where(PrmSyncRun.status == "running"))
    session.rollback()
    if not running:
        return 0
    lock = _import_lock(session)
    # A sibling worker starting at the same moment holds the lock briefly for this same check.
    if not lock.acquire(blocking=False, timeout=IMPORT_LOCK_WAIT_SECONDS):
        log.info("an import is running in another process; its run is left as it is")
        return 0
    try:
        return _abandon_running(session)
    finally:
        lock.release()


def _in_progress_error(run: PrmSyncRun | None) -> ImportInProgress:
    if run is None:
        return ImportInProgress("Another import is running in this service; wait for it to finish and try again.")
    return ImportInProgress(
        f"Import run {run.id} ({run.file_name}) is still running since {run.started_at:%Y-%m-%d %H:%M} UTC; "
        "wait for it to finish and try again.")


def _audit_detail(run: PrmSyncRun) -> dict[str, object]:
    return {"run_id": run.id, "status": run.status, "sha256": run.file_sha256, "options": run.options,
            "rows_imported": run.rows_imported, "rows_rejected": run.rows_rejected, "message": run.message}


def _finish(run: PrmSyncRun, status: str, started: float, message: str | None = None) -> None:
    run.status = status
    run.phase = "done"
    run.finished_at = utcnow()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    run.message = message


def _fail(session: Session, run_id: int, started: float, message: str, parsed: ParsedRows | None,
          actor: Actor) -> None:
    """Record a failed run in a fresh transaction, after the data transaction was rolled back."""
    session.rollback()
    begin_write(session)
    run = session.get(PrmSyncRun, run_id)
    assert run is not None
    if parsed is not None:
        outcome.count(run, parsed)
    _finish(run, "failed", started, message)
    outcome.record_issues(session, run_id, parsed)
    audit.record(session, actor, "prm.import", target=run.file_name, detail=_audit_detail(run))
    session.commit()
    log.warning("import run %d failed: %s", run_id, message)


def _unexpected_reason(exc: BaseException, actor: Actor) -> str:
    where = f", request id {actor.request_id}" if actor.request_id else ""
    return f"the import stopped on an unexpected error ({type(exc).__name__}); see the server log{where}"


def import_workbook(
    session: Session,
    *,
    data: bytes | None = None,
    path: Path | None = None,
    filename: str,
    options: ImportOptions = ImportOptions(),
    actor: Actor = SYSTEM,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> ImportSummary:
    """Import one PRM workbook (see the module docstring); raises `AppError`s for bad input."""
    file_name = clean_upload_name(filename, default="upload.xlsx")
    if (data is None) == (path is None):
        raise ValueError("import_workbook takes the workbook as data or as path, not both")
    source: bytes | Path
    if path is not None:
        with path.open("rb") as handle:
            sha256, size, source = hashlib.file_digest(handle, "sha256").hexdigest(), path.stat().st_size, path
    else:
        assert data is not None
        sha256, size, source = hashlib.sha256(data).hexdigest(), len(data), data
    lock = _import_lock(session)
    # A worker starting up holds the lock for a moment (abandon_stale_runs): worth a short wait.
    if not lock.acquire(blocking=False, timeout=IMPORT_LOCK_WAIT_SECONDS):
        raise _in_progress_error(_running_run(session))
    try:
        _abandon_running(session)  # holding the lock, a run still shown as running died with its process
        previous = latest_success(session)
        if previous is not None and previous.file_sha256 == sha256 and not options.force and not options.dry_run:
            log.info("import of %s skipped: same bytes as run %d", file_name, previous.id)
            return outcome.stored_summary(session, previous, status="duplicate")
        previous_id = previous.id if previous else None  # read now: the rollback below expires `previous`
        session.rollback()
        begin_write(session)  # the checks above were reads; the run row is a write
        run = PrmSyncRun(status="running", phase="reading", file_name=file_name, file_sha256=sha256,
                         file_bytes=size, options=options.describe(), started_by=actor.name)
        session.add(run)
        session.commit()
        with frozen_until_done():
            return _run_import(session, run, source, options, previous_id, progress, now or utcnow(), actor)
    finally:
        lock.release()


def _run_import(session: Session, run: PrmSyncRun, source: bytes | Path, options: ImportOptions,
                previous_id: int | None, progress_callback: ProgressFn | None, now: datetime,
                actor: Actor) -> ImportSummary:
    started = time.perf_counter()
    run_id = run.id
    log.info("import run %d started: %s (%d bytes, options: %s)", run_id, run.file_name, run.file_bytes,
             run.options or "none")
    progress = Progress(session, run, progress_callback)
    parsed: ParsedRows | None = None
    try:
        # Read the stored devices while python-calamine parses (it releases the GIL), unless there
        # are so many that holding them beside the parsed sheet would pass the memory budget.
        engine = session.get_bind()
        stored_count = store.count_devices(session)
        session.rollback()
        stored_devices = (in_background(store.read_stored_devices, engine)
                          if stored_count <= store.READ_DURING_PARSE_UP_TO else None)
        sheet = open_sheet(source, PRM_COLUMNS, what="a PRM header", limits=PRM_LIMITS)
        run.sheet, run.header_row = sheet.name, sheet.header.row_index + 1
        progress.expected = max(sheet.last_row - run.header_row, 0)
        run.rows_total = progress.expected  # an estimate for progress bars until the rows are counted
        progress("validating", 0, commit=True)
        dialect_name = session.get_bind().dialect.name
        with cyclic_gc_paused():
            parsed = check_rows(sheet.rows, sheet.header, now=now, on_row=progress.rows_checked,
                                datetime_form=bulk.datetime_writer(dialect_name),
                                naive_utc_form=bulk.naive_utc_writer(dialect_name))
        outcome.count(run, parsed)
        ignored, sheet_name = sheet.header.ignored, sheet.name
        del sheet  # frees python-calamine's copy of every cell (hundreds of MB at 500k rows)
        if parsed.rows_total == 0:
            raise FileProblem(f"has a header on row {run.header_row} of sheet {sheet_name!r} but no data rows under it")
        if parsed.errors and options.strict:
            _fail(session, run_id, started, f"{run.rows_rejected} rows have errors; strict mode imports nothing", parsed,
                  actor)
            raise RowsRejected(
                f"{run.file_name}: {run.rows_rejected} of {run.rows_total} rows have errors, so nothing was imported "
                "(strict mode); fix the rows listed and upload again.", _row_error_items(parsed.errors))
        if not parsed.devices:
            _fail(session, run_id, started, "no valid rows", parsed, actor)
            raise RowsRejected(
                f"{run.file_name}: none of the {run.rows_total} rows is valid, so nothing was imported.",
                _row_error_items(parsed.errors))
        progress("comparing", parsed.rows_total, commit=True)
        begin_write(session)
        stored = stored_devices.result() if stored_devices else store.read_stored_devices(engine)
        plan = store.plan_changes(session, parsed.devices, previous_id, run_id=run_id, stored=stored)
        shrinks = (plan.stock_units_before and not options.confirm_shrink
                   and plan.stock_units_after * 2 < plan.stock_units_before)
        shrink = (f"This file leaves {plan.stock_units_after} units in retailer stock, fewer than half of "
                  f"the {plan.stock_units_before} after run {previous_id}; it may cover too short a date range.")
        if options.dry_run:
            # A dry run is how the office finds out what a shrinking file would do: it shows it.
            return _finish_dry_run(session, run_id, started, parsed, ignored, plan, actor,
                                   shrink=f"{shrink} The import would be refused without confirm_shrink=true."
                                   if shrinks else None)
        if shrinks:
            message = f"{shrink} Nothing was imported; send confirm_shrink=true if the drop is real."
            _fail(session, run_id, started, message, parsed, actor)
            raise ShrinkRefused(message, [errors.item(["query", "confirm_shrink"], "needed to accept a shrinking stock", "shrink")])

        progress("writing", parsed.rows_total)  # from here on the transaction writes
        run.products_created = store.upsert_products(session, parsed.products)
        run.retailers_created, run.retailers_updated = store.upsert_retailers(session, parsed.retailers, run_id)
        progress("snapshot", parsed.rows_total)
        run.activations_new = store.write_devices(session, plan, run_id=run_id, at=utcnow())
        run.stock_units = plan.stock_units_after
        outcome.record_issues(session, run_id, parsed)
        _finish(run, "success", started)
        audit.record(session, actor, "prm.import", target=run.file_name, detail=_audit_detail(run))
        session.commit()
    except FileProblem as problem:
        error = problem.as_app_error(run.file_name)
        _fail(session, run_id, started, error.detail, parsed, actor)
        raise error from None
    except errors.AppError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
        _fail(session, run_id, started, f"writing failed, nothing was saved: {reason}", parsed, actor)
        raise ImportWriteFailed(
            f"Import run {run_id} of {run.file_name} failed while writing and nothing was saved: {reason}. "
            "Try again; if it keeps failing, see the server log.") from exc
    except Exception as exc:
        # A bug or MemoryError: the run says so instead of spinning as "running" until the next
        # import calls it abandoned. The 500 handler logs the traceback, once, with the request id.
        try:
            _fail(session, run_id, started, _unexpected_reason(exc, actor), parsed, actor)
        except Exception:
            log.exception("import run %d: recording its failure failed too", run_id)
        raise
    log.info("import run %d done in %d ms: %d rows, %d imported, %d rejected, %d in stock",
             run_id, run.duration_ms, run.rows_total, run.rows_imported, run.rows_rejected, run.stock_units)
    return outcome.summary(run, status="success", parsed=parsed, ignored=ignored)


def _finish_dry_run(session: Session, run_id: int, started: float, parsed: ParsedRows, ignored: list[str],
                    plan: store.ChannelPlan, actor: Actor, *, shrink: str | None) -> ImportSummary:
    """Count what the import would do, write nothing but the run, and answer with the changes."""
    report = ImportChanges(
        new_imeis=len(plan.new_imeis), moved_imeis=len(plan.moved), disappeared_imeis=len(plan.gone),
        stock_units_before=plan.stock_units_before, stock_units_after=plan.stock_units_after,
        new_imei_samples=sorted(plan.new_imeis)[:store.SAMPLE_SIZE],
        moved=[MovedImei(imei=imei, from_retailer=old, to_retailer=new)
               for imei, old, new in sorted(plan.moved)[:store.SAMPLE_SIZE]],
        disappeared_samples=sorted(imei for imei, _ in plan.gone)[:store.SAMPLE_SIZE],
        stock_delta=[StockDelta(**row) for row in store.stock_delta_by_retailer(session, plan)],
        unpriced_goods=[UnpricedGoods(**row) for row in store.unpriced_goods(session, plan)],
    )
    activations_new = store.new_activation_count(plan)
    products_created = store.count_new_products(session, parsed.products)
    retailers_created, retailers_updated = store.count_retailer_changes(session, parsed.retailers)
    if shrink:
        parsed.remark_first(shrink, "the file leaves under half the stock")
    session.rollback()  # nothing was written; end the read transaction before logging the run
    begin_write(session)
    run = session.get(PrmSyncRun, run_id)
    assert run is not None
    outcome.count(run, parsed)
    run.activations_new = activations_new
    run.products_created, run.retailers_created, run.retailers_updated = (
        products_created, retailers_created, retailers_updated)
    run.stock_units = plan.stock_units_after
    _finish(run, "dry_run", started, "dry run: nothing was written" + (f"; {shrink}" if shrink else ""))
    outcome.record_issues(session, run_id, parsed)
    audit.record(session, actor, "prm.import", target=run.file_name, detail=_audit_detail(run))
    session.commit()
    return outcome.summary(run, status="dry_run", parsed=parsed, ignored=ignored, changes=report)


def import_file(session: Session, *, path: Path, options: ImportOptions = ImportOptions(),
                actor: Actor = SYSTEM, progress: ProgressFn | None = None) -> ImportSummary:
    """Import a workbook from disk (PRM_FILE_PATH, or the command line)."""
    try:
        with path.open("rb"):
            pass  # only proves it can be read; the import reads it from disk
    except FileNotFoundError:
        raise errors.BadRequest(
            f"No file was uploaded and PRM_FILE_PATH ({path}) does not exist; upload the workbook in the "
            "'file' field or set PRM_FILE_PATH.", [errors.item(["file"], "no upload and no file at PRM_FILE_PATH")]) from None
    except OSError as exc:
        raise errors.BadRequest(f"PRM_FILE_PATH ({path}) cannot be read: {exc.strerror}.") from None
    return import_workbook(session, path=path, filename=path.name, options=options, actor=actor, progress=progress)


def import_upload(session: Session, *, upload: BinaryIO | None, filename: str | None, fallback_path: Path,
                  options: ImportOptions = ImportOptions(), actor: Actor = SYSTEM) -> ImportSummary:
    """Import an uploaded workbook, or the one at `fallback_path` (PRM_FILE_PATH) when none was sent."""
    if upload is None:
        return import_file(session, path=fallback_path, options=options, actor=actor)
    # On disk, not in memory: python-calamine then reads the zip from the file.
    with spooled_upload(upload) as path:
        return import_workbook(session, path=path, filename=filename or "", options=options, actor=actor)


# The run log's reads live in prm/runs.py; they are part of this module's public face.
from prm.runs import get_run, list_runs, row_errors_workbook  # noqa: E402

__all__ = ["ImportOptions", "abandon_stale_runs", "get_run", "import_file", "import_upload", "import_workbook", "list_runs",
           "row_errors_workbook"]


# --- command line -----------------------------------------------------------------------------


def _progress_bar(phase: str, rows: int, expected: int) -> None:
    width = 30
    share = min(rows / expected, 1.0) if expected else 0.0
    filled = int(share * width)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {share:4.0%} {phase:<10} {rows:>8} rows")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    import argparse

    import database
    from kit.commands import add_database_option, chosen_database, shown

    parser = argparse.ArgumentParser(description="Import a PRM IMEI workbook into the database in DATABASE_URL "
                                                 "(or --database URL).")
    parser.add_argument("file", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="check and show what would change; write nothing")
    parser.add_argument("--strict", action="store_true", help="import nothing if any row has an error")
    parser.add_argument("--force", action="store_true", help="import even if this file was the last one imported")
    parser.add_argument("--confirm-shrink", action="store_true", help="accept a file with far less stock than the last")
    add_database_option(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    url = chosen_database(args)
    sys.stderr.write(f"database: {shown(url)}\n")
    engine = database.make_engine(url)
    database.upgrade_schema(engine)
    options = ImportOptions(strict=args.strict, dry_run=args.dry_run, force=args.force, confirm_shrink=args.confirm_shrink)
    with database.make_sessionmaker(engine)() as session:
        try:
            summary = import_file(session, path=args.file, options=options, actor=Actor("cli", "admin"),
                                  progress=_progress_bar)
        except errors.AppError as exc:
            sys.stderr.write(f"\n{exc.detail}\n")
            for item in exc.errors[:20]:
                sys.stderr.write(f"  {item.loc}: {item.msg}\n")
            return 1
        finally:
            engine.dispose()
    sys.stderr.write("\n")
    shown = summary.model_dump(exclude={"errors", "warnings", "changes"})
    for key, value in shown.items():
        print(f"{key:>18}: {value}")
    for issue in summary.errors[:20]:
        print(f"  row {issue.row} {issue.column}: {issue.message} ({issue.value!r})")
    if summary.errors_total > 20:
        print(f"  ... and {summary.errors_total - 20} more row errors (GET /debug/sync-logs/{summary.run_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
