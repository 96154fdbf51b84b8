"""Health checks: can we reach the database, and Tally."""

import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from schemas import HealthRead
from settings import APP_VERSION
from tally_client import TallyClient

log = logging.getLogger("dist.health")


def database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.error("health: database unreachable: %s", exc)
        return False


def check(engine: Engine, tally: TallyClient) -> HealthRead:
    """The database decides the status; Tally is optional, so it is reported but never fails it."""
    db_ok = database_ok(engine)
    return HealthRead(status="ok" if db_ok else "degraded", database="ok" if db_ok else "unreachable",
                      version=APP_VERSION, tally=tally.probe())
