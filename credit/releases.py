"""Releases from the hold list: an accounts user lets a retailer buy until a date, with a reason;
it lapses by itself after that date, and an admin may end it early. Every change is audited."""

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import errors
from access import audit
from access.actor import Actor
from kit.cells import IST
from credit.bills_cache import today_ist
from credit.schemas import ReleaseRead
from models import CreditRelease, Retailer, utcnow

MAX_RELEASE_DAYS = 366  # a release is a decision for weeks, not a way to switch holds off


def _read(release: CreditRelease) -> ReleaseRead:
    return ReleaseRead(retailer_code=release.retailer_code, until=release.until_date, reason=release.reason,
                       released_by=release.released_by, released_at=release.released_at)


def active_releases(session: Session, *, on: date) -> dict[str, ReleaseRead]:
    """The release that holds on `on` for each retailer code (the latest one made, if several)."""
    rows = session.scalars(select(CreditRelease).where(CreditRelease.until_date >= on, CreditRelease.ended_at.is_(None))
                           .order_by(CreditRelease.released_at, CreditRelease.id))
    return {row.retailer_code: _read(row) for row in rows if row.released_at.astimezone(IST).date() <= on}


def release(session: Session, *, retailer_code: str, until: date, reason: str, actor: Actor,
            now: datetime | None = None) -> ReleaseRead:
    """Release a retailer from the hold list until `until` (IST, inclusive)."""
    today = today_ist(now)
    if session.get(Retailer, retailer_code) is None:
        raise errors.NotFound(f"There is no retailer with code {retailer_code!r}.",
                              [errors.item(["path", "retailer_code"], "unknown retailer code")])
    if until < today:
        raise errors.InvalidInput(f"The release date {until:%d-%m-%Y} has passed; give today or a later date.",
                                  [errors.item(["body", "until"], "must be today or later")])
    if until > today + timedelta(days=MAX_RELEASE_DAYS):
        raise errors.InvalidInput(f"A release lasts at most {MAX_RELEASE_DAYS} days (until "
                                  f"{today + timedelta(days=MAX_RELEASE_DAYS):%d-%m-%Y}).",
                                  [errors.item(["body", "until"], f"at most {MAX_RELEASE_DAYS} days ahead")])
    row = CreditRelease(retailer_code=retailer_code, until_date=until, reason=reason, released_by=actor.name,
                        released_at=now or utcnow())
    session.add(row)
    audit.record(session, actor, "credit.release", target=retailer_code, detail={"until": until.isoformat(), "reason": reason})
    session.commit()
    return _read(row)


def end_release(session: Session, *, retailer_code: str, actor: Actor, now: datetime | None = None) -> int:
    """End every release of the retailer that still holds; 404 when none does."""
    now = now or utcnow()
    rows = session.scalars(select(CreditRelease).where(CreditRelease.retailer_code == retailer_code,
                                                       CreditRelease.ended_at.is_(None),
                                                       CreditRelease.until_date >= today_ist(now))).all()
    if not rows:
        raise errors.NotFound(f"Retailer {retailer_code!r} has no release that still holds.",
                              [errors.item(["path", "retailer_code"], "no active release")])
    for row in rows:
        row.ended_at, row.ended_by = now, actor.name
    audit.record(session, actor, "credit.release_ended", target=retailer_code, detail={"releases": len(rows)})
    session.commit()
    return len(rows)
