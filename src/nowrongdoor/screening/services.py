"""Writes of screenings: start a draft, save answers, complete, correct.

Only the screener's own agency writes its screenings. Drafts can be saved any number of
times (with the version read, so two tabs cannot overwrite each other); completing scores
the answers with the instrument version the draft started on, freezes the screening and
announces ``ScreeningCompleted`` after commit. Completed screenings never change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from nowrongdoor import clock, events
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import audit_decision, authorize_write, context
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.directory.models import User
from nowrongdoor.errors import Immutable, NotFound, ValidationFailed
from nowrongdoor.screening.engine import Instrument, check_answers, score
from nowrongdoor.screening.events import ScreeningCompleted
from nowrongdoor.screening.instruments import for_agency_type, instruments
from nowrongdoor.screening.models import Screening
from nowrongdoor.screening.selectors import known_answers
from nowrongdoor.youth.selectors import context_for, is_uuid, visible_youth

PURPOSE = "screening"
MAX_NOTES = 5000


def instruments_offered(actor: User) -> list[Instrument]:
    """The instruments the actor's agency uses: those made for its setting that the
    county's jurisdiction profile selects (all of them without a profile)."""
    from nowrongdoor.jurisdiction.profiles import in_force

    agency_type = actor.agency.agency_type if actor.agency else ""
    return in_force(actor.agency.county if actor.agency else None).instruments_for(agency_type)


def default_form(actor: User) -> str:
    """The form a screening starts on here (the county's profile may ask for the full one)."""
    from nowrongdoor.jurisdiction.profiles import in_force

    agency_type = actor.agency.agency_type if actor.agency else ""
    return in_force(actor.agency.county if actor.agency else None).form_for(agency_type)


def _instrument_for(actor: User, instrument_id: str, form: str, offered: list[Instrument]) -> Instrument:
    known = instruments()
    if instrument_id not in known:
        raise ValidationFailed({"instrument": [f"no instrument {instrument_id!r}"]})
    chosen = known[instrument_id]
    agency_type = actor.agency.agency_type if actor.agency else ""
    if chosen not in for_agency_type(agency_type):
        raise ValidationFailed({"instrument": [f"{instrument_id!r} is not made for a {agency_type} setting"]})
    if chosen not in offered:
        raise ValidationFailed({"instrument": [f"{instrument_id!r} is not used in your county (its jurisdiction "
                                               f"profile chooses {', '.join(i.id for i in offered)})"]})
    if form not in chosen.forms:
        raise ValidationFailed({"form": [f"choose one of {', '.join(chosen.forms)}"]})
    return chosen


def _require_training(actor: User) -> None:
    """Where the county's rule is *block*, a screener whose required CSEC training for
    screening is missing or expired starts no screening (refused, audited); under *warn*
    the form only says so (``training.selectors.screening_notice``)."""
    from nowrongdoor.directory.models import County
    from nowrongdoor.training.catalogue import catalogue
    from nowrongdoor.training.selectors import screening_notice

    notice = screening_notice(actor)
    if notice is None or notice.rule != County.BLOCK:
        return
    courses = ", ".join(catalogue().courses[c.course].title["en"] for c in notice.lapsed)
    record_event(actor=actor, action="screening.start", allowed=False, purpose=PURPOSE,
                 reason="required CSEC training missing or expired",
                 detail={"courses": [c.course for c in notice.lapsed]})
    raise ValidationFailed({"training": [f"your county requires CSEC training before screening: {courses}. "
                                         "Ask your agency administrator to record or assign it."]})


def start_screening(*, actor: User, youth_public_id: str, instrument_id: str, form: str = "") -> Screening:
    """Open a draft screening of a youth the actor can see, with their setting's instrument.

    Items that other agencies' shared records already answer (e.g. repeated STI tests at a
    clinic, absences from placement) start answered, with their source, so the youth is
    not asked again; the screener can still change them."""
    from nowrongdoor.jurisdiction.profiles import in_force

    ctx = context_for(actor, PURPOSE)
    _require_training(actor)
    agency_type = actor.agency.agency_type if actor.agency else ""
    force = in_force(actor.agency.county if actor.agency else None)
    form = form or force.form_for(agency_type)
    chosen = _instrument_for(actor, instrument_id, form, force.instruments_for(agency_type))
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=PURPOSE)
    agency_id = actor.agency_id or 0
    decision = authorize_write(ctx, youth_id=youth.pk, category="screening", owner_agency_id=agency_id,
                               action="create")
    known = known_answers(actor=actor, youth=youth, instrument=chosen, form=form)
    agency = actor.agency
    assert agency is not None  # authorize_write refuses an actor without an agency
    with transaction.atomic():
        screening = Screening.objects.create(
            youth=youth, agency=agency, screener=actor, instrument_id=chosen.id,
            instrument_version=chosen.version, bank_version=chosen.bank_version, setting=chosen.setting, form=form,
            profile_version=force.label,
            started_at=clock.now(), answers={k.item_id: k.value for k in known.values()},
            known={k.item_id: {"agency": k.agency, "agency_type": k.agency_type, "on": k.on.isoformat(),
                               "count": k.count} for k in known.values()},
        )
        audit_decision(ctx, decision, youth_id=youth.pk, action="create", object_type="screening",
                       object_id=str(screening.public_id))
    return screening


def _own_screening(actor: User, public_id: str) -> Screening:
    screening = (
        Screening.objects.select_related("youth", "agency", "screener", "corrects")
        .filter(public_id=public_id, agency_id=actor.agency_id or 0).first() if is_uuid(public_id) else None
    )
    if screening is None:
        raise NotFound("no such screening in your agency")
    return screening


def _instrument_of(screening: Screening) -> Instrument:
    chosen = instruments().get(screening.instrument_id)
    if chosen is None or chosen.version != screening.instrument_version:
        # The county has moved to a new version since this draft began: finish it as a
        # correction on the current version rather than scoring with rules it never saw.
        raise Immutable(f"instrument {screening.instrument_id} v{screening.instrument_version} is no longer in use")
    return chosen


def _applied(screening: Screening, expected_version: int, fields: dict[str, Any]) -> None:
    """Bring the in-memory screening up to the row just written (no re-read)."""
    for name, value in fields.items():
        setattr(screening, name, value)
    screening.version = expected_version + 1


def save_answers(
    *, actor: User, screening_public_id: str, expected_version: int, answers: dict[str, Any], notes: str | None = None
) -> Screening:
    """Save part of the answers (and notes) to a draft; any subset, any number of times."""
    screening = _own_screening(actor, screening_public_id)
    if screening.status != Screening.DRAFT:
        raise Immutable("a completed screening cannot change; start a correction")
    problems = check_answers(_instrument_of(screening), screening.form, answers, complete=False)
    if notes is not None and len(notes) > MAX_NOTES:
        problems["notes"] = f"at most {MAX_NOTES} characters"
    if problems:
        raise ValidationFailed({f"answers.{k}" if k != "notes" else k: [v] for k, v in problems.items()})
    ctx = context(actor, PURPOSE)
    decision = authorize_write(ctx, youth_id=screening.youth_id, category="screening",
                               owner_agency_id=screening.agency_id, action="update")
    fields: dict[str, Any] = {"answers": {**screening.answers, **answers}}
    if notes is not None:
        fields["notes"] = notes
    with transaction.atomic():
        update_if_current(Screening, screening.pk, expected_version, only_if={"status": Screening.DRAFT}, **fields)
        audit_decision(ctx, decision, youth_id=screening.youth_id, action="update", object_type="screening",
                       object_id=str(screening.public_id), detail={"items": sorted(answers)})
    _applied(screening, expected_version, fields)
    return screening


def complete_screening(
    *, actor: User, screening_public_id: str, expected_version: int, answers: dict[str, Any] | None = None
) -> Screening:
    """Score and freeze a draft. Every item of the form needs an answer ("unknown" is one)."""
    screening = _own_screening(actor, screening_public_id)
    if screening.status != Screening.DRAFT:
        raise Immutable("this screening is already completed")
    chosen = _instrument_of(screening)
    merged = {**screening.answers, **(answers or {})}
    problems = check_answers(chosen, screening.form, merged, complete=True)
    if problems:
        raise ValidationFailed({f"answers.{k}": [v] for k, v in problems.items()})
    result = score(chosen, screening.form, merged)
    ctx = context(actor, PURPOSE)
    decision = authorize_write(ctx, youth_id=screening.youth_id, category="screening",
                               owner_agency_id=screening.agency_id, action="complete")
    now = clock.now()
    fields = {"answers": merged, "result": result.as_dict(), "level": result.level,
              "immediate_safety": result.immediate_safety, "status": Screening.COMPLETED, "completed_at": now}
    with transaction.atomic():
        update_if_current(Screening, screening.pk, expected_version, only_if={"status": Screening.DRAFT}, **fields)
        audit_decision(ctx, decision, youth_id=screening.youth_id, action="complete", object_type="screening",
                       object_id=str(screening.public_id),
                       detail={"level": result.level, "immediate_safety": result.immediate_safety})
        events.publish(ScreeningCompleted(
            screening_id=screening.pk, youth_id=screening.youth_id, agency_id=screening.agency_id,
            instrument=result.instrument, level=result.level, immediate_safety=result.immediate_safety,
            completed_at=now,
        ))
    _applied(screening, expected_version, fields)
    return screening


def correct_screening(*, actor: User, screening_public_id: str) -> Screening:
    """Start a correction: a new draft with the old answers, pointing to the completed one."""
    old = _own_screening(actor, screening_public_id)
    if old.status != Screening.COMPLETED:
        raise ValidationFailed({"screening": ["only a completed screening is corrected; edit the draft instead"]})
    chosen = instruments().get(old.instrument_id)
    if chosen is None:
        raise ValidationFailed({"instrument": [f"no instrument {old.instrument_id!r}"]})
    ctx = context(actor, PURPOSE)
    decision = authorize_write(ctx, youth_id=old.youth_id, category="screening", owner_agency_id=old.agency_id,
                               action="create")
    carried = {k: v for k, v in old.answers.items() if k in chosen.forms[old.form]}
    with transaction.atomic():
        new = Screening.objects.create(
            youth=old.youth, agency=old.agency, screener=actor, instrument_id=chosen.id,
            instrument_version=chosen.version, bank_version=chosen.bank_version, setting=chosen.setting,
            form=old.form, answers=carried, notes=old.notes, corrects=old, started_at=clock.now(),
        )
        audit_decision(ctx, decision, youth_id=old.youth_id, action="create", object_type="screening",
                       object_id=str(new.public_id), detail={"corrects": str(old.public_id)})
    return new
