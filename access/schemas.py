"""Bodies of the access package's answers and requests: API keys and the audit trail."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas import ORMRead


class ApiKeyRead(ORMRead):
    id: int
    name: str
    role: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself: shown this once, never stored")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(examples=["priya-accounts"])]
    role: Annotated[str, Field(pattern="^(viewer|accounts|admin)$", examples=["accounts"])]


class AuditEntryRead(ORMRead):
    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    target: str | None
    detail: str | None
    address: str | None
    request_id: str | None
