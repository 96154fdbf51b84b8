"""A named lock shared by every process using one database, released by the OS if its holder dies.

With several worker processes (WORKERS), a threading lock no longer keeps imports one at a time,
and a worker starting up cannot tell a crashed import's run from one a sibling is running. This
lock answers both: SQLite gets a lock file beside the database file (flock on POSIX, msvcrt on
Windows), PostgreSQL a session-level advisory lock on a connection of its own. Either one goes
away with the process that held it, so "nobody holds the import lock" means "no import is alive".
"""

import os
import sys
import threading
import time
import zlib
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Engine, text

_in_memory_locks: dict[str, threading.Lock] = {}
_in_memory_guard = threading.Lock()
WINDOWS_RETRY_SECONDS = 0.2
POLL_SECONDS = 0.05


def _advisory_key(name: str) -> int:
    return zlib.crc32(f"dist-backend:{name}".encode())


class ProcessLock:
    def __init__(self, engine: Engine, name: str) -> None:
        self.name = name
        self._engine = engine
        self._fd: int | None = None
        self._connection: Connection | None = None
        self._thread_lock: threading.Lock | None = None
        self._path: Path | None = None
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if database and database != ":memory:" and not database.startswith("file::memory:"):
                self._path = Path(f"{database}.{name}.lock")
            else:  # a private in-memory database: only this process can see it
                with _in_memory_guard:
                    self._thread_lock = _in_memory_locks.setdefault(name, threading.Lock())

    def acquire(self, *, blocking: bool, timeout: float | None = None) -> bool:
        """Take the lock; with `timeout` (and not blocking), keep trying that many seconds."""
        if timeout is not None and not blocking:
            deadline = time.monotonic() + timeout
            while not self.acquire(blocking=False):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(POLL_SECONDS)
            return True
        if self._thread_lock is not None:
            return self._thread_lock.acquire(blocking=blocking)
        if self._path is not None:
            return self._lock_file(blocking)
        return self._lock_advisory(blocking)

    def release(self) -> None:
        if self._thread_lock is not None:
            self._thread_lock.release()
        elif self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                if sys.platform == "win32":
                    import msvcrt

                    os.lseek(fd, 0, os.SEEK_SET)
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        elif self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _advisory_key(self.name)})
                connection.commit()
            finally:
                connection.close()

    def _lock_file(self, blocking: bool) -> bool:
        assert self._path is not None
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if sys.platform == "win32":
                import msvcrt

                while True:
                    try:
                        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                        break
                    except OSError:
                        if not blocking:
                            raise
                        time.sleep(WINDOWS_RETRY_SECONDS)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _lock_advisory(self, blocking: bool) -> bool:
        connection = self._engine.connect()
        try:
            if blocking:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _advisory_key(self.name)})
                got = True
            else:
                got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                              {"key": _advisory_key(self.name)}).scalar())
            connection.commit()  # a session-level lock outlives the transaction; do not sit idle in one
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def __enter__(self) -> "ProcessLock":
        self.acquire(blocking=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()
