"""API keys and roles: create, list, revoke, and check a key presented with a request.

Keys are 32 random bytes (URL-safe text); only their SHA-256 is stored. A slow password hash
is not needed for random keys of this length, and a fast one keeps every request cheap.
"""

import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from access import audit
from access.actor import ROLES, SYSTEM, Actor, role_allows
import errors
from kit.commands import command
from database import begin_write
from models import ApiKey, utcnow
from access.schemas import ApiKeyCreated, ApiKeyRead

KEY_PREFIX = "dba_"
LAST_USED_EVERY = timedelta(minutes=1)  # refresh last_used_at at most this often: no write per request


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, *, name: str, role: str, actor: Actor = SYSTEM) -> ApiKeyCreated:
    """A new key; the plain key is in the answer once and never stored."""
    name = name.strip()
    if role not in ROLES:
        raise errors.InvalidInput(f"Role must be one of {', '.join(ROLES)}, not {role!r}.",
                                  [errors.item(["body", "role"], f"one of {', '.join(ROLES)}")])
    if not name or len(name) > 100:
        raise errors.InvalidInput("A key needs a name of 1 to 100 characters, e.g. 'accounts-desk-1'.",
                                  [errors.item(["body", "name"], "1 to 100 characters")])
    session.rollback()
    begin_write(session)  # the name check and the insert in one write transaction
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise errors.Conflict(f"A key named {name!r} already exists; pick another name or revoke that one.")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, role=role, key_hash=hash_key(plain), prefix=plain[:10])
    session.add(key)
    session.flush()
    audit.record(session, actor, "key.create", target=name, detail={"role": role})
    session.commit()
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=plain)


def list_keys(session: Session) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(key) for key in session.scalars(select(ApiKey).order_by(ApiKey.id))]


def revoke_key(session: Session, *, name: str, actor: Actor = SYSTEM) -> ApiKeyRead:
    session.rollback()
    begin_write(session)
    key = session.scalars(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None:
        raise errors.NotFound(f"There is no key named {name!r}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(session, actor, "key.revoke", target=name)
    session.commit()
    KEY_CACHE.clear()
    return ApiKeyRead.model_validate(key)


def count_active(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))) or 0


class KeyCache:
    """Recently checked keys (by hash), so most requests need no database read.

    An entry lives `ttl` seconds; revoking a key in this process clears the cache at once, and
    the other worker processes (WORKERS) stop taking it within `ttl`.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Actor, float]] = {}
        self._lock = threading.Lock()

    def get(self, presented: str | None) -> Actor | None:
        if not presented:
            return None
        entry = self._entries.get(hash_key(presented.strip()))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, presented: str, actor: Actor) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[hash_key(presented.strip())] = (Actor(actor.name, actor.role), time.monotonic() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


KEY_CACHE = KeyCache()


def check_role(known: Actor, *, needed: str, address: str | None, request_id: str | None) -> Actor:
    if not role_allows(known.role, needed):
        raise errors.Forbidden(f"The key {known.name!r} has the {known.role} role; this needs {needed} or above.")
    return Actor(name=known.name, role=known.role, address=address, request_id=request_id)


def authenticate(session: Session, *, presented: str | None, needed: str, address: str | None,
                 request_id: str | None) -> Actor:
    """The actor behind a presented key; 401 for none or an unknown or revoked key, 403 for a low role."""
    if not presented:
        raise errors.Unauthorized("This needs an API key in the X-API-Key header; ask an admin for one "
                                  f"({command('manage.py create-key NAME ROLE')}).")
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(presented.strip()))).first()
    if key is None or key.revoked_at is not None:
        raise errors.Unauthorized("The API key is unknown or revoked; ask an admin for a valid one.")
    actor = check_role(Actor(name=key.name, role=key.role), needed=needed, address=address, request_id=request_id)
    KEY_CACHE.put(presented, actor)
    now, key_id = utcnow(), key.id
    stale = key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY
    session.rollback()  # end the read: a write must not follow a read in one SQLite transaction
    if stale:
        _touch(session, key_id=key_id, now=now)
    return actor


def _touch(session: Session, *, key_id: int, now: datetime) -> None:
    """Best effort: a busy database must not turn a good key into an error."""
    try:
        begin_write(session)
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        session.commit()
    except OperationalError:
        session.rollback()
