"""Placement endpoints of the JSON API (a router mounted on ``nowrongdoor.api.api``):
resources with their free beds, searches with every candidate's reasons, placing and
moving, absences and returns, holds, and the safety facts matching uses. The same
services and selectors as the web pages, so the same access rules and audit."""

import datetime as dt
import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import AfterValidator

from nowrongdoor.api import ERRORS, Clean, Code, Problem, _actor, _aware
from nowrongdoor.placements import selectors, services

router: Router = Router(tags=["placements"])
Text = Annotated[str, Field(max_length=500), Clean]
Version = Annotated[int, Field(ge=1)]
Days = Annotated[int, Field(ge=1, le=730)]
Moment = Annotated[dt.datetime, AfterValidator(_aware)]  # with a time zone offset, or 422


class ResourceOut(Schema):
    id: str
    name: str
    resource_type: str
    county: str
    zone: str
    address: str | None
    capacity: int
    placed: int
    held: int
    free: int
    min_age: int
    max_age: int
    lgbtq_affirming: bool
    csec_trained: bool
    languages: list[str]
    accepts_holds: bool
    nearest_area_km: float | None


def _resource_out(v: selectors.ResourceView) -> dict[str, Any]:
    return {**vars(v), "id": v.public_id}


@router.get("/placements/resources", response={200: list[ResourceOut], **ERRORS})
def list_resources(request: HttpRequest, type: Code = "", county_id: int | None = None) -> list[dict[str, Any]]:
    """Active resources: beds placed (absent youth included), held by no-reject-no-eject
    holds, and free. ``address`` is null for roles that do not see placement addresses."""
    return [_resource_out(v) for v in selectors.resource_directory(actor=_actor(request), county_id=county_id,
                                                                    resource_type=type)]


class SearchIn(Schema):
    types: list[Code] = []
    language: Code = ""
    lgbtq_affirming: bool = Field(False, description="LGBTQ-affirming care matters to this youth")
    school_zone: int | None = None
    therapist_zone: int | None = None


class OptionOut(Schema):
    resource_id: str
    name: str | None
    score: int
    free: int
    reasons: list[str]


class RefusalOut(Schema):
    resource_id: str
    name: str
    resource_type: str
    county: str
    rules: list[str]


class MatchOut(Schema):
    id: str
    youth_id: str
    requested_at: dt.datetime
    rules_version: int
    needs: dict[str, Any]
    facts: dict[str, Any]
    ranked: list[OptionOut]
    excluded: list[RefusalOut]


def _match_out(request: HttpRequest, public_id: str) -> dict[str, Any]:
    lang = "es" if (getattr(request, "LANGUAGE_CODE", "en") or "en").startswith("es") else "en"
    m = selectors.get_match(actor=_actor(request), public_id=public_id, lang=lang, ranked_limit=None,
                            excluded_limit=None)
    return {"id": m.public_id, "youth_id": m.youth_public_id, "requested_at": m.requested_at,
            "rules_version": m.rules_version, "needs": m.needs, "facts": m.facts,
            "ranked": [{"resource_id": o.resource_public_id, "name": o.resource.name if o.resource else None,
                        "score": o.score, "free": o.free, "reasons": o.reasons} for o in m.options],
            "excluded": [{"resource_id": r.resource_public_id, "name": r.name, "resource_type": r.type_label,
                          "county": r.county, "rules": r.rules} for r in m.refusals]}


@router.post("/youth/{youth_id}/placement-searches", response={201: MatchOut, **ERRORS})
def search(request: HttpRequest, youth_id: uuid.UUID, payload: SearchIn) -> Status[dict[str, Any]]:
    """Match the youth against every active resource: every candidate ranked with the
    points that earned its place, or excluded with the safety rules it breaks."""
    needs = {**payload.model_dump(exclude={"lgbtq_affirming"}), "lgbtq": payload.lgbtq_affirming}
    run = services.search(actor=_actor(request), youth_public_id=str(youth_id), needs=needs)
    return Status(201, _match_out(request, str(run.public_id)))


@router.get("/placement-searches/{search_id}", response={200: MatchOut, **ERRORS})
def read_search(request: HttpRequest, search_id: uuid.UUID) -> dict[str, Any]:
    return _match_out(request, str(search_id))


class AbsenceOut(Schema):
    id: str
    started_at: dt.datetime
    returned_at: dt.datetime | None
    whereabouts: str
    version: int


class PlacementOut(Schema):
    id: str
    resource_type: str
    county: str
    agency: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str
    resource_name: str | None
    address: str | None
    absences: list[AbsenceOut]
    version: int


class HoldOut(Schema):
    id: str
    resource_name: str | None
    resource_type: str
    starts_on: dt.date
    expires_on: dt.date
    released_on: dt.date | None
    in_force: bool
    version: int


class HistoryOut(Schema):
    youth_id: str
    placements: list[PlacementOut]
    holds: list[HoldOut]
    withheld: int
    moves: int
    days_in_care: int
    moves_per_year: float | None


def _history_out(request: HttpRequest, youth_id: str, purpose: str = selectors.PURPOSE) -> dict[str, Any]:
    h = selectors.youth_placements(actor=_actor(request), youth_public_id=youth_id, purpose=purpose)
    return {"youth_id": h.youth_public_id, "withheld": h.withheld, "moves": h.moves, "days_in_care": h.days_in_care,
            "moves_per_year": h.moves_per_year,
            "placements": [{**vars(p), "id": p.public_id, "resource_type": p.type_label,
                            "absences": [{**vars(a), "id": a.public_id} for a in p.absences]} for p in h.placements],
            "holds": [{**vars(x), "id": x.public_id, "resource_type": x.type_label} for x in h.holds]}


@router.get("/youth/{youth_id}/placements", response={200: HistoryOut, **ERRORS})
def youth_placements(request: HttpRequest, youth_id: uuid.UUID, purpose: Code = selectors.PURPOSE) -> dict[str, Any]:
    """The youth's placements, absences and holds you may see; names and addresses of
    resources only where placement addresses are open to you."""
    return _history_out(request, str(youth_id), purpose)


class PlaceIn(Schema):
    youth_id: uuid.UUID
    resource_id: uuid.UUID
    started_at: Moment
    search_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    hold_days: Days | None = None
    hold_agreed_by: Annotated[str, Field(max_length=150), Clean] = ""


@router.post("/placements", response={201: HistoryOut, **ERRORS})
def place(request: HttpRequest, payload: PlaceIn) -> Status[dict[str, Any]]:
    """Place the youth. 422 names each safety rule the resource breaks now (checked again
    at this moment), or asks for a move when the youth is placed elsewhere."""
    services.place(actor=_actor(request), youth_public_id=str(payload.youth_id),
                   resource_public_id=str(payload.resource_id), started_at=payload.started_at,
                   match_run_public_id=str(payload.search_id or ""), case_public_id=str(payload.case_id or ""),
                   hold_days=payload.hold_days, hold_agreed_by=payload.hold_agreed_by)
    return Status(201, _history_out(request, str(payload.youth_id)))


class MoveIn(Schema):
    version: Version
    resource_id: uuid.UUID
    moved_at: Moment
    search_id: uuid.UUID | None = None
    note: Text = ""
    hold_days: Days | None = None
    hold_agreed_by: Annotated[str, Field(max_length=150), Clean] = ""


@router.post("/placements/{placement_id}/move", response={200: HistoryOut, 409: Problem, **ERRORS})
def move(request: HttpRequest, placement_id: uuid.UUID, payload: MoveIn) -> dict[str, Any]:
    """End the placement (reason: moved) and start the new one, together or not at all."""
    placement = services.move(actor=_actor(request), placement_public_id=str(placement_id),
                              expected_version=payload.version, resource_public_id=str(payload.resource_id),
                              moved_at=payload.moved_at, match_run_public_id=str(payload.search_id or ""),
                              note=payload.note, hold_days=payload.hold_days, hold_agreed_by=payload.hold_agreed_by)
    return _history_out(request, str(placement.youth.public_id))


class EndIn(Schema):
    version: Version
    ended_at: Moment
    reason: Code
    note: Text = ""


@router.post("/placements/{placement_id}/end", response={200: HistoryOut, 409: Problem, **ERRORS})
def end(request: HttpRequest, placement_id: uuid.UUID, payload: EndIn) -> dict[str, Any]:
    """End the placement; a hold the caregiver agreed to keeps the bed."""
    placement = services.end_placement(actor=_actor(request), placement_public_id=str(placement_id),
                                       expected_version=payload.version, ended_at=payload.ended_at,
                                       reason=payload.reason, note=payload.note)
    return _history_out(request, str(placement.youth.public_id))


class AbsenceIn(Schema):
    version: Version
    started_at: Moment
    note: Text = ""


@router.post("/placements/{placement_id}/absences", response={201: AbsenceOut, 409: Problem, **ERRORS})
def record_absence(request: HttpRequest, placement_id: uuid.UUID, payload: AbsenceIn) -> Status[dict[str, Any]]:
    """The youth is missing from placement: the missing-from-care protocol starts."""
    a = services.record_absence(actor=_actor(request), placement_public_id=str(placement_id),
                                expected_version=payload.version, started_at=payload.started_at, note=payload.note)
    return Status(201, {"id": str(a.public_id), "started_at": a.started_at, "returned_at": a.returned_at,
                        "whereabouts": a.whereabouts, "version": a.version})


class ReturnIn(Schema):
    version: Version
    returned_at: Moment
    whereabouts: Text = ""
    back_in_placement: bool = True


@router.post("/absences/{absence_id}/return", response={200: AbsenceOut, 409: Problem, **ERRORS})
def record_return(request: HttpRequest, absence_id: uuid.UUID, payload: ReturnIn) -> dict[str, Any]:
    """The youth is back: the debrief and re-screening protocol starts. Not back in the
    placement: it ends (reason: ran away) and a hold keeps the bed."""
    a = services.record_return(actor=_actor(request), absence_public_id=str(absence_id),
                               expected_version=payload.version, returned_at=payload.returned_at,
                               whereabouts=payload.whereabouts, back_in_placement=payload.back_in_placement)
    return {"id": str(a.public_id), "started_at": a.started_at, "returned_at": a.returned_at,
            "whereabouts": a.whereabouts, "version": a.version}


class HoldIn(Schema):
    days: Days | None = None
    agreed_by: Annotated[str, Field(min_length=1, max_length=150), Clean]


class HoldChange(Schema):
    version: Version


class HoldExtend(HoldChange):
    expires_on: dt.date


class HoldRelease(HoldChange):
    reason: Annotated[str, Field(min_length=1, max_length=500), Clean]


def _hold_out(h: Any) -> dict[str, Any]:
    return {"id": str(h.public_id), "starts_on": h.starts_on, "expires_on": h.expires_on,
            "released_on": h.released_on, "version": h.version}


class HoldChanged(Schema):
    id: str
    starts_on: dt.date
    expires_on: dt.date
    released_on: dt.date | None
    version: int


@router.post("/placements/{placement_id}/holds", response={201: HoldChanged, **ERRORS})
def agree_hold(request: HttpRequest, placement_id: uuid.UUID, payload: HoldIn) -> Status[dict[str, Any]]:
    """The caregiver agrees to no reject, no eject for ``days`` (the county default if omitted)."""
    return Status(201, _hold_out(services.agree_hold(actor=_actor(request), placement_public_id=str(placement_id),
                                                     days=payload.days, agreed_by=payload.agreed_by)))


@router.post("/holds/{hold_id}/extend", response={200: HoldChanged, 409: Problem, **ERRORS})
def extend_hold(request: HttpRequest, hold_id: uuid.UUID, payload: HoldExtend) -> dict[str, Any]:
    return _hold_out(services.extend_hold(actor=_actor(request), hold_public_id=str(hold_id),
                                          expected_version=payload.version, expires_on=payload.expires_on))


@router.post("/holds/{hold_id}/release", response={200: HoldChanged, 409: Problem, **ERRORS})
def release_hold(request: HttpRequest, hold_id: uuid.UUID, payload: HoldRelease) -> dict[str, Any]:
    return _hold_out(services.release_hold(actor=_actor(request), hold_public_id=str(hold_id),
                                           expected_version=payload.version, reason=payload.reason))


class ComplicityIn(Schema):
    caregiver_id: int
    note: Text = ""


class AreaIn(Schema):
    area_id: int


@router.post("/youth/{youth_id}/complicities", response={201: dict[str, Any], **ERRORS})
def record_complicity(request: HttpRequest, youth_id: uuid.UUID, payload: ComplicityIn) -> Status[dict[str, Any]]:
    """Record a caregiver as complicit in the youth's exploitation: never matched again."""
    row = services.record_complicity(actor=_actor(request), youth_public_id=str(youth_id),
                                     caregiver_id=payload.caregiver_id, note=payload.note)
    return Status(201, {"id": row.pk})


@router.post("/youth/{youth_id}/exploitation-areas", response={201: dict[str, Any], **ERRORS})
def record_area(request: HttpRequest, youth_id: uuid.UUID, payload: AreaIn) -> Status[dict[str, Any]]:
    """Record an area of the county's list as a place of this youth's exploitation."""
    row = services.record_exploitation_area(actor=_actor(request), youth_public_id=str(youth_id),
                                            area_id=payload.area_id)
    return Status(201, {"id": row.pk})
