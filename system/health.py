"""Health checks: can we reach the database, and what was last seen of Tally."""

import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

import tally_cache
from schemas import HealthRead
from settings import APP_VERSION
from tally_cache import TallyService

log = logging.getLogger("dist.health")


def database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.error("health: database unreachable: %s", exc)
        return False


def check(engine: Engine, tally: TallyService) -> HealthRead:
    """The database decides the status; Tally is optional, so it is reported but never fails it.

    Tally is reported as the service last saw it, never asked: anyone may call /health, and a
    caller must not be able to make the service queue requests at Tally (which answers one at a time).
    """
    db_ok = database_ok(engine)
    seen, seen_at = tally_cache.observed(tally)
    return HealthRead(status="ok" if db_ok else "degraded", database="ok" if db_ok else "unreachable",
                      version=APP_VERSION, tally=seen, tally_seen_at=seen_at)
