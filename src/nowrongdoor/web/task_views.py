"""Protocol tasks in the browser: "My work", the supervisor's agency board, one task
with its evidence form, and the escalation notices. Thin: selectors and services do
the work (ARCHITECTURE.md rule 1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nowrongdoor.dictionary import vocabulary
from nowrongdoor.errors import ValidationFailed
from nowrongdoor.protocols import selectors, services
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import form_version as _version
from nowrongdoor.web.common import language as _lang
from nowrongdoor.youth.services import writing_purpose


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    opens_records = bool(vocabulary().role_purposes(actor.role))
    # An agency administrator opens no youth records but is the last step of many
    # escalation chains: they see the notices here (task titles and due times only).
    work = selectors.my_work(actor=actor, purpose=writing_purpose(actor)) if opens_records \
        else selectors.MyWork([], [], [], [])
    from nowrongdoor.training.catalogue import catalogue
    from nowrongdoor.training.selectors import DUE, EXPIRED, EXPIRING, MISSING, my_training

    training = [(catalogue().courses[c.course].title.get(_lang(), c.course), c)
                for c in my_training(actor=actor).courses if c.state in (DUE, EXPIRING, EXPIRED, MISSING)]
    return render(request, "web/work.html", {
        "work": work, "lang": _lang(), "notifications": selectors.unread_notifications(actor=actor),
        "opens_records": opens_records, "training": training,
    })


@login_required
def agency_board(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    board = selectors.agency_board(actor=actor, purpose=writing_purpose(actor))
    return render(request, "web/board.html", {"board": board, "lang": _lang(),
                                              "compliance": selectors.compliance(actor=actor)})


@login_required
def task_detail(request: HttpRequest, task_id: UUID) -> HttpResponse:
    actor = _actor(request)
    purpose = writing_purpose(actor)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        version = _version(request)
        try:
            if action == "complete":
                values = {k.removeprefix("evidence_"): v for k, v in request.POST.items() if k.startswith("evidence_")}
                services.complete_task(actor=actor, task_public_id=str(task_id), expected_version=version,
                                       evidence=values)
                messages.success(request, _("Task done. The evidence is recorded."))
            elif action == "waive":
                services.waive_task(actor=actor, task_public_id=str(task_id), expected_version=version,
                                    reason=request.POST.get("reason", ""))
                messages.success(request, _("Task waived, with your reason."))
            elif action == "assign":
                services.assign_task(actor=actor, task_public_id=str(task_id), expected_version=version,
                                     assignee_username=request.POST.get("assignee", "").strip())
                messages.success(request, _("Task reassigned."))
            return redirect("web:task_detail", task_id=task_id)
        except ValidationFailed as exc:
            errors = exc.errors
    task = selectors.get_task(actor=actor, public_id=str(task_id), purpose=purpose)
    lang = _lang()
    evidence_fields = [
        {"id": e["id"], "kind": e["kind"], "label": e["label"].get(lang, e["id"]), "required": e.get("required", True),
         "value": values.get(e["id"], task.evidence.get(e["id"], "")),
         "errors": errors.get(f"evidence.{e['id']}", [])}
        for e in task.evidence_spec
    ]
    return render(request, "web/task.html", {
        "task": task, "lang": lang, "title": task.title.get(lang, task.kind),
        "instructions": task.instructions.get(lang, ""), "evidence_fields": evidence_fields, "errors": errors,
        "can_work": task.own and task.status == "open"
        and (actor.role in services.OVERSEERS or actor.role == task.role or task.assignee == actor.username),
        "can_assign": task.own and task.status == "open" and actor.role in services.OVERSEERS,
    })


@login_required
@require_POST
def read_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    services.mark_read(actor=_actor(request), notification_id=notification_id)
    return redirect("web:my_work")
