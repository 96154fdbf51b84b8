"""Blocking calls on a small pool of their own (once per key at a time, waited for with a deadline),
and a breaker that remembers a failure for a while.

The Tally cache runs every Tally request here, so a hung Tally holds at most `threads` pool
threads plus `waiters` callers per process, never the server's whole thread pool: a caller that
has something else to answer with (a cached value) and finds every waiting slot taken does not
wait at all. Callers that ask for a key already running share its outcome (single flight).
"""

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import Any, TypeVar

from errors import AppError

T = TypeVar("T")


class FlightBusy(Exception):
    """Every waiting slot is taken; the caller said it could do without waiting."""


class FlightTimeout(Exception):
    """The flight did not finish within the caller's wait; it goes on for the next caller."""


class Flights:
    def __init__(self, *, threads: int, waiters: int, name: str, slotless_wait: float = 1.0) -> None:
        self.slotless_wait = slotless_wait
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._slots = threading.BoundedSemaphore(waiters)
        # Reentrant: a flight that is already over when its callback is added runs the callback
        # at once, in the thread that holds this lock inside start().
        self._lock = threading.RLock()
        self._running: dict[str, Future[Any]] = {}

    def start(self, key: str, fn: Callable[[], T]) -> Future[T]:
        """The running flight for `key`, or a new one running `fn` on the pool."""
        with self._lock:
            future = self._running.get(key)
            if future is None:
                future = self._running[key] = self._pool.submit(fn)
                future.add_done_callback(lambda done, key=key: self._finished(key, done))
            return future

    def _finished(self, key: str, future: Future[Any]) -> None:
        with self._lock:
            if self._running.get(key) is future:
                del self._running[key]

    def running(self, key: str | None = None) -> bool:
        with self._lock:
            return bool(self._running) if key is None else key in self._running

    def wait(self, future: Future[T], *, timeout: float, can_skip: bool) -> T:
        """The flight's result within `timeout` s.

        Every waiting slot taken: `can_skip` callers get FlightBusy at once; the others wait on the
        flight a short while (a good day's read is over by then) and then get FlightBusy too.
        """
        if future.done():
            return future.result()
        if not self._slots.acquire(blocking=False):
            if can_skip:
                raise FlightBusy()
            try:
                return self._result(future, min(timeout, self.slotless_wait))
            except FlightTimeout:
                raise FlightBusy() from None
        try:
            return self._result(future, timeout)
        finally:
            self._slots.release()

    @staticmethod
    def _result(future: Future[T], timeout: float) -> T:
        try:
            return future.result(timeout=max(timeout, 0.0))
        except FutureTimeout:
            raise FlightTimeout() from None

    def ask(self, key: str, fn: Callable[[], T], *, timeout: float, can_skip: bool) -> T:
        return self.wait(self.start(key, fn), timeout=timeout, can_skip=can_skip)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Breaker:
    """Remembers the last failure: for `window` after it the call is not tried again at all.

    Times are passed in (the caller's clock), so tests can move them without sleeping.
    """

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.last_success_at: datetime | None = None
        self.last_failure_at: datetime | None = None
        self.last_failure: AppError | None = None
        self._lock = threading.Lock()

    def succeeded(self, now: datetime) -> None:
        with self._lock:
            self.last_success_at = now

    def failed(self, error: AppError, now: datetime) -> None:
        with self._lock:
            self.last_failure, self.last_failure_at = error, now

    @property
    def failing(self) -> bool:
        """The last outcome was a failure."""
        failed_at, succeeded_at = self.last_failure_at, self.last_success_at
        return failed_at is not None and (succeeded_at is None or failed_at >= succeeded_at)

    def is_open(self, now: datetime) -> bool:
        """Failing, and the failure is younger than the window: do not try."""
        return self.failing and self.last_failure_at is not None and now < self.last_failure_at + self.window

    def remembered(self, now: datetime, suffix: str) -> AppError:
        """The last failure again, same class and words, saying how old it is."""
        error = self.last_failure
        assert error is not None and self.last_failure_at is not None
        age = max(int((now - self.last_failure_at).total_seconds()), 0)
        return type(error)(f"{error.detail} (seen {age} s ago; {suffix})")
