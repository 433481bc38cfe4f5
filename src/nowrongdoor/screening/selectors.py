"""Reads of screenings, through ``access`` (category ``screening``; notes are case notes).

Other agencies see a youth's *completed* screenings where a sharing agreement covers
screening results; drafts stay with the agency that is writing them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import AccessContext, audit_decision, context
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.screening.engine import Instrument
from nowrongdoor.screening.models import Screening
from nowrongdoor.youth.models import Youth
from nowrongdoor.youth.selectors import context_for, is_uuid, shared_contacts, visible_youth


@dataclass(frozen=True)
class ScreeningView:
    public_id: str
    youth_id: str
    agency: str
    screener: str
    instrument_id: str
    instrument_version: int
    form: str
    status: str
    answers: dict[str, Any]
    known: dict[str, Any]
    result: dict[str, Any] | None
    level: str
    immediate_safety: bool
    notes: str | None  # None: case notes not shared with the reader
    started_at: dt.datetime
    completed_at: dt.datetime | None
    corrects: str | None
    version: int
    own: bool


def _view(screening: Screening, *, notes_visible: bool, own: bool) -> ScreeningView:
    return ScreeningView(
        public_id=str(screening.public_id), youth_id=str(screening.youth.public_id), agency=screening.agency.name,
        screener=screening.screener.get_full_name() or screening.screener.username,
        instrument_id=screening.instrument_id, instrument_version=screening.instrument_version,
        form=screening.form, status=screening.status, answers=dict(screening.answers), known=dict(screening.known),
        result=screening.result,
        level=screening.level, immediate_safety=screening.immediate_safety,
        notes=screening.notes if notes_visible else None, started_at=screening.started_at,
        completed_at=screening.completed_at,
        corrects=str(screening.corrects.public_id) if screening.corrects else None,
        version=screening.version, own=own,
    )


def _visible(ctx: AccessContext) -> Q:
    """Screenings the context may read: completed ones shared with it, and its own drafts."""
    readable = ctx.readable(["screening"], category_field=None)
    return readable & (Q(status=Screening.COMPLETED) | Q(agency_id=ctx.actor.agency_id or 0))


def written_view(actor: User, screening: Screening) -> ScreeningView:
    """The reply to a write by the actor's own agency: built from the row just written,
    with no second read (the write's audit event covers what the writer sees)."""
    notes = context(actor, "screening").decide(
        youth_id=screening.youth_id, category="case_notes", owner_agency_id=screening.agency_id
    )
    return _view(screening, notes_visible=notes.allowed, own=screening.agency_id == actor.agency_id)


def _individual(ctx: AccessContext, *, object_id: str = "") -> None:
    """A screening is one youth's record: refuse (and audit) a purpose that never opens
    individual records, such as analytics, whatever agreements say, and a purpose that
    does not use screening results at all (identity resolution)."""
    if "screening" not in vocabulary().purpose_categories(ctx.purpose):
        record_event(actor=ctx.actor, action="purpose_denied", allowed=False, purpose=ctx.purpose,
                     object_type="screening", object_id=object_id[:64],
                     reason=f"purpose {ctx.purpose!r} does not use screening results")
        raise AccessDenied(f"the purpose {ctx.purpose!r} does not use screening results")
    if not ctx.opens_individual_records():
        record_event(actor=ctx.actor, action="read", allowed=False, purpose=ctx.purpose, category="screening",
                     object_type="screening", object_id=object_id[:64],
                     reason=f"purpose {ctx.purpose!r} does not open individual records")
        raise AccessDenied(f"the purpose {ctx.purpose!r} does not open individual screenings")


def get_screening(*, actor: User, public_id: str, purpose: str = "screening") -> ScreeningView:
    ctx = context_for(actor, purpose)
    _individual(ctx, object_id=str(public_id))
    screening = (
        Screening.objects.select_related("youth", "agency", "screener", "corrects")
        .filter(public_id=public_id).first() if is_uuid(public_id) else None
    )
    if screening is None or not Screening.objects.filter(_visible(ctx), pk=screening.pk).exists():
        record_event(actor=actor, action="read", allowed=False, purpose=purpose, category="screening",
                     youth_id=screening.youth_id if screening else None,
                     owner_agency_id=screening.agency_id if screening else None,
                     object_type="screening", object_id=str(public_id)[:64], reason="not visible to the actor")
        raise NotFound("no such screening")
    decision = ctx.decide(youth_id=screening.youth_id, category="screening", owner_agency_id=screening.agency_id)
    audit_decision(ctx, decision, youth_id=screening.youth_id, action="read", object_type="screening",
                   object_id=str(screening.public_id))
    notes = ctx.decide(youth_id=screening.youth_id, category="case_notes", owner_agency_id=screening.agency_id)
    return _view(screening, notes_visible=notes.allowed, own=screening.agency_id == actor.agency_id)


def screenings_of_youth(*, actor: User, youth_public_id: str, purpose: str = "screening") -> list[ScreeningView]:
    """A youth's screenings the actor may see, oldest first (the level over time)."""
    ctx = context_for(actor, purpose)
    _individual(ctx)
    youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=purpose)
    rows = list(
        Screening.objects.filter(_visible(ctx), youth=youth)
        .select_related("youth", "agency", "screener", "corrects")
        .order_by("started_at", "id")
    )
    record_event(actor=actor, action="read", youth_id=youth.pk, category="screening", purpose=purpose,
                 object_type="screening", detail={"ids": [s.pk for s in rows]})
    return [
        _view(s, notes_visible=ctx.decide(youth_id=youth.pk, category="case_notes",
                                          owner_agency_id=s.agency_id).allowed,
              own=s.agency_id == actor.agency_id)
        for s in rows
    ]


@dataclass(frozen=True)
class KnownAnswer:
    """An item another agency's shared records already answer: shown, not asked again."""

    item_id: str
    value: Any
    agency: str
    agency_type: str
    on: dt.date
    count: int


def known_answers(*, actor: User, youth: Youth, instrument: Instrument, form: str) -> dict[str, KnownAnswer]:
    """Items of the form whose ``known_from`` rule is met by contacts the actor may see.
    ``youth`` must already have passed ``visible_youth`` for screening."""
    items = [i for i in instrument.form_items(form) if i.known_from]
    if not items:
        return {}
    wanted = {str(i.known_from["contact_type"]) for i in items if i.known_from}
    contacts = shared_contacts(actor=actor, youth=youth, purpose="screening", contact_types=wanted)
    known: dict[str, KnownAnswer] = {}
    for item in items:
        rule = item.known_from or {}
        details = rule.get("details") or {}
        matches = [
            contact for contact, got in contacts.get(str(rule["contact_type"]), [])
            if all(got.get(k) == v or (isinstance(got.get(k), list) and v in got[k]) for k, v in details.items())
        ]
        if len(matches) < int(rule.get("min_count", 1)):
            continue
        latest = matches[-1]
        value: Any = len(matches) if item.answer == "count" else "yes"
        if item.answer == "rating":
            value = "possible_concern"
        elif item.answer == "choice":
            continue  # a choice cannot be read off a contact
        known[item.id] = KnownAnswer(item.id, value, latest.agency, latest.agency_type, latest.occurred_at.date(),
                                     len(matches))
    return known
