"""Writes of the oversight tracker: a recommendation's status, lead and owner (with the
version the editor read: a stale edit is refused, not overwritten), milestones and
evidence links. Committee members (role ``oversight_member``) and system administrators
write; every write is audited in its transaction."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.oversight.content import recommendations
from nowrongdoor.oversight.models import Evidence, Milestone, Progress

EDITORS = ("oversight_member", "system_admin")


def _require_editor(actor: User, action: str, code: str) -> None:
    if actor.is_active and actor.role in EDITORS:
        return
    record_event(actor=actor, action=action, allowed=False, object_type="recommendation", object_id=code,
                 reason="only oversight committee members and system administrators edit the tracker")
    raise AccessDenied("only oversight committee members and system administrators edit the tracker")


def _known(code: str) -> None:
    if code not in recommendations():
        raise NotFound(f"no recommendation {code!r}")


def progress_of(code: str, actor: User) -> Progress:
    """The progress row of a recommendation (created, not started, on first use)."""
    found, _ = Progress.objects.get_or_create(recommendation=code,
                                              defaults={"updated_by": actor, "updated_at": clock.now()})
    return found


def update_progress(*, actor: User, code: str, expected_version: int, status: str, owner: str = "",
                    lead_agency_id: int | None = None, note: str = "") -> Progress:
    _known(code)
    _require_editor(actor, "oversight.progress", code)
    errors: dict[str, list[str]] = {}
    if status not in dict(Progress.STATUSES):
        errors["status"] = [f"one of {', '.join(dict(Progress.STATUSES))}"]
    if lead_agency_id is not None and not Agency.objects.filter(pk=lead_agency_id).exists():
        errors["lead_agency"] = ["no such agency"]
    if len(owner) > 200:
        errors["owner"] = ["at most 200 characters"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row = progress_of(code, actor)
        update_if_current(Progress, row.pk, expected_version, status=status, owner=owner.strip(),
                          lead_agency_id=lead_agency_id, note=note.strip(), updated_by=actor,
                          updated_at=clock.now())
        record_event(actor=actor, action="oversight.progress", object_type="recommendation", object_id=code,
                     detail={"status": status})
    return Progress.objects.get(pk=row.pk)


def add_milestone(*, actor: User, code: str, title: str, due_on: dt.date) -> Milestone:
    _known(code)
    _require_editor(actor, "oversight.milestone", code)
    if not title.strip() or len(title) > 200:
        raise ValidationFailed({"title": ["a milestone needs a title of at most 200 characters"]})
    with transaction.atomic():
        made = Milestone.objects.create(recommendation=code, title=title.strip(), due_on=due_on, created_by=actor,
                                        created_at=clock.now())
        record_event(actor=actor, action="oversight.milestone", object_type="recommendation", object_id=code,
                     detail={"milestone": made.pk, "due_on": due_on.isoformat()})
    return made


def complete_milestone(*, actor: User, milestone_id: int, done_on: dt.date) -> Milestone:
    milestone = Milestone.objects.filter(pk=milestone_id).first()
    if milestone is None:
        raise NotFound("no such milestone")
    _require_editor(actor, "oversight.milestone", milestone.recommendation)
    if done_on > clock.today():
        raise ValidationFailed({"done_on": ["a milestone cannot be done in the future"]})
    with transaction.atomic():
        Milestone.objects.filter(pk=milestone.pk).update(done_on=done_on)
        record_event(actor=actor, action="oversight.milestone_done", object_type="recommendation",
                     object_id=milestone.recommendation, detail={"milestone": milestone.pk})
    milestone.refresh_from_db()
    return milestone


def add_evidence(*, actor: User, code: str, title: str, url: str) -> Evidence:
    _known(code)
    _require_editor(actor, "oversight.evidence", code)
    errors: dict[str, list[str]] = {}
    if not title.strip() or len(title) > 200:
        errors["title"] = ["a title of at most 200 characters"]
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 500:
        errors["url"] = ["a web address starting with https:// or http://"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        made = Evidence.objects.create(recommendation=code, title=title.strip(), url=url.strip(), added_by=actor,
                                       added_at=clock.now())
        record_event(actor=actor, action="oversight.evidence", object_type="recommendation", object_id=code,
                     detail={"evidence": made.pk})
    return made
