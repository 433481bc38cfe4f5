"""Writes of case coordination: exploitation status, cases, phases, closure, the MDT
and the stage of change. Each takes the acting user, checks through ``access``, writes
in one transaction with its audit row (ARCHITECTURE.md, writes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import audit_decision, authorize_write, context, forget_contexts
from nowrongdoor.access.models import TeamShare
from nowrongdoor.cases.content import STAGES, MdtRules
from nowrongdoor.cases.models import (
    Case,
    CaseTransfer,
    ExploitationStatus,
    Meeting,
    PhaseChange,
    Plan,
    PlanVersion,
    Referral,
    StageChange,
    TeamMember,
)
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, Immutable, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.placements.facts import bump_occupancy
from nowrongdoor.protocols.services import county_time_zone
from nowrongdoor.youth.selectors import is_uuid, visible_youth
from nowrongdoor.youth.services import writing_purpose

PURPOSE = "case_coordination"
CATEGORY = "case"
NEEDS_END_DATE = {"victim_while_absent"}
MAX_TEXT = 2000


def _write_context(actor: User, youth_id: int, owner_agency_id: int, action: str) -> tuple[Any, Any]:
    ctx = context(actor, PURPOSE)
    decision = authorize_write(ctx, youth_id=youth_id, category=CATEGORY, owner_agency_id=owner_agency_id,
                               action=action)
    return ctx, decision


def _text(errors: dict[str, list[str]], name: str, value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = ["is required"]
    elif len(value) > MAX_TEXT or "\x00" in value:
        errors[name] = [f"must be at most {MAX_TEXT} characters, without NUL"]
    return value


def _not_future(errors: dict[str, list[str]], name: str, value: dt.date | None) -> None:
    if value is not None and value > clock.today():
        errors.setdefault(name, []).append("is in the future")


# -- exploitation status ---------------------------------------------------------
def record_status(*, actor: User, youth_public_id: str, status: str, start_date: dt.date,
                  end_date: dt.date | None = None) -> ExploitationStatus:
    """Add a dated exploitation status to the youth's history (never overwrites one)."""
    errors: dict[str, list[str]] = {}
    if status not in vocabulary().codes("exploitation_status"):
        errors["status"] = [f"choose one of {', '.join(vocabulary().codes('exploitation_status'))}"]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = ["must be on or after start_date"]
    if status in NEEDS_END_DATE and end_date is None:
        errors["end_date"] = ["is required for exploitation while absent from placement (the day the absence ended)"]
    _not_future(errors, "start_date", start_date)
    if errors:
        raise ValidationFailed(errors)
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE)
    ctx, decision = _write_context(actor, youth.pk, actor.agency_id or 0, "create")
    with transaction.atomic():
        row = ExploitationStatus.objects.create(
            youth=youth, agency_id=actor.agency_id or 0, status=status, start_date=start_date, end_date=end_date,
            recorded_by=actor, recorded_at=clock.now())
        bump_occupancy()  # placement matching reads occupants' current status
        audit_decision(ctx, decision, youth_id=youth.pk, action="create", object_type="exploitation_status",
                       object_id=str(row.pk), detail={"status": status})
    return row


# -- cases ----------------------------------------------------------------------------
def open_case(*, actor: User, youth_public_id: str, reason: str, county_of_exploitation_id: int | None = None,
              worker: User | None = None) -> Case:
    """Open a case with the actor's agency as lead; the actor is the worker unless named."""
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "reason", reason)
    if worker is not None and worker.agency_id != actor.agency_id:
        errors["worker"] = ["the worker must belong to the lead agency"]
    exploitation_county = None
    if county_of_exploitation_id is not None:
        exploitation_county = County.objects.filter(pk=county_of_exploitation_id).first()
        if exploitation_county is None:
            errors["county_of_exploitation"] = ["no such county"]
    if errors:
        raise ValidationFailed(errors)
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE)
    ctx, decision = _write_context(actor, youth.pk, actor.agency_id or 0, "create")
    if Case.objects.filter(youth=youth, agency_id=actor.agency_id or 0, status__in=[Case.OPEN, Case.CLOSING]).exists():
        raise ValidationFailed({"youth": ["your agency already has an open case for this youth"]})
    assert actor.agency is not None  # authorize_write refuses an actor without an agency
    today = clock.today()
    with transaction.atomic():
        case = Case.objects.create(
            youth=youth, agency=actor.agency, worker=worker or actor, opened_on=today, open_reason=reason,
            opened_by=actor, phase="crisis_assessment", phase_since=today,
            county_of_residence_id=actor.agency.county_id, county_of_exploitation=exploitation_county)
        PhaseChange.objects.create(case=case, phase="crisis_assessment", on=today, recorded_by=actor)
        audit_decision(ctx, decision, youth_id=youth.pk, action="create", object_type="case",
                       object_id=str(case.public_id))
    return case


def _own_case(actor: User, public_id: str) -> Case:
    case = Case.objects.select_related("youth", "agency").filter(
        public_id=public_id, agency_id=actor.agency_id or 0).first() if is_uuid(public_id) else None
    if case is None:
        raise NotFound("no such case in your agency")
    return case


def set_phase(*, actor: User, case_public_id: str, expected_version: int, phase: str, on: dt.date) -> Case:
    errors: dict[str, list[str]] = {}
    if phase not in vocabulary().codes("case_phase"):
        errors["phase"] = [f"choose one of {', '.join(vocabulary().codes('case_phase'))}"]
    _not_future(errors, "on", on)
    case = _own_case(actor, case_public_id)
    if case.status == Case.CLOSED:
        raise Immutable("the case is closed")
    if on < case.phase_since:
        errors.setdefault("on", []).append(f"must be on or after the current phase's start ({case.phase_since})")
    if errors:
        raise ValidationFailed(errors)
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "update")
    with transaction.atomic():
        update_if_current(Case, case.pk, expected_version, phase=phase, phase_since=on)
        PhaseChange.objects.create(case=case, phase=phase, on=on, recorded_by=actor)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="update", object_type="case",
                       object_id=str(case.public_id), detail={"phase": phase})
    case.refresh_from_db()
    return case


def request_closure(*, actor: User, case_public_id: str, expected_version: int, reason: str, note: str = "") -> Case:
    """Ask to close the case; a supervisor of the lead agency approves. Relapse is part
    of the cycle of leaving exploitation, never a reason to close."""
    errors: dict[str, list[str]] = {}
    if reason == "relapse":
        errors["reason"] = ["relapse is part of the cycle of leaving exploitation: the youth stays on the caseload"]
    elif reason not in vocabulary().codes("case_closure_reason"):
        errors["reason"] = [f"choose one of {', '.join(vocabulary().codes('case_closure_reason'))}"]
    note = _text(errors, "note", note, required=reason == "other")
    case = _own_case(actor, case_public_id)
    latest = StageChange.objects.filter(case=case).order_by("-on", "-pk").first()
    if latest is not None and latest.stage == "relapse" and "reason" not in errors:
        errors["reason"] = ["the youth's current stage is relapse: keep the case open and support the return"]
    if errors:
        raise ValidationFailed(errors)
    if case.status != Case.OPEN:
        raise Immutable(f"the case is {case.status}")
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "request_closure")
    with transaction.atomic():
        update_if_current(Case, case.pk, expected_version, only_if={"status": Case.OPEN}, status=Case.CLOSING,
                          close_reason=reason, close_note=note, close_requested_by=actor)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="request_closure", object_type="case",
                       object_id=str(case.public_id), detail={"reason": reason})
    case.refresh_from_db()
    return case


def decide_closure(*, actor: User, case_public_id: str, expected_version: int, approve: bool) -> Case:
    """A supervisor of the lead agency approves (closes) or sends the case back (open)."""
    case = _own_case(actor, case_public_id)
    if actor.role != "supervisor":
        raise AccessDenied("a supervisor approves a case closure")
    if case.status != Case.CLOSING:
        raise Immutable("no closure is waiting for approval")
    ctx = context(actor, PURPOSE)
    decision = authorize_write(ctx, youth_id=case.youth_id, category=CATEGORY, owner_agency_id=case.agency_id,
                               action="approve_closure" if approve else "refuse_closure")
    today = clock.today()
    fields: dict[str, Any] = ({"status": Case.CLOSED, "closed_on": today, "closed_approved_by": actor} if approve
                              else {"status": Case.OPEN, "close_reason": "", "close_note": "",
                                    "close_requested_by": None})
    with transaction.atomic():
        update_if_current(Case, case.pk, expected_version, only_if={"status": Case.CLOSING}, **fields)
        if approve:  # the team's sharing ends with the case
            for member in TeamMember.objects.filter(case=case, left_on__isnull=True).select_related("share"):
                _end_membership(member, today)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="approve_closure" if approve else "refuse_closure",
                       object_type="case", object_id=str(case.public_id))
    forget_contexts()
    case.refresh_from_db()
    return case


# -- the multidisciplinary team -----------------------------------------------------
def _mdt_rules(actor: User) -> MdtRules:
    """The sharing rules of the actor's county (its jurisdiction profile may change them)."""
    from nowrongdoor.jurisdiction.profiles import in_force

    return in_force(actor.agency.county if actor.agency else None).mdt


def add_member(*, actor: User, case_public_id: str, member_username: str, role_in_team: str) -> TeamMember:
    """Add staff of any agency to the youth's MDT. Joining opens their sharing window:
    the categories and purposes the county's MDT rules list, for ``window_days``."""
    errors: dict[str, list[str]] = {}
    role_in_team = _text(errors, "role_in_team", role_in_team)
    member = User.objects.select_related("agency").filter(username=member_username, is_active=True).first()
    if member is None or member.agency_id is None:
        errors["member"] = ["no active staff member of that user name"]
    elif not set(_mdt_rules(actor).purposes) & set(vocabulary().role_purposes(member.role)):
        errors["member"] = [f"a {member.role.replace('_', ' ')} does not take part in MDTs"]
    if errors:
        raise ValidationFailed(errors)
    assert member is not None and member.agency is not None
    case = _own_case(actor, case_public_id)
    if case.status != Case.OPEN:
        raise Immutable(f"the case is {case.status}")
    if TeamMember.objects.filter(case=case, user=member, left_on__isnull=True).exists():
        raise ValidationFailed({"member": ["already on the team"]})
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "add_member")
    rules = _mdt_rules(actor)
    today = clock.today()
    with transaction.atomic():
        share = TeamShare.objects.create(
            user=member, youth_id=case.youth_id, categories=list(rules.categories), purposes=list(rules.purposes),
            valid_from=today, valid_until=today + dt.timedelta(days=rules.window_days - 1),
            source=f"case:{case.public_id}", created_by=actor, created_at=clock.now())
        row = TeamMember.objects.create(case=case, user=member, agency=member.agency, role_in_team=role_in_team,
                                        joined_on=today, share=share)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="add_member", object_type="case",
                       object_id=str(case.public_id),
                       detail={"member": member.pk, "agency": member.agency_id, "until": str(share.valid_until)})
    forget_contexts()
    return row


def extend_sharing(*, actor: User, case_public_id: str, member_username: str, days: int, good_cause: str
                   ) -> TeamShare:
    """Extend one member's sharing window with documented good cause, up to the maximum."""
    errors: dict[str, list[str]] = {}
    good_cause = _text(errors, "good_cause", good_cause)
    if len(good_cause) < 20 and "good_cause" not in errors:
        errors["good_cause"] = ["document the good cause (at least 20 characters)"]
    rules = _mdt_rules(actor)
    if not 1 <= days <= rules.max_extension_days:
        errors["days"] = [f"between 1 and {rules.max_extension_days}"]
    if errors:
        raise ValidationFailed(errors)
    case = _own_case(actor, case_public_id)
    member = TeamMember.objects.select_related("share").filter(
        case=case, user__username=member_username, left_on__isnull=True).first()
    if member is None:
        raise NotFound("no such member on this team")
    share = member.share
    longest = share.valid_from + dt.timedelta(days=rules.window_days + rules.max_extension_days - 1)
    until = min(share.valid_until + dt.timedelta(days=days), longest)
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "extend_sharing")
    with transaction.atomic():
        update_if_current(TeamShare, share.pk, share.version, valid_until=until, good_cause=good_cause)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="extend_sharing", object_type="case",
                       object_id=str(case.public_id), detail={"member": member.user_id, "until": str(until)})
    forget_contexts()
    share.refresh_from_db()
    return share


def _end_membership(member: TeamMember, on: dt.date) -> None:
    TeamMember.objects.filter(pk=member.pk).update(left_on=on)
    TeamShare.objects.filter(pk=member.share_id, ended_on__isnull=True).update(ended_on=on)


def remove_member(*, actor: User, case_public_id: str, member_username: str) -> None:
    """Take someone off the team; their sharing ends today."""
    case = _own_case(actor, case_public_id)
    member = TeamMember.objects.filter(case=case, user__username=member_username, left_on__isnull=True).first()
    if member is None:
        raise NotFound("no such member on this team")
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "remove_member")
    with transaction.atomic():
        _end_membership(member, clock.today())
        audit_decision(ctx, decision, youth_id=case.youth_id, action="remove_member", object_type="case",
                       object_id=str(case.public_id), detail={"member": member.user_id})
    forget_contexts()


# -- stage of change -----------------------------------------------------------------
def record_stage(*, actor: User, case_public_id: str, stage: str, on: dt.date, note: str = "") -> StageChange:
    """Record the youth's stage of change on a date. Any stage may follow any other:
    moving back, and relapse, are part of the cycle."""
    errors: dict[str, list[str]] = {}
    if stage not in STAGES:
        errors["stage"] = [f"choose one of {', '.join(STAGES)}"]
    note = _text(errors, "note", note, required=False)
    _not_future(errors, "on", on)
    case = _own_case(actor, case_public_id)
    if on < case.opened_on:
        errors.setdefault("on", []).append(f"must be on or after the case opened ({case.opened_on})")
    if errors:
        raise ValidationFailed(errors)
    if case.status == Case.CLOSED:
        raise Immutable("the case is closed")
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "create")
    with transaction.atomic():
        row = StageChange.objects.create(youth_id=case.youth_id, case=case, agency_id=case.agency_id, stage=stage,
                                         on=on, note=note, recorded_by=actor)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="create", object_type="stage_change",
                       object_id=str(row.pk), detail={"stage": stage})
    return row


# -- plans -----------------------------------------------------------------------------
PLAN_CATEGORY = {Plan.CARE: "case", Plan.SAFETY: "safety_plan"}
SAFETY_LISTS = ("triggers", "safe_people", "safe_places")
SAFETY_TEXTS = ("how_to_reach_help", "if_relapse", "for_staff")


def _date_text(value: Any) -> bool:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def check_plan(kind: str, content: dict[str, Any]) -> dict[str, list[str]]:
    """Problems with a plan's content, by field. A care plan is goals in the youth's own
    words, each with services, who is responsible and when to review it; a safety plan
    (harm reduction) lists triggers, safe people and places, how to reach help, what to
    do on relapse, and what staff do to stay safe."""
    errors: dict[str, list[str]] = {}
    if kind == Plan.CARE:
        unknown = set(content) - {"goals"}
        goals = content.get("goals")
        if not isinstance(goals, list) or not goals:
            errors["goals"] = ["write at least one goal, in the youth's own words"]
            goals = []
        for n, goal in enumerate(goals):
            if not isinstance(goal, dict):
                errors[f"goals.{n}"] = ["must be an object"]
                continue
            for name in set(goal) - {"goal", "services", "responsible", "review_on"}:
                errors[f"goals.{n}.{name}"] = ["unknown field"]
            for name in ("goal", "services", "responsible"):
                value = goal.get(name, "")
                if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
                    errors[f"goals.{n}.{name}"] = [f"text of at most {MAX_TEXT} characters"]
            if not str(goal.get("goal", "")).strip():
                errors[f"goals.{n}.goal"] = ["the goal, in the youth's own words, is required"]
            if goal.get("review_on") and not _date_text(goal["review_on"]):
                errors[f"goals.{n}.review_on"] = ["must be a date (YYYY-MM-DD)"]
    elif kind == Plan.SAFETY:
        unknown = set(content) - set(SAFETY_LISTS) - set(SAFETY_TEXTS)
        for name in SAFETY_LISTS:
            value = content.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 500 for v in value):
                errors[name] = ["a list of short texts"]
        for name in SAFETY_TEXTS:
            value = content.get(name, "")
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                errors[name] = [f"text of at most {MAX_TEXT} characters"]
        if not any(content.get(n) for n in (*SAFETY_LISTS, *SAFETY_TEXTS)):
            errors["content"] = ["the safety plan is empty"]
    else:
        return {"kind": ["care or safety"]}
    for name in unknown:
        errors[name] = ["unknown field"]
    return errors


def save_plan(*, actor: User, case_public_id: str, kind: str, expected_version: int, content: dict[str, Any]
              ) -> Plan:
    """Save a new version of the case's care or safety plan. If someone saved since the
    author read version ``expected_version``, the author's edit is kept as a conflict
    beside the current version and ``StaleEdit`` (409) is raised: both versions exist,
    nothing is overwritten."""
    errors = check_plan(kind, content)
    if errors:
        raise ValidationFailed({f"content.{k}" if k != "kind" else k: v for k, v in errors.items()})
    case = _own_case(actor, case_public_id)
    if case.status == Case.CLOSED:
        raise Immutable("the case is closed")
    ctx = context(actor, PURPOSE)
    decision = authorize_write(ctx, youth_id=case.youth_id, category=PLAN_CATEGORY[kind],
                               owner_agency_id=case.agency_id, action="update")
    now = clock.now()
    with transaction.atomic():
        plan, _ = Plan.objects.select_for_update().get_or_create(case=case, kind=kind)
        if plan.version != expected_version:
            kept = PlanVersion.objects.create(plan=plan, number=None, based_on=expected_version,
                                              state=PlanVersion.CONFLICT, content=content, author=actor,
                                              created_at=now)
            audit_decision(ctx, decision, youth_id=case.youth_id, action="plan_conflict", object_type="plan",
                           object_id=str(plan.pk), detail={"kept": kept.pk, "current": plan.version})
            current = plan.version
        else:
            PlanVersion.objects.filter(plan=plan, state=PlanVersion.CURRENT).update(state=PlanVersion.SUPERSEDED)
            plan.version += 1
            PlanVersion.objects.create(plan=plan, number=plan.version, based_on=expected_version,
                                       state=PlanVersion.CURRENT, content=content, author=actor, created_at=now)
            plan.save(update_fields=["version"])
            audit_decision(ctx, decision, youth_id=case.youth_id, action="update", object_type="plan",
                           object_id=str(plan.pk), detail={"kind": kind, "version": plan.version})
            current = -1
    if current >= 0:
        raise StaleEdit(current)
    return plan


# -- referrals ---------------------------------------------------------------------
# What a referral shares with the provider: who the youth is and why they are referred
# (identity, case), and the category the provider keeps about its clients; services of a
# protected kind add their category (medical care is health data, and so on).
SERVICE_CATEGORY = {"medical": "health", "mental_health": "mental_health", "substance_use": "substance_use",
                    "education": "education"}
PROVIDER_CATEGORY = {"community_provider": "community_services", "health": "health",
                     "mental_health": "mental_health", "education": "education"}
MIN_OVERRIDE = 20
REFERRAL_MOVES = {  # who may move a referral from one status to the next
    Referral.SENT: {Referral.ACCEPTED: "provider", Referral.DECLINED: "provider", Referral.DROPPED: "referrer"},
    Referral.ACCEPTED: {Referral.STARTED: "provider", Referral.DROPPED: "either"},
    Referral.STARTED: {Referral.COMPLETED: "provider", Referral.DROPPED: "either"},
}


def shared_categories(provider: Agency, services_: list[str]) -> list[str]:
    categories = {"identity", "case"}
    if provider.agency_type in PROVIDER_CATEGORY:
        categories.add(PROVIDER_CATEGORY[provider.agency_type])
    categories |= {SERVICE_CATEGORY[s] for s in services_ if s in SERVICE_CATEGORY}
    return sorted(categories)


def missing_consents(youth_id: int, provider: Agency, categories: list[str]) -> list[str]:
    """The shared categories that need the youth's consent and have none in force for
    this provider (or for any recipient)."""
    from django.db.models import Q

    from nowrongdoor.access.models import Consent

    today = clock.today()
    needed = [c for c in categories if vocabulary().requires_consent(c)]
    given = set(Consent.objects.filter(
        Q(recipient_agency__isnull=True) | Q(recipient_agency=provider), youth_id=youth_id, category__in=needed,
        given_on__lte=today, revoked_on__isnull=True,
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today)).filter(
        Q(purpose="") | Q(purpose=PURPOSE)).values_list("category", flat=True))
    return [c for c in needed if c not in given]


def refer(*, actor: User, case_public_id: str, provider_id: int, services_: list[str],
          consent_override: str = "") -> Referral:
    """Refer the youth to a provider for some of its services. Refused when a shared
    category needs consent that is not in force, unless a supervisor overrides with a
    written reason (audited as an override)."""
    errors: dict[str, list[str]] = {}
    provider = Agency.objects.select_related("provider").filter(pk=provider_id).first()
    profile = getattr(provider, "provider", None) if provider else None
    if provider is None or profile is None:
        errors["provider"] = ["no such provider"]
    known = vocabulary().codes("service_type")
    if not services_ or any(s not in known for s in services_):
        errors["services"] = [f"choose from {', '.join(known)}"]
    elif profile is not None and not set(services_) <= set(profile.services):
        errors["services"] = [f"{provider} does not offer {', '.join(sorted(set(services_) - set(profile.services)))}"]
    override = consent_override.strip()
    if errors:
        raise ValidationFailed(errors)
    assert provider is not None
    case = _own_case(actor, case_public_id)
    if case.status != Case.OPEN:
        raise Immutable(f"the case is {case.status}")
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "refer")
    categories = shared_categories(provider, services_)
    missing = missing_consents(case.youth_id, provider, categories)
    if missing and not override:
        record_event(actor=actor, action="refer", allowed=False, youth_id=case.youth_id, category="case",
                     purpose=PURPOSE, owner_agency_id=case.agency_id, object_type="case",
                     object_id=str(case.public_id), reason=f"no consent in force for {', '.join(missing)}",
                     detail={"provider": provider.pk, "missing_consent": missing})
        raise ValidationFailed({"consent": [f"the youth's consent to share {', '.join(missing)} with {provider} "
                                            "is not in force; record it, or a supervisor may override with a reason"]})
    if missing:
        if actor.role != "supervisor":
            raise AccessDenied("only a supervisor may send a referral without the consent it needs")
        if len(override) < MIN_OVERRIDE:
            raise ValidationFailed({"consent_override": [f"write at least {MIN_OVERRIDE} characters: why now, "
                                                         "without consent"]})
    now = clock.now()
    with transaction.atomic():
        referral = Referral.objects.create(
            case=case, youth_id=case.youth_id, agency_id=case.agency_id, provider=provider, services=services_,
            shared_categories=categories, consent_override=override if missing else "",
            override_by=actor if missing else None, created_by=actor, created_at=now,
            history=[[Referral.SENT, now.isoformat(), actor.username]])
        audit_decision(ctx, decision, youth_id=case.youth_id, action="refer", object_type="referral",
                       object_id=str(referral.public_id),
                       detail={"provider": provider.pk, "categories": categories,
                               **({"consent_override": missing} if missing else {})})
    return referral


def move_referral(*, actor: User, referral_public_id: str, expected_version: int, status: str, reason: str = "",
                  decline_reason: str = "") -> Referral:
    """Move a referral on: the provider accepts, declines (with a coded reason from
    ``referral_decline_reason``, e.g. no capacity, and words), starts and completes;
    either side may record that the youth dropped out."""
    referral = Referral.objects.filter(public_id=referral_public_id).first() \
        if is_uuid(referral_public_id) else None
    side = None
    if referral is not None:
        side = "provider" if actor.agency_id == referral.provider_id else \
            "referrer" if actor.agency_id == referral.agency_id else None
    if referral is None or side is None:
        raise NotFound("no such referral")
    who = REFERRAL_MOVES.get(referral.status, {}).get(status)
    if who is None:
        raise ValidationFailed({"status": [f"a {referral.status} referral cannot become {status}"]})
    if who not in (side, "either"):
        raise AccessDenied(f"the {'provider' if who == 'provider' else 'referring agency'} records this step")
    reason = reason.strip()
    if status in (Referral.DECLINED, Referral.DROPPED) and not reason:
        raise ValidationFailed({"reason": ["say why"]})
    if status == Referral.DECLINED and decline_reason not in vocabulary().codes("referral_decline_reason"):
        raise ValidationFailed({"decline_reason": [
            f"choose one of {', '.join(vocabulary().codes('referral_decline_reason'))}"]})
    if status != Referral.DECLINED and decline_reason:
        raise ValidationFailed({"decline_reason": ["only a declined referral has a decline reason"]})
    ctx = context(actor, writing_purpose(actor))
    decision = authorize_write(ctx, youth_id=referral.youth_id, category="case", owner_agency_id=actor.agency_id or 0,
                               action="referral_" + status)
    now = clock.now()
    with transaction.atomic():
        update_if_current(Referral, referral.pk, expected_version, only_if={"status": referral.status},
                          status=status, reason=reason or referral.reason,
                          decline_reason=decline_reason or referral.decline_reason,
                          history=[*referral.history, [status, now.isoformat(), actor.username]])
        audit_decision(ctx, decision, youth_id=referral.youth_id, action="referral_" + status,
                       object_type="referral", object_id=str(referral.public_id))
    referral.refresh_from_db()
    return referral


# -- hand-over between counties -----------------------------------------------------------
def transfer_case(*, actor: User, case_public_id: str, expected_version: int, to_agency_id: int, reason: str
                  ) -> Case:
    """(Supervisors) hand the case's lead to an agency in another county. The case keeps
    its history; the receiving agency's supervisor assigns a worker; the hand-over is
    audited on both sides (the sending agency no longer reads the case unless shared)."""
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "reason", reason)
    case = _own_case(actor, case_public_id)
    target = Agency.objects.filter(pk=to_agency_id).first()
    if target is None:
        errors["to_agency"] = ["no such agency"]
    elif target.county_id == case.agency.county_id:
        errors["to_agency"] = ["a transfer goes to another county (within the county, reassign the worker)"]
    if errors:
        raise ValidationFailed(errors)
    assert target is not None
    if actor.role != "supervisor":
        raise AccessDenied("a supervisor hands a case over")
    if case.status != Case.OPEN:
        raise Immutable(f"the case is {case.status}")
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "transfer")
    with transaction.atomic():
        update_if_current(Case, case.pk, expected_version, only_if={"status": Case.OPEN}, agency=target,
                          worker=None, county_of_residence_id=target.county_id)
        CaseTransfer.objects.create(case=case, from_agency_id=case.agency_id, to_agency=target, reason=reason,
                                    by=actor, on=clock.today())
        _hand_over_identity(case, target, actor)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="transfer", object_type="case",
                       object_id=str(case.public_id), detail={"from": case.agency_id, "to": target.pk})
        record_event(actor=actor, action="transfer_received", youth_id=case.youth_id, category=CATEGORY,
                     purpose=PURPOSE, owner_agency_id=target.pk, object_type="case", object_id=str(case.public_id),
                     detail={"from": case.agency_id, "to": target.pk})
    case.refresh_from_db()
    return case


def _hand_over_identity(case: Case, target: Agency, actor: User) -> None:
    """The receiving agency gets its own record of the youth: the sending agency's
    identity fields (names, birth date or estimated age, sex), nothing else. That is the
    hand-over's disclosure, audited with the transfer."""
    from nowrongdoor.youth.models import SourceRecord

    source = SourceRecord.objects.filter(youth_id=case.youth_id, agency_id=case.agency_id).order_by("pk").first()
    if source is None or SourceRecord.objects.filter(youth_id=case.youth_id, agency=target).exists():
        return
    SourceRecord.objects.create(
        youth_id=case.youth_id, agency=target, local_id=f"TRANSFER-{str(case.public_id)[:8]}",
        first_name=source.first_name, middle_name=source.middle_name, last_name=source.last_name,
        aliases=source.aliases, search_name=source.search_name, date_of_birth=source.date_of_birth,
        estimated_age=source.estimated_age, age_recorded_on=source.age_recorded_on, sex=source.sex,
        recorded_at=clock.now(), created_by=actor)


def assign_worker(*, actor: User, case_public_id: str, expected_version: int, worker_username: str) -> Case:
    """(Supervisors of the lead agency) name the case's worker."""
    case = _own_case(actor, case_public_id)
    if actor.role != "supervisor":
        raise AccessDenied("a supervisor assigns the worker")
    worker = User.objects.filter(username=worker_username, agency_id=case.agency_id, is_active=True).first()
    if worker is None:
        raise ValidationFailed({"worker": ["no active staff member of the lead agency by that name"]})
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "assign")
    with transaction.atomic():
        update_if_current(Case, case.pk, expected_version, worker=worker)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="assign", object_type="case",
                       object_id=str(case.public_id), detail={"worker": worker.pk})
    case.refresh_from_db()
    return case


# -- MDT meetings ----------------------------------------------------------------------
def record_meeting(*, actor: User, case_public_id: str, held_on: dt.date, attendees: list[str], agenda: str,
                   decisions: str, action_items: list[dict[str, Any]]) -> Meeting:
    """Record an MDT meeting. Each action item ({"what", "owner" (user name), "due_on"})
    becomes a task in its owner's "My work"."""
    from nowrongdoor.protocols.models import Task

    errors: dict[str, list[str]] = {}
    agenda = _text(errors, "agenda", agenda, required=False)
    decisions = _text(errors, "decisions", decisions, required=False)
    _not_future(errors, "held_on", held_on)
    case = _own_case(actor, case_public_id)
    team = {m.user.username: m.user for m in TeamMember.objects.filter(case=case).select_related("user")}
    team[actor.username] = actor
    if case.worker is not None:
        team[case.worker.username] = case.worker
    unknown = [a for a in attendees if a not in team]
    if unknown:
        errors["attendees"] = [f"not on the team: {', '.join(unknown)}"]
    if not attendees:
        errors["attendees"] = ["who attended?"]
    owners: list[tuple[User, str, dt.date]] = []
    for n, item in enumerate(action_items):
        what = str(item.get("what", "")).strip()
        owner = team.get(str(item.get("owner", "")))
        try:
            due = dt.date.fromisoformat(str(item.get("due_on", "")))
        except ValueError:
            errors[f"action_items.{n}.due_on"] = ["must be a date (YYYY-MM-DD)"]
            continue
        if not what or len(what) > 500:
            errors[f"action_items.{n}.what"] = ["say what is to be done (at most 500 characters)"]
        if owner is None or owner.agency_id is None:
            errors[f"action_items.{n}.owner"] = ["the owner must be on the team"]
        elif due < held_on:
            errors[f"action_items.{n}.due_on"] = ["must be on or after the meeting"]
        else:
            owners.append((owner, what, due))
    if errors:
        raise ValidationFailed(errors)
    if case.status == Case.CLOSED:
        raise Immutable("the case is closed")
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "create")
    now = clock.now()
    with transaction.atomic():
        meeting = Meeting.objects.create(case=case, held_on=held_on, attendees=attendees, agenda=agenda,
                                         decisions=decisions, recorded_by=actor, recorded_at=now)
        event = _case_event(case, key=f"meeting:{meeting.pk}", event_type="mdt_meeting", actor=actor,
                            facts={"case": str(case.public_id)}, now=now)
        Task.objects.bulk_create([
            _person_task(case, event, protocol_id="mdt_action", step_id=f"item{n + 1}", kind="mdt_action",
                         title={"en": what, "es": what},
                         instructions={"en": f"Action item from the MDT meeting of {held_on}.",
                                       "es": f"Tarea acordada en la reunión del equipo del {held_on}."},
                         owner=owner, due_day=due, now=now)
            for n, (owner, what, due) in enumerate(owners)
        ], ignore_conflicts=True)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="create", object_type="meeting",
                       object_id=str(meeting.pk), detail={"action_items": len(owners)})
    return meeting



# -- weekly case review ------------------------------------------------------------------
def mark_review_held(*, actor: User) -> None:
    """The agency held its weekly case review: the next list starts from now."""
    from nowrongdoor.cases.models import CaseReview

    if actor.role not in ("supervisor", "case_manager", "mdt_coordinator") or actor.agency_id is None:
        raise AccessDenied("case reviews are held by case staff")
    with transaction.atomic():
        review = CaseReview.objects.create(
            agency_id=actor.agency_id, held_at=clock.now(), held_by=actor,
            cases=Case.objects.filter(agency_id=actor.agency_id, status__in=[Case.OPEN, Case.CLOSING]).count())
        record_event(actor=actor, action="case_review_held", object_type="case_review", object_id=str(review.pk))


# -- continuity of key relationships ----------------------------------------------------
RELATIONSHIP_KINDS = ("therapist", "advocate", "judge", "case_worker", "mentor", "attorney")
HANDOVER_NOTICE = dt.timedelta(days=14)


def record_relationship(*, actor: User, case_public_id: str, kind: str, person: str, since: dt.date,
                        agency_id: int | None = None) -> Any:
    from nowrongdoor.cases.models import KeyRelationship

    errors: dict[str, list[str]] = {}
    if kind not in RELATIONSHIP_KINDS:
        errors["kind"] = [f"choose one of {', '.join(RELATIONSHIP_KINDS)}"]
    person = _text(errors, "person", person)
    _not_future(errors, "since", since)
    if errors:
        raise ValidationFailed(errors)
    case = _own_case(actor, case_public_id)
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "create")
    with transaction.atomic():
        row = KeyRelationship.objects.create(case=case, kind=kind, person=person[:150], agency_id=agency_id,
                                             since=since, recorded_by=actor)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="create", object_type="relationship",
                       object_id=str(row.pk), detail={"kind": kind})
    return row


def plan_relationship_end(*, actor: User, case_public_id: str, relationship_id: int, ends_on: dt.date) -> str:
    """Record a planned change that would break a key relationship (a therapist leaving,
    a judge rotating). Returns the warning, and opens a task for the case's worker to plan
    the hand-over two weeks ahead (or at once when the change is sooner)."""
    from nowrongdoor.cases.models import KeyRelationship
    from nowrongdoor.protocols.models import Task

    case = _own_case(actor, case_public_id)
    relationship = KeyRelationship.objects.filter(pk=relationship_id, case=case).first()
    if relationship is None:
        raise NotFound("no such relationship on this case")
    if ends_on < clock.today():
        raise ValidationFailed({"ends_on": ["a planned change is today or later"]})
    owner = case.worker or actor
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "update")
    now = clock.now()
    due_day = max(clock.today(), ends_on - HANDOVER_NOTICE)
    title = f"Plan the hand-over: the youth's {relationship.kind.replace('_', ' ')} changes on {ends_on}"
    with transaction.atomic():
        KeyRelationship.objects.filter(pk=relationship.pk).update(ends_on=ends_on)
        event = _case_event(case, key=f"relationship:{relationship.pk}:{ends_on}", event_type="relationship_change",
                            actor=actor, facts={"kind": relationship.kind}, now=now)
        Task.objects.bulk_create([_person_task(
            case, event, protocol_id="continuity", step_id="handover", kind="continuity_handover",
            title={"en": title, "es": f"Planificar el traspaso: cambia {relationship.kind} el {ends_on}"},
            instructions={"en": "Introduce the new person while the youth still has the old one; tell the youth "
                                "early, in person.",
                          "es": "Presente a la nueva persona mientras la anterior sigue; avise al o la joven "
                                "con tiempo y en persona."},
            owner=owner, due_day=due_day, now=now)], ignore_conflicts=True)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="plan_relationship_end",
                       object_type="relationship", object_id=str(relationship.pk), detail={"ends_on": str(ends_on)})
    return (f"This change would break the youth's relationship with their {relationship.kind.replace('_', ' ')} "
            f"({relationship.person}). A hand-over task is due on {due_day}.")


# -- youth-witness protection -------------------------------------------------------------
# (step id, days from the hearing, English, Spanish): before the testimony and after it.
WITNESS_STEPS = [
    ("transport", -2, "Arrange safe transport to and from court", "Organizar transporte seguro de ida y vuelta"),
    ("safety_review", -2, "Review the safety plan with the youth before the hearing",
     "Revisar el plan de seguridad con el o la joven antes de la audiencia"),
    ("support_person", -2, "Make sure a support person or advocate goes with the youth",
     "Asegurar que una persona de apoyo o defensora acompañe al o la joven"),
    ("separate_waiting", -2, "Ask the court for a waiting area away from the exploiter and their associates",
     "Pedir al tribunal una sala de espera lejos del explotador y sus allegados"),
    ("debrief", 1, "Debrief with the youth after testifying", "Conversar con el o la joven después de declarar"),
    ("safety_check", 1, "Check the youth's safety the day after (threats, contact attempts)",
     "Verificar la seguridad del o la joven al día siguiente (amenazas, intentos de contacto)"),
    ("counselling", 7, "Offer counselling in the week after the testimony",
     "Ofrecer acompañamiento psicológico en la semana posterior"),
]


def add_hearing(*, actor: User, case_public_id: str, held_on: dt.date, court: str, note: str = "") -> Any:
    """Record a hearing where the youth testifies; open the protection checklist as tasks
    for the case's worker (before: transport, safety plan, support person, separate
    waiting area; after: debrief, safety check, counselling)."""
    from nowrongdoor.cases.models import Hearing
    from nowrongdoor.protocols.models import Task

    errors: dict[str, list[str]] = {}
    court = _text(errors, "court", court)
    note = _text(errors, "note", note, required=False)
    if held_on < clock.today():
        errors["held_on"] = ["a hearing to prepare for is today or later"]
    if errors:
        raise ValidationFailed(errors)
    case = _own_case(actor, case_public_id)
    if case.status == Case.CLOSED:
        raise Immutable("the case is closed")
    owner = case.worker or actor
    ctx, decision = _write_context(actor, case.youth_id, case.agency_id, "create")
    now = clock.now()
    with transaction.atomic():
        hearing = Hearing.objects.create(case=case, held_on=held_on, court=court[:200], note=note,
                                         recorded_by=actor)
        event = _case_event(case, key=f"hearing:{hearing.pk}", event_type="witness_hearing", actor=actor,
                            facts={"held_on": str(held_on)}, now=now)
        Task.objects.bulk_create([
            _person_task(case, event, protocol_id="witness_protection", step_id=step, kind="witness_protection",
                         title={"en": en, "es": es},
                         instructions={"en": f"Hearing on {held_on} at {court[:100]}.",
                                       "es": f"Audiencia el {held_on} en {court[:100]}."},
                         owner=owner, due_day=max(held_on + dt.timedelta(days=days), clock.today()), now=now)
            for step, days, en, es in WITNESS_STEPS
        ], ignore_conflicts=True)
        audit_decision(ctx, decision, youth_id=case.youth_id, action="create", object_type="hearing",
                       object_id=str(hearing.pk))
    return hearing


# -- tasks a case opens for a person (outside the protocol files) -------------------------------
def _case_event(case: Case, *, key: str, event_type: str, actor: User, facts: dict[str, Any], now: dt.datetime
                ) -> Any:
    """The (already evaluated) trigger event that the case's own tasks hang on."""
    from nowrongdoor.protocols.models import TriggerEvent

    event, _ = TriggerEvent.objects.get_or_create(key=key, defaults={
        "event_type": event_type, "youth_id": case.youth_id, "agency_id": case.agency_id, "actor": actor,
        "occurred_at": now, "recorded_at": now, "facts": facts, "evaluated_at": now})
    return event


def _person_task(case: Case, event: Any, *, protocol_id: str, step_id: str, kind: str, title: dict[str, str],
                 instructions: dict[str, str], owner: User, due_day: dt.date, now: dt.datetime) -> Any:
    """A task for one person (an MDT action item, a hand-over, a witness-protection step),
    due at 17:00 county time on ``due_day``, in the category of the owner's agency."""
    from nowrongdoor.protocols.library import CATEGORY_OF_AGENCY_TYPE
    from nowrongdoor.protocols.models import Task

    agency = owner.agency or case.agency
    return Task(key=f"{event.key}|{protocol_id}|{step_id}", event=event, youth_id=case.youth_id,
                county_id=case.agency.county_id, protocol_id=protocol_id, protocol_version=protocol_id,
                step_id=step_id, kind=kind, title=title, instructions=instructions,
                category=CATEGORY_OF_AGENCY_TYPE.get(agency.agency_type, "case"), agency=agency,
                agency_type=agency.agency_type, role=owner.role, assignee=owner, created_at=now,
                due_at=dt.datetime.combine(due_day, dt.time(17, 0), tzinfo=county_time_zone()))
