"""Oversight tracker endpoints of the JSON API (mounted on ``nowrongdoor.api.api``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from nowrongdoor.api import ERRORS, Problem, _actor
from nowrongdoor.oversight import selectors, services
from nowrongdoor.oversight.selectors import TrackedItem

router: Router = Router(tags=["oversight"])


class MilestoneOut(Schema):
    id: int
    title: str
    due_on: dt.date
    done_on: dt.date | None


class EvidenceOut(Schema):
    id: int
    title: str
    url: str


class ItemOut(Schema):
    id: str
    title: str
    priority_area: str
    focus_area: str
    source: str
    status: str
    owner: str
    lead: str
    version: int
    milestones: list[MilestoneOut]
    evidence: list[EvidenceOut]


class ProgressIn(Schema):
    status: str = Field(description="not_started, in_progress, done or dropped")
    version: int = Field(ge=1, description="the version you read (a stale one gets 409)")
    owner: str = Field("", max_length=200)
    lead_agency_id: int | None = None
    note: str = Field("", max_length=5000)


class MilestoneIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    due_on: dt.date


class EvidenceIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=500)


def _item(i: TrackedItem) -> dict[str, Any]:
    r = i.recommendation
    return {"id": r.id, "title": r.title, "priority_area": r.priority_area, "focus_area": r.focus_area,
            "source": r.source, "status": i.status, "owner": i.owner, "lead": i.lead_agency, "version": i.version,
            "milestones": [{"id": m.pk, "title": m.title, "due_on": m.due_on, "done_on": m.done_on}
                           for m in i.milestones],
            "evidence": [{"id": e.pk, "title": e.title, "url": e.url} for e in i.evidence]}


@router.get("/oversight/recommendations", response={200: list[ItemOut], **ERRORS})
def recommendation_list(request: HttpRequest, priority_area: str | None = None,
                        status: str | None = None) -> list[dict[str, Any]]:
    """Every recommendation of the report with its progress (filters: priority area, status)."""
    return [_item(i) for i in selectors.tracker(actor=_actor(request), priority_area=priority_area, status=status)]


@router.get("/oversight/recommendations/{code}", response={200: ItemOut, **ERRORS})
def recommendation_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return _item(selectors.item(actor=_actor(request), code=code))


@router.put("/oversight/recommendations/{code}/progress", response={200: ItemOut, 409: Problem, **ERRORS})
def progress_update(request: HttpRequest, code: str, payload: ProgressIn) -> dict[str, Any]:
    """Set status, lead and owner (committee members); send the version you read."""
    actor = _actor(request)
    services.update_progress(actor=actor, code=code, expected_version=payload.version, status=payload.status,
                             owner=payload.owner, lead_agency_id=payload.lead_agency_id, note=payload.note)
    return _item(selectors.item(actor=actor, code=code))


@router.post("/oversight/recommendations/{code}/milestones", response={201: MilestoneOut, **ERRORS})
def milestone_create(request: HttpRequest, code: str, payload: MilestoneIn) -> Status[dict[str, Any]]:
    made = services.add_milestone(actor=_actor(request), code=code, title=payload.title, due_on=payload.due_on)
    return Status(201, {"id": made.pk, "title": made.title, "due_on": made.due_on, "done_on": made.done_on})


@router.post("/oversight/recommendations/{code}/evidence", response={201: EvidenceOut, **ERRORS})
def evidence_create(request: HttpRequest, code: str, payload: EvidenceIn) -> Status[dict[str, Any]]:
    made = services.add_evidence(actor=_actor(request), code=code, title=payload.title, url=payload.url)
    return Status(201, {"id": made.pk, "title": made.title, "url": made.url})
