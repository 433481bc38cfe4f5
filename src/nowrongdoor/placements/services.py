"""Writes of safe placement: searches, placing and moving, ending, absences and returns,
no-reject-no-eject holds, and the safety facts matching needs (a complicit caregiver,
an area where the youth was exploited). Each takes the acting user, checks through
``access`` and writes in one transaction with its audit row (ARCHITECTURE.md, writes).

Placing, ending, an absence and a return each record the matching contact on the
placing agency's own record of the youth (``placement_start``, ``placement_end``,
``absence_start``, ``absence_return``), so the response protocols start exactly as they
would for the same event typed in by hand: an absence starts the missing-from-care
protocol, a return starts the debrief and re-screening.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import F
from django.utils.timezone import localdate

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import AccessContext, Decision, audit_decision, authorize_write, context
from nowrongdoor.cases.models import Case
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import Immutable, NotFound, ValidationFailed
from nowrongdoor.placements.facts import birth_date_of, bump_occupancy, candidates, live_hold_filter, youth_facts
from nowrongdoor.placements.matching import exclusions, match
from nowrongdoor.placements.models import (
    Absence,
    Caregiver,
    Complicity,
    ExploitationArea,
    Hold,
    MatchRun,
    Placement,
    Resource,
    YouthExploitationArea,
    Zone,
)
from nowrongdoor.placements.selectors import rules_for
from nowrongdoor.youth.models import Contact, SourceRecord, Youth
from nowrongdoor.youth.selectors import get_youth, is_uuid, visible_youth
from nowrongdoor.youth.services import create_contact

PURPOSE = "case_coordination"
CATEGORY = "placement"
MAX_TEXT = 500



def _authorize(actor: User, youth_id: int, owner_agency_id: int, action: str) -> tuple[AccessContext, Decision]:
    ctx = context(actor, PURPOSE)
    return ctx, authorize_write(ctx, youth_id=youth_id, category=CATEGORY, owner_agency_id=owner_agency_id,
                                action=action)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Matching builds and drops tens of thousands of small acyclic objects (freed by
    reference counting); the cycle collector walking them mid-search made the slowest
    searches 3-4x the median. It runs again right after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _address_check(ctx: AccessContext, youth_id: int) -> Callable[[int], bool]:
    def sees(owner_agency_id: int) -> bool:
        return ctx.decide(youth_id=youth_id, category="placement_address", owner_agency_id=owner_agency_id).allowed
    return sees


def _not_found(actor: User, object_type: str, public_id: str, reason: str) -> NoReturn:
    """Refuse, audited, an object the actor's agency does not hold (or that does not exist)."""
    record_event(actor=actor, action="write", allowed=False, purpose=PURPOSE, object_type=object_type,
                 object_id=str(public_id)[:64], reason=reason)
    raise NotFound(reason)


def _text(errors: dict[str, list[str]], name: str, value: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = ["is required"]
    elif len(value) > MAX_TEXT or "\x00" in value:
        errors[name] = [f"must be at most {MAX_TEXT} characters, without NUL"]
    return value


def _not_future(errors: dict[str, list[str]], name: str, value: dt.datetime) -> None:
    if value > clock.now() + dt.timedelta(minutes=5):
        errors.setdefault(name, []).append("is in the future")


def _own_record(actor: User, youth: Youth) -> SourceRecord:
    """The placing agency's own record of the youth: placement contacts are written on it."""
    record = SourceRecord.objects.filter(youth=youth, agency_id=actor.agency_id or 0).order_by("pk").first()
    if record is None:
        raise ValidationFailed({"youth": ["your agency holds no record of this youth: add your record first "
                                          "(the placement's events are recorded on it)"]})
    return record


def _contact(actor: User, record: SourceRecord, contact_type: str, at: dt.datetime,
             details: dict[str, Any] | None = None) -> Contact:
    return create_contact(actor=actor, source_record_public_id=str(record.public_id), contact_type=contact_type,
                          occurred_at=at, details=details or {})


# -- needs of a search ----------------------------------------------------------------
def clean_needs(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate what a placement worker asks for: resource types, the youth's language,
    school and therapist zones, and whether LGBTQ-affirming care matters to the youth."""
    errors: dict[str, list[str]] = {}
    v = vocabulary()
    types = sorted({str(t) for t in raw.get("types") or []})
    bad = [t for t in types if t not in v.codes("placement_type")]
    if bad:
        errors["types"] = [f"unknown placement type {', '.join(bad)}; "
                           f"choose from {', '.join(v.codes('placement_type'))}"]
    language = str(raw.get("language") or "")
    if language and language not in v.codes("language"):
        errors["language"] = [f"choose one of {', '.join(v.codes('language'))}"]
    zones: dict[str, int | None] = {}
    for name in ("school_zone", "therapist_zone"):
        value = raw.get(name)
        if value in (None, "", 0):
            zones[name] = None
        elif not str(value).isdigit() or not Zone.objects.filter(pk=int(value)).exists():
            errors[name] = ["no such zone"]
        else:
            zones[name] = int(value)
    if errors:
        raise ValidationFailed(errors)
    return {"types": types, "language": language, "lgbtq": bool(raw.get("lgbtq")), **zones}


def search(*, actor: User, youth_public_id: str, needs: dict[str, Any]) -> MatchRun:
    """Match the youth against every active resource and keep the result: every
    candidate ranked with its reasons or excluded with the rules it breaks."""
    clean = clean_needs(needs)
    view = get_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE, with_contacts=False)
    youth = Youth.objects.get(public_id=view.public_id)
    ctx, decision = _authorize(actor, youth.pk, actor.agency_id or 0, "placement_search")
    on = clock.today()
    facts = youth_facts(youth.pk, view, clean, on, default_county_id=actor.agency.county_id if actor.agency else None,
                        sees_address=_address_check(ctx, youth.pk))
    r = rules_for(actor)
    with _collector_paused(), transaction.atomic():
        result = match(facts, candidates(youth.pk, on, r), r)
        run = MatchRun.objects.create(
            youth=youth, agency_id=actor.agency_id or 0, requested_by=actor, requested_at=clock.now(),
            rules_version=r.version, needs=clean,
            facts={"age": facts.age, "gender": facts.gender, "lgbtq": facts.lgbtq, "language": facts.language,
                   "county_id": facts.county_id, "currently_exploited": facts.currently_exploited,
                   "identified_victim": facts.identified_victim, "areas": [a.id for a in facts.areas],
                   "weights": r.weights},
            # Ranked reasons as codes: their points are the run's ``weights``; the only detail
            # a soft score has (the language) is in ``facts``. Keeps a 5,000-resource run small.
            ranked=[[x.resource_id, x.score, x.free, [code for code, _, _ in x.reasons]] for x in result.ranked],
            excluded=[[x.resource_id, [list(rule) for rule in x.rules]] for x in result.excluded])
        audit_decision(ctx, decision, youth_id=youth.pk, action="placement_search", object_type="match_run",
                       object_id=str(run.public_id),
                       detail={"ranked": len(result.ranked), "excluded": len(result.excluded),
                               "rules_version": r.version,
                               "read": "occupants' ages and current exploitation status, as safety facts"})
    return run


# -- placing, moving, ending -----------------------------------------------------------------
def _resource(public_id: str) -> Resource:
    resource = Resource.objects.filter(public_id=public_id, active=True).first() if is_uuid(public_id) else None
    if resource is None:
        raise ValidationFailed({"resource": ["no such active placement resource"]})
    return resource


def _hold_days(errors: dict[str, list[str]], days: int | None, resource: Resource, actor: User) -> None:
    if days is None:
        return
    limit = rules_for(actor).hold_max_days
    if not resource.accepts_holds:
        errors["hold_days"] = ["this resource does not take no-reject-no-eject holds"]
    elif not 1 <= days <= limit:
        errors["hold_days"] = [f"must be between 1 and {limit} days"]


def _start(actor: User, youth: Youth, record: SourceRecord, resource: Resource, started_at: dt.datetime, *,
           match_run: MatchRun | None, case: Case | None, hold_days: int | None, hold_agreed_by: str) -> Placement:
    """Inside the caller's transaction: lock the resource, check every hard rule again
    on the facts as they are now, and place."""
    Resource.objects.select_for_update().filter(pk=resource.pk).first()  # serialise the last bed
    view = get_youth(actor=actor, public_id=str(youth.public_id), purpose=PURPOSE, with_contacts=False)
    on = clock.today()
    r = rules_for(actor)
    facts = youth_facts(youth.pk, view, {}, on, default_county_id=actor.agency.county_id if actor.agency else None,
                        sees_address=_address_check(context(actor, PURPOSE), youth.pk))
    (candidate,) = candidates(youth.pk, on, r, resource_ids=[resource.pk])
    broken = exclusions(facts, candidate, r)
    if broken:
        raise ValidationFailed({"resource": [r.label(code) + (f" ({', '.join(f'{k}: {v}' for k, v in d.items())})"
                                                              if d else "") for code, d in broken]})
    bump_occupancy()
    contact = _contact(actor, record, "placement_start", started_at, {"placement_type": resource.resource_type})
    placement = Placement.objects.create(
        youth=youth, resource=resource, agency_id=actor.agency_id or 0, case=case, match_run=match_run,
        started_at=started_at, birth_date=birth_date_of(view, on), start_contact=contact, placed_by=actor)
    if hold_days is not None:
        Hold.objects.create(youth=youth, resource=resource, agency_id=actor.agency_id or 0, placement=placement,
                            agreed_by=hold_agreed_by or "caregiver", starts_on=localdate(started_at),
                            expires_on=localdate(started_at) + dt.timedelta(days=hold_days), recorded_by=actor)
    return placement


def place(*, actor: User, youth_public_id: str, resource_public_id: str, started_at: dt.datetime,
          match_run_public_id: str = "", case_public_id: str = "", hold_days: int | None = None,
          hold_agreed_by: str = "") -> Placement:
    """Place the youth at the resource. Refused if any hard rule is broken now (the
    facts are checked again at this moment), if the youth is placed elsewhere (move
    them instead), or if the resource has no free bed; with ``hold_days`` the caregiver
    agrees to keep the youth's place through absences for that many days."""
    errors: dict[str, list[str]] = {}
    _not_future(errors, "started_at", started_at)
    hold_agreed_by = _text(errors, "hold_agreed_by", hold_agreed_by)
    resource = _resource(resource_public_id)
    _hold_days(errors, hold_days, resource, actor)
    if errors:
        raise ValidationFailed(errors)
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE)
    ctx, decision = _authorize(actor, youth.pk, actor.agency_id or 0, "place")
    record = _own_record(actor, youth)
    match_run = _match_run(actor, match_run_public_id, youth)
    case = _case(actor, case_public_id, youth)
    with transaction.atomic():
        current = Placement.objects.select_for_update().filter(youth=youth).exclude(status=Placement.ENDED).first()
        if current is not None:
            raise ValidationFailed({"youth": ["the youth already has a current placement: move them or end it"]})
        placement = _start(actor, youth, record, resource, started_at, match_run=match_run, case=case,
                           hold_days=hold_days, hold_agreed_by=hold_agreed_by)
        audit_decision(ctx, decision, youth_id=youth.pk, action="place", object_type="placement",
                       object_id=str(placement.public_id),
                       detail={"type": resource.resource_type, "hold_days": hold_days})
    return placement


def _match_run(actor: User, public_id: str, youth: Youth) -> MatchRun | None:
    if not public_id:
        return None
    run = MatchRun.objects.filter(public_id=public_id, agency_id=actor.agency_id or 0, youth=youth).first() \
        if is_uuid(public_id) else None
    if run is None:
        raise ValidationFailed({"match_run": ["no such search of your agency for this youth"]})
    return run


def _case(actor: User, public_id: str, youth: Youth) -> Case | None:
    if public_id:
        case = Case.objects.filter(public_id=public_id, agency_id=actor.agency_id or 0, youth=youth).first() \
            if is_uuid(public_id) else None
        if case is None:
            raise ValidationFailed({"case": ["no such case of your agency for this youth"]})
        return case
    return Case.objects.filter(youth=youth, agency_id=actor.agency_id or 0).exclude(status=Case.CLOSED).first()


def _own_placement(actor: User, public_id: str) -> Placement:
    placement = Placement.objects.select_related("youth", "resource").filter(
        public_id=public_id, agency_id=actor.agency_id or 0).first() if is_uuid(public_id) else None
    if placement is None:
        _not_found(actor, "placement", public_id, "no such placement made by your agency")
    return placement


def _finish(actor: User, placement: Placement, expected_version: int, ended_at: dt.datetime, reason: str,
            note: str) -> None:
    record = _own_record(actor, placement.youth)
    bump_occupancy()
    contact = _contact(actor, record, "placement_end", ended_at, {"reason": reason})
    update_if_current(Placement, placement.pk, expected_version, only_if={"status__in": [Placement.ACTIVE,
                                                                                         Placement.ABSENT]},
                      status=Placement.ENDED, ended_at=ended_at, end_reason=reason, end_note=note,
                      end_contact=contact, ended_by=actor)


def _end_errors(placement: Placement, ended_at: dt.datetime, reason: str, note: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    codes = vocabulary().codes("placement_end_reason")
    if reason not in codes:
        errors["reason"] = [f"choose one of {', '.join(codes)}"]
    _text(errors, "note", note, required=reason == "other")
    _not_future(errors, "ended_at", ended_at)
    if ended_at < placement.started_at:
        errors.setdefault("ended_at", []).append("must be after the placement started")
    return errors


def end_placement(*, actor: User, placement_public_id: str, expected_version: int, ended_at: dt.datetime,
                  reason: str, note: str = "") -> Placement:
    """End a placement. A hold the caregiver agreed to stays in force: the bed is kept."""
    placement = _own_placement(actor, placement_public_id)
    if placement.status == Placement.ENDED:
        raise Immutable("the placement has ended")
    errors = _end_errors(placement, ended_at, reason, note)
    if errors:
        raise ValidationFailed(errors)
    ctx, decision = _authorize(actor, placement.youth_id, placement.agency_id, "end_placement")
    with transaction.atomic():
        _finish(actor, placement, expected_version, ended_at, reason, note.strip())
        audit_decision(ctx, decision, youth_id=placement.youth_id, action="end_placement", object_type="placement",
                       object_id=str(placement.public_id), detail={"reason": reason})
    placement.refresh_from_db()
    return placement


def move(*, actor: User, placement_public_id: str, expected_version: int, resource_public_id: str,
         moved_at: dt.datetime, match_run_public_id: str = "", note: str = "", hold_days: int | None = None,
         hold_agreed_by: str = "") -> Placement:
    """End the current placement (reason: moved) and start the new one, together or not at all."""
    current = _own_placement(actor, placement_public_id)
    if current.status == Placement.ENDED:
        raise Immutable("the placement has ended")
    errors = _end_errors(current, moved_at, "moved", note)
    hold_agreed_by = _text(errors, "hold_agreed_by", hold_agreed_by)
    resource = _resource(resource_public_id)
    if resource.pk == current.resource_id:
        errors["resource"] = ["the youth already lives there"]
    _hold_days(errors, hold_days, resource, actor)
    if errors:
        raise ValidationFailed(errors)
    ctx, decision = _authorize(actor, current.youth_id, current.agency_id, "move")
    record = _own_record(actor, current.youth)
    match_run = _match_run(actor, match_run_public_id, current.youth)
    with transaction.atomic():
        _finish(actor, current, expected_version, moved_at, "moved", note.strip())
        placement = _start(actor, current.youth, record, resource, moved_at, match_run=match_run, case=current.case,
                           hold_days=hold_days, hold_agreed_by=hold_agreed_by)
        audit_decision(ctx, decision, youth_id=current.youth_id, action="move", object_type="placement",
                       object_id=str(placement.public_id), detail={"from": str(current.public_id)})
    return placement


# -- absences ---------------------------------------------------------------------------------
def record_absence(*, actor: User, placement_public_id: str, expected_version: int, started_at: dt.datetime,
                   note: str = "") -> Absence:
    """The youth is missing from placement. The placement and any hold stay; the
    missing-from-care protocol starts from the contact this records."""
    placement = _own_placement(actor, placement_public_id)
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note)
    _not_future(errors, "started_at", started_at)
    if started_at < placement.started_at:
        errors.setdefault("started_at", []).append("must be after the placement started")
    if errors:
        raise ValidationFailed(errors)
    if placement.status != Placement.ACTIVE:
        raise Immutable("the youth is already recorded as absent" if placement.status == Placement.ABSENT
                        else "the placement has ended")
    ctx, decision = _authorize(actor, placement.youth_id, placement.agency_id, "record_absence")
    record = _own_record(actor, placement.youth)
    with transaction.atomic():
        update_if_current(Placement, placement.pk, expected_version, only_if={"status": Placement.ACTIVE},
                          status=Placement.ABSENT)
        contact = _contact(actor, record, "absence_start", started_at)
        absence = Absence.objects.create(placement=placement, youth_id=placement.youth_id,
                                         agency_id=placement.agency_id, started_at=started_at, whereabouts=note,
                                         start_contact=contact,
                                         recorded_by=actor)
        audit_decision(ctx, decision, youth_id=placement.youth_id, action="record_absence", object_type="absence",
                       object_id=str(absence.public_id))
    return absence


def record_return(*, actor: User, absence_public_id: str, expected_version: int, returned_at: dt.datetime,
                  whereabouts: str = "", back_in_placement: bool = True) -> Absence:
    """The youth is back. Back in the same placement, it goes on; otherwise the placement
    ends (reason: ran away) and a hold, if any, keeps the bed for a later return."""
    absence = Absence.objects.select_related("placement", "placement__youth").filter(
        public_id=absence_public_id, agency_id=actor.agency_id or 0).first() if is_uuid(absence_public_id) else None
    if absence is None:
        _not_found(actor, "absence", absence_public_id, "no such absence recorded by your agency")
    if absence.returned_at is not None:
        raise Immutable("the return is already recorded")
    errors: dict[str, list[str]] = {}
    whereabouts = _text(errors, "whereabouts", whereabouts)
    _not_future(errors, "returned_at", returned_at)
    if returned_at < absence.started_at:
        errors.setdefault("returned_at", []).append("must be after the absence started")
    if errors:
        raise ValidationFailed(errors)
    placement = absence.placement
    ctx, decision = _authorize(actor, absence.youth_id, absence.agency_id, "record_return")
    record = _own_record(actor, placement.youth)
    with transaction.atomic():
        contact = _contact(actor, record, "absence_return", returned_at)
        update_if_current(Absence, absence.pk, expected_version, only_if={"returned_at__isnull": True},
                          returned_at=returned_at, whereabouts=whereabouts or absence.whereabouts,
                          return_contact=contact)
        if placement.status == Placement.ABSENT:
            if back_in_placement:
                Placement.objects.filter(pk=placement.pk).update(status=Placement.ACTIVE, version=F("version") + 1)
            else:
                _finish(actor, placement, Placement.objects.values_list("version", flat=True).get(pk=placement.pk),
                        returned_at, "ran_away", "did not return to placement")
        audit_decision(ctx, decision, youth_id=absence.youth_id, action="record_return", object_type="absence",
                       object_id=str(absence.public_id), detail={"back_in_placement": back_in_placement})
    absence.refresh_from_db()
    return absence


# -- no reject, no eject -------------------------------------------------------------------
def agree_hold(*, actor: User, placement_public_id: str, days: int | None = None, agreed_by: str) -> Hold:
    """The caregiver of a placement agrees to keep the youth's place through absences
    and relapses for ``days`` (the county's default when not given)."""
    placement = _own_placement(actor, placement_public_id)
    errors: dict[str, list[str]] = {}
    agreed_by = _text(errors, "agreed_by", agreed_by, required=True)
    days = rules_for(actor).hold_default_days if days is None else days
    _hold_days(errors, days, placement.resource, actor)
    if placement.status == Placement.ENDED:
        errors["placement"] = ["the placement has ended"]
    if errors:
        raise ValidationFailed(errors)
    ctx, decision = _authorize(actor, placement.youth_id, placement.agency_id, "agree_hold")
    today = clock.today()
    with transaction.atomic():
        if Hold.objects.filter(live_hold_filter(today), youth_id=placement.youth_id,
                               resource_id=placement.resource_id).exists():
            raise ValidationFailed({"placement": ["a hold for this youth at this resource is already in force"]})
        bump_occupancy()
        hold = Hold.objects.create(youth_id=placement.youth_id, resource_id=placement.resource_id,
                                   agency_id=placement.agency_id, placement=placement, agreed_by=agreed_by,
                                   starts_on=today, expires_on=today + dt.timedelta(days=days), recorded_by=actor)
        audit_decision(ctx, decision, youth_id=placement.youth_id, action="agree_hold", object_type="hold",
                       object_id=str(hold.public_id), detail={"days": days})
    return hold


def _own_hold(actor: User, public_id: str) -> Hold:
    hold = Hold.objects.filter(public_id=public_id, agency_id=actor.agency_id or 0).first() \
        if is_uuid(public_id) else None
    if hold is None:
        _not_found(actor, "hold", public_id, "no such hold of your agency")
    if hold.released_on is not None:
        raise Immutable("the hold was released")
    return hold


def extend_hold(*, actor: User, hold_public_id: str, expected_version: int, expires_on: dt.date) -> Hold:
    """Move a hold's end date; never further than the county's maximum from today."""
    hold = _own_hold(actor, hold_public_id)
    limit = clock.today() + dt.timedelta(days=rules_for(actor).hold_max_days)
    if not hold.expires_on < expires_on <= limit:
        raise ValidationFailed({"expires_on": [f"must be after {hold.expires_on} and no later than {limit}"]})
    ctx, decision = _authorize(actor, hold.youth_id, hold.agency_id, "extend_hold")
    with transaction.atomic():
        update_if_current(Hold, hold.pk, expected_version, expires_on=expires_on)
        bump_occupancy()
        audit_decision(ctx, decision, youth_id=hold.youth_id, action="extend_hold", object_type="hold",
                       object_id=str(hold.public_id), detail={"expires_on": expires_on.isoformat()})
    hold.refresh_from_db()
    return hold


def release_hold(*, actor: User, hold_public_id: str, expected_version: int, reason: str) -> Hold:
    """End a hold early, with the reason (the youth settled elsewhere, the caregiver stopped caring)."""
    hold = _own_hold(actor, hold_public_id)
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "reason", reason, required=True)
    if errors:
        raise ValidationFailed(errors)
    ctx, decision = _authorize(actor, hold.youth_id, hold.agency_id, "release_hold")
    with transaction.atomic():
        update_if_current(Hold, hold.pk, expected_version, released_on=clock.today(), release_reason=reason)
        bump_occupancy()
        audit_decision(ctx, decision, youth_id=hold.youth_id, action="release_hold", object_type="hold",
                       object_id=str(hold.public_id))
    hold.refresh_from_db()
    return hold


# -- safety facts -------------------------------------------------------------------------------
def record_complicity(*, actor: User, youth_public_id: str, caregiver_id: int, note: str = "") -> Complicity:
    """Record a caregiver as complicit in the youth's exploitation: matching will never
    offer that caregiver's resource for this youth (report ch. 4, Florida's precaution)."""
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note)
    caregiver = Caregiver.objects.filter(pk=caregiver_id).first()
    if caregiver is None:
        errors["caregiver"] = ["no such caregiver"]
    if errors:
        raise ValidationFailed(errors)
    assert caregiver is not None
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE)
    ctx, decision = _authorize(actor, youth.pk, actor.agency_id or 0, "record_complicity")
    with transaction.atomic():
        row, created = Complicity.objects.get_or_create(
            youth=youth, caregiver=caregiver,
            defaults={"agency_id": actor.agency_id or 0, "note": note, "recorded_by": actor,
                      "recorded_at": clock.now()})
        if created:
            audit_decision(ctx, decision, youth_id=youth.pk, action="record_complicity", object_type="complicity",
                           object_id=str(row.pk))
    return row


def record_exploitation_area(*, actor: User, youth_public_id: str, area_id: int) -> YouthExploitationArea:
    """Record that the youth was exploited in a known area of the county's list."""
    area = ExploitationArea.objects.filter(pk=area_id, active=True).first()
    if area is None:
        raise ValidationFailed({"area": ["no such exploitation area"]})
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE)
    ctx, decision = _authorize(actor, youth.pk, actor.agency_id or 0, "record_exploitation_area")
    with transaction.atomic():
        row, created = YouthExploitationArea.objects.get_or_create(
            youth=youth, area=area,
            defaults={"agency_id": actor.agency_id or 0, "recorded_by": actor, "recorded_at": clock.now()})
        if created:
            audit_decision(ctx, decision, youth_id=youth.pk, action="record_exploitation_area",
                           object_type="youth_exploitation_area", object_id=str(row.pk))
    return row
