"""Helpers for tools that start the service on 127.0.0.1: a free port, a key in a database, and a
scratch folder that goes away when the tool exits."""

import atexit
import shutil
import socket
import tempfile
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def admin_key_for(database_url: str, name: str) -> str:
    """Bring the database at `database_url` to the latest schema and make an admin key in it."""
    import database
    from access import keys

    engine = database.make_engine(database_url)
    database.upgrade_schema(engine)
    try:
        with database.make_sessionmaker(engine)() as session:
            return keys.create_key(session, name=name, role="admin").key
    finally:
        engine.dispose()


def scratch_dir(prefix: str) -> Path:
    """A new folder under the system's temp folder, removed when the process exits.

    Benchmarks write hundreds of MB of workbooks and databases; left behind, a few runs fill /tmp.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
