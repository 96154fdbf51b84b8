"""The one rule for how routes run: every route is `async def` and sends its blocking call down
exactly one of three lanes (thread pools with a width of their own).

- `read`: database reads that never wait for a lock (SQLite in WAL mode lets readers read while
  an import writes), on `READ_THREADS` threads per process, 1 by default. Python threads share
  one GIL, and under load the hand-offs between many of them cost more than the queries they run
  (bench/load.py, 50 clients, one process: 40 threads served 135 requests/s, one thread 340).
- `work`: writes (which may wait for an import's write lock), imports, API-key look-ups and
  workbook files, on anyio's default pool (40 threads). None of it can hold up the read lane.
- `tally`: anything that may wait on Tally. Tally requests run on their own pool (kit.flights),
  but the caller's thread blocks while it waits for the answer, so these callers get a lane of
  their own (`TALLY_THREADS`): a stuck Tally never takes a thread a write or an import needs.

Each lane closes the sessions it was handed once the call is over, in the lane's thread: closing
rolls back the read transaction, which is a round trip on PostgreSQL, and must not run on the
event loop. `release` does the same for a session no lane closed (database.get_session).
Routes with no I/O at all (`/`) stay `async def` and use no lane.
"""

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
from sqlalchemy.orm import Session

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_READ_THREADS = 1
# Per process. A caller waits on Tally at most TALLY_DEADLINE_SECONDS (a few, TALLY_WAITERS at a
# time) or about a second (the others), so 16 threads keep callers that have a cache answering.
TALLY_THREADS = 16
# Closing a session no lane closed: never behind routes that wait for a pooled connection, which
# the closes themselves hand back (that wait once deadlocked a loaded server).
RELEASE_THREADS = 4

_widths = {"read": DEFAULT_READ_THREADS, "tally": TALLY_THREADS, "release": RELEASE_THREADS}
# A limiter belongs to the event loop that made it; the test suite starts several loops.
_limiters: "WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, anyio.CapacityLimiter]]" = WeakKeyDictionary()


def configure(*, read_threads: int) -> None:
    """Set the read lane's width (from the READ_THREADS setting) before the app serves."""
    _widths["read"] = read_threads
    _limiters.clear()


def _limiter(lane: str) -> anyio.CapacityLimiter:
    per_loop = _limiters.setdefault(asyncio.get_running_loop(), {})
    limiter = per_loop.get(lane)
    if limiter is None:
        limiter = per_loop[lane] = anyio.CapacityLimiter(_widths[lane])
    return limiter


def _call_then_close(function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    try:
        return function(*args, **kwargs)
    finally:
        for value in (*args, *kwargs.values()):
            if isinstance(value, Session):
                value.close()


async def _run(limiter: anyio.CapacityLimiter | None, function: Callable[..., T], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> T:
    return await anyio.to_thread.run_sync(_call_then_close, function, args, kwargs, limiter=limiter)


async def read(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a lock-free database read on the read lane and return its result."""
    return await _run(_limiter("read"), function, args, kwargs)


async def work(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a write, an import or a workbook on anyio's default pool and return its result."""
    return await _run(None, function, args, kwargs)


async def tally(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a call that may wait on Tally on the Tally lane and return its result."""
    return await _run(_limiter("tally"), function, args, kwargs)


async def release(session: Session) -> None:
    """Close a session: here when it holds no transaction (no I/O), else on a thread of its own."""
    if not session.in_transaction():
        session.close()
        return
    await anyio.to_thread.run_sync(session.close, limiter=_limiter("release"))
