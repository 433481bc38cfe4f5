"""Domain events between rooms of the house, delivered after the transaction commits.

A service publishes an event (e.g. ``ScreeningCompleted``); other apps subscribe a
handler (the protocol engine will open tasks from it). Handlers run on commit, so a
rolled-back write never announces anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

_handlers: dict[type[Any], list[Callable[[Any], None]]] = defaultdict(list)


def subscribe[E](event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
    """Register ``handler`` for ``event_type``; returns a function that unsubscribes it."""
    _handlers[event_type].append(handler)
    return lambda: _handlers[event_type].remove(handler)


def publish(event: object) -> None:
    for handler in list(_handlers[type(event)]):
        transaction.on_commit(lambda h=handler: h(event))  # type: ignore[misc]
