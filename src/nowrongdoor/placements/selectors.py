"""Reads of safe placement, every one through ``access`` and audited.

Placement data has two categories. ``placement`` is what most of a youth's team sees:
the type of placement, its county, the dates, absences and holds. ``placement_address``
is where the youth lives: the resource's name, address and zone, and the caregiver.
Only a purpose that uses it (case coordination, by default) and an access basis for the
placing agency's records open it; everyone else sees "Foster family, Alder County".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import audit_decision
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.placements.facts import live_hold_filter, occupancy
from nowrongdoor.placements.matching import Rules, distance_km
from nowrongdoor.placements.models import (
    Absence,
    Caregiver,
    ExploitationArea,
    Hold,
    MatchRun,
    Placement,
    Resource,
    Zone,
)
from nowrongdoor.youth.models import SourceRecord
from nowrongdoor.youth.selectors import context_for, is_uuid, visible_youth

PURPOSE = "case_coordination"
SHOWN_EXCLUDED = 200
SHOWN_RANKED = 100
# The youth's facts a search shows back. Exploitation status (category ``case``, perhaps
# another agency's) is used by the rules but not shown: the searcher may not read it.
SHOWN_FACTS = {"age", "gender", "lgbtq", "language", "county_id"}


def rules_for(actor: User) -> Rules:
    """The matching rules of the actor's county (its jurisdiction profile may change
    a hard rule's numbers, a score's points or hold lengths)."""
    from nowrongdoor.jurisdiction.profiles import in_force

    return in_force(actor.agency.county if actor.agency else None).placement


def sees_addresses(actor: User) -> bool:
    """Whether any purpose the actor's role acts for uses placement addresses."""
    v = vocabulary()
    return any("placement_address" in v.purpose_categories(p) for p in v.role_purposes(actor.role))


def _require_placement_role(actor: User) -> None:
    if PURPOSE not in vocabulary().role_purposes(actor.role) or actor.agency_id is None:
        record_event(actor=actor, action="read", allowed=False, purpose=PURPOSE, object_type="placement_resource",
                     reason=f"role {actor.role!r} does not act for {PURPOSE!r}")
        raise AccessDenied("placement resources are for staff who coordinate cases")


# -- the resource directory ----------------------------------------------------------------
@dataclass(frozen=True)
class ResourceView:
    public_id: str
    name: str
    resource_type: str
    type_label: str
    county: str
    zone: str
    address: str | None  # None: withheld
    capacity: int
    placed: int
    held: int
    free: int
    min_age: int
    max_age: int
    genders: list[str]
    lgbtq_affirming: bool
    csec_trained: bool
    languages: list[str]
    accepts_holds: bool
    nearest_area_km: float | None


def resource_directory(*, actor: User, county_id: int | None = None, resource_type: str = "",
                       ids: set[int] | None = None) -> list[ResourceView]:
    """Active resources with their capacity figures: beds used by placed youth (absent
    included), beds kept by holds, and beds free. Addresses only for those who may see them."""
    _require_placement_role(actor)
    on = clock.today()
    qs = Resource.objects.filter(active=True).select_related("county", "zone")
    if county_id:
        qs = qs.filter(county_id=county_id)
    if resource_type:
        qs = qs.filter(resource_type=resource_type)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    resources = list(qs.order_by("name", "pk"))
    pks = [r.pk for r in resources]
    placed = Counter(Placement.objects.exclude(status=Placement.ENDED).filter(resource_id__in=pks)
                     .values_list("resource_id", flat=True))
    beds = occupancy(on, resource_ids=pks)
    areas = list(ExploitationArea.objects.filter(active=True).values_list("latitude", "longitude", "radius_km"))
    addresses = sees_addresses(actor)
    v = vocabulary()
    out = []
    for r in resources:
        used = len(beds.get(r.pk, []))
        nearest = min((max(0.0, distance_km(r.latitude, r.longitude, lat, lon) - radius) for lat, lon, radius in areas),
                      default=None) if r.latitude is not None and r.longitude is not None else None
        out.append(ResourceView(
            public_id=str(r.public_id), name=r.name, resource_type=r.resource_type,
            type_label=v.label("placement_type", r.resource_type), county=r.county.name,
            zone=r.zone.name if r.zone else "", address=r.address if addresses else None, capacity=r.capacity,
            placed=placed[r.pk], held=used - placed[r.pk], free=r.capacity - used, min_age=r.min_age,
            max_age=r.max_age, genders=[v.label("genders_served", g) for g in r.genders_served],
            lgbtq_affirming=r.lgbtq_affirming, csec_trained=r.csec_trained, languages=list(r.languages),
            accepts_holds=r.accepts_holds, nearest_area_km=round(nearest, 1) if nearest is not None else None))
    return out


def caregivers(*, actor: User) -> list[Caregiver]:
    """Caregivers of active resources, for recording complicity (names only for those
    who may see where youth live)."""
    return list(Caregiver.objects.filter(active=True, resource__active=True).select_related("resource")
                .order_by("resource__name", "name")) if sees_addresses(actor) else []


def zones() -> list[Zone]:
    return list(Zone.objects.select_related("county").order_by("county__name", "name"))


def exploitation_areas() -> list[ExploitationArea]:
    return list(ExploitationArea.objects.filter(active=True).select_related("county"))


# -- a search's result -------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    resource: ResourceView | None
    resource_public_id: str
    score: int
    free: int
    reasons: list[str]


@dataclass(frozen=True)
class Refusal:
    resource_public_id: str
    name: str
    type_label: str
    county: str
    rules: list[str]


@dataclass
class MatchView:
    public_id: str
    youth_public_id: str
    requested_at: dt.datetime
    requested_by: str
    rules_version: int
    needs: dict[str, Any]
    facts: dict[str, Any]
    options: list[Option]
    refusals: list[Refusal]
    refusals_by_rule: list[tuple[str, int]]
    ranked_count: int
    excluded_count: int
    more_excluded: int = 0
    labels: dict[str, str] = field(default_factory=dict)


def _detail(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {', '.join(map(str, v)) if isinstance(v, list) else v}"
                     for k, v in detail.items())


def get_match(*, actor: User, public_id: str, lang: str = "en", ranked_limit: int | None = SHOWN_RANKED,
              excluded_limit: int | None = SHOWN_EXCLUDED) -> MatchView:
    """A search of the actor's agency, with the candidates' reasons in words (the first
    ``ranked_limit`` ranked and ``excluded_limit`` excluded; None: all)."""
    run = MatchRun.objects.select_related("youth", "requested_by").filter(
        public_id=public_id, agency_id=actor.agency_id or 0).first() if is_uuid(public_id) else None
    if run is None:
        record_event(actor=actor, action="read", allowed=False, purpose=PURPOSE, object_type="match_run",
                     object_id=str(public_id)[:64], reason="no such placement search in your agency")
        raise NotFound("no such placement search in your agency")
    ctx = context_for(actor, PURPOSE)
    decision = ctx.decide(youth_id=run.youth_id, category="placement", owner_agency_id=run.agency_id)
    audit_decision(ctx, decision, youth_id=run.youth_id, action="read", object_type="match_run",
                   object_id=str(run.public_id))
    if not decision.allowed:
        raise AccessDenied(decision.reason)
    r = rules_for(actor)

    def words(code: str, detail: dict[str, Any]) -> str:
        return r.label(code, lang) + (f" ({_detail(detail)})" if detail else "")

    shown_ranked = run.ranked[:ranked_limit]
    shown_excluded = run.excluded[:excluded_limit]
    ids = {row[0] for row in shown_ranked} | {row[0] for row in shown_excluded}
    directory = {v.public_id: v for v in resource_directory(actor=actor, ids=ids)} if ids else {}
    v = vocabulary()
    extra = {pk: (name, rtype, county, str(pid)) for pk, name, rtype, county, pid in Resource.objects.filter(
        pk__in=ids).values_list("pk", "name", "resource_type", "county__name", "public_id")}
    by_pk = {pk: row[3] for pk, row in extra.items()}
    weights = run.facts.get("weights", {})
    soft_detail = {"language": {"language": run.facts.get("language", "")}}
    options = [Option(directory.get(by_pk[rid]), by_pk[rid], score, free,
                      [f"+{weights.get(code, 0)} {words(code, soft_detail.get(code, {}))}" for code in reasons])
               for rid, score, free, reasons in shown_ranked]
    refusals = [Refusal(by_pk[rid], extra[rid][0], v.label("placement_type", extra[rid][1]), extra[rid][2],
                        [words(code, detail) for code, detail in broken]) for rid, broken in shown_excluded]
    by_rule = Counter(code for _, broken in run.excluded for code, _ in broken)
    return MatchView(
        public_id=str(run.public_id), youth_public_id=str(run.youth.public_id), requested_at=run.requested_at,
        requested_by=run.requested_by.get_full_name() or run.requested_by.username, rules_version=run.rules_version,
        needs=run.needs, facts={k: v for k, v in run.facts.items() if k in SHOWN_FACTS}, options=options,
        refusals=refusals,
        refusals_by_rule=[(r.label(code, lang), n) for code, n in by_rule.most_common()],
        ranked_count=len(run.ranked), excluded_count=len(run.excluded),
        more_excluded=len(run.excluded) - len(shown_excluded))


# -- a youth's placements ----------------------------------------------------------------------
@dataclass(frozen=True)
class AbsenceView:
    public_id: str
    started_at: dt.datetime
    returned_at: dt.datetime | None
    whereabouts: str
    version: int

    @property
    def open(self) -> bool:
        return self.returned_at is None


@dataclass(frozen=True)
class PlacementView:
    public_id: str
    type_label: str
    county: str
    agency: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str
    resource_name: str | None  # None: withheld (placement_address)
    address: str | None
    zone: str | None
    absences: list[AbsenceView]
    version: int
    own: bool


@dataclass(frozen=True)
class HoldView:
    public_id: str
    resource_name: str | None
    type_label: str
    agreed_by: str | None
    starts_on: dt.date
    expires_on: dt.date
    released_on: dt.date | None
    in_force: bool
    version: int
    own: bool


@dataclass
class PlacementHistory:
    youth_public_id: str
    placements: list[PlacementView]
    holds: list[HoldView]
    withheld: int
    moves: int
    days_in_care: int

    @property
    def current(self) -> PlacementView | None:
        return next((p for p in self.placements if p.status != Placement.ENDED), None)

    @property
    def moves_per_year(self) -> float | None:
        return moves_per_year(self.moves, self.days_in_care)

    @property
    def open_absence(self) -> AbsenceView | None:
        current = self.current
        return next((a for a in current.absences if a.open), None) if current else None


def moves_per_year(moves: int, days_in_care: int) -> float | None:
    """Placement instability: moves per 365 days in care (None before a day in care).
    The federal CFSR measure is the same rate per 1,000 days: multiply by 1000/365."""
    if days_in_care <= 0:
        return None
    return round(moves * 365 / days_in_care, 2)


def youth_placements(*, actor: User, youth_public_id: str, purpose: str = PURPOSE) -> PlacementHistory:
    """The youth's placements, absences and holds the actor may see, newest first.
    Resource names and addresses only where ``placement_address`` is allowed."""
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=purpose)
    ctx = context_for(actor, purpose)
    on = clock.today()
    now = clock.now()
    v = vocabulary()
    rows = list(Placement.objects.filter(youth=youth).select_related("resource", "resource__county",
                                                                     "resource__zone", "agency")
                .order_by("-started_at", "-pk"))
    absences: dict[int, list[AbsenceView]] = {}
    for a in Absence.objects.filter(placement__in=[p.pk for p in rows]).order_by("started_at", "pk"):
        absences.setdefault(a.placement_id, []).append(
            AbsenceView(str(a.public_id), a.started_at, a.returned_at, a.whereabouts, a.version))
    seen, withheld, addressed = [], 0, []
    refused: dict[int, Any] = {}
    for p in rows:
        decision = ctx.decide(youth_id=youth.pk, category="placement", owner_agency_id=p.agency_id)
        if not decision.allowed:
            withheld += 1
            refused[p.agency_id] = decision
            continue
        address = ctx.decide(youth_id=youth.pk, category="placement_address", owner_agency_id=p.agency_id).allowed
        if address:
            addressed.append(p.pk)
        seen.append(PlacementView(
            public_id=str(p.public_id), type_label=v.label("placement_type", p.resource.resource_type),
            county=p.resource.county.name, agency=p.agency.name, status=p.status, started_at=p.started_at,
            ended_at=p.ended_at, end_reason=v.label("placement_end_reason", p.end_reason) if p.end_reason else "",
            resource_name=p.resource.name if address else None, address=p.resource.address if address else None,
            zone=(p.resource.zone.name if p.resource.zone else "") if address else None,
            absences=absences.get(p.pk, []), version=p.version, own=p.agency_id == actor.agency_id))
    holds = []
    for h in Hold.objects.filter(youth=youth).select_related("resource").order_by("-starts_on", "-pk"):
        decision = ctx.decide(youth_id=youth.pk, category="placement", owner_agency_id=h.agency_id)
        if not decision.allowed:
            withheld += 1
            refused[h.agency_id] = decision
            continue
        address = ctx.decide(youth_id=youth.pk, category="placement_address", owner_agency_id=h.agency_id).allowed
        holds.append(HoldView(
            public_id=str(h.public_id), resource_name=h.resource.name if address else None,
            type_label=v.label("placement_type", h.resource.resource_type),
            agreed_by=h.agreed_by if address else None, starts_on=h.starts_on, expires_on=h.expires_on,
            released_on=h.released_on, in_force=h.released_on is None and h.starts_on <= on <= h.expires_on,
            version=h.version, own=h.agency_id == actor.agency_id))
    record_event(actor=actor, action="read", youth_id=youth.pk, purpose=purpose, category="placement",
                 object_type="placement", detail={"ids": [p.public_id for p in seen], "withheld": withheld,
                                                  "addresses": len(addressed)})
    for decision in refused.values():  # one refusal per agency whose records were withheld
        audit_decision(ctx, decision, youth_id=youth.pk, action="read", object_type="placement",
                       detail={"withheld": True})
    days = sum(((p.ended_at or now) - p.started_at).days for p in seen)
    return PlacementHistory(youth_public_id=str(youth.public_id), placements=seen, holds=holds, withheld=withheld,
                            moves=max(0, len(seen) - 1), days_in_care=days)


# -- the agency's placements ---------------------------------------------------------------------
@dataclass(frozen=True)
class CurrentRow:
    placement_public_id: str
    youth_public_id: str
    youth_name: str  # from the agency's own record
    resource_name: str
    type_label: str
    status: str
    started_at: dt.datetime
    absent_since: dt.datetime | None


@dataclass(frozen=True)
class ExpiringHold:
    hold_public_id: str
    youth_public_id: str
    youth_name: str
    resource_name: str
    expires_on: dt.date


def agency_placements(*, actor: User, expiring_within_days: int = 14) -> tuple[list[CurrentRow], list[ExpiringHold]]:
    """Youth the actor's agency has placed now (missing ones first) and its holds that
    expire soon: the placement desk's board. Own agency's records only."""
    context_for(actor, PURPOSE)  # refuses, audited, a role that does not coordinate cases
    on = clock.today()
    own = Q(agency_id=actor.agency_id or 0)
    rows = list(Placement.objects.filter(own).exclude(status=Placement.ENDED)
                .select_related("resource", "youth").order_by("started_at", "pk"))
    open_absences = {a.placement_id: a.started_at for a in
                     Absence.objects.filter(own, returned_at__isnull=True, placement__in=[p.pk for p in rows])}
    holds = list(Hold.objects.filter(own, live_hold_filter(on), expires_on__lte=on + dt.timedelta(
        days=expiring_within_days)).select_related("resource", "youth").order_by("expires_on", "pk"))
    v = vocabulary()
    record_event(actor=actor, action="read", purpose=PURPOSE, category="placement", object_type="placement",
                 detail={"board": len(rows), "expiring_holds": len(holds), "basis": "own agency"})
    names = {y: f"{first} {last}" for y, first, last in SourceRecord.objects.filter(
        own, youth_id__in={p.youth_id for p in rows} | {h.youth_id for h in holds})
        .order_by("-pk").values_list("youth_id", "first_name", "last_name")}
    current = sorted(
        (CurrentRow(str(p.public_id), str(p.youth.public_id), names.get(p.youth_id, ""), p.resource.name,
                    v.label("placement_type", p.resource.resource_type), p.status, p.started_at,
                    open_absences.get(p.pk)) for p in rows),
        key=lambda row: (row.absent_since is None, row.absent_since or row.started_at))
    return current, [ExpiringHold(str(h.public_id), str(h.youth.public_id), names.get(h.youth_id, ""),
                                  h.resource.name, h.expires_on)
                     for h in holds]
