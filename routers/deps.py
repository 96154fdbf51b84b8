"""Dependencies shared by the routers."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from access import keys
from kit.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageParams
from schemas import ErrorBody, SinceDateTime, UntilDateTime


async def page_params(  # async: a pure function needs no trip to the thread pool
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (1-1000).")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]

# The time filters of every list: one wording in /docs, one parse (schemas.SinceDateTime).
SinceQuery = Annotated[SinceDateTime | None, Query(
    description="From: 2026-11-21, 21-11-2026 14:05 or 2026-11-21T14:05:00+05:30 (no zone means IST)")]
UntilQuery = Annotated[UntilDateTime | None, Query(
    description="To, inclusive: a date alone includes that whole day (IST)")]


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """The `responses=` entry documenting each error status with the shared error body.

    401 and 403 are added to every route: everything but `/`, `/health` and the docs needs a key.
    """
    return {code: {"model": ErrorBody} for code in sorted({*codes, 401, 403})}


# --- who is asking: API keys and roles ---------------------------------------------------------

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="An API key (python manage.py create-key NAME ROLE).")


def requires(role: str) -> Callable[..., Awaitable[keys.Actor]]:
    async def check(request: Request, presented: Annotated[str | None, Security(api_key_header)] = None) -> keys.Actor:
        address = request.client.host if request.client else None
        request_id = getattr(request.state, "request_id", None)
        known = keys.KEY_CACHE.get(presented)
        if known is not None:  # the common case: no database, no thread
            return keys.check_role(known, needed=role, address=address, request_id=request_id)

        def look_up() -> keys.Actor:
            with request.app.state.sessionmaker() as session:
                return keys.authenticate(session, presented=presented, needed=role, address=address,
                                         request_id=request_id)

        return await run_in_threadpool(look_up)

    return check


ViewerDep = Annotated[keys.Actor, Depends(requires("viewer"))]
AccountsDep = Annotated[keys.Actor, Depends(requires("accounts"))]
AdminDep = Annotated[keys.Actor, Depends(requires("admin"))]
VIEWER = Depends(requires("viewer"))
AUTH_ERRORS = (401, 403)
