"""Reads of tasks, through ``access``: "My work", the agency board, one task, a youth's
tasks, notifications, and protocol compliance figures.

A task is data of the category its owning agency keeps (a probation task is probation
data; a clinic's task is health data), so another agency sees it, its evidence
included, only where a sharing agreement (and consent, for the categories that need it)
covers that category for the reader's purpose. The owning agency always sees its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import AccessContext, audit_decision
from nowrongdoor.analytics.disclosure import CountTable, protect, rate
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.protocols.library import CATEGORY_OF_AGENCY_TYPE
from nowrongdoor.protocols.models import Notification, Task
from nowrongdoor.youth.selectors import context_for, is_uuid, visible_youth

TASK_CATEGORIES = sorted(set(CATEGORY_OF_AGENCY_TYPE.values()))
DUE_SOON = dt.timedelta(hours=24)
RECENTLY_DONE = dt.timedelta(days=14)


@dataclass(frozen=True)
class TaskView:
    public_id: str
    youth_id: str
    title: dict[str, str]
    instructions: dict[str, str]
    kind: str
    protocol_id: str
    protocol_version: str
    step_id: str
    agency: str
    agency_type: str
    role: str
    assignee: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    status: str
    overdue: bool
    escalation_level: int
    evidence_spec: list[dict[str, Any]]
    evidence: dict[str, Any]
    closed_at: dt.datetime | None
    closed_by: str | None
    reason: str
    version: int
    own: bool


def _view(task: Task, actor: User, now: dt.datetime) -> TaskView:
    return TaskView(
        public_id=str(task.public_id), youth_id=str(task.youth.public_id), title=task.title,
        instructions=task.instructions, kind=task.kind, protocol_id=task.protocol_id,
        protocol_version=task.protocol_version, step_id=task.step_id, agency=task.agency.name,
        agency_type=task.agency_type, role=task.role,
        assignee=task.assignee.username if task.assignee else None, created_at=task.created_at,
        due_at=task.due_at, status=task.status, overdue=task.status == Task.OPEN and task.due_at <= now,
        escalation_level=task.escalation_level, evidence_spec=list(task.evidence_spec), evidence=dict(task.evidence),
        closed_at=task.closed_at, closed_by=task.closed_by.username if task.closed_by else None,
        reason=task.reason, version=task.version, own=task.agency_id == actor.agency_id,
    )


def _related(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.select_related("youth", "agency", "assignee", "closed_by")


def _readable(ctx: AccessContext) -> Q:
    return ctx.readable(TASK_CATEGORIES, owner_field="agency_id")


def _audit_list(ctx: AccessContext, tasks: list[Task], what: str) -> None:
    if tasks:
        record_event(actor=ctx.actor, action="read", purpose=ctx.purpose, object_type="task",
                     detail={"list": what, "ids": [t.pk for t in tasks][:500], "count": len(tasks)})


@dataclass(frozen=True)
class MyWork:
    overdue: list[TaskView]
    due_soon: list[TaskView]
    later: list[TaskView]
    done: list[TaskView]


def _individual_context(actor: User, purpose: str) -> AccessContext:
    ctx = context_for(actor, purpose)
    if not ctx.opens_individual_records():
        raise AccessDenied(f"the purpose {purpose!r} does not open individual tasks")
    return ctx


def my_work(*, actor: User, purpose: str) -> MyWork:
    """The actor's open tasks (assigned to them, or to their role and unassigned) by
    urgency, and what they or their role closed in the last two weeks."""
    ctx = _individual_context(actor, purpose)
    now = clock.now()
    mine = Q(agency_id=actor.agency_id or 0) & (Q(assignee=actor) | Q(assignee__isnull=True, role=actor.role))
    open_tasks = list(_related(Task.objects.filter(_readable(ctx), mine, status=Task.OPEN)).order_by("due_at", "pk")
                      [:500])
    done = list(_related(Task.objects.filter(_readable(ctx), mine).exclude(status=Task.OPEN)
                         .filter(closed_at__gte=now - RECENTLY_DONE)).order_by("-closed_at")[:100])
    _audit_list(ctx, open_tasks + done, "my_work")
    views = [_view(t, actor, now) for t in open_tasks]
    return MyWork(
        overdue=[v for v in views if v.due_at <= now],
        due_soon=[v for v in views if now < v.due_at <= now + DUE_SOON],
        later=[v for v in views if v.due_at > now + DUE_SOON],
        done=[_view(t, actor, now) for t in done],
    )


@dataclass(frozen=True)
class AgencyBoard:
    overdue: list[TaskView]
    due_soon: list[TaskView]
    open_count: int
    by_kind: list[dict[str, Any]]  # kind, open, overdue


def agency_board(*, actor: User, purpose: str) -> AgencyBoard:
    """A supervisor's view of the whole agency: what is overdue and due soon, by kind."""
    if actor.role != "supervisor":
        raise AccessDenied("the agency board is for supervisors")
    ctx = _individual_context(actor, purpose)
    now = clock.now()
    agency_open = Task.objects.filter(_readable(ctx), agency_id=actor.agency_id or 0, status=Task.OPEN)
    urgent = list(_related(agency_open.filter(due_at__lte=now + DUE_SOON)).order_by("due_at", "pk")[:500])
    by_kind = list(agency_open.values("kind").annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lte=now)))
                   .order_by("-overdue", "kind"))
    _audit_list(ctx, urgent, "agency_board")
    views = [_view(t, actor, now) for t in urgent]
    return AgencyBoard(
        overdue=[v for v in views if v.due_at <= now], due_soon=[v for v in views if v.due_at > now],
        open_count=agency_open.count(), by_kind=[dict(row) for row in by_kind],
    )


def get_task(*, actor: User, public_id: str, purpose: str) -> TaskView:
    ctx = _individual_context(actor, purpose)
    task = _related(Task.objects.filter(public_id=public_id)).first() if is_uuid(public_id) else None
    decision = ctx.decide(youth_id=task.youth_id, category=task.category, owner_agency_id=task.agency_id) \
        if task else None
    if task is None or decision is None or not decision.allowed:
        record_event(actor=actor, action="read", allowed=False, purpose=purpose,
                     category=task.category if task else "", youth_id=task.youth_id if task else None,
                     owner_agency_id=task.agency_id if task else None, object_type="task",
                     object_id=str(public_id)[:64], reason=decision.reason if decision else "no such task")
        raise NotFound("no such task")
    audit_decision(ctx, decision, youth_id=task.youth_id, action="read", object_type="task",
                   object_id=str(task.public_id))
    return _view(task, actor, clock.now())


def tasks_of_youth(*, actor: User, youth_public_id: str, purpose: str) -> list[TaskView]:
    """The youth's protocol tasks the actor may see, in due order (for the timeline)."""
    ctx = _individual_context(actor, purpose)
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=purpose)
    rows = list(_related(Task.objects.filter(_readable(ctx), youth=youth)).order_by("due_at", "pk")[:500])
    record_event(actor=actor, action="read", youth_id=youth.pk, purpose=purpose, object_type="task",
                 detail={"ids": [t.pk for t in rows]})
    now = clock.now()
    return [_view(t, actor, now) for t in rows]


@dataclass(frozen=True)
class NotificationView:
    id: int
    task_id: str
    title: dict[str, str]
    level: int
    created_at: dt.datetime
    due_at: dt.datetime


def unread_notifications(*, actor: User) -> list[NotificationView]:
    """The actor's own unread escalations (their own agency's tasks)."""
    rows = list(Notification.objects.filter(recipient=actor, read_at__isnull=True)
                .select_related("task").order_by("-created_at")[:100])
    if rows:
        record_event(actor=actor, action="read", object_type="notification", detail={"ids": [n.pk for n in rows]})
    return [NotificationView(n.pk, str(n.task.public_id), n.task.title, n.level, n.created_at, n.task.due_at)
            for n in rows]


def compliance(*, actor: User, since: dt.date | None = None) -> list[dict[str, Any]]:
    """On-time rate per task kind, agency and county, over tasks already due: done on
    time / due. Counts only, no youth. Analysts see every agency, protected like every
    published table (counts of 1-10 masked, with complementary masking; see
    ``analytics.disclosure``); a supervisor sees their own agency's counts, whose tasks
    they read one by one anyway."""
    if actor.role == "analyst":
        context_for(actor, "analytics")
        scope = Q()
    elif actor.role == "supervisor" and actor.agency_id:
        scope = Q(agency_id=actor.agency_id)
    else:
        raise AccessDenied("compliance figures are for analysts and supervisors")
    now = clock.now()
    due = Task.objects.filter(scope, due_at__lte=now).exclude(status=Task.CANCELLED)
    if since is not None:
        due = due.filter(due_at__date__gte=since)
    rows = (
        due.values("kind", "agency__name", "county__name")
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=Q(status=Task.DONE, closed_at__lte=F("due_at"))),
            late=Count("pk", filter=Q(status=Task.DONE, closed_at__gt=F("due_at"))),
            waived=Count("pk", filter=Q(status=Task.WAIVED)),
            still_open=Count("pk", filter=Q(status=Task.OPEN)),
        )
        .order_by("county__name", "agency__name", "kind")
    )
    parts = ["on_time", "late", "waived", "still_open"]
    lines = [[int(row[p]) for p in parts] for row in rows]  # type: ignore[literal-required]
    # What is published: each line's parts and its total (due); no column or grand totals.
    values = [v for line in lines for v in line] + [sum(line) for line in lines]
    width = len(parts)
    sums = [(len(lines) * width + r, list(range(r * width, (r + 1) * width))) for r in range(len(lines))]
    mask = protect(CountTable(values, sums)) if actor.role == "analyst" else [False] * len(values)
    # (a supervisor reads their own agency's tasks one by one anyway: unmasked)
    out = []
    for r, row in enumerate(rows):
        shown = {p: None if mask[r * width + c] else lines[r][c] for c, p in enumerate(parts)}
        due_shown = None if mask[len(lines) * width + r] else sum(lines[r])
        share = rate(shown["on_time"], due_shown)
        out.append({
            "kind": row["kind"], "agency": row["agency__name"], "county": row["county__name"], "due": due_shown,
            **shown, "on_time_rate": None if share is None else round(share, 3),
            "suppressed": due_shown is None or any(v is None for v in shown.values()),
        })
    record_event(actor=actor, action="read", purpose="analytics" if actor.role == "analyst" else "",
                 object_type="compliance", detail={"cells": len(out)})
    return out
