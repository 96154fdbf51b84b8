"""The audit trail: every write records who, what, when and from where, in the same transaction."""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

import errors
from access.actor import Actor
from models import AuditEntry
from kit.paging import PageParams, check_period, paginate
from access.schemas import AuditEntryRead
from schemas import Page


def record(session: Session, actor: Actor, action: str, *, target: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Add an entry to the caller's transaction: the change and its record commit together."""
    session.add(AuditEntry(actor=actor.name, role=actor.role, action=action, target=(target or "")[:255] or None,
                           detail=json.dumps(detail, default=str, ensure_ascii=False)[:4000] if detail else None,
                           address=actor.address, request_id=actor.request_id))


def list_entries(session: Session, *, page: PageParams, actor: str | None = None, action: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Page[AuditEntryRead]:
    check_period(since, until)
    stmt = select(AuditEntry).order_by(desc(AuditEntry.id))
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at <= until)
    return paginate(session, stmt, page, AuditEntryRead.model_validate)
