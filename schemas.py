"""Pydantic v2 request and response bodies (kept apart from the ORM classes in models.py).

Money is always `Money`: a Decimal with two places that JSON carries as a string ("125000.00"),
so no client ever parses a rupee amount into a binary float.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from money import format_money

Money = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2),
    PlainSerializer(format_money, return_type=str, when_used="json"),
]

T = TypeVar("T")


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str = "invalid"


class ErrorBody(BaseModel):
    detail: str = Field(description="One sentence a person can act on.")
    errors: list[ErrorItem] = Field(default_factory=list)
    request_id: str | None = Field(default=None, description="Only on 500s; the same id is in the server log.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class RootRead(BaseModel):
    name: str
    version: str
    docs: str
    redoc: str
    health: str


class HealthRead(BaseModel):
    status: str
    database: str
    version: str
    tally: str | None = None


class ORMRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Timestamped(ORMRead):
    created_at: datetime
    updated_at: datetime
