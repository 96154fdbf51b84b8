"""Helpers for tools that start the service on 127.0.0.1: a free port, and a key in a database."""

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def admin_key_for(database_url: str, name: str) -> str:
    """Bring the database at `database_url` to the latest schema and make an admin key in it."""
    import database
    import keys

    engine = database.make_engine(database_url)
    database.upgrade_schema(engine)
    try:
        with database.make_sessionmaker(engine)() as session:
            return keys.create_key(session, name=name, role="admin").key
    finally:
        engine.dispose()
