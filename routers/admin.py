"""API keys and the audit trail (admin only)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from access import audit
from access import keys
from kit import lanes
from database import SessionDep
from routers.deps import AdminDep, PageDep, SinceQuery, UntilQuery, error_responses
from access.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, AuditEntryRead
from schemas import Page

router = APIRouter(tags=["admin"])


@router.post("/admin/keys", summary="Create an API key (shown once)", response_model=ApiKeyCreated, status_code=201,
             responses=error_responses(409, 422))
async def create_key(session: SessionDep, actor: AdminDep, body: ApiKeyCreate) -> ApiKeyCreated:
    return await lanes.work(keys.create_key, session, name=body.name, role=body.role, actor=actor)


@router.get("/admin/keys", summary="API keys (never the keys themselves)", response_model=list[ApiKeyRead],
            responses=error_responses())
async def list_keys(session: SessionDep, actor: AdminDep) -> list[ApiKeyRead]:
    return await lanes.read(keys.list_keys, session)


@router.delete("/admin/keys/{name}", summary="Revoke an API key", response_model=ApiKeyRead,
               responses=error_responses(404, 422))
async def revoke_key(session: SessionDep, actor: AdminDep, name: Annotated[str, Path(max_length=100)]) -> ApiKeyRead:
    return await lanes.work(keys.revoke_key, session, name=name, actor=actor)


@router.get("/admin/audit", summary="The audit trail, newest first", response_model=Page[AuditEntryRead],
            responses=error_responses(422))
async def list_audit(
    session: SessionDep,
    actor: AdminDep,
    page: PageDep,
    by: Annotated[str | None, Query(max_length=100, description="Key name")] = None,
    action: Annotated[str | None, Query(max_length=40, description="e.g. prices, prm.import, key")] = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Page[AuditEntryRead]:
    return await lanes.read(audit.list_entries, session, page=page, actor=by, action=action, since=since, until=until)
