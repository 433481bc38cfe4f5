"""Training endpoints of the JSON API (a router mounted on ``nowrongdoor.api.api``): your
own training, an agency's or the county's compliance, and recording, assigning and
importing completions. The same selectors and services as the Training page, so the
same rules on who sees whom, and the same audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from nowrongdoor.api import ERRORS, _actor
from nowrongdoor.training import selectors, services
from nowrongdoor.training.selectors import AgencyCompliance, PersonTraining

router: Router = Router(tags=["training"])


class CourseStateOut(Schema):
    course: str
    state: str = Field(description="current, expiring, expired, due or missing")
    completed_on: dt.date | None
    expires_on: dt.date | None
    due_on: dt.date | None
    requirements: list[str]


class PersonOut(Schema):
    person: str
    name: str
    kind: str
    role: str
    profession: str | None
    compliant: bool
    courses: list[CourseStateOut]


class GroupOut(Schema):
    group: str
    people: int
    compliant: int


class AgencyOut(Schema):
    agency_id: int
    agency: str
    people: int
    compliant: int
    by_role: list[GroupOut]
    staff: list[PersonOut]


class CountyOut(Schema):
    county: str
    people: int
    compliant: int
    agencies: list[AgencyOut]


class CompletionIn(Schema):
    person: str = Field(max_length=200, description="staff:<username> or caregiver:<id>")
    course: str = Field(max_length=60)
    completed_on: dt.date
    certificate: str = Field("", max_length=100)


class CompletionOut(Schema):
    id: str
    person: str
    course: str
    completed_on: dt.date
    expires_on: dt.date | None


class AssignmentIn(Schema):
    person: str = Field(max_length=200)
    course: str = Field(max_length=60)
    due_on: dt.date


class AssignmentOut(Schema):
    id: str
    person: str
    course: str
    due_on: dt.date
    status: str


class ImportIn(Schema):
    csv: str = Field(max_length=5_000_000, description="person,course,completed_on,certificate")


class ImportOut(Schema):
    loaded: bool
    rows: int
    recorded: int
    already: int
    problems: list[str]


def _person(p: PersonTraining) -> dict[str, Any]:
    return {"person": p.ref, "name": p.name, "kind": p.kind, "role": p.role, "profession": p.profession,
            "compliant": p.compliant, "courses": [vars(c) | {"requirements": list(c.requirements)} for c in p.courses]}


def _agency(a: AgencyCompliance) -> dict[str, Any]:
    return {"agency_id": a.agency.pk, "agency": a.agency.name, "people": len(a.people), "compliant": a.compliant,
            "by_role": [vars(g) for g in a.by_role], "staff": [_person(p) for p in a.people]}


@router.get("/training/me", response={200: PersonOut, **ERRORS})
def my_training(request: HttpRequest) -> dict[str, Any]:
    """Your own required CSEC courses and their state."""
    return _person(selectors.my_training(actor=_actor(request)))


@router.get("/training/compliance", response={200: AgencyOut, **ERRORS})
def agency_compliance(request: HttpRequest, agency_id: int | None = None) -> dict[str, Any]:
    """An agency's staff and licensed caregivers with their training (administrators:
    their agency; county training coordinators: any agency of the county)."""
    return _agency(selectors.agency_compliance(actor=_actor(request), agency_id=agency_id))


@router.get("/training/county", response={200: CountyOut, **ERRORS})
def county_compliance(request: HttpRequest) -> dict[str, Any]:
    """Every agency of your county (county training coordinators)."""
    found = selectors.county_compliance(actor=_actor(request))
    return {"county": found.county.name, "people": found.people, "compliant": found.compliant,
            "agencies": [_agency(a) for a in found.agencies]}


@router.post("/training/completions", response={201: CompletionOut, **ERRORS})
def record_completion(request: HttpRequest, payload: CompletionIn) -> Status[dict[str, Any]]:
    """Record a completed course (your agency's staff or caregivers; closes an open assignment)."""
    done = services.record_completion(actor=_actor(request), person_key=payload.person, course=payload.course,
                                      completed_on=payload.completed_on, certificate=payload.certificate)
    return Status(201, {"id": str(done.public_id), "person": payload.person, "course": done.course,
                        "completed_on": done.completed_on, "expires_on": done.expires_on})


@router.post("/training/assignments", response={201: AssignmentOut, **ERRORS})
def assign_course(request: HttpRequest, payload: AssignmentIn) -> Status[dict[str, Any]]:
    """Assign a course to take by a date (one open assignment per person and course)."""
    made = services.assign_course(actor=_actor(request), person_key=payload.person, course=payload.course,
                                  due_on=payload.due_on)
    return Status(201, {"id": str(made.public_id), "person": payload.person, "course": made.course,
                        "due_on": made.due_on, "status": made.status})


@router.post("/training/completions/import", response={200: ImportOut, **ERRORS})
def import_completions(request: HttpRequest, payload: ImportIn) -> dict[str, Any]:
    """A CSV of completions, all or nothing: ``loaded`` false and every problem by row and
    column, or the numbers recorded."""
    report = services.import_completions(actor=_actor(request), text=payload.csv)
    return {"loaded": report.loaded, "rows": report.rows, "recorded": report.recorded, "already": report.already,
            "problems": report.problems}
