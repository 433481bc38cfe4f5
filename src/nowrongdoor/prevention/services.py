"""Writes of prevention programmes: a cohort, enrolling a youth (the consent to take
part is recorded, and the enrolment is the agency's own record of the youth, through
``access``), attendance per session, completion and withdrawal. A youth completes when
they have attended the catalogue's share of the programme's sessions."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import audit_decision, authorize_write
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.prevention.models import Attendance, Cohort, Enrolment
from nowrongdoor.prevention.selectors import PURPOSE, known, offered, own_cohort, runs_cohorts
from nowrongdoor.protocols.library import CATEGORY_OF_AGENCY_TYPE
from nowrongdoor.youth.selectors import context_for, is_uuid, visible_youth


def category_of(cohort: Cohort) -> str:
    """A cohort's records are data of the running agency's kind (a school's are education)."""
    return CATEGORY_OF_AGENCY_TYPE.get(cohort.agency.agency_type, "community_services")


def create_cohort(*, actor: User, programme: str, setting: str, name: str, starts_on: dt.date,
                  facilitator: str = "") -> Cohort:
    cat = offered(actor)
    if not runs_cohorts(actor):
        record_event(actor=actor, action="prevention.cohort", allowed=False, object_type="cohort",
                     reason="only staff who coordinate cases run prevention cohorts")
        raise AccessDenied("only staff who coordinate cases run prevention cohorts")
    agency = actor.agency
    assert agency is not None  # runs_cohorts: the actor belongs to an agency
    errors: dict[str, list[str]] = {}
    found = cat.programmes.get(programme)
    if found is None:
        errors["programme"] = [f"unknown programme {programme!r}"]
    elif setting not in found.settings:
        errors["setting"] = [f"this programme runs in {', '.join(found.settings)}"]
    if not name.strip() or len(name) > 120:
        errors["name"] = ["a name of at most 120 characters"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        cohort = Cohort.objects.create(programme=programme, catalogue_version=cat.version, agency=agency,
                                       setting=setting, name=name.strip(), facilitator=facilitator.strip()[:120],
                                       starts_on=starts_on, created_by=actor, created_at=clock.now())
        record_event(actor=actor, action="prevention.cohort", object_type="cohort", object_id=str(cohort.public_id),
                     detail={"programme": programme, "setting": setting})
    return cohort


def enrol(*, actor: User, cohort_public_id: str, youth_public_id: str, consent_on: dt.date,
          consent_by: str) -> Enrolment:
    """Enrol a youth the actor may see; the consent to take part is required."""
    cohort = own_cohort(actor, cohort_public_id, "prevention.enrol")
    ctx = context_for(actor, PURPOSE)
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE)
    errors: dict[str, list[str]] = {}
    if consent_by not in dict(Enrolment.CONSENT_BY):
        errors["consent_by"] = [f"one of {', '.join(dict(Enrolment.CONSENT_BY))}"]
    if consent_on > clock.today():
        errors["consent_on"] = ["consent cannot be given in the future"]
    if cohort.status != Cohort.OPEN:
        errors["cohort"] = ["the cohort is closed"]
    if Enrolment.objects.filter(cohort=cohort, youth=youth).exists():
        errors["youth"] = ["already enrolled in this cohort"]
    if errors:
        raise ValidationFailed(errors)
    decision = authorize_write(ctx, youth_id=youth.pk, category=category_of(cohort), owner_agency_id=cohort.agency_id,
                               action="create")
    with transaction.atomic():
        made = Enrolment.objects.create(cohort=cohort, youth=youth, agency=cohort.agency, consent_on=consent_on,
                                        consent_by=consent_by, enrolled_by=actor, enrolled_at=clock.now())
        audit_decision(ctx, decision, youth_id=youth.pk, action="create", object_type="enrolment",
                       object_id=str(made.public_id))
    return made


def record_attendance(*, actor: User, cohort_public_id: str, session: int, held_on: dt.date,
                      present: dict[str, bool]) -> int:
    """Attendance of one session for the cohort's enrolled youth (``present`` maps an
    enrolment's public id to whether they came; enrolled youth not in it are absent).
    Recording a session again replaces it. Returns how many youth completed with it."""
    cohort = own_cohort(actor, cohort_public_id, "prevention.attendance")
    cat = known(actor)
    errors: dict[str, list[str]] = {}
    if not 1 <= session <= cat.programmes[cohort.programme].sessions:
        errors["session"] = [f"a session from 1 to {cat.programmes[cohort.programme].sessions}"]
    if held_on > clock.today() or held_on < cohort.starts_on:
        errors["held_on"] = ["between the cohort's start and today"]
    enrolments = list(Enrolment.objects.filter(cohort=cohort, status=Enrolment.ENROLLED))
    unknown = set(present) - {str(e.public_id) for e in enrolments}
    if unknown:
        errors["present"] = [f"{len(unknown)} of the youth listed are not enrolled in this cohort"]
    if errors:
        raise ValidationFailed(errors)
    ctx = context_for(actor, PURPOSE)
    needed = cat.sessions_to_complete(cohort.programme)
    completed = 0
    with transaction.atomic():
        for enrolment in enrolments:
            decision = authorize_write(ctx, youth_id=enrolment.youth_id, category=category_of(cohort),
                                       owner_agency_id=cohort.agency_id, action="update")
            Attendance.objects.update_or_create(
                enrolment=enrolment, session=session,
                defaults={"held_on": held_on, "present": present.get(str(enrolment.public_id), False),
                          "recorded_by": actor, "recorded_at": clock.now()})
            attended = Attendance.objects.filter(enrolment=enrolment, present=True).count()
            if attended >= needed:
                Enrolment.objects.filter(pk=enrolment.pk).update(status=Enrolment.COMPLETED, completed_on=held_on,
                                                                 version=enrolment.version + 1)
                completed += 1
            audit_decision(ctx, decision, youth_id=enrolment.youth_id, action="update", object_type="attendance",
                           object_id=str(enrolment.public_id))
    return completed


def withdraw(*, actor: User, enrolment_public_id: str, expected_version: int) -> Enrolment:
    enrolment = Enrolment.objects.select_related("cohort__agency").filter(public_id=enrolment_public_id).first() \
        if is_uuid(enrolment_public_id) else None
    if enrolment is None:
        raise NotFound("no such enrolment")
    cohort = own_cohort(actor, str(enrolment.cohort.public_id), "prevention.withdraw")
    ctx = context_for(actor, PURPOSE)
    decision = authorize_write(ctx, youth_id=enrolment.youth_id, category=category_of(cohort),
                               owner_agency_id=cohort.agency_id, action="update")
    with transaction.atomic():
        update_if_current(Enrolment, enrolment.pk, expected_version, only_if={"status": Enrolment.ENROLLED},
                          status=Enrolment.WITHDRAWN)
        audit_decision(ctx, decision, youth_id=enrolment.youth_id, action="update", object_type="enrolment",
                       object_id=enrolment_public_id)
    enrolment.refresh_from_db()
    return enrolment
