"""Which worker threads run a route's blocking work.

Python threads share one GIL, and under load the hand-offs between many of them cost more than
the queries they run (measured with bench/load.py, 50 clients, one process: 40 threads served
135 requests/s, one thread 340). So:

- the **read lane**: database reads that never wait for a lock (SQLite in WAL mode lets readers
  read while an import writes), on `READ_THREADS` threads per process, 1 by default;
- everything else stays on the default pool (anyio's, 40 threads): writes, which may wait for an
  import's write lock, anything that may wait for Tally, imports and workbooks. None of that can
  hold up the read lane, and it is rare enough not to crowd the GIL.
"""

import asyncio
from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_READ_THREADS = 1
_read_threads = DEFAULT_READ_THREADS
# A limiter belongs to the event loop that made it; the test suite starts several loops.
_read_lanes: "WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]" = WeakKeyDictionary()


def configure(read_threads: int) -> None:
    """Set the read lane's width (from the READ_THREADS setting) before the app serves."""
    global _read_threads
    _read_threads = read_threads
    _read_lanes.clear()


def _read_lane() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    lane = _read_lanes.get(loop)
    if lane is None:
        lane = _read_lanes[loop] = anyio.CapacityLimiter(_read_threads)
    return lane


async def read(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a lock-free database read on the read lane and return its result."""
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs), limiter=_read_lane())
