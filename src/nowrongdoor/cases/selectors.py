"""Reads of cases, through ``access`` (category ``case``; the lead agency always, other
agencies under an agreement, MDT members while their sharing window is open).

``get_case`` gathers one case and one timeline across systems: contacts, screenings,
protocol tasks, exploitation status, phase and stage changes, team changes — each only
if the reader may see its category — with the count of what was withheld.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import AccessContext, audit_decision
from nowrongdoor.cases.content import Pathway, Stage, stages
from nowrongdoor.cases.models import Case, ExploitationStatus, PhaseChange, StageChange, TeamMember
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.protocols import selectors as protocol_selectors
from nowrongdoor.screening import selectors as screening_selectors
from nowrongdoor.youth import selectors as youth_selectors
from nowrongdoor.youth.selectors import context_for, is_uuid

CATEGORY = "case"


@dataclass(frozen=True)
class TimelineItem:
    on: dt.datetime
    kind: str  # contact | screening | task | status | phase | stage | team
    title: str
    agency: str
    detail: str = ""
    link: str = ""


@dataclass(frozen=True)
class MemberView:
    username: str
    name: str
    agency: str
    role_in_team: str
    joined_on: dt.date
    left_on: dt.date | None
    sharing_until: dt.date
    sharing_open: bool


@dataclass(frozen=True)
class CaseView:
    public_id: str
    youth_id: str
    youth_name: str
    agency: str
    worker: str | None
    status: str
    opened_on: dt.date
    open_reason: str
    phase: str
    phase_since: dt.date
    county_of_residence: str
    county_of_exploitation: str | None
    close_reason: str
    version: int
    own: bool
    phases: list[tuple[str, dt.date]]
    stages: list[tuple[str, dt.date, str]]
    current_stage: Stage | None
    statuses: list[tuple[str, dt.date, dt.date | None, str]]
    team: list[MemberView]
    timeline: list[TimelineItem] = field(default_factory=list)
    withheld: int = 0
    meetings: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    relationships: list[dict[str, Any]] = field(default_factory=list)
    hearings: list[dict[str, Any]] = field(default_factory=list)
    placements: Any = None  # placements.selectors.PlacementHistory: where the youth lives, moves, holds


def _individual(actor: User, purpose: str) -> AccessContext:
    ctx = context_for(actor, purpose)
    if not ctx.opens_individual_records():
        raise AccessDenied(f"the purpose {purpose!r} does not open individual cases")
    return ctx


def caseload(*, actor: User, purpose: str = "case_coordination") -> list[Case]:
    """Open cases the actor may see: their own first, then the agency's, then shared."""
    ctx = _individual(actor, purpose)
    rows = list(Case.objects.filter(ctx.readable([CATEGORY], category_field=None), status__in=[Case.OPEN,
                                                                                              Case.CLOSING])
                .select_related("youth", "agency", "worker").order_by("opened_on", "pk")[:500])
    record_event(actor=actor, action="read", purpose=purpose, object_type="case",
                 detail={"list": "caseload", "ids": [c.pk for c in rows]})
    rows.sort(key=lambda c: (c.worker_id != actor.pk, c.agency_id != actor.agency_id))
    return rows


def get_case(*, actor: User, public_id: str, purpose: str = "case_coordination") -> CaseView:
    ctx = _individual(actor, purpose)
    case = (Case.objects.select_related("youth", "agency", "worker", "county_of_residence", "county_of_exploitation")
            .filter(public_id=public_id).first() if is_uuid(public_id) else None)
    decision = ctx.decide(youth_id=case.youth_id, category=CATEGORY, owner_agency_id=case.agency_id) if case \
        else None
    if case is None or decision is None or not decision.allowed:
        record_event(actor=actor, action="read", allowed=False, purpose=purpose, category=CATEGORY,
                     youth_id=case.youth_id if case else None, owner_agency_id=case.agency_id if case else None,
                     object_type="case", object_id=str(public_id)[:64],
                     reason=decision.reason if decision else "no such case")
        raise NotFound("no such case")
    audit_decision(ctx, decision, youth_id=case.youth_id, action="read", object_type="case",
                   object_id=str(case.public_id))
    youth_public_id = str(case.youth.public_id)
    youth = youth_selectors.get_youth(actor=actor, public_id=youth_public_id, purpose=purpose)
    stage_rows = list(StageChange.objects.filter(case=case))
    phase_rows = list(PhaseChange.objects.filter(case=case))
    status_rows = list(ExploitationStatus.objects.filter(
        ctx.readable([CATEGORY], category_field=None), youth=case.youth).select_related("agency")
        .order_by("start_date", "pk"))
    members = list(TeamMember.objects.filter(case=case).select_related("user", "agency", "share")
                   .order_by("joined_on", "pk"))
    today = clock.today()
    content = stages()
    timeline: list[TimelineItem] = []
    for c in youth.contacts:
        timeline.append(TimelineItem(c.occurred_at, "contact", c.contact_type_label, c.agency))
    for s in screening_selectors.screenings_of_youth(actor=actor, youth_public_id=youth_public_id, purpose=purpose):
        if s.completed_at:
            timeline.append(TimelineItem(s.completed_at, "screening", s.level, s.agency,
                                         link=f"/screenings/{s.public_id}/result/"))
    for t in protocol_selectors.tasks_of_youth(actor=actor, youth_public_id=youth_public_id, purpose=purpose):
        timeline.append(TimelineItem(t.due_at, "task", t.title.get("en", t.kind), t.agency, t.status,
                                     link=f"/tasks/{t.public_id}/"))
    midnight = dt.time(0, 0, tzinfo=dt.UTC)
    for st in status_rows:
        timeline.append(TimelineItem(dt.datetime.combine(st.start_date, midnight), "status", st.status,
                                     st.agency.name))
    for ph in phase_rows:
        timeline.append(TimelineItem(dt.datetime.combine(ph.on, midnight), "phase", ph.phase, case.agency.name))
    for sc in stage_rows:
        timeline.append(TimelineItem(dt.datetime.combine(sc.on, midnight), "stage", sc.stage, case.agency.name))
    for m in members:
        timeline.append(TimelineItem(dt.datetime.combine(m.joined_on, midnight), "team", m.role_in_team,
                                     m.agency.name, m.user.username))
    from nowrongdoor.cases.models import CaseTransfer, Hearing, KeyRelationship, Meeting, Referral

    meetings = list(Meeting.objects.filter(case=case))
    for mt in meetings:
        timeline.append(TimelineItem(dt.datetime.combine(mt.held_on, midnight), "meeting", "MDT meeting",
                                     case.agency.name, mt.decisions[:200]))
    referrals = list(Referral.objects.filter(case=case).select_related("provider").order_by("created_at"))
    for rf in referrals:
        timeline.append(TimelineItem(rf.created_at, "referral", ", ".join(rf.services), rf.provider.name, rf.status))
    transfers = list(CaseTransfer.objects.filter(case=case).select_related("from_agency", "to_agency"))
    for tr in transfers:
        timeline.append(TimelineItem(dt.datetime.combine(tr.on, midnight), "transfer", tr.to_agency.name,
                                     tr.from_agency.name, tr.reason[:200]))
    from nowrongdoor.placements.selectors import youth_placements

    placements = youth_placements(actor=actor, youth_public_id=youth_public_id, purpose=purpose)
    for hold in placements.holds:  # placements and absences are in the timeline as contacts already
        timeline.append(TimelineItem(dt.datetime.combine(hold.starts_on, midnight), "hold",
                                     f"No reject, no eject: {hold.resource_name or hold.type_label}", "",
                                     f"until {hold.expires_on:%Y-%m-%d}"))
    timeline.sort(key=lambda i: i.on, reverse=True)
    return CaseView(
        public_id=str(case.public_id), youth_id=youth_public_id, youth_name=youth.display_name,
        agency=case.agency.name, worker=case.worker.username if case.worker else None, status=case.status,
        opened_on=case.opened_on, open_reason=case.open_reason, phase=case.phase, phase_since=case.phase_since,
        county_of_residence=case.county_of_residence.name,
        county_of_exploitation=case.county_of_exploitation.name if case.county_of_exploitation else None,
        close_reason=case.close_reason, version=case.version, own=case.agency_id == actor.agency_id,
        phases=[(p.phase, p.on) for p in phase_rows],
        stages=[(s.stage, s.on, s.note) for s in stage_rows],
        current_stage=content[stage_rows[-1].stage] if stage_rows else None,
        statuses=[(s.status, s.start_date, s.end_date, s.agency.name) for s in status_rows],
        team=[MemberView(m.user.username, m.user.get_full_name() or m.user.username, m.agency.name, m.role_in_team,
                         m.joined_on, m.left_on, m.share.valid_until,
                         m.left_on is None and m.share.ended_on is None and m.share.valid_until >= today)
              for m in members],
        timeline=timeline, withheld=youth.withheld_contacts,
        meetings=[{"held_on": mt.held_on, "attendees": list(mt.attendees), "agenda": mt.agenda,
                   "decisions": mt.decisions} for mt in meetings],
        transfers=[{"on": tr.on, "from": tr.from_agency.name, "to": tr.to_agency.name, "reason": tr.reason}
                   for tr in transfers],
        referrals=[_referral(r) for r in referrals],
        relationships=[{"id": r.pk, "kind": r.kind, "person": r.person, "since": r.since, "ends_on": r.ends_on}
                       for r in KeyRelationship.objects.filter(case=case).order_by("since", "pk")],
        hearings=[{"held_on": h.held_on, "court": h.court} for h in Hearing.objects.filter(case=case)],
        placements=placements,
    )


def _referral(r: Any) -> dict[str, Any]:
    return {"id": str(r.public_id), "provider": r.provider.name, "services": r.services, "status": r.status,
            "reason": r.reason, "consent_override": bool(r.consent_override), "history": r.history,
            "version": r.version}


def status_history(*, actor: User, youth_public_id: str, purpose: str = "case_coordination"
                   ) -> list[dict[str, Any]]:
    """The youth's exploitation status over time, as far as the actor may see it."""
    ctx = _individual(actor, purpose)
    youth = youth_selectors.visible_youth(actor=actor, public_id=youth_public_id, purpose=purpose)
    rows = list(ExploitationStatus.objects.filter(ctx.readable([CATEGORY], category_field=None), youth=youth)
                .select_related("agency").order_by("start_date", "pk"))
    record_event(actor=actor, action="read", youth_id=youth.pk, purpose=purpose, category=CATEGORY,
                 object_type="exploitation_status", detail={"ids": [r.pk for r in rows]})
    return [{"status": r.status, "start_date": r.start_date, "end_date": r.end_date, "agency": r.agency.name}
            for r in rows]


@dataclass(frozen=True)
class PlanView:
    kind: str
    version: int
    content: dict[str, Any]
    author: str | None
    saved_at: dt.datetime | None
    history: list[tuple[int, str, dt.datetime]]  # (number, author, when), newest first
    conflicts: list[dict[str, Any]]  # edits made on an older version, kept for the team to merge


PLAN_CATEGORY = {"care": "case", "safety": "safety_plan"}


def get_plan(*, actor: User, case_public_id: str, kind: str, purpose: str = "case_coordination") -> PlanView:
    """The case's current care or safety plan, its version history and any conflicting
    edits. The safety plan is its own category (consent needed beyond the lead agency)."""
    from nowrongdoor.cases.models import Plan, PlanVersion

    if kind not in PLAN_CATEGORY:
        raise NotFound("no such plan")
    ctx = _individual(actor, purpose)
    case = Case.objects.filter(public_id=case_public_id).first() if is_uuid(case_public_id) else None
    decision = ctx.decide(youth_id=case.youth_id, category=PLAN_CATEGORY[kind], owner_agency_id=case.agency_id) \
        if case else None
    if case is None or decision is None or not decision.allowed:
        record_event(actor=actor, action="read", allowed=False, purpose=purpose, category=PLAN_CATEGORY[kind],
                     youth_id=case.youth_id if case else None, object_type="plan",
                     object_id=str(case_public_id)[:64], reason=decision.reason if decision else "no such case")
        raise NotFound("no such plan")
    plan = Plan.objects.filter(case=case, kind=kind).first()
    versions = list(PlanVersion.objects.filter(plan=plan).select_related("author")) if plan else []
    audit_decision(ctx, decision, youth_id=case.youth_id, action="read", object_type="plan",
                   object_id=str(plan.pk if plan else ""), detail={"kind": kind})
    current = next((v for v in versions if v.state == PlanVersion.CURRENT), None)
    return PlanView(
        kind=kind, version=plan.version if plan else 0, content=dict(current.content) if current else {},
        author=current.author.username if current else None, saved_at=current.created_at if current else None,
        history=[(v.number or 0, v.author.username, v.created_at) for v in reversed(versions)
                 if v.state != PlanVersion.CONFLICT],
        conflicts=[{"based_on": v.based_on, "author": v.author.username, "at": v.created_at, "content": v.content}
                   for v in versions if v.state == PlanVersion.CONFLICT],
    )


@dataclass(frozen=True)
class ProviderMatch:
    agency_id: int
    name: str
    county: str
    services: list[str]
    populations: list[str]
    languages: list[str]
    csec_specialised: bool
    openings: int
    capacity: int


def find_providers(*, service: str = "", population: str = "", language: str = "", county_id: int | None = None,
                   age: int | None = None, with_openings: bool = True) -> list[ProviderMatch]:
    """Providers (directory data, no youth data) offering a service, CSEC-specialised and
    with openings first."""
    from nowrongdoor.directory.models import ProviderProfile

    rows = ProviderProfile.objects.select_related("agency__county")
    if county_id:
        rows = rows.filter(agency__county_id=county_id)
    if with_openings:
        rows = rows.filter(openings__gt=0)
    matches = []
    for p in rows:
        if (service and service not in p.services) or (population and population not in p.populations) or (
                language and language not in p.languages) or (age is not None and not p.min_age <= age <= p.max_age):
            continue
        matches.append(ProviderMatch(p.agency_id, p.agency.name, p.agency.county.name, list(p.services),
                                     list(p.populations), list(p.languages), p.csec_specialised, p.openings,
                                     p.capacity))
    return sorted(matches, key=lambda m: (not m.csec_specialised, -m.openings, m.name))


def referrals_of_case(*, actor: User, case_public_id: str, purpose: str = "case_coordination"
                      ) -> list[dict[str, Any]]:
    """The case's referrals, for readers who may see the case."""
    return get_case(actor=actor, public_id=case_public_id, purpose=purpose).referrals


def referrals_received(*, actor: User) -> list[dict[str, Any]]:
    """Referrals addressed to the actor's agency as a provider: what the referral shares
    (the youth's identity and the referral), audited as a read."""
    from nowrongdoor.cases.models import Referral

    rows = list(Referral.objects.filter(provider_id=actor.agency_id or 0).select_related("agency", "youth")
                .order_by("-created_at")[:200])
    record_event(actor=actor, action="read", object_type="referral", basis="referral",
                 detail={"ids": [r.pk for r in rows]})
    return [{"id": str(r.public_id), "youth_id": str(r.youth.public_id), "from": r.agency.name,
             "services": r.services, "status": r.status, "version": r.version} for r in rows]


@dataclass(frozen=True)
class ReviewRow:
    case_id: str
    youth_name: str
    worker: str | None
    phase: str
    stage: str | None
    changes: list[str]
    overdue_tasks: int


def case_review(*, actor: User, purpose: str = "case_coordination") -> tuple[dt.datetime | None, list[ReviewRow]]:
    """The weekly case-review list of the actor's agency: every open case it leads, with
    what changed since the agency's last review (or the last 7 days)."""
    from django.db.models import Count, Q

    from nowrongdoor.cases.models import CaseReview, Meeting, Referral
    from nowrongdoor.protocols.models import Task
    from nowrongdoor.youth.models import Contact, SourceRecord

    ctx = _individual(actor, purpose)
    last = CaseReview.objects.filter(agency_id=actor.agency_id or 0).order_by("-held_at").first()
    since = last.held_at if last else clock.now() - dt.timedelta(days=7)
    cases = list(Case.objects.filter(ctx.readable([CATEGORY], category_field=None), agency_id=actor.agency_id or 0,
                                     status__in=[Case.OPEN, Case.CLOSING]).select_related("worker", "youth")
                 .order_by("opened_on", "pk"))
    ids = [c.pk for c in cases]
    youth_ids = [c.youth_id for c in cases]
    categories = sorted(vocabulary().purpose_categories(ctx.purpose))
    readable_contacts = Contact.objects.filter(ctx.readable(categories), youth_id__in=youth_ids,
                                               recorded_at__gte=since)
    contacts = dict(readable_contacts.values_list("youth_id").annotate(n=Count("pk")).values_list("youth_id", "n"))
    stages_ = {}
    for sc in StageChange.objects.filter(case_id__in=ids).order_by("on", "pk"):
        stages_[sc.case_id] = sc
    new_stage = set(StageChange.objects.filter(case_id__in=ids, on__gte=since.date()).values_list("case_id",
                                                                                                  flat=True))
    met = set(Meeting.objects.filter(case_id__in=ids, held_on__gte=since.date()).values_list("case_id", flat=True))
    referred = dict(Referral.objects.filter(case_id__in=ids, created_at__gte=since).values_list("case_id")
                    .annotate(n=Count("pk")).values_list("case_id", "n"))
    overdue = dict(Task.objects.filter(youth_id__in=youth_ids, agency_id=actor.agency_id or 0, status=Task.OPEN,
                                       due_at__lt=clock.now()).values_list("youth_id").annotate(n=Count("pk"))
                   .values_list("youth_id", "n"))
    names = {r.youth_id: f"{r.first_name} {r.last_name}" for r in SourceRecord.objects.filter(
        Q(agency_id=actor.agency_id or 0), youth_id__in=youth_ids).order_by("pk")}
    rows = []
    for c in cases:
        changes = []
        if contacts.get(c.youth_id):
            changes.append(f"{contacts[c.youth_id]} new contacts")
        if c.pk in new_stage:
            changes.append("stage of change recorded")
        if c.pk in met:
            changes.append("MDT met")
        if referred.get(c.pk):
            changes.append(f"{referred[c.pk]} referrals sent")
        if c.status == Case.CLOSING:
            changes.append("closure requested")
        rows.append(ReviewRow(str(c.public_id), names.get(c.youth_id, "—"), c.worker.username if c.worker else None,
                              c.phase, stages_[c.pk].stage if c.pk in stages_ else None, changes,
                              overdue.get(c.youth_id, 0)))
    record_event(actor=actor, action="read", purpose=purpose, category=CATEGORY, object_type="case",
                 detail={"list": "case_review", "ids": ids})
    return (last.held_at if last else None), rows


def pathways_for(actor: User) -> dict[str, Pathway]:
    """The service pathways of the actor's county (its jurisdiction profile may add some)."""
    from nowrongdoor.jurisdiction.profiles import in_force

    return in_force(actor.agency.county if actor.agency else None).pathways


def suggest_pathway(code: str, actor: User) -> list[tuple[str, ProviderMatch | None]]:
    """For each service of the pathway, the best provider with openings (or none)."""
    pathway = pathways_for(actor).get(code)
    if pathway is None:
        raise NotFound("no such pathway")
    out: list[tuple[str, ProviderMatch | None]] = []
    for service in pathway.services:
        found = find_providers(service=service)
        out.append((service, found[0] if found else None))
    return out
