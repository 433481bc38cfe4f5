"""Prevention endpoints of the JSON API (mounted on ``nowrongdoor.api.api``): the
catalogue, the agency's cohorts, enrolment and attendance. The same services as the
pages, so the same access rules and audit."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from nowrongdoor.api import ERRORS, _actor
from nowrongdoor.prevention import selectors, services

router: Router = Router(tags=["prevention"])


class ProgrammeOut(Schema):
    code: str
    title: str
    sessions: int
    ages: list[int]
    genders: list[str]
    settings: list[str]
    source: str


class CohortIn(Schema):
    programme: str = Field(max_length=60)
    setting: str = Field(max_length=20)
    name: str = Field(min_length=1, max_length=120)
    starts_on: dt.date
    facilitator: str = Field("", max_length=120)


class CohortOut(Schema):
    id: uuid.UUID
    programme: str
    setting: str
    name: str
    starts_on: dt.date
    status: str
    enrolled: int
    completed: int
    withdrawn: int


class EnrolmentIn(Schema):
    youth_id: uuid.UUID
    consent_on: dt.date
    consent_by: str = Field(description="youth, guardian or both")


class EnrolmentOut(Schema):
    id: uuid.UUID
    status: str
    version: int


class AttendanceIn(Schema):
    session: int = Field(ge=1, le=100)
    held_on: dt.date
    present: list[uuid.UUID] = Field(description="enrolments present; every other enrolled youth was absent")


class AttendanceOut(Schema):
    completed_now: int


@router.get("/prevention/programmes", response={200: list[ProgrammeOut], **ERRORS})
def programmes(request: HttpRequest) -> list[dict[str, Any]]:
    """The prevention programmes your county offers (English titles)."""
    actor = _actor(request)
    return [{"code": p.code, "title": p.title["en"], "sessions": p.sessions, "ages": list(p.ages),
             "genders": list(p.genders), "settings": list(p.settings), "source": p.source}
            for p in selectors.offered(actor).programmes.values()]


def _cohort(summary: selectors.CohortSummary) -> dict[str, Any]:
    c = summary.cohort
    return {"id": c.public_id, "programme": c.programme, "setting": c.setting, "name": c.name,
            "starts_on": c.starts_on, "status": c.status, "enrolled": summary.enrolled,
            "completed": summary.completed, "withdrawn": summary.withdrawn}


@router.get("/prevention/cohorts", response={200: list[CohortOut], **ERRORS})
def cohort_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Your agency's groups with their numbers (no youth named)."""
    return [_cohort(s) for s in selectors.cohorts(actor=_actor(request))]


@router.post("/prevention/cohorts", response={201: CohortOut, **ERRORS})
def cohort_create(request: HttpRequest, payload: CohortIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    made = services.create_cohort(actor=actor, programme=payload.programme, setting=payload.setting,
                                  name=payload.name, starts_on=payload.starts_on, facilitator=payload.facilitator)
    return Status(201, _cohort(selectors.CohortSummary(made, 0, 0, 0)))


@router.post("/prevention/cohorts/{cohort_id}/enrolments", response={201: EnrolmentOut, **ERRORS})
def enrol(request: HttpRequest, cohort_id: uuid.UUID, payload: EnrolmentIn) -> Status[dict[str, Any]]:
    """Enrol a youth you may see, with the consent to take part."""
    made = services.enrol(actor=_actor(request), cohort_public_id=str(cohort_id),
                          youth_public_id=str(payload.youth_id), consent_on=payload.consent_on,
                          consent_by=payload.consent_by)
    return Status(201, {"id": made.public_id, "status": made.status, "version": made.version})


@router.post("/prevention/cohorts/{cohort_id}/attendance", response={200: AttendanceOut, **ERRORS})
def attendance(request: HttpRequest, cohort_id: uuid.UUID, payload: AttendanceIn) -> dict[str, Any]:
    """One session's attendance; returns how many youth completed the programme with it."""
    done = services.record_attendance(actor=_actor(request), cohort_public_id=str(cohort_id),
                                      session=payload.session, held_on=payload.held_on,
                                      present={str(e): True for e in payload.present})
    return {"completed_now": done}
