"""What an import run leaves behind: its counts, the first ROW_ERRORS_KEPT row issues of each
severity with exact counts by kind, and the summary it answers with."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import PrmSyncErrorCount, PrmSyncRowError, PrmSyncRun
from prm.rows import ParsedRows, RowIssue
from schemas import ImportChanges, ImportSummary, RowErrorRead

ERRORS_SHOWN = 200  # in the import's answer; the run log pages through all that were kept


def issue_read(issue: RowIssue) -> RowErrorRead:
    return RowErrorRead(row=issue.row, column=issue.column, value=issue.value, message=issue.message)


def count(run: PrmSyncRun, parsed: ParsedRows) -> None:
    """Copy the checked rows' counts onto the run."""
    run.rows_total = parsed.rows_total
    run.rows_processed = parsed.rows_total
    run.rows_rejected = parsed.rows_rejected
    run.rows_imported = len(parsed.devices)
    run.errors_total, run.errors_kept = parsed.errors_total, len(parsed.errors)
    run.warnings_total, run.warnings_kept = parsed.warnings_total, len(parsed.warnings)


def record_issues(session: Session, run_id: int, parsed: ParsedRows | None) -> None:
    """Store the kept issues and the counts by kind, in the caller's transaction."""
    if not parsed:
        return
    # Core inserts, not kit.bulk: "row" and "column" need the quoting SQLAlchemy gives them.
    rows = [{"run_id": run_id, "row": issue.row, "column": (issue.column or "")[:100] or None, "value": issue.value,
             "message": issue.message, "severity": issue.severity} for issue in (*parsed.errors, *parsed.warnings)]
    if rows:
        session.execute(PrmSyncRowError.__table__.insert(), rows)
    counts = [{"run_id": run_id, "severity": severity, "column": column[:100], "message_kind": kind, "count": number}
              for (severity, column, kind), number in sorted(parsed.counts.items())]
    if counts:
        session.execute(PrmSyncErrorCount.__table__.insert(), counts)


def errors_note(run: PrmSyncRun) -> str | None:
    """"first 10,000 of 400,000 errors kept; ..." when the run did not keep every issue, else None."""
    parts = [f"first {kept:,} of {total:,} {what} kept" for kept, total, what in (
        (run.errors_kept, run.errors_total, "errors"), (run.warnings_kept, run.warnings_total, "warnings"))
        if total > kept]
    return "; ".join(parts) + "; counts by kind below" if parts else None


def error_counts(session: Session, run_id: int) -> list[tuple[str, str, str, int]]:
    """[severity, column, kind, count] of a run, errors first, the most frequent first."""
    rows = session.execute(select(PrmSyncErrorCount.severity, PrmSyncErrorCount.column, PrmSyncErrorCount.message_kind,
                                  PrmSyncErrorCount.count).where(PrmSyncErrorCount.run_id == run_id))
    return sorted(((s, c, k, n) for s, c, k, n in rows), key=lambda item: (item[0] != "error", -item[3], item[1], item[2]))


def _parsed_counts(parsed: ParsedRows) -> list[tuple[str, str, str, int]]:
    return sorted(((s, c, k, n) for (s, c, k), n in parsed.counts.items()),
                  key=lambda item: (item[0] != "error", -item[3], item[1], item[2]))


def summary(run: PrmSyncRun, *, status: str, parsed: ParsedRows, ignored: list[str],
            changes: ImportChanges | None = None) -> ImportSummary:
    """The import's answer for a run that just checked `parsed`."""
    return ImportSummary(
        **_run_counts(run), run_id=run.id, status=status, ignored_columns=ignored,
        warnings=[issue_read(issue) for issue in parsed.warnings[:ERRORS_SHOWN]],
        errors=[issue_read(issue) for issue in parsed.errors[:ERRORS_SHOWN]],
        error_counts=_parsed_counts(parsed), duration_ms=run.duration_ms or 0, changes=changes)


def stored_summary(session: Session, run: PrmSyncRun, *, status: str) -> ImportSummary:
    """The answer for an earlier run, from what it stored (the same bytes imported again)."""
    def shown(severity: str) -> list[RowErrorRead]:
        return [RowErrorRead.model_validate(issue) for issue in session.scalars(
            select(PrmSyncRowError).where(PrmSyncRowError.run_id == run.id, PrmSyncRowError.severity == severity)
            .order_by(PrmSyncRowError.id).limit(ERRORS_SHOWN))]

    return ImportSummary(**_run_counts(run), run_id=run.id, status=status, warnings=shown("warning"),
                         errors=shown("error"), error_counts=error_counts(session, run.id),
                         duration_ms=run.duration_ms or 0)


def _run_counts(run: PrmSyncRun) -> dict[str, object]:
    names = ("file_name", "file_sha256", "sheet", "header_row", "rows_total", "rows_imported", "rows_rejected",
             "retailers_created", "retailers_updated", "products_created", "activations_new", "stock_units",
             "errors_total", "warnings_total", "errors_kept", "warnings_kept")
    return {**{name: getattr(run, name) for name in names}, "errors_note": errors_note(run)}
