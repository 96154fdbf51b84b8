"""How an import run reports and paces itself: live progress, the paused garbage collector, and
work started in the background while the workbook is parsed."""

import gc
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.orm import Session

from models import PrmSyncRun

log = logging.getLogger("dist.prm_import")
T = TypeVar("T")
R = TypeVar("R")
ProgressFn = Callable[[str, int, int], None]  # (phase, rows_processed, rows_expected)

_live: dict[int, tuple[str, int]] = {}  # run_id -> (phase, rows_processed) while it runs


def live_progress(run_id: int) -> tuple[str, int] | None:
    return _live.get(run_id)


def forget(run_id: int) -> None:
    _live.pop(run_id, None)


class Progress:
    """Keeps the run's phase and row count readable from other requests; logs every 10%."""

    def __init__(self, session: Session, run: PrmSyncRun, callback: ProgressFn | None) -> None:
        self.session, self.run, self.callback = session, run, callback
        self.expected = 0
        self._next_log_at = 0.1

    def __call__(self, phase: str, rows: int, *, commit: bool = False) -> None:
        _live[self.run.id] = (phase, rows)
        if commit:
            self.run.phase, self.run.rows_processed = phase, rows
            self.session.commit()
        if self.callback:
            self.callback(phase, rows, self.expected)
        if self.expected and rows >= self._next_log_at * self.expected:
            log.info("import run %d: %s, %d of ~%d rows (%d%%)", self.run.id, phase, rows, self.expected,
                     min(100, rows * 100 // self.expected))
            while self._next_log_at * self.expected <= rows:
                self._next_log_at += 0.1


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while an import builds millions of small objects.

    Rows are lists, tuples and strings that form no reference cycles, so reference counting
    frees them all; without the pause each collection rescans every row read so far, which
    cost about 15% of the import time (bench/bench_import.py).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def in_background(fn: Callable[[T], R], argument: T) -> "Future[R]":
    """Run `fn(argument)` on a thread now; `.result()` waits for it (and re-raises its error)."""
    future: Future[R] = Future()

    def run() -> None:
        try:
            future.set_result(fn(argument))
        except BaseException as exc:  # handed to whoever waits on the result
            future.set_exception(exc)

    threading.Thread(target=run, name="prm-prefetch", daemon=True).start()
    return future
