"""What an identity steward sees: the queue of possible matches, one pair side by side
with the evidence for and against in words and weights, and the merges and splits made.

A steward works under the ``identity_resolution`` purpose, which opens only the identity
category. A record's fields are shown only when the steward may read them (their own
agency's records, or an agreement sharing identity for this purpose); the queue lists
the pairs the steward may decide (both records readable) and counts the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import audit_decision, context
from nowrongdoor.directory.models import User
from nowrongdoor.errors import NotFound
from nowrongdoor.identity.models import IdentityChange, LinkageRun, PairReview
from nowrongdoor.identity.services import PURPOSE, require_steward, under_way
from nowrongdoor.youth.models import SourceRecord, Youth

COMPARISONS = {
    "first_name": gettext_noop("First name"), "middle_name": gettext_noop("Middle name"),
    "last_name": gettext_noop("Surname"), "aliases": gettext_noop("Aliases"),
    "birth": gettext_noop("Birth date or stated age"), "sex": gettext_noop("Sex"),
    "place": gettext_noop("ZIP code and county"), "phone": gettext_noop("Phone"),
    "street_address": gettext_noop("Street address"),
}
# The model's level labels in plain words (Splink's own labels for exact and else levels).
LEVELS = {
    "Exact match on first_name": gettext_noop("the same"), "Exact match on last_name": gettext_noop("the same"),
    "Exact match on middle_name": gettext_noop("the same"),
    "Exact match on sex": gettext_noop("the same"), "Exact match on phone": gettext_noop("the same"),
    "Exact match on street_address": gettext_noop("the same"), "All other comparisons": gettext_noop("different"),
    "missing on one record": gettext_noop("missing on one record"),
    "same given name (nickname or short form)": gettext_noop("same given name (nickname or short form)"),
    "spelled alike": gettext_noop("spelled alike"), "sounds alike": gettext_noop("sounds alike"),
    "among the other record's names": gettext_noop("among the other record's names"),
    "shares a surname part": gettext_noop("shares a surname part"),
    "among the other record's aliases (changed surname)": gettext_noop(
        "among the other record's aliases (changed surname)"),
    "same alias": gettext_noop("same alias"),
    "an alias is the other's name": gettext_noop("an alias is the other's name"),
    "an alias is the other's given name": gettext_noop("an alias is the other's given name"),
    "an alias is the other's uncommon given name": gettext_noop("an alias is the other's uncommon given name"),
    "same date of birth": gettext_noop("same date of birth"), "day and month swapped": gettext_noop(
        "day and month swapped"), "one character different": gettext_noop("one character different"),
    "one of year, month and day different": gettext_noop("one of year, month and day different"),
    "different dates of birth": gettext_noop("different dates of birth"),
    "birth years overlap": gettext_noop("birth years overlap"),
    "stated an adult age: plausibly a false one": gettext_noop("stated an adult age: plausibly a false one"),
    "birth years within two": gettext_noop("birth years within two"), "same ZIP code": gettext_noop("same ZIP code"),
    "same ZIP area": gettext_noop("same ZIP area"), "same county": gettext_noop("same county"),
}


@dataclass(frozen=True)
class RecordSide:
    agency: str
    visible: bool
    local_id: str = ""
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    aliases: tuple[str, ...] = ()
    date_of_birth: dt.date | None = None
    estimated_age: int | None = None
    age_recorded_on: dt.date | None = None
    sex: str = ""
    residence_zip: str = ""
    residence_county: str = ""
    youth_public_id: str = ""


@dataclass(frozen=True)
class Evidence:
    comparison: str
    level: str
    weight: float
    before: float  # running total before this comparison (the waterfall)
    after: float


@dataclass(frozen=True)
class PairView:
    id: int
    probability: float
    weight: float
    prior: float
    status: str
    version: int
    note: str
    decided_by: str
    decided_at: dt.datetime | None
    left: RecordSide
    right: RecordSide
    same_youth: bool
    evidence: list[Evidence]
    can_decide: bool

    @property
    def bounds(self) -> tuple[float, float]:
        values = [self.prior, *(e.after for e in self.evidence), 0.0]
        return min(values), max(values)


@dataclass(frozen=True)
class QueueItem:
    id: int
    probability: float
    agencies: tuple[str, str]
    status: str


@dataclass(frozen=True)
class QueueView:
    items: list[QueueItem]
    not_yours: int
    last_run: LinkageRun | None
    under_way: LinkageRun | None


@dataclass(frozen=True)
class ChangeView:
    id: int
    kind: str
    automatic: bool
    made_at: dt.datetime
    made_by: str
    youth_public_id: str
    other_public_id: str
    rows: int
    undone: bool


def review_queue(*, actor: User, status: str = PairReview.OPEN, limit: int = 200) -> QueueView:
    """The pairs the steward may decide, most likely matches first; the rest counted."""
    require_steward(actor, "identity.read")
    ctx = context(actor, PURPOSE)
    pairs = list(PairReview.objects.filter(status=status).select_related("record_l__agency", "record_r__agency")
                 [:5000])
    ids = {r for p in pairs for r in (p.record_l_id, p.record_r_id)}
    readable = set(SourceRecord.objects.filter(ctx.readable(["identity"], category_field=None), pk__in=ids)
                   .values_list("pk", flat=True))
    mine = [p for p in pairs if p.record_l_id in readable and p.record_r_id in readable]
    record_event(actor=actor, action="identity.queue", purpose=PURPOSE, object_type="pair_review",
                 detail={"status": status, "listed": min(len(mine), limit)})
    return QueueView(
        items=[QueueItem(p.pk, p.match_probability, (p.record_l.agency.name, p.record_r.agency.name), p.status)
               for p in mine[:limit]],
        not_yours=len(pairs) - len(mine),
        last_run=LinkageRun.objects.filter(status=LinkageRun.DONE).first(),
        under_way=under_way(),
    )


def linkage_run(*, actor: User, run_id: int) -> LinkageRun:
    """One linkage run and its progress (counts only, no youth data), for stewards."""
    require_steward(actor, "identity.read")
    under_way()  # a run whose worker died is shown as failed, not as forever running
    run = LinkageRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound("no such linkage run")
    return run


def _side(actor: User, record: SourceRecord, review: PairReview) -> RecordSide:
    ctx = context(actor, PURPOSE)
    decision = ctx.decide(youth_id=record.youth_id, category="identity", owner_agency_id=record.agency_id)
    audit_decision(ctx, decision, youth_id=record.youth_id, action="identity.read", object_type="pair_review",
                   object_id=str(review.pk))
    if not decision.allowed:
        return RecordSide(agency=record.agency.name, visible=False)
    return RecordSide(
        agency=record.agency.name, visible=True, local_id=record.local_id, first_name=record.first_name,
        middle_name=record.middle_name, last_name=record.last_name,
        aliases=tuple(a for a in record.aliases or [] if isinstance(a, str)), date_of_birth=record.date_of_birth,
        estimated_age=record.estimated_age, age_recorded_on=record.age_recorded_on, sex=record.sex,
        residence_zip=record.residence_zip,
        residence_county=record.residence_county.name if record.residence_county else "",
        youth_public_id=str(record.youth.public_id),
    )


def pair_detail(*, actor: User, review_id: int) -> PairView:
    require_steward(actor, "identity.read")
    review = PairReview.objects.select_related(
        "record_l__agency", "record_r__agency", "record_l__youth", "record_r__youth", "record_l__residence_county",
        "record_r__residence_county", "decided_by").filter(pk=review_id).first()
    if review is None:
        raise NotFound("no such pair")
    left, right = _side(actor, review.record_l, review), _side(actor, review.record_r, review)
    both = left.visible and right.visible
    running = review.prior_weight
    evidence = []
    # The evidence says how the hidden record compares with the visible one ("the same
    # first name", "day and month swapped"): shown only to a steward who sees both.
    for column, level, weight in review.evidence if both else []:
        evidence.append(Evidence(gettext(COMPARISONS.get(column, column)), gettext(LEVELS.get(level, level)),
                                 float(weight), running, running + float(weight)))
        running += float(weight)
    return PairView(
        id=review.pk, probability=review.match_probability if both else 0.0,
        weight=review.match_weight if both else 0.0, prior=review.prior_weight,
        status=review.status, version=review.version, note=review.note,
        decided_by=review.decided_by.username if review.decided_by else "", decided_at=review.decided_at,
        left=left, right=right, same_youth=review.record_l.youth_id == review.record_r.youth_id,
        evidence=evidence, can_decide=both,
    )


def recent_changes(*, actor: User, limit: int = 50) -> list[ChangeView]:
    """Merges and splits, newest first: ids and counts, no identifying fields."""
    require_steward(actor, "identity.read")
    changes = IdentityChange.objects.select_related("youth", "other", "made_by")[:limit]
    return [ChangeView(c.pk, c.kind, c.automatic, c.made_at, c.made_by.username, str(c.youth.public_id),
                       str(c.other.public_id), sum(len(v) for v in c.moved.values()), c.undone_at is not None)
            for c in changes]


def current_public_id(public_id: str) -> str | None:
    """Where a merged youth lives now (following merges), or None if it was not merged."""
    youth = Youth.objects.filter(public_id=public_id, merged_into__isnull=False).first()
    seen = set()
    while youth is not None and youth.merged_into_id is not None and youth.pk not in seen:
        seen.add(youth.pk)
        youth = Youth.objects.get(pk=youth.merged_into_id)
    return str(youth.public_id) if youth is not None else None
