"""Who is asking: the acting key's name and role, and where the request came from.

Kept apart from `keys` so the audit trail and the services can name an actor without importing
key storage.
"""

from dataclasses import dataclass

ROLES = ("viewer", "accounts", "admin")  # each includes everything before it


@dataclass(frozen=True)
class Actor:
    """Who is asking: the key's name and role, and where the request came from."""

    name: str
    role: str
    address: str | None = None
    request_id: str | None = None


SYSTEM = Actor(name="system", role="admin")


def role_allows(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)
