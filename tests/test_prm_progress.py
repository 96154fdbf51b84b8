"""An import's progress lives in its run row (the same for every worker) and its GC pause covers the row checks only."""

import gc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import database
import prm_import
from models import PrmSyncRun
from prm.progress import SAVE_EVERY_SECONDS, Progress
from tests.prm_factory import row, sheet

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MakeXlsx = Callable[..., Path]


def stored_progress(engine: Engine, run_id: int) -> tuple[str | None, int]:
    """The run's progress as another worker process reads it: from the database alone."""
    other = database.make_engine(str(engine.url))
    try:
        with database.make_sessionmaker(other)() as session:
            phase, rows = session.execute(select(PrmSyncRun.phase, PrmSyncRun.rows_processed)
                                          .where(PrmSyncRun.id == run_id)).one()
            return phase, rows
    finally:
        other.dispose()


def test_row_counts_are_saved_first_then_once_every_save_interval(engine: Engine, session: Session) -> None:
    run = PrmSyncRun(status="running", phase="reading", file_name="x.xlsx", file_sha256="0" * 64)
    session.add(run)
    session.commit()
    clock = [100.0]
    progress = Progress(session, run, None, clock=lambda: clock[0])
    seen: list[tuple[str | None, int]] = []

    for rows, at in ((1000, 100.0), (2000, 100.0 + SAVE_EVERY_SECONDS / 2), (3000, 100.0 + SAVE_EVERY_SECONDS)):
        clock[0] = at
        progress.rows_checked(rows)
        seen.append(stored_progress(engine, run.id))

    assert seen == [("validating", 1000), ("validating", 1000), ("validating", 3000)]


def test_the_garbage_collector_is_paused_over_the_row_checks_only(session: Session, make_xlsx: MakeXlsx) -> None:
    path = make_xlsx(sheet(*(row(n) for n in range(1, 1201))))
    enabled_in: dict[str, set[bool]] = {}

    def watch(phase: str, rows: int, expected: int) -> None:
        during = "the row checks" if phase == "validating" and rows > 0 else phase
        enabled_in.setdefault(during, set()).add(gc.isenabled())

    prm_import.import_workbook(session, data=path.read_bytes(), filename=path.name, progress=watch, now=NOW)

    assert enabled_in == {"validating": {True}, "the row checks": {False}, "comparing": {True}, "writing": {True}, "snapshot": {True}}
    assert gc.isenabled() and gc.get_freeze_count() == 0
