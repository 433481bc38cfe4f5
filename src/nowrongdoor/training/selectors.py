"""Reads of training records: a person's courses and their state, an agency's and a
county's compliance, and the notice a screener meets when their training lapsed.

**Who sees what.** Staff training records are personal data of staff. A staff member
sees their own; an agency administrator sees their agency's staff and the caregivers
of the placement resources their agency licenses; a county training coordinator sees
every agency of their county. Everyone else is refused, and every look is audited.

**A course's state** for one person, on a day:
- *current*: the latest certificate has no expiry or expires after the reminder window;
- *expiring*: it is still valid but expires within ``reminder_days`` (a renewal is open);
- *expired*: the latest certificate has expired;
- *due*: never taken, and the person is new (within ``new_staff_days`` of joining) or
  it is assigned with a due date not yet passed;
- *missing*: never taken otherwise.
A person is **compliant** when none of their required courses is expired or missing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.placements.models import Caregiver
from nowrongdoor.training.catalogue import Catalogue, catalogue
from nowrongdoor.training.models import Assignment, Completion

CURRENT, EXPIRING, EXPIRED, DUE, MISSING = "current", "expiring", "expired", "due", "missing"
LAPSED = (EXPIRED, MISSING)

Person = User | Caregiver


def person_ref(person: Person) -> str:
    """How a person is named in forms, the API and imports: ``staff:<username>`` or
    ``caregiver:<id>``."""
    return f"staff:{person.username}" if isinstance(person, User) else f"caregiver:{person.pk}"


def find_person(ref: str) -> Person:
    kind, _, key = ref.partition(":")
    found: Person | None = None
    if kind == "staff" and key:
        found = User.objects.select_related("agency__county").filter(username=key, is_service_account=False).first()
    elif kind == "caregiver" and key.isdigit():
        found = Caregiver.objects.select_related("resource__agency__county").filter(pk=int(key)).first()
    if found is None:
        raise NotFound(f"no staff member or caregiver {ref!r}")
    return found


def agency_of(person: Person) -> Agency | None:
    return person.agency if isinstance(person, User) else person.resource.agency


def profession_of(person: Person, cat: Catalogue | None = None) -> str | None:
    cat = cat or catalogue()
    if isinstance(person, User):
        agency = person.agency
        return cat.staff_profession(person.profession, person.role, agency.agency_type if agency else None)
    return cat.caregiver_profession.get(person.resource.resource_type)


def required_of(person: Person, cat: Catalogue | None = None, gate: str | None = None) -> dict[str, list[str]]:
    cat = cat or catalogue()
    if isinstance(person, User):
        agency = person.agency
        return cat.required(profession=profession_of(person, cat), role=person.role,
                            agency_type=agency.agency_type if agency else None, gate=gate)
    return cat.required(profession=profession_of(person, cat), gate=gate)


@dataclass(frozen=True)
class CourseState:
    course: str
    state: str
    completed_on: dt.date | None
    expires_on: dt.date | None
    due_on: dt.date | None
    requirements: tuple[str, ...]


@dataclass
class PersonTraining:
    ref: str
    name: str
    kind: str  # staff or caregiver
    role: str
    profession: str | None
    agency_id: int | None
    courses: list[CourseState] = field(default_factory=list)
    extra: list[CourseState] = field(default_factory=list)  # taken but not required

    @property
    def compliant(self) -> bool:
        return not any(c.state in LAPSED for c in self.courses)

    @property
    def lapsed(self) -> list[CourseState]:
        return [c for c in self.courses if c.state in LAPSED]

    @property
    def expiring(self) -> list[CourseState]:
        return [c for c in self.courses if c.state == EXPIRING]


def course_states(required: dict[str, list[str]], latest: dict[str, Held], open_due: dict[str, dt.date],
                  joined_on: dt.date | None, today: dt.date, cat: Catalogue) -> list[CourseState]:
    """The state of each required course (see the module docstring); pure."""
    out = []
    for course, requirement_ids in required.items():
        done = latest.get(course)
        due = open_due.get(course)
        if done is not None:
            expires = done.expires_on
            if expires is not None and expires <= today:
                state = EXPIRED
            elif expires is not None and (expires - today).days <= cat.reminder_days:
                state = EXPIRING
            else:
                state = CURRENT
            out.append(CourseState(course, state, done.completed_on, expires, due, tuple(requirement_ids)))
            continue
        grace = joined_on + dt.timedelta(days=cat.new_staff_days) if joined_on else None
        pending = [d for d in (due, grace) if d is not None and d >= today]  # an assignment, or new staff
        state = DUE if pending else MISSING
        deadline = min(pending) if pending else due
        out.append(CourseState(course, state, None, None, deadline, tuple(requirement_ids)))
    return out


@dataclass(frozen=True)
class Held:
    """The latest certificate of one course held by one person."""

    completed_on: dt.date
    expires_on: dt.date | None


def _load(people: list[Person], today: dt.date, agency_ids: list[int] | None = None) -> list[PersonTraining]:
    """Training of many people in two queries (certificates and open assignments in bulk,
    as plain rows). ``agency_ids``: the people are every one of these agencies' staff and
    caregivers, so the rows are selected by agency instead of by a long list of ids."""
    cat = catalogue()
    if agency_ids is not None:
        owners = Q(user__agency_id__in=agency_ids) | Q(caregiver__resource__agency_id__in=agency_ids)
    else:
        owners = Q(user_id__in=[p.pk for p in people if isinstance(p, User)]) | Q(
            caregiver_id__in=[p.pk for p in people if isinstance(p, Caregiver)])
    latest: dict[tuple[str, int], dict[str, Held]] = defaultdict(dict)
    rows = Completion.objects.filter(owners).order_by("completed_on", "id").values_list(
        "user_id", "caregiver_id", "course", "completed_on", "expires_on")
    for user_id, caregiver_id, course, completed_on, expires_on in rows.iterator(chunk_size=10000):
        key = ("staff", user_id) if user_id else ("caregiver", caregiver_id or 0)
        latest[key][course] = Held(completed_on, expires_on)  # ordered by date: the last one wins
    due: dict[tuple[str, int], dict[str, dt.date]] = defaultdict(dict)
    for user_id, caregiver_id, course, due_on in Assignment.objects.filter(owners, status=Assignment.OPEN) \
            .values_list("user_id", "caregiver_id", "course", "due_on").iterator(chunk_size=10000):
        key = ("staff", user_id) if user_id else ("caregiver", caregiver_id)
        due[key][course] = due_on
    out = []
    requirements: dict[tuple[str, str | None, str, str | None], dict[str, list[str]]] = {}
    for person in people:
        kind = "staff" if isinstance(person, User) else "caregiver"
        key = (kind, person.pk)
        profession = profession_of(person, cat)
        role = person.role if isinstance(person, User) else ""
        agency = agency_of(person)
        rule = (kind, profession, role, agency.agency_type if agency and kind == "staff" else None)
        if rule not in requirements:  # the same few combinations for thousands of people
            requirements[rule] = required_of(person, cat)
        required = requirements[rule]
        joined = timezone.localdate(person.date_joined) if isinstance(person, User) else None
        states = course_states(required, latest[key], due[key], joined, today, cat)
        extra = course_states({c: [] for c in latest[key] if c not in required}, latest[key], {}, None, today, cat)
        if isinstance(person, User):
            name = person.get_full_name() or person.username
        else:
            name, role = person.name, person.role or "caregiver"
        out.append(PersonTraining(person_ref(person), name, kind, role, profession, agency.pk if agency else None,
                                  states, extra))
    return out


# -- who may see whom -------------------------------------------------------------------


def may_view(actor: User, person: Person) -> bool:
    if not actor.is_active:
        return False
    if isinstance(person, User) and person.pk == actor.pk:
        return True
    agency = agency_of(person)
    if agency is None:
        return False
    if actor.role == "agency_admin":
        return actor.agency_id == agency.pk
    if actor.role == "training_coordinator":
        return actor.agency is not None and actor.agency.county_id == agency.county_id
    return False


def _refuse(actor: User, action: str, reason: str, detail: dict[str, object] | None = None) -> AccessDenied:
    record_event(actor=actor, action=action, allowed=False, reason=reason, object_type="training", detail=detail)
    return AccessDenied(reason)


def my_training(*, actor: User) -> PersonTraining:
    """The actor's own required courses and their state (audited)."""
    found = _load([actor], clock.today())[0]
    record_event(actor=actor, action="training.view", object_type="training", object_id=found.ref)
    return found


def person_training(*, actor: User, ref: str) -> PersonTraining:
    try:
        person = find_person(ref)
    except NotFound:  # refused like someone one may not see: a name's existence is not told
        person = None
    if person is None or not may_view(actor, person):
        raise _refuse(actor, "training.view", "only the person, their agency's administrators and the county's "
                      "training coordinators see training records", {"person": ref})
    found = _load([person], clock.today())[0]
    record_event(actor=actor, action="training.view", object_type="training", object_id=found.ref)
    return found


@dataclass(frozen=True)
class GroupShare:
    group: str  # a role or a profession
    people: int
    compliant: int

    @property
    def share(self) -> float | None:
        return self.compliant / self.people if self.people else None


@dataclass
class AgencyCompliance:
    agency: Agency
    people: list[PersonTraining]
    by_role: list[GroupShare]
    expiring: list[tuple[PersonTraining, CourseState]]  # within reminder_days, soonest first
    lapsed: list[tuple[PersonTraining, CourseState]]

    @property
    def compliant(self) -> int:
        return sum(1 for p in self.people if p.compliant)


def _people_of(agencies: list[Agency]) -> list[Person]:
    ids = [a.pk for a in agencies]
    staff: list[Person] = list(User.objects.filter(agency_id__in=ids, is_active=True, is_service_account=False)
                               .select_related("agency").order_by("last_name", "first_name", "username"))
    caregivers: list[Person] = list(Caregiver.objects.filter(resource__agency_id__in=ids, active=True,
                                                             resource__active=True)
                                    .select_related("resource__agency").order_by("name", "pk"))
    return staff + caregivers


def _summaries(agencies: list[Agency], today: dt.date) -> list[AgencyCompliance]:
    loaded = _load(_people_of(agencies), today, agency_ids=[a.pk for a in agencies])
    by_agency: dict[int, list[PersonTraining]] = defaultdict(list)
    for p in loaded:
        by_agency[p.agency_id or 0].append(p)
    out = []
    for agency in agencies:
        people = [p for p in by_agency[agency.pk] if p.courses]  # those with any requirement
        groups: dict[str, list[PersonTraining]] = defaultdict(list)
        for p in people:
            groups[p.role if p.kind == "staff" else (p.profession or "caregiver")].append(p)
        shares = [GroupShare(g, len(ps), sum(1 for p in ps if p.compliant)) for g, ps in sorted(groups.items())]
        expiring = sorted(((p, c) for p in people for c in p.expiring), key=lambda pc: pc[1].expires_on or today)
        lapsed = [(p, c) for p in people for c in p.lapsed]
        out.append(AgencyCompliance(agency, people, shares, expiring, lapsed))
    return out


def agency_compliance(*, actor: User, agency_id: int | None = None) -> AgencyCompliance:
    """An agency's staff and licensed caregivers with their training (the actor's own
    agency for an administrator; any agency of the county for a coordinator)."""
    agency = Agency.objects.select_related("county").filter(pk=agency_id or actor.agency_id or 0).first()
    if agency is None:
        raise NotFound("no such agency")
    allowed = actor.is_active and (
        (actor.role == "agency_admin" and actor.agency_id == agency.pk)
        or (actor.role == "training_coordinator" and actor.agency is not None
            and actor.agency.county_id == agency.county_id))
    if not allowed:
        raise _refuse(actor, "training.compliance", "agency training compliance is for the agency's administrators "
                      "and the county's training coordinators", {"agency": agency.pk})
    found = _summaries([agency], clock.today())[0]
    record_event(actor=actor, action="training.compliance", object_type="agency", object_id=str(agency.pk),
                 detail={"people": len(found.people), "compliant": found.compliant})
    return found


@dataclass(frozen=True)
class CountyCompliance:
    county: County
    agencies: list[AgencyCompliance]

    @property
    def people(self) -> int:
        return sum(len(a.people) for a in self.agencies)

    @property
    def compliant(self) -> int:
        return sum(a.compliant for a in self.agencies)


def county_compliance(*, actor: User) -> CountyCompliance:
    """Every agency of the coordinator's county: share compliant, by role, lapsed and
    expiring lists (training coordinators only)."""
    if not actor.is_active or actor.role != "training_coordinator" or actor.agency is None:
        raise _refuse(actor, "training.compliance", "county training compliance is for the county's training "
                      "coordinators")
    county = actor.agency.county
    agencies = list(Agency.objects.filter(county=county).select_related("county").order_by("name"))
    found = CountyCompliance(county, _summaries(agencies, clock.today()))
    record_event(actor=actor, action="training.compliance", object_type="county", object_id=str(county.pk),
                 detail={"people": found.people, "compliant": found.compliant})
    return found


@dataclass(frozen=True)
class ScreeningNotice:
    """The screener's training for screening is missing or expired, and what the county
    does about it: ``warn`` (the form says so) or ``block`` (no screening starts)."""

    rule: str
    lapsed: list[CourseState]


def screening_notice(actor: User) -> ScreeningNotice | None:
    """None when the actor's training for screening is in order (or the county's rule is off)."""
    agency = actor.agency
    if agency is None:
        return None
    rule = agency.county.screening_training_rule
    if rule == County.OFF:
        return None
    cat = catalogue()
    gated = required_of(actor, cat, gate="screening")
    if not gated:
        return None
    person = _load([actor], clock.today())[0]
    lapsed = [c for c in person.courses if c.course in gated and c.state in LAPSED]
    return ScreeningNotice(rule, lapsed) if lapsed else None
