"""The one clock (ARCHITECTURE.md rule 4).

Every deadline, validity date and audit time asks ``clock.now()``; tests and the
simulator move time with ``clock.frozen(when)`` instead of patching ``datetime``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_frozen: ContextVar[dt.datetime | None] = ContextVar("nowrongdoor_frozen_now", default=None)


def now() -> dt.datetime:
    return _frozen.get() or timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextmanager
def frozen(when: dt.datetime) -> Iterator[dt.datetime]:
    if timezone.is_naive(when):
        raise ValueError("clock.frozen needs an aware datetime")
    token = _frozen.set(when)
    try:
        yield when
    finally:
        _frozen.reset(token)
