"""Dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends, Query

from paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageParams
from schemas import ErrorBody


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (1-1000).")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """The `responses=` entry documenting each error status with the shared error body."""
    return {code: {"model": ErrorBody} for code in codes}
