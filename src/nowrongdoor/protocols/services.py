"""Writes of the response protocols: record trigger events, open and close tasks,
complete, waive and reassign them, and the tick that escalates what is overdue.

An event (a completed screening, a recorded contact) is written to the ``TriggerEvent``
outbox inside the transaction that caused it, then evaluated right after commit; the
tick evaluates any event a stopped process left behind. Evaluation opens the tasks the
county's effective protocols call for (idempotent: a task's key is event + protocol +
step + occurrence) and closes open tasks a later event completes or cancels (a
re-screening task is done when the screening is completed).

The tick marks overdue tasks and escalates them level by level, in batches that each
commit whole: the escalation level and the notifications move together, so a tick
killed half-way and run again notifies nobody twice, and two ticks at once (row locks
with SKIP LOCKED on PostgreSQL; one writer at a time on SQLite) never double-escalate.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q

from nowrongdoor import clock, events
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import audit_decision, authorize_write, context
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import AccessDenied, Immutable, NotFound, ValidationFailed
from nowrongdoor.jurisdiction.profiles import in_force
from nowrongdoor.protocols.engine import SOURCE_AGENCY, Condition, PlannedTask, plan
from nowrongdoor.protocols.library import CATEGORY_OF_AGENCY_TYPE, FACTS
from nowrongdoor.protocols.models import Notification, Task, TriggerEvent
from nowrongdoor.screening.events import ScreeningCompleted
from nowrongdoor.screening.models import Screening
from nowrongdoor.youth.events import ContactRecorded
from nowrongdoor.youth.models import Contact, SourceRecord
from nowrongdoor.youth.selectors import age_on, is_uuid
from nowrongdoor.youth.services import writing_purpose

log = logging.getLogger(__name__)

MIN_REASON = 10
MAX_EVIDENCE = 500
# Roles that oversee an agency's work: they may complete, waive and reassign any of its tasks.
OVERSEERS = {"supervisor"}


# -- events in --------------------------------------------------------------------
def connect() -> None:
    """Subscribe to the events that can trigger protocols (called once, at start-up)."""
    events.subscribe(ScreeningCompleted, _on_screening, in_transaction=True)
    events.subscribe(ContactRecorded, _on_contact, in_transaction=True)


def _on_screening(event: ScreeningCompleted) -> None:
    screening = Screening.objects.only("public_id", "screener_id", "setting").get(pk=event.screening_id)
    record_trigger(
        key=f"screening:{screening.public_id}", event_type="screening_completed", youth_id=event.youth_id,
        agency_id=event.agency_id, actor_id=screening.screener_id, occurred_at=event.completed_at,
        facts={"level": event.level, "immediate_safety": event.immediate_safety, "setting": screening.setting},
    )


def _on_contact(event: ContactRecorded) -> None:
    facts: dict[str, Any] = {"contact_type": event.contact_type}
    for name, value in event.details.items():
        if name in FACTS and (isinstance(value, (str, int, bool))
                              or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            facts[name] = value
    since = event.occurred_at - dt.timedelta(days=365)
    facts["prior_count"] = Contact.objects.filter(
        youth_id=event.youth_id, agency_id=event.agency_id, contact_type=event.contact_type,
        occurred_at__gte=since, occurred_at__lt=event.occurred_at,
    ).exclude(pk=event.contact_id).count()
    record_trigger(
        key=f"contact:{event.public_id}", event_type="contact_recorded", youth_id=event.youth_id,
        agency_id=event.agency_id, actor_id=event.actor_id, occurred_at=event.occurred_at, facts=facts,
    )


def record_trigger(
    *, key: str, event_type: str, youth_id: int, agency_id: int, actor_id: int | None,
    occurred_at: dt.datetime, facts: dict[str, Any],
) -> TriggerEvent:
    """Write the outbox row in the caller's transaction and evaluate it after commit.
    Recording the same key again returns the first row and opens nothing new."""
    agency = Agency.objects.get(pk=agency_id)
    earlier = Screening.objects.filter(youth_id=youth_id, status=Screening.COMPLETED, level="clear_indicators",
                                       completed_at__lt=occurred_at).exists()
    facts = {
        **facts, "source_agency_type": agency.agency_type, "age": _age(youth_id, occurred_at.date()),
        "identified": facts.get("level") == "clear_indicators" or earlier, "previously_identified": earlier,
    }
    row, created = TriggerEvent.objects.get_or_create(key=key, defaults={
        "event_type": event_type, "youth_id": youth_id, "agency": agency, "actor_id": actor_id,
        "occurred_at": occurred_at, "recorded_at": clock.now(), "facts": facts,
    })
    if created:
        transaction.on_commit(lambda: _evaluate_quietly(row.pk))
    return row


def _age(youth_id: int, on: dt.date) -> int | None:
    for record in SourceRecord.objects.filter(youth_id=youth_id).order_by("pk"):
        age = age_on(record, on)
        if age is not None:
            return age
    return None


def _evaluate_quietly(event_id: int) -> None:
    """After commit: a failure here must not fail the user's save; the tick retries."""
    try:
        evaluate(event_id)
    except Exception:  # the outbox row stays unevaluated and the next tick picks it up
        log.exception("protocol evaluation of trigger event %s failed; the tick will retry", event_id)


# -- evaluation --------------------------------------------------------------------
def county_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def evaluate(event_id: int) -> int:
    """Open the tasks the event calls for and close those it completes or cancels.
    Idempotent: an evaluated event is skipped, and task keys are unique. Returns the
    number of tasks opened."""
    with transaction.atomic():
        locked = TriggerEvent.objects.select_related("agency__county")
        if connection.vendor == "postgresql":
            locked = locked.select_for_update(of=("self",))
        event = locked.get(pk=event_id)
        if event.evaluated_at is not None:
            return 0
        force = in_force(event.agency.county)
        rules = force.protocols
        planned = plan(list(rules.protocols), event_key=event.key, event_type=event.event_type, facts=event.facts,
                       occurred_at=event.occurred_at, tz=county_time_zone(), holidays=rules.holidays)
        owners = _owners(event, {p.step.agency for p in planned})
        now = clock.now()
        tasks = [_task(event, p, owners, now, force.label) for p in planned]
        Task.objects.bulk_create(tasks, ignore_conflicts=True)
        closed = _close_by(event, now)
        TriggerEvent.objects.filter(pk=event.pk).update(evaluated_at=now)
        record_event(
            actor=None, action="protocol_evaluated", youth_id=event.youth_id, owner_agency_id=event.agency_id,
            object_type="trigger_event", object_id=str(event.pk),
            detail={"opened": [t.key for t in tasks], "closed": closed},
        )
    return len(tasks)


def _owners(event: TriggerEvent, wanted: set[str]) -> dict[str, Agency]:
    """The agency that owns each kind of step: the source agency, or the county's agency
    of that type (the source agency itself if it is of that type; else the county's
    first; else, so that no task is ever unowned, the source agency)."""
    owners: dict[str, Agency] = {SOURCE_AGENCY: event.agency}
    for agency_type in wanted - {SOURCE_AGENCY}:
        if event.agency.agency_type == agency_type:
            owners[agency_type] = event.agency
            continue
        found = Agency.objects.filter(county_id=event.agency.county_id, agency_type=agency_type).order_by("pk").first()
        owners[agency_type] = found or event.agency
    return owners


def _task(event: TriggerEvent, planned: PlannedTask, owners: dict[str, Agency], now: dt.datetime,
          profile_version: str) -> Task:
    step = planned.step
    owner = owners[step.agency]
    fallback = step.agency not in (SOURCE_AGENCY, owner.agency_type)
    instructions = dict(step.instructions)
    if fallback:
        notes = {"en": f"[No {step.agency} agency is set up in this county: this task is yours until one is.]",
                 "es": f"[No hay una agencia de tipo {step.agency} en este condado: esta tarea es suya hasta que "
                       f"la haya.]"}
        instructions = {lang: f"{text} {notes.get(lang, notes['en'])}" for lang, text in instructions.items()}
    return Task(
        key=planned.key, event=event, youth_id=event.youth_id, county_id=owner.county_id,
        protocol_id=planned.protocol.id, protocol_version=planned.protocol.version_label,
        profile_version=profile_version, step_id=step.id,
        occurrence=planned.occurrence, kind=step.kind,
        title={lang: (f"{text} ({planned.occurrence}/{step.repeat_count})" if step.repeat_count > 1 else text)
               for lang, text in step.title.items()},
        instructions=instructions, category=step.category or CATEGORY_OF_AGENCY_TYPE[owner.agency_type],
        agency=owner, agency_type=owner.agency_type, role=step.role,
        assignee_id=event.actor_id if step.assign_to_actor and owner.pk == event.agency_id else None,
        created_at=now, due_at=planned.due_at,
        evidence_spec=[{"id": e.id, "kind": e.kind, "label": e.label, "required": e.required} for e in step.evidence],
        completes_on={"event": step.completed_by.event, "when": step.completed_by.when} if step.completed_by else None,
        cancels_on={"event": step.cancelled_by.event, "when": step.cancelled_by.when} if step.cancelled_by else None,
        escalations=[[at.isoformat(), role] for at, role in planned.escalations],
        next_escalation_at=planned.escalations[0][0] if planned.escalations else None,
    )


def _close_by(event: TriggerEvent, now: dt.datetime) -> list[str]:
    """Close the youth's open tasks that this later event completes or cancels, whichever
    agency recorded it (a screening by probation answers child welfare's "screen the
    youth" too). The closing event is kept on the task; the owner sees only its kind."""
    closed: list[str] = []
    candidates = Task.objects.filter(
        youth_id=event.youth_id, status=Task.OPEN, event__occurred_at__lte=event.occurred_at,
    ).filter(Q(completes_on__isnull=False) | Q(cancels_on__isnull=False)).exclude(event=event)
    for task in candidates:
        for spec, status in ((task.completes_on, Task.DONE), (task.cancels_on, Task.CANCELLED)):
            if spec and Condition(spec["event"], spec.get("when") or {}).matches(event.event_type, event.facts):
                updated = Task.objects.filter(pk=task.pk, status=Task.OPEN).update(
                    status=status, closed_at=now, closed_by_event=event, version=F("version") + 1,
                    evidence={"closed_by": event.event_type} if status == Task.DONE else {},
                    reason=f"closed by a later {event.event_type.replace('_', ' ')}",
                )
                if updated:
                    closed.append(task.key)
                break
    return closed


# -- people working their tasks -------------------------------------------------
def _own_task(actor: User, public_id: str) -> Task:
    task = Task.objects.select_related("youth", "agency").filter(
        public_id=public_id, agency_id=actor.agency_id or 0
    ).first() if is_uuid(public_id) else None
    if task is None:
        raise NotFound("no such task in your agency")
    return task


def _may_work(actor: User, task: Task) -> None:
    if not (actor.role in OVERSEERS or actor.role == task.role or task.assignee_id == actor.pk):
        record_event(actor=actor, action="update", allowed=False, youth_id=task.youth_id, category=task.category,
                     owner_agency_id=task.agency_id, object_type="task", object_id=str(task.public_id),
                     reason=f"task belongs to role {task.role!r}")
        raise AccessDenied(f"this task is for the {task.role.replace('_', ' ')} or a supervisor")


def check_evidence(spec: list[dict[str, Any]], evidence: dict[str, Any]) -> dict[str, list[str]]:
    """Problems with the evidence for a task, by field (``evidence.<id>``)."""
    errors: dict[str, list[str]] = {}
    known = {e["id"]: e for e in spec}
    for name in evidence:
        if name not in known:
            errors[f"evidence.{name}"] = [f"this task takes no evidence {name!r}"]
    for item in spec:
        raw = evidence.get(item["id"])
        value = raw.strip() if isinstance(raw, str) else raw
        where = f"evidence.{item['id']}"
        if value in (None, ""):
            if item.get("required", True):
                errors[where] = ["is required to close this task"]
            continue
        if not isinstance(value, str):
            errors[where] = ["must be text"]
        elif len(value) > MAX_EVIDENCE or "\x00" in value:
            errors[where] = [f"must be at most {MAX_EVIDENCE} characters, without NUL"]
        elif item["kind"] == "date":
            try:
                if dt.date.fromisoformat(value) > clock.today():
                    errors[where] = ["is in the future"]
            except ValueError:
                errors[where] = ["must be a date (YYYY-MM-DD)"]
        elif item["kind"] == "datetime":
            try:
                parsed = dt.datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=county_time_zone())
                if parsed > clock.now() + dt.timedelta(minutes=5):
                    errors[where] = ["is in the future"]
            except ValueError:
                errors[where] = ["must be a date and time (YYYY-MM-DDTHH:MM)"]
    return errors


def _close(actor: User, public_id: str, expected_version: int, action: str, status: str,
           check: Callable[[Task], dict[str, list[str]]], **fields: Any) -> Task:
    task = _own_task(actor, public_id)
    if task.status != Task.OPEN:
        raise Immutable(f"this task is already {task.status}")
    _may_work(actor, task)
    problems = check(task)
    if problems:
        raise ValidationFailed(problems)
    ctx = context(actor, writing_purpose(actor))
    decision = authorize_write(ctx, youth_id=task.youth_id, category=task.category, owner_agency_id=task.agency_id,
                               action=action)
    now = clock.now()
    with transaction.atomic():
        update_if_current(Task, task.pk, expected_version, only_if={"status": Task.OPEN}, status=status,
                          closed_at=now, closed_by=actor, **fields)
        audit_decision(ctx, decision, youth_id=task.youth_id, action=action, object_type="task",
                       object_id=str(task.public_id), detail={"kind": task.kind})
    task.refresh_from_db()
    return task


def complete_task(*, actor: User, task_public_id: str, expected_version: int, evidence: dict[str, Any]) -> Task:
    """Close a task as done, with the evidence its step asks for."""
    clean = {k: v.strip() if isinstance(v, str) else v for k, v in evidence.items()}
    return _close(actor, task_public_id, expected_version, "complete", Task.DONE,
                  lambda task: check_evidence(task.evidence_spec, clean),
                  evidence={k: v for k, v in clean.items() if v not in (None, "")})


def waive_task(*, actor: User, task_public_id: str, expected_version: int, reason: str) -> Task:
    """Close a task that does not apply (e.g. the youth was found before the report was
    due), with the reason; supervisors see waived tasks in the compliance figures."""
    reason = reason.strip()

    def check(task: Task) -> dict[str, list[str]]:
        if len(reason) < MIN_REASON:
            return {"reason": [f"write at least {MIN_REASON} characters: why this task does not apply"]}
        if len(reason) > 2000:
            return {"reason": ["at most 2000 characters"]}
        return {}

    return _close(actor, task_public_id, expected_version, "waive", Task.WAIVED, check, reason=reason)


def assign_task(*, actor: User, task_public_id: str, expected_version: int, assignee_username: str) -> Task:
    """A supervisor gives a task to one person of the agency (or back to the role)."""
    task = _own_task(actor, task_public_id)
    if actor.role not in OVERSEERS:
        raise AccessDenied("only a supervisor reassigns work")
    if task.status != Task.OPEN:
        raise Immutable(f"this task is already {task.status}")
    assignee = None
    if assignee_username:
        assignee = User.objects.filter(username=assignee_username, agency_id=task.agency_id, is_active=True).first()
        if assignee is None:
            raise ValidationFailed({"assignee": ["no active person of that name in your agency"]})
    ctx = context(actor, writing_purpose(actor))
    decision = authorize_write(ctx, youth_id=task.youth_id, category=task.category,
                               owner_agency_id=task.agency_id, action="assign")
    with transaction.atomic():
        update_if_current(Task, task.pk, expected_version, only_if={"status": Task.OPEN}, assignee=assignee)
        audit_decision(ctx, decision, youth_id=task.youth_id, action="assign", object_type="task",
                       object_id=str(task.public_id), detail={"assignee": assignee.pk if assignee else None})
    task.refresh_from_db()
    return task


def mark_read(*, actor: User, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id, recipient=actor, read_at__isnull=True).update(read_at=clock.now())


# -- the tick ---------------------------------------------------------------------
@dataclass(frozen=True)
class TickResult:
    events_evaluated: int
    marked_overdue: int
    escalated: int
    notifications: int
    emailed: int


def tick(*, batch: int = 500, on_batch: Callable[[int], None] | None = None) -> TickResult:
    """Evaluate left-over events, mark overdue tasks and escalate them. Safe to re-run,
    to kill at any point and to run twice at once."""
    now = clock.now()
    evaluated = 0
    leftover = TriggerEvent.objects.filter(evaluated_at__isnull=True)
    for event_id in leftover.order_by("occurred_at", "pk").values_list("pk", flat=True):
        evaluate(event_id)
        evaluated += 1
    marked = Task.objects.filter(status=Task.OPEN, due_at__lte=now, overdue_since__isnull=True).update(
        overdue_since=F("due_at")
    )
    escalated = notified = 0
    recipients: dict[tuple[int, str], list[int]] = {}
    while True:
        with transaction.atomic():
            due = Task.objects.filter(status=Task.OPEN, next_escalation_at__lte=now).order_by(
                "next_escalation_at", "pk")
            if connection.vendor == "postgresql":
                due = due.select_for_update(skip_locked=True)
            rows = list(due.only("pk", "agency_id", "youth_id", "escalations", "escalation_level",
                                 "next_escalation_at")[:batch])
            if not rows:
                break
            notes: list[Notification] = []
            for task in rows:
                while task.next_escalation_at is not None and task.next_escalation_at <= now:
                    _at, role = task.escalations[task.escalation_level]
                    key = (task.agency_id, role)
                    if key not in recipients:
                        recipients[key] = list(User.objects.filter(
                            agency_id=task.agency_id, role=role, is_active=True).values_list("pk", flat=True))
                    task.escalation_level += 1
                    notes += [Notification(recipient_id=uid, task_id=task.pk, level=task.escalation_level,
                                           created_at=now) for uid in recipients[key]]
                    following = task.escalations[task.escalation_level:]
                    task.next_escalation_at = dt.datetime.fromisoformat(following[0][0]) if following else None
            Task.objects.bulk_update(rows, ["escalation_level", "next_escalation_at"])
            Notification.objects.bulk_create(notes, ignore_conflicts=True)
            record_event(actor=None, action="escalate", object_type="task",
                         detail={"tasks": [t.pk for t in rows], "notifications": len(notes)})
        escalated += len(rows)
        notified += len(notes)
        if on_batch is not None:
            on_batch(len(rows))
    return TickResult(evaluated, marked, escalated, notified, _send_emails(now))


def _send_emails(now: dt.datetime) -> int:
    """E-mail new notifications when the operator configured e-mail. Each is claimed
    before sending, so no one gets the same message twice (a failed send is logged and
    the notification stays in the inbox)."""
    if not getattr(settings, "NOWRONGDOOR_EMAIL_NOTIFICATIONS", False):
        return 0
    sent = 0
    pending = Notification.objects.filter(emailed_at__isnull=True).exclude(recipient__email="")
    for note in pending.select_related("recipient", "task")[:1000]:
        if not Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=now):
            continue
        try:
            send_mail(
                subject="NoWrongDoor: a task is overdue",
                message=(f"A task for your agency is overdue: {note.task.title.get('en', note.task.kind)}.\n"
                         f"Open NoWrongDoor to see it. (No youth details are sent by e-mail.)"),
                from_email=None, recipient_list=[note.recipient.email],
            )
            sent += 1
        except Exception:
            log.exception("e-mail for notification %s failed", note.pk)
    return sent
