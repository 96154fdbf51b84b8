"""The FastAPI application: `create_app()`, lifespan, logging, routers.

`uvicorn main:app` works: `app` is built on first access (see `__getattr__` below), so
importing this module, as the tests do, never reads `.env`.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

import database
from kit import lanes
import prm_import
from errors import add_exception_handlers
from kit.request_log import RequestLogMiddleware
import tally_cache
from credit import bills_cache
from credit.ageing import Slabs
from credit.report import CreditRules
from kit import workbooks
from routers import admin, channel, credit, docs, prices, prm, reports, system, tally
from kit.upload_limit import BodySizeLimitMiddleware
from settings import APP_NAME, APP_VERSION, Settings

log = logging.getLogger("dist")
STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """
Back office of a mobile-phone distributor: PRM IMEI imports, dealer prices, Tally ledger
balances and the negative / OD report.

Money is a JSON **string** with two decimal places (`"125000.00"`), never a number.
Every error answers `{"detail": "...", "errors": [{"loc": [...], "msg": "...", "type": "..."}]}`.
"""


def configure_logging(level: str) -> None:
    """A plain, readable line format; leaves handlers alone if someone (uvicorn, pytest) set them."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        root.addHandler(handler)
    logging.getLogger("dist").setLevel(level)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    lanes.configure(read_threads=settings.read_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = database.make_engine(settings.database_url)
        database.upgrade_schema(engine)
        app.state.engine = engine
        app.state.sessionmaker = database.make_sessionmaker(engine)
        with app.state.sessionmaker() as session:
            prm_import.abandon_stale_runs(session)
        workbooks.remove_stale_uploads()
        app.state.tally = tally_cache.make_service(
            host=settings.tally_host, company=settings.tally_company,
            connect_timeout=settings.tally_connect_timeout_seconds, read_timeout=settings.tally_read_timeout_seconds,
            ttl_minutes=settings.cache_ttl_minutes, debtors_group=settings.tally_debtors_group,
            sessions=app.state.sessionmaker, engine=engine, deadline=settings.tally_deadline_seconds,
            breaker_seconds=settings.tally_breaker_seconds, waiters=settings.tally_waiters)
        app.state.bills = bills_cache.make_bills_service(app.state.tally, default_credit_days=settings.default_credit_days)
        app.state.credit_rules = CreditRules(slabs=Slabs(settings.slab_bounds), hold_overdue_days=settings.hold_overdue_days,
                                             hold_min_od=settings.hold_min_od)
        log.info("%s %s started; database %s", APP_NAME, APP_VERSION, engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            app.state.tally.close()
            engine.dispose()

    # FastAPIOffline mounts its copies of Swagger UI and ReDoc; routers/docs.py serves the two pages.
    app = FastAPIOffline(title=APP_NAME, version=APP_VERSION, description=DESCRIPTION, lifespan=lifespan,
                         docs_url=None, redoc_url=None)
    app.state.settings = settings
    add_exception_handlers(app)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Content-Disposition"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestLogMiddleware)
    # credit before reports: its /reports/negative/{code}/history must match before the drill-down's {code:path}.
    for router in (docs.router, system.router, prm.router, channel.router, prices.router, tally.router, credit.router,
                   reports.router, admin.router):
        app.include_router(router)
    # The office page: static files only, no build step; it signs in with an API key like any client.
    app.mount("/ui", StaticFiles(directory=STATIC_DIR, html=True), name="ui")
    return app


_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # `uvicorn main:app` asks for `app`; build it then, from the environment and `.env`.
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module 'main' has no attribute {name!r}")
