"""The one pagination helper every list endpoint uses."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pydantic import BaseModel

import errors

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def paginate(
    session: Session,
    stmt: Select[Any],
    page: PageParams,
    to_item: Callable[[Any], T] | None = None,
    *,
    scalars: bool = True,
) -> Page[T]:
    """Count the rows of `stmt`, then fetch one page of it (`stmt` must be ordered).

    With `scalars` (`stmt` selects one mapped class), the page comes back as plain rows of that
    table's columns, not ORM objects: `to_item` reads them by attribute all the same, and a list
    page costs about half the CPU without identity-map bookkeeping it never needs.
    """
    # Core execution on the session's connection: a read page needs none of the ORM's machinery.
    connection = session.connection()
    total = connection.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    paged = stmt.limit(page.limit).offset(page.offset)
    if scalars:
        table = stmt.column_descriptions[0]["entity"].__table__
        paged = paged.with_only_columns(*table.columns)
    rows: list[Any] = list(connection.execute(paged))
    items = [to_item(row) for row in rows] if to_item else rows
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


def contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally (escape "\\")."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_period(since: datetime | None, until: datetime | None) -> None:
    """Refuse a `since` later than `until` (an empty list would not say why)."""
    if since and until and since > until:
        raise errors.InvalidInput("'since' is after 'until'; swap them.", [errors.item(["query", "since"], "after until")])
