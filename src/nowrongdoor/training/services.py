"""Writes of training records: completions (one at a time or a CSV of them, all or
nothing), assignments, the renewal reminders the tick opens before a certificate
expires, and keeping placement resources' *CSEC-trained* flag true to their caregivers'
training.

An agency administrator records and assigns for their agency's staff and for the
caregivers of the resources their agency licenses. Every write is audited in its
transaction (ids and counts only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.placements.models import Caregiver, Resource
from nowrongdoor.training.catalogue import catalogue
from nowrongdoor.training.models import Assignment, Completion
from nowrongdoor.training.selectors import CURRENT, EXPIRING, Person, agency_of, find_person, person_ref, required_of

EARLIEST = dt.date(1990, 1, 1)


def _owner(person: Person) -> dict[str, Person]:
    return {"user": person} if isinstance(person, User) else {"caregiver": person}


def _require_manager(actor: User, person: Person, action: str) -> None:
    agency = agency_of(person)
    if actor.is_active and actor.role == "agency_admin" and agency is not None and actor.agency_id == agency.pk:
        return
    record_event(actor=actor, action=action, allowed=False, object_type="training", object_id=person_ref(person),
                 reason="only the person's agency administrators record and assign training")
    raise AccessDenied("only the person's agency administrators record and assign training")


def _check_course(course: str, errors: dict[str, list[str]]) -> None:
    if course not in catalogue().courses:
        errors["course"] = [f"unknown course {course!r}; the catalogue has {', '.join(sorted(catalogue().courses))}"]


def _check_completed_on(completed_on: dt.date, errors: dict[str, list[str]]) -> None:
    if completed_on > clock.today():
        errors["completed_on"] = ["a completion cannot be in the future"]
    elif completed_on < EARLIEST:
        errors["completed_on"] = [f"not before {EARLIEST.isoformat()}"]


def _create_completion(*, actor: User, person: Person, course: str, completed_on: dt.date, certificate: str,
                       source: str) -> Completion:
    cat = catalogue()
    newest = Completion.objects.filter(**_owner(person), course=course).order_by("-completed_on").first()
    completion = Completion.objects.create(
        **_owner(person), course=course, completed_on=completed_on,
        expires_on=cat.courses[course].expires_on(completed_on), certificate=certificate.strip()[:100],
        catalogue_version=cat.version, source=source, recorded_by=actor, recorded_at=clock.now())
    renews = (newest is None or completed_on >= newest.completed_on) and (
        completion.expires_on is None or completion.expires_on > clock.today())
    if renews:  # an older or already expired certificate, filled in later, renews nothing
        Assignment.objects.filter(**_owner(person), course=course, status=Assignment.OPEN).update(
            status=Assignment.DONE, closed_at=clock.now(), closed_by=completion)
    return completion


def record_completion(*, actor: User, person_key: str, course: str, completed_on: dt.date,
                      certificate: str = "") -> Completion:
    """Record that a person completed a course (closes their open assignment of it)."""
    person = find_person(person_key)
    _require_manager(actor, person, "training.completion")
    errors: dict[str, list[str]] = {}
    _check_course(course, errors)
    _check_completed_on(completed_on, errors)
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            completion = _create_completion(actor=actor, person=person, course=course, completed_on=completed_on,
                                            certificate=certificate, source=Completion.RECORDED)
            record_event(actor=actor, action="training.completion", object_type="training",
                         object_id=person_ref(person), detail={"course": course, "completion": completion.pk})
            if isinstance(person, Caregiver):
                sync_resource_training(resource_ids=[person.resource_id])
    except IntegrityError:
        raise ValidationFailed({"completed_on": ["this completion is already recorded"]}) from None
    return completion


def assign_course(*, actor: User, person_key: str, course: str, due_on: dt.date) -> Assignment:
    """Assign a course to take by ``due_on``; one open assignment per person and course."""
    person = find_person(person_key)
    _require_manager(actor, person, "training.assign")
    errors: dict[str, list[str]] = {}
    _check_course(course, errors)
    if due_on < clock.today():
        errors["due_on"] = ["a due date cannot be in the past"]
    if errors:
        raise ValidationFailed(errors)
    existing = Assignment.objects.filter(**_owner(person), course=course, status=Assignment.OPEN).first()
    if existing is not None:
        raise ValidationFailed({"course": [f"already assigned, due {existing.due_on.isoformat()}"]})
    with transaction.atomic():
        assignment = Assignment.objects.create(**_owner(person), course=course, reason=Assignment.ASSIGNED,
                                               due_on=due_on, assigned_by=actor, assigned_at=clock.now())
        record_event(actor=actor, action="training.assign", object_type="training", object_id=person_ref(person),
                     detail={"course": course, "due_on": due_on.isoformat()})
    return assignment


# -- a file of completions ----------------------------------------------------------------

COLUMNS = ("person", "course", "completed_on", "certificate")


@dataclass
class CompletionImport:
    rows: int = 0
    recorded: int = 0
    already: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        return not self.problems


def import_completions(*, actor: User, text: str) -> CompletionImport:
    """A CSV of completions (``person,course,completed_on,certificate``; person as
    ``staff:<username>`` or ``caregiver:<id>``): every row is checked first, and any
    problem means nothing is recorded and every problem is listed by row and column. A
    completion already recorded (same person, course and day) is counted, not doubled."""
    report = CompletionImport()
    if not actor.is_active or actor.role != "agency_admin":
        record_event(actor=actor, action="training.import", allowed=False, object_type="training",
                     reason="only agency administrators import training completions")
        raise AccessDenied("only agency administrators import training completions")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        report.problems.append(f"header: missing column(s) {', '.join(missing)}")
        return _rejected(actor, report)
    planned: list[tuple[Person, str, dt.date, str]] = []
    seen: set[tuple[str, str, dt.date]] = set()
    for number, row in enumerate(reader, start=2):
        report.rows += 1
        ref, course = (row.get("person") or "").strip(), (row.get("course") or "").strip()
        person: Person | None = None
        try:
            person = find_person(ref)
        except NotFound:
            report.problems.append(f"row {number}, person: no staff member or caregiver {ref!r}")
        if person is not None:
            agency = agency_of(person)
            if agency is None or agency.pk != actor.agency_id:
                report.problems.append(f"row {number}, person: {ref!r} is not of your agency")
                person = None
        if course not in catalogue().courses:
            report.problems.append(f"row {number}, course: unknown course {course!r}")
        try:
            completed_on = dt.date.fromisoformat((row.get("completed_on") or "").strip())
        except ValueError:
            report.problems.append(f"row {number}, completed_on: {row.get('completed_on')!r} is not a date "
                                   "(YYYY-MM-DD)")
            continue
        errors: dict[str, list[str]] = {}
        _check_completed_on(completed_on, errors)
        for problem in errors.get("completed_on", []):
            report.problems.append(f"row {number}, completed_on: {problem}")
        key = (ref, course, completed_on)
        if key in seen:
            report.problems.append(f"row {number}: the same completion is listed twice")
        seen.add(key)
        if person is not None and course in catalogue().courses and not errors:
            planned.append((person, course, completed_on, row.get("certificate") or ""))
    if report.problems:
        return _rejected(actor, report)
    with transaction.atomic():
        resources = set()
        for person, course, completed_on, certificate in planned:
            if Completion.objects.filter(**_owner(person), course=course, completed_on=completed_on).exists():
                report.already += 1
                continue
            _create_completion(actor=actor, person=person, course=course, completed_on=completed_on,
                               certificate=certificate, source=Completion.IMPORTED)
            report.recorded += 1
            if isinstance(person, Caregiver):
                resources.add(person.resource_id)
        if resources:
            sync_resource_training(resource_ids=sorted(resources))
        record_event(actor=actor, action="training.import", object_type="training",
                     detail={"rows": report.rows, "recorded": report.recorded, "already": report.already})
    return report


def _rejected(actor: User, report: CompletionImport) -> CompletionImport:
    record_event(actor=actor, action="training.import", allowed=False, object_type="training",
                 reason="the file has problems; nothing was recorded",
                 detail={"rows": report.rows, "problems": len(report.problems)})
    return report


# -- the tick: renewals, and placement resources -------------------------------------------


def open_renewals(*, system: User) -> int:
    """Open a renewal assignment (due the day it expires) for every latest certificate of
    a required course that expires within the catalogue's reminder window. Idempotent:
    one open assignment per person and course."""
    cat = catalogue()
    horizon = clock.today() + dt.timedelta(days=cat.reminder_days)
    latest: dict[tuple[int | None, int | None, str], Completion] = {}
    for completion in Completion.objects.order_by("completed_on", "id").iterator(chunk_size=5000):
        latest[(completion.user_id, completion.caregiver_id, completion.course)] = completion
    open_now = set(Assignment.objects.filter(status=Assignment.OPEN).values_list("user_id", "caregiver_id", "course"))
    due = [c for key, c in latest.items() if key not in open_now and c.expires_on is not None
           and c.expires_on <= horizon]
    users = User.objects.filter(is_active=True).select_related("agency").in_bulk(
        [c.user_id for c in due if c.user_id])
    caregivers = Caregiver.objects.filter(active=True).select_related("resource__agency").in_bulk(
        [c.caregiver_id for c in due if c.caregiver_id])
    made: list[Assignment] = []
    for completion in due:
        person: Person | None = users.get(completion.user_id or 0) or caregivers.get(completion.caregiver_id or 0)
        if person is None or completion.course not in required_of(person, cat) or completion.expires_on is None:
            continue
        made.append(Assignment(**_owner(person), course=completion.course, reason=Assignment.RENEWAL,
                               due_on=completion.expires_on, assigned_by=system, assigned_at=clock.now()))
    if made:
        with transaction.atomic():
            Assignment.objects.bulk_create(made, batch_size=2000)
            by_course: dict[str, int] = {}
            for a in made:
                by_course[a.course] = by_course.get(a.course, 0) + 1
            record_event(actor=system, action="training.renewals", object_type="training",
                         detail={"opened": len(made), "by_course": by_course})
    return len(made)


def sync_resource_training(*, resource_ids: list[int] | None = None) -> int:
    """Set each resource's *CSEC-trained* flag from its caregivers' training: true when
    it has active caregivers and every one of them holds a valid certificate of every
    course their profession needs for placement (the catalogue's ``placement`` gate). A
    resource with no caregivers recorded keeps the flag it was given. Returns how many
    resources changed; a change moves ``updated_at``, which refreshes matching."""
    from nowrongdoor.training.selectors import _load

    cat = catalogue()
    caregivers = Caregiver.objects.filter(resource__active=True).select_related("resource__agency")
    if resource_ids is not None:
        caregivers = caregivers.filter(resource_id__in=resource_ids)
    by_resource: dict[int, list[Caregiver]] = {}
    for caregiver in caregivers:  # a resource whose caregivers all left has an empty list: not trained
        group = by_resource.setdefault(caregiver.resource_id, [])
        if caregiver.active:
            group.append(caregiver)
    people = [c for group in by_resource.values() for c in group]
    states = {p.ref: p for p in _load(list(people), clock.today())}
    changed = 0
    for resource_id, group in by_resource.items():
        trained = bool(group)
        for caregiver in group:
            gated = required_of(caregiver, cat, gate="placement")
            held = {c.course for c in states[person_ref(caregiver)].courses if c.state in (CURRENT, EXPIRING)}
            if not gated or not set(gated) <= held:
                trained = False
        # updated_at is matching's cache stamp, like auto_now: the real time, not the injected clock
        changed += Resource.objects.filter(pk=resource_id).exclude(csec_trained=trained).update(
            csec_trained=trained, updated_at=timezone.now())
    return changed


def tick_training(*, system: User) -> tuple[int, int]:
    """What ``nowrongdoor tick`` does for training: open renewals, then bring every
    resource's CSEC-trained flag up to date (certificates expire with time)."""
    return open_renewals(system=system), sync_resource_training()
