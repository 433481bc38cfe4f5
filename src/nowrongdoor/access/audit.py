"""The append-only, hash-chained audit log of every read, write and refusal.

``record_event`` appends events under a lock on the chain head, in the caller's
transaction, so a write and its audit row commit or roll back together; ``batched``
gathers a request's read events so the lock is taken once per request. Refusals are
recorded *before* any write transaction starts (see ``decisions.authorize``), so they
survive the error that follows them.

``verify_chain`` recomputes every hash in order and names the first row that does not
fit: an edited row (its content no longer matches its hash), a deleted row (a gap in
``seq`` or a broken link), a reordered pair (links point the wrong way), or a truncated
tail (the chain head remembers more than the log holds).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _content(
    *,
    seq: int,
    at: dt.datetime,
    actor_id: int | None,
    actor_username: str,
    actor_agency_id: int | None,
    owner_agency_id: int | None,
    youth_id: int | None,
    category: str,
    purpose: str,
    action: str,
    allowed: bool,
    basis: str,
    reason: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any],
) -> str:
    return json.dumps(
        {
            "seq": seq,
            "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": actor_id,
            "actor_username": actor_username,
            "actor_agency": actor_agency_id,
            "owner_agency": owner_agency_id,
            "youth": youth_id,
            "category": category,
            "purpose": purpose,
            "action": action,
            "allowed": allowed,
            "basis": basis,
            "reason": reason,
            "object_type": object_type,
            "object_id": object_id,
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def event_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def _content_of(event: AuditEvent) -> str:
    return _content(
        seq=event.seq,
        at=event.at,
        actor_id=event.actor_id,
        actor_username=event.actor_username,
        actor_agency_id=event.actor_agency_id,
        owner_agency_id=event.owner_agency_id,
        youth_id=event.youth_id,
        category=event.category,
        purpose=event.purpose,
        action=event.action,
        allowed=event.allowed,
        basis=event.basis,
        reason=event.reason,
        object_type=event.object_type,
        object_id=event.object_id,
        detail=event.detail,
    )


def record_event(
    *,
    actor: Any,
    action: str,
    allowed: bool = True,
    youth_id: int | None = None,
    owner_agency_id: int | None = None,
    category: str = "",
    purpose: str = "",
    basis: str = "",
    reason: str = "",
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit event. ``detail`` holds ids and counts only, never names.

    Inside a transaction the event is appended at once, with any events a ``batched()``
    block is holding, so a write and its audit rows commit or roll back together.
    Outside a transaction, inside ``batched()``, an allowed event waits for the block's
    end; a refusal never waits."""
    fields: dict[str, Any] = {
        "at": clock.now(),
        "actor_id": getattr(actor, "pk", None),
        "actor_username": getattr(actor, "username", "") or "system",
        "actor_agency_id": getattr(actor, "agency_id", None),
        "owner_agency_id": owner_agency_id,
        "youth_id": youth_id,
        "category": category,
        "purpose": purpose,
        "action": action,
        "allowed": allowed,
        "basis": basis,
        "reason": reason[:300],
        "object_type": object_type,
        "object_id": object_id,
        "detail": detail or {},
    }
    pending = _pending.get()
    if pending is None or not allowed:
        _append([fields])
    elif transaction.get_connection().in_atomic_block:
        events = [*pending, fields]
        pending.clear()
        _append(events)
    else:
        pending.append(fields)


_pending: ContextVar[list[dict[str, Any]] | None] = ContextVar("audit_pending", default=None)


@contextmanager
def batched() -> Iterator[None]:
    """Hold the audit events of allowed reads made outside a transaction and append them
    together: with the block's first write (in its transaction) or when the block ends,
    also when it ends in an error. One web request is one block (``access.middleware``):
    its reads and its write take the chain-head lock once instead of once per event.
    Refusals are appended at once. A write transaction that rolls back after its audit
    append takes the reads held with it; the request has then failed and shown nothing.
    Nested blocks join the outer one."""
    if _pending.get() is not None:
        yield
        return
    token = _pending.set([])
    try:
        yield
    finally:
        events = _pending.get() or []
        _pending.reset(token)
        if events:
            _append(events)


def _append(events: list[dict[str, Any]]) -> None:
    """Chain ``events`` onto the log in order, under one lock on the chain head."""
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        rows = []
        for fields in events:
            seq = head.last_seq + 1
            digest = event_hash(head.last_hash, _content(seq=seq, **fields))
            rows.append(AuditEvent(seq=seq, prev_hash=head.last_hash, hash=digest, **fields))
            head.last_seq, head.last_hash = seq, digest
        AuditEvent.objects.bulk_create(rows)
        head.save(update_fields=["last_seq", "last_hash"])


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def iter_breaks(progress: Any = None) -> Iterator[ChainBreak]:
    """Yield every place where the chain does not hold, in order."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            yield ChainBreak(expected_seq, f"event {expected_seq} is missing (next present is {event.seq})")
        if event.prev_hash != prev_hash:
            yield ChainBreak(event.seq, "does not link to the event before it (deleted or reordered rows)")
        if event_hash(event.prev_hash, _content_of(event)) != event.hash:
            yield ChainBreak(event.seq, "content does not match its hash (edited row)")
        prev_hash = event.hash
        expected_seq = event.seq + 1
        if progress is not None:
            progress.update(1)
    head = AuditChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None:
        return
    if head.last_seq > last_seq:
        yield ChainBreak(last_seq + 1, f"log ends at event {last_seq} but the chain head records {head.last_seq}")
    elif head.last_seq < last_seq:
        yield ChainBreak(head.last_seq + 1, f"events after {head.last_seq} were added behind the chain head")
    elif head.last_hash != prev_hash:
        yield ChainBreak(last_seq, "does not match the hash the chain head recorded (edited last row)")


def verify_chain(progress: Any = None) -> VerifyResult:
    first = next(iter_breaks(progress), None)
    return VerifyResult(checked=AuditEvent.objects.count(), first_break=first)
