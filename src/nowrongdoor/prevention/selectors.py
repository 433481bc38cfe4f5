"""Reads of prevention programmes: the catalogue, an agency's cohorts (counts only) and
one cohort's roster with attendance (each youth read through ``access``, audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from nowrongdoor.access.audit import record_event
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.prevention.catalogue import Catalogue
from nowrongdoor.prevention.models import Attendance, Cohort, Enrolment
from nowrongdoor.youth.selectors import get_youth, is_uuid

PURPOSE = "case_coordination"


def offered(actor: User) -> Catalogue:
    """The programmes the actor's county offers (its jurisdiction profile picks them from
    the catalogue and may add its own)."""
    from nowrongdoor.jurisdiction.profiles import in_force

    return in_force(actor.agency.county if actor.agency else None).programmes


def known(actor: User) -> Catalogue:
    """Every programme a cohort here may run: the catalogue and the county's own entries
    (a cohort started before the county's profile changed keeps its programme)."""
    from nowrongdoor.jurisdiction.profiles import every_programme

    mine = offered(actor)
    return Catalogue(mine.version, mine.completion_share, {**every_programme(), **mine.programmes})


def runs_cohorts(actor: User) -> bool:
    """Active staff of an agency whose role coordinates cases run its prevention groups."""
    return actor.is_active and actor.agency_id is not None and PURPOSE in actor.purposes


def own_cohort(actor: User, public_id: str, action: str) -> Cohort:
    """One of the actor's agency's cohorts; a refusal is audited under ``action``."""
    cohort = Cohort.objects.select_related("agency").filter(public_id=public_id).first() \
        if is_uuid(public_id) else None
    if cohort is None:
        raise NotFound("no such cohort")
    if cohort.agency_id != actor.agency_id or not runs_cohorts(actor):
        record_event(actor=actor, action=action, allowed=False, object_type="cohort", object_id=public_id,
                     reason="only staff of the running agency who coordinate cases manage a cohort")
        raise AccessDenied("only staff of the running agency manage this cohort")
    return cohort


@dataclass(frozen=True)
class CohortSummary:
    cohort: Cohort
    enrolled: int
    completed: int
    withdrawn: int


def cohorts(*, actor: User) -> list[CohortSummary]:
    """The actor's agency's cohorts with their numbers (no youth named)."""
    if not runs_cohorts(actor):
        raise AccessDenied("prevention cohorts are for staff who coordinate cases")
    rows = Cohort.objects.filter(agency_id=actor.agency_id or 0).annotate(
        n_enrolled=Count("enrolments", filter=Q(enrolments__status=Enrolment.ENROLLED)),
        n_completed=Count("enrolments", filter=Q(enrolments__status=Enrolment.COMPLETED)),
        n_withdrawn=Count("enrolments", filter=Q(enrolments__status=Enrolment.WITHDRAWN)))
    return [CohortSummary(c, c.n_enrolled, c.n_completed, c.n_withdrawn) for c in rows]


@dataclass(frozen=True)
class RosterRow:
    enrolment: Enrolment
    youth_public_id: str
    name: str
    attended: list[int]  # session numbers attended


@dataclass(frozen=True)
class CohortView:
    cohort: Cohort
    sessions: int
    to_complete: int
    roster: list[RosterRow]
    held: dict[int, str]  # session -> date held (ISO)


def cohort(*, actor: User, public_id: str) -> CohortView:
    found = own_cohort(actor, public_id, "prevention.view")
    cat = known(actor)
    roster = []
    enrolments = list(Enrolment.objects.filter(cohort=found).select_related("youth").order_by("enrolled_at", "id"))
    attended: dict[int, list[int]] = {}
    held: dict[int, str] = {}
    for a in Attendance.objects.filter(enrolment__cohort=found):
        held[a.session] = a.held_on.isoformat()
        if a.present:
            attended.setdefault(a.enrolment_id, []).append(a.session)
    for e in enrolments:
        try:
            view = get_youth(actor=actor, public_id=str(e.youth.public_id), purpose=PURPOSE, with_contacts=False)
            name = view.display_name
        except (AccessDenied, NotFound):
            name = "(not shown)"
        roster.append(RosterRow(e, str(e.youth.public_id), name, sorted(attended.get(e.pk, []))))
    return CohortView(found, cat.programmes[found.programme].sessions, cat.sessions_to_complete(found.programme),
                      roster, dict(sorted(held.items())))
