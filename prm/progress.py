"""How an import run reports and paces itself: progress saved in its run row, the garbage
collector paused over the row checks, and work started in the background while the workbook is parsed."""

import gc
import logging
import threading
import time
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
# Progress lives only in the run row, so every worker process (and every machine on one
# PostgreSQL) reads the same phase and count; it is saved at most this often while rows are checked.
SAVE_EVERY_SECONDS = 1.0


class Progress:
    """Saves the run's phase and row count in its row for other requests to read; logs every 10%.

    The first count and then one every SAVE_EVERY_SECONDS are committed, with `commit=True` on
    each phase that starts outside the import's write transaction. Inside it (writing, snapshot)
    nothing can be committed early, so other readers see `comparing` until the run ends.
    """

    def __init__(self, session: Session, run: PrmSyncRun, callback: ProgressFn | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session, self.run, self.callback, self.clock = session, run, callback, clock
        self.expected = 0
        self._next_log_at = 0.1
        self._saved_at: float | None = None  # when a count was last saved; None: none yet

    def __call__(self, phase: str, rows: int, *, commit: bool = False) -> None:
        self.run.phase, self.run.rows_processed = phase, rows
        if commit:
            self.session.commit()
        if self.callback:
            self.callback(phase, rows, self.expected)
        if self.expected and rows >= self._next_log_at * self.expected:
            log.info("import run %d: %s, %d of ~%d rows (%d%%)", self.run.id, phase, rows, self.expected,
                     min(100, rows * 100 // self.expected))
            while self._next_log_at * self.expected <= rows:
                self._next_log_at += 0.1

    def rows_checked(self, rows: int) -> None:
        """A count from the row checks: saved if it is the first or the last save is old enough."""
        now = self.clock()
        due = self._saved_at is None or now - self._saved_at >= SAVE_EVERY_SECONDS
        if due:
            self._saved_at = now
        self("validating", rows, commit=due)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the row checks build millions of small objects.

    Rows are lists, tuples and strings that form no reference cycles, so reference counting
    frees them all; without the pause each collection rescans every row read so far, which
    cost about 15% of the import time (bench/bench_import.py). The pause is process-wide, so it
    covers the row checks only: the worker serves requests meanwhile. What the checks built is then
    frozen (`gc.freeze`), so collections during the writes skip it, and unfrozen when they end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


@contextmanager
def frozen_until_done() -> Iterator[None]:
    """Hand objects frozen by `cyclic_gc_paused` back to the collector when the import ends."""
    try:
        yield
    finally:
        gc.unfreeze()


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
