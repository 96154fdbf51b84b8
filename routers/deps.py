"""Dependencies shared by the routers."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from pydantic import BeforeValidator, Field
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from access import keys
from access.actor import Actor
from kit.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageParams
from errors import ErrorBody
from schemas import RETAILER_CODE_CHARS
from kit.cells import query_amount, query_moment, query_moment_until
from credit.bills_cache import BillsService
from credit.report import CreditRules
from kit import lanes
from tally_cache import TallyService
from kit.files import XLSX_TYPE, Download


async def page_params(  # async: a pure function needs no trip to the thread pool
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (1-1000).")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]

# Query moments: ISO or day-first text, naive read as IST (never a naive datetime, which the
# UTC columns refuse). A date alone starts the day for `since`, ends it for `until`.
SinceDateTime = Annotated[datetime, BeforeValidator(query_moment)]
UntilDateTime = Annotated[datetime, BeforeValidator(query_moment_until)]
# An optional rupee amount of 0 or more typed into a query: Indian grouping and the rupee sign
# are accepted. The limits sit on the Decimal, not on the query, so that None (no filter) passes.
AmountQuery = Annotated[
    Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), max_digits=14, decimal_places=2)] | None,
    BeforeValidator(query_amount),
]

# The time filters of every list: one wording in /docs, one parse (kit.cells.parse_moment).
SinceQuery = Annotated[SinceDateTime | None, Query(
    description="From: 2026-11-21, 21-11-2026 14:05 or 2026-11-21T14:05:00+05:30 (no zone means IST)",
    examples=["2026-11-01"])]
UntilQuery = Annotated[UntilDateTime | None, Query(
    description="To, inclusive: a date alone includes that whole day (IST)", examples=["2026-11-30"])]
Refresh = Annotated[bool, Query(description="Read Tally now instead of the cache (accounts role; audited).")]


# A retailer code in the path, as it is: `{code:path}` routes take a slash in it as part of the
# code (JPR/0042); spaces, `#`, `?` and `%` come percent-encoded. Up to the column's length.
RetailerCodePath = Annotated[str, Path(min_length=1, max_length=RETAILER_CODE_CHARS, description=(
    "The retailer code as it is, slash included (JPR/0042); percent-encode spaces, #, ? and %."),
    examples=["JPR/0042"])]
RetailerCodeQuery = Annotated[str | None, Query(max_length=RETAILER_CODE_CHARS, examples=["JPR/0042"])]

XLSX_RESPONSE = {200: {"content": {XLSX_TYPE: {}}}}


async def get_tally(request: Request) -> TallyService:
    return request.app.state.tally  # type: ignore[no-any-return]


async def get_bills(request: Request) -> BillsService:
    return request.app.state.bills  # type: ignore[no-any-return]


async def get_rules(request: Request) -> CreditRules:
    return request.app.state.credit_rules  # type: ignore[no-any-return]


TallyDep = Annotated[TallyService, Depends(get_tally)]
BillsDep = Annotated[BillsService, Depends(get_bills)]
RulesDep = Annotated[CreditRules, Depends(get_rules)]


def file_response(download: Download) -> Response:
    """A download as an attachment under its own file name."""
    return Response(download.content, media_type=download.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{download.file_name}"'})


def json_or_file(answer: BaseModel | Download) -> Response:
    """A service's answer that is either a body or a file (the `format=` routes)."""
    if isinstance(answer, Download):
        return file_response(answer)
    # Serialised here: the service built and checked the model, and a second validation of
    # thousands of rows by FastAPI would double the time of the whole answer.
    return Response(answer.model_dump_json(), media_type="application/json")


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """The `responses=` entry documenting each error status with the shared error body.

    401 and 403 are added to every route: everything but `/`, `/health` and the docs needs a key.
    """
    return {code: {"model": ErrorBody} for code in sorted({*codes, 401, 403})}


# --- who is asking: API keys and roles ---------------------------------------------------------

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="An API key (.venv/bin/python manage.py create-key NAME ROLE on the server).")


def requires(role: str) -> Callable[..., Awaitable[Actor]]:
    async def check(request: Request, presented: Annotated[str | None, Security(api_key_header)] = None) -> Actor:
        address = request.client.host if request.client else None
        request_id = getattr(request.state, "request_id", None)
        known = keys.KEY_CACHE.get(presented)
        if known is not None:  # the common case: no database, no thread
            return keys.check_role(known, needed=role, address=address, request_id=request_id)

        def look_up() -> Actor:
            with request.app.state.sessionmaker() as session:
                return keys.authenticate(session, presented=presented, needed=role, address=address,
                                         request_id=request_id)

        return await lanes.work(look_up)  # may write: a key's last use is saved now and then

    return check


ViewerDep = Annotated[Actor, Depends(requires("viewer"))]
AccountsDep = Annotated[Actor, Depends(requires("accounts"))]
AdminDep = Annotated[Actor, Depends(requires("admin"))]
VIEWER = Depends(requires("viewer"))
