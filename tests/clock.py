"""A clock moved by hand, put in place of `utcnow` in the modules that judge ages and days."""

from datetime import datetime, timedelta
from types import ModuleType

import pytest

from models import utcnow


class Clock:
    """The caches', the breaker's and the credit reports' clock, moved by hand."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


def controlled_clock(monkeypatch: pytest.MonkeyPatch, *modules: ModuleType) -> Clock:
    clock = Clock()
    for module in modules:
        monkeypatch.setattr(module, "utcnow", clock.now)
    return clock
