"""Releases from the hold list on a real database: they hold until their day, lapse by
themselves, end early only when an admin says so, and every change is audited."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import errors
from access.actor import Actor
from credit.releases import active_releases, end_release, release
from models import AuditEntry, Retailer

DESK = Actor(name="priya", role="accounts")
BOSS = Actor(name="owner", role="admin")
MORNING = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)  # 10:00 IST


@pytest.fixture
def shop(session: Session) -> str:
    session.add(Retailer(code="JPR/0042", name="Sharma Mobile Point"))
    session.commit()
    return "JPR/0042"


def test_a_release_holds_through_its_day_then_lapses(session: Session, shop: str) -> None:
    release(session, retailer_code=shop, until=date(2026, 12, 15), reason="cheque promised", actor=DESK, now=MORNING)

    assert set(active_releases(session, on=date(2026, 12, 15))) == {shop}
    assert active_releases(session, on=date(2026, 12, 16)) == {}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "credit.release")).one()
    assert (entry.actor, entry.target) == ("priya", shop) and "cheque promised" in (entry.detail or "")


def test_an_admin_ends_a_release_early(session: Session, shop: str) -> None:
    release(session, retailer_code=shop, until=date(2026, 12, 15), reason="festival stock", actor=DESK, now=MORNING)

    assert end_release(session, retailer_code=shop, actor=BOSS, now=MORNING) == 1
    assert active_releases(session, on=date(2026, 12, 3)) == {}
    with pytest.raises(errors.NotFound, match="no release that still holds"):
        end_release(session, retailer_code=shop, actor=BOSS, now=MORNING)


@pytest.mark.parametrize(("until", "message"), [(date(2026, 12, 1), "has passed"), (date(2028, 1, 1), "at most 366 days")])
def test_a_release_date_in_the_past_or_too_far_is_refused(session: Session, shop: str, until: date, message: str) -> None:
    with pytest.raises(errors.InvalidInput, match=message) as refused:
        release(session, retailer_code=shop, until=until, reason="x", actor=DESK, now=MORNING)

    assert refused.value.errors[0].loc == ["body", "until"]
    assert session.scalars(select(AuditEntry)).all() == []


def test_an_unknown_retailer_cannot_be_released(session: Session) -> None:
    with pytest.raises(errors.NotFound):
        release(session, retailer_code="NOPE", until=date(2026, 12, 3), reason="x", actor=DESK, now=MORNING)
