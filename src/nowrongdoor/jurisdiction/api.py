"""Jurisdiction profile endpoints of the JSON API (mounted on ``nowrongdoor.api.api``):
the profiles, a comparison of two for one event, each county's profile and history,
applying or removing one, and the county's diversion check. The same selectors and
services as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from nowrongdoor.api import ERRORS, Problem, _actor
from nowrongdoor.jurisdiction import selectors, services
from nowrongdoor.jurisdiction.profiles import Profile

router: Router = Router(tags=["jurisdiction"])


class ProfileOut(Schema):
    id: str
    version: int
    title: str
    summary: str
    sources: list[str]
    base: str
    settings: dict[str, int] = Field(description="How many steps and rules each section sets")
    counties: list[str] = Field(description="Counties that follow it now")


class StepOut(Schema):
    protocol: str
    step: str
    title: str
    owner: str
    due: str
    due_hours: float


class CompareRowOut(Schema):
    key: str
    verdict: str = Field(description="same | different | only_left | only_right")
    left: StepOut | None
    right: StepOut | None


class CompareOut(Schema):
    left: str
    right: str
    event: str
    event_label: str
    rows: list[CompareRowOut]
    left_diversion: str
    right_diversion: str


class AssignmentOut(Schema):
    county: str
    revision: int
    profile: str
    version: int | None
    label: str
    overrides: dict[str, Any]
    reason: str
    applied_by: str
    applied_at: str


class CountyProfileOut(Schema):
    county: str
    revision: int
    label: str
    stale: bool = Field(description="The profile file has a newer version than the one applied")
    history: list[AssignmentOut]


class ApplyIn(Schema):
    profile: str = Field("", max_length=60, description="Blank removes the county's profile")
    reason: str = Field(max_length=2000)
    revision: int = Field(ge=0, description="The county's revision you read (0 if it never had a profile)")
    overrides: dict[str, Any] = Field(default_factory=dict, description="Changes over the profile, same sections")


class DiversionIn(Schema):
    facts: dict[str, int | bool]


class DiversionOut(Schema):
    rule_set: str
    version: int
    outcome: str
    deciding: str
    presumed_victim: bool
    checked: list[dict[str, Any]]


def _profile(p: Profile, counts: dict[str, int], counties: list[str]) -> dict[str, Any]:
    return {"id": p.id, "version": p.version, "title": p.title["en"], "summary": p.summary["en"],
            "sources": list(p.sources), "base": p.base, "settings": counts, "counties": counties}


@router.get("/jurisdiction/profiles", response={200: list[ProfileOut], **ERRORS})
def list_profiles(request: HttpRequest) -> list[dict[str, Any]]:
    """Every jurisdiction profile: what it does, the report sections it follows, what it sets."""
    actor = _actor(request)
    return [_profile(s.profile, s.counts, s.counties) for s in selectors.list_profiles(actor=actor)]


@router.get("/jurisdiction/compare", response={200: CompareOut, **ERRORS})
def compare(request: HttpRequest, left: str, right: str, event: str = "prostitution_detention") -> dict[str, Any]:
    """Step by step, how two profiles (or ``defaults``) answer one event."""
    actor = _actor(request)
    found = selectors.compare(actor=actor, left=left, right=right, event=event)

    def step(s: selectors.PlannedStep | None) -> dict[str, Any] | None:
        return None if s is None else {"protocol": s.protocol, "step": s.step, "title": s.title, "owner": s.owner,
                                       "due": s.due, "due_hours": s.due_hours}

    return {"left": left, "right": right, "event": event, "event_label": selectors.EVENTS[event]["label"],
            "rows": [{"key": r.key, "verdict": r.verdict, "left": step(r.left), "right": step(r.right)}
                     for r in found.rows],
            "left_diversion": found.left_diversion, "right_diversion": found.right_diversion}


def _assignment(row: Any) -> dict[str, Any]:
    return {"county": row.county.name, "revision": row.revision, "profile": row.profile_id,
            "version": row.profile_version, "label": row.label, "overrides": row.overrides, "reason": row.reason,
            "applied_by": row.applied_by.username, "applied_at": row.applied_at.isoformat()}


@router.get("/jurisdiction/counties", response={200: list[CountyProfileOut], **ERRORS})
def counties(request: HttpRequest) -> list[dict[str, Any]]:
    """Each county's profile in force and the history of its choices."""
    actor = _actor(request)
    return [{"county": c.county.name, "revision": c.current.revision if c.current else 0, "label": c.force.label,
             "stale": c.stale, "history": [_assignment(h) for h in c.history]}
            for c in selectors.county_profiles(actor=actor)]


@router.post("/jurisdiction/counties/{county}/profile", response={200: AssignmentOut, 409: Problem, **ERRORS})
def apply(request: HttpRequest, county: str, payload: ApplyIn) -> dict[str, Any]:
    """(System administrators) apply, change or remove a county's profile. Open tasks keep
    the version they were opened under; new events follow the new profile."""
    actor = _actor(request)
    row = services.apply_profile(actor=actor, county_name=county, profile_id=payload.profile, reason=payload.reason,
                                 expected_revision=payload.revision, overrides=payload.overrides)
    return _assignment(row)


@router.post("/jurisdiction/diversion", response={200: DiversionOut, **ERRORS})
def diversion(request: HttpRequest, payload: DiversionIn) -> dict[str, Any]:
    """Your county's diversion / safe-harbour answer for a youth's facts, and the condition
    that decided it. Nothing is stored."""
    actor = _actor(request)
    result = selectors.diversion_check(actor=actor, facts=payload.facts)
    return {"rule_set": result.rule_set, "version": result.version, "outcome": result.outcome,
            "deciding": result.deciding, "presumed_victim": result.presumed_victim,
            "checked": [{"id": c.condition.id, "text": c.condition.text, "holds": c.holds} for c in result.checked]}
