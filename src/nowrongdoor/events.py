"""Domain events between rooms of the house.

A service publishes an event (e.g. ``ScreeningCompleted``) inside its transaction;
other apps subscribe handlers. By default a handler runs after the transaction commits,
so a rolled-back write never announces anything. A handler subscribed with
``in_transaction=True`` runs at once, inside the publisher's transaction: for writing
an outbox row that must commit (or roll back) with the write that caused it, as the
protocol engine does so that no trigger is lost between commit and evaluation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

_handlers: dict[type[Any], list[Callable[[Any], None]]] = defaultdict(list)
_in_transaction: dict[type[Any], list[Callable[[Any], None]]] = defaultdict(list)


def subscribe[E](event_type: type[E], handler: Callable[[E], None], *, in_transaction: bool = False
                 ) -> Callable[[], None]:
    """Register ``handler`` for ``event_type``; returns a function that unsubscribes it."""
    registry = _in_transaction if in_transaction else _handlers
    registry[event_type].append(handler)
    return lambda: registry[event_type].remove(handler)


def publish(event: object) -> None:
    for handler in list(_in_transaction[type(event)]):
        handler(event)
    for handler in list(_handlers[type(event)]):
        transaction.on_commit(lambda h=handler: h(event))  # type: ignore[misc]
