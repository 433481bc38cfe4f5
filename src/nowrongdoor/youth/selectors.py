"""Reads of youth data, every one through ``nowrongdoor.access`` and audited.

Views and API handlers call these and nothing else to see a youth (ARCHITECTURE.md
rule 1). They return plain dataclasses, not model instances, so a template cannot walk
a relation to data the access decision did not clear.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import AccessContext, Decision, audit_decision, context
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.youth.models import Contact, SourceRecord, Youth
from nowrongdoor.youth.names import normalise

SEARCH_LIMIT = 25


@dataclass(frozen=True)
class YouthSummary:
    """The minimum shown in search results: enough to pick the right youth, no more."""

    public_id: str
    display_name: str
    age: int | None
    county: str


@dataclass(frozen=True)
class IdentityView:
    public_id: str
    agency: str
    agency_type: str
    local_id: str
    first_name: str
    middle_name: str
    last_name: str
    aliases: list[str]
    date_of_birth: dt.date | None
    estimated_age: int | None
    age: int | None
    sex: str
    race_ethnicity: str
    language: str
    residence_county: str
    residence_zip: str
    gender_identity: str | None  # None: withheld (needs the sogi category)
    sexual_orientation: str | None
    version: int
    own: bool


@dataclass(frozen=True)
class ContactView:
    public_id: str
    agency: str
    agency_type: str
    contact_type: str
    contact_type_label: str
    category: str
    occurred_at: dt.datetime
    details: dict[str, Any]
    withheld_fields: list[str]
    version: int
    own: bool


@dataclass(frozen=True)
class YouthView:
    public_id: str
    purpose: str
    identities: list[IdentityView]
    contacts: list[ContactView]
    withheld_contacts: int
    withheld_records: int
    bases: list[str] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        first = self.identities[0]
        return f"{first.first_name} {first.last_name}"

    @property
    def age(self) -> int | None:
        return next((i.age for i in self.identities if i.age is not None), None)


def age_on(record: SourceRecord, on: dt.date) -> int | None:
    """Age from the date of birth, or from an estimated age carried forward."""
    if record.date_of_birth:
        dob = record.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    if record.estimated_age is not None:
        since = record.age_recorded_on or record.recorded_at.date()
        return record.estimated_age + max(0, (on - since).days // 365)
    return None


def context_for(actor: User, purpose: str) -> AccessContext:
    """An access context, refusing at once a purpose the actor's role does not act for."""
    if purpose not in vocabulary().purposes:
        raise ValidationFailed({"purpose": [f"unknown purpose {purpose!r}"]})
    if purpose not in vocabulary().role_purposes(actor.role):
        record_event(
            actor=actor, action="purpose_denied", allowed=False, purpose=purpose,
            reason=f"role {actor.role!r} does not act for {purpose!r}",
        )
        raise AccessDenied(f"your role does not act for the purpose {purpose!r}")
    return context(actor, purpose)


def search_youth(
    *, actor: User, query: str, purpose: str, date_of_birth: dt.date | None = None
) -> list[YouthSummary]:
    """Youth whose visible records match every word of ``query``; the minimum about each."""
    tokens = [t for t in normalise(query).split() if len(t) >= 2][:5]
    if not tokens:
        raise ValidationFailed({"q": ["type at least two letters of a name"]})
    ctx = context_for(actor, purpose)
    if "identity" not in vocabulary().purpose_categories(purpose):
        record_event(actor=actor, action="search", allowed=False, category="identity", purpose=purpose,
                     reason=f"purpose {purpose!r} does not use identity")
        raise AccessDenied(f"searching by name is not part of the purpose {purpose!r}")
    readable = ctx.readable(["identity"], category_field=None)
    matches = SourceRecord.objects.filter(readable)
    for token in tokens:
        matches = matches.filter(search_name__contains=token)
    if date_of_birth is not None:
        matches = matches.filter(date_of_birth=date_of_birth)
    youth_ids = list(matches.order_by("youth_id").values_list("youth_id", flat=True).distinct()[:SEARCH_LIMIT])
    today = clock.today()
    summaries: dict[int, YouthSummary] = {}
    records = (
        SourceRecord.objects.filter(readable, youth_id__in=youth_ids)
        .select_related("youth", "residence_county")
        .order_by("youth_id", "-recorded_at")
    )
    for record in records:
        if record.youth_id in summaries:
            continue
        summaries[record.youth_id] = YouthSummary(
            public_id=str(record.youth.public_id),
            display_name=f"{record.first_name} {record.last_name}",
            age=age_on(record, today),
            county=record.residence_county.name if record.residence_county else "",
        )
    record_event(
        actor=actor, action="search", category="identity", purpose=purpose,
        detail={"results": len(summaries), "youth": sorted(summaries)},
    )
    return sorted(summaries.values(), key=lambda s: (s.display_name.split()[-1:], s.display_name))


def get_youth(*, actor: User, public_id: str, purpose: str, with_contacts: bool = True) -> YouthView:
    """One youth with every record and contact the actor may see for ``purpose``
    (``with_contacts=False``: the identity records only, for services that need the
    youth's age, sex and language but none of their history).

    Unknown youth and youth the actor may not see look the same (``NotFound``), so the
    answer never confirms a child exists. Withheld contacts are counted, not described.
    """
    ctx = context_for(actor, purpose)
    youth = Youth.objects.filter(public_id=public_id).first() if is_uuid(public_id) else None
    if youth is None:
        record_event(actor=actor, action="read", allowed=False, purpose=purpose, object_type="youth",
                     object_id=str(public_id)[:64], reason="no such youth")
        raise NotFound("no such youth")
    today = ctx.on
    identity_q = ctx.readable(["identity"], category_field=None)
    records = list(
        SourceRecord.objects.filter(youth=youth).select_related("agency", "residence_county").order_by("-recorded_at")
    )
    visible_ids = set(SourceRecord.objects.filter(identity_q, youth=youth).values_list("id", flat=True))
    visible = [r for r in records if r.pk in visible_ids]
    if not visible:
        owner = records[0].agency_id if records else None
        record_event(actor=actor, action="read", allowed=False, youth_id=youth.pk, owner_agency_id=owner,
                     category="identity", purpose=purpose, object_type="youth", object_id=str(youth.public_id),
                     reason="no record of this youth is visible to the actor")
        raise NotFound("no such youth")

    decisions: dict[tuple[int, str], Decision] = {}

    def decide(owner: int, category: str) -> Decision:
        key = (owner, category)
        if key not in decisions:
            decisions[key] = ctx.decide(youth_id=youth.pk, category=category, owner_agency_id=owner)
        return decisions[key]

    identities = []
    for record in visible:
        sogi = decide(record.agency_id, "sogi").allowed
        identities.append(
            IdentityView(
                public_id=str(record.public_id), agency=record.agency.name, agency_type=record.agency.agency_type,
                local_id=record.local_id, first_name=record.first_name, middle_name=record.middle_name,
                last_name=record.last_name, aliases=list(record.aliases), date_of_birth=record.date_of_birth,
                estimated_age=record.estimated_age, age=age_on(record, today), sex=record.sex,
                race_ethnicity=record.race_ethnicity, language=record.language,
                residence_county=record.residence_county.name if record.residence_county else "",
                residence_zip=record.residence_zip,
                gender_identity=record.gender_identity if sogi else None,
                sexual_orientation=record.sexual_orientation if sogi else None,
                version=record.version, own=record.agency_id == actor.agency_id,
            )
        )
    _audit_groups(ctx, decide, youth.pk, "source_record", [(r.agency_id, "identity", r.pk) for r in visible])
    if len(visible) < len(records):
        hidden = [(r.agency_id, "identity", r.pk) for r in records if r.pk not in visible_ids]
        _audit_groups(ctx, decide, youth.pk, "source_record", hidden, allowed=False)

    if not with_contacts:
        return YouthView(public_id=str(youth.public_id), purpose=purpose, identities=identities, contacts=[],
                         withheld_contacts=0, withheld_records=len(records) - len(visible),
                         bases=sorted({d.basis for d in decisions.values() if d.allowed}))
    categories = vocabulary().purpose_categories(purpose)
    contact_q = ctx.readable(categories)
    contacts = list(Contact.objects.filter(contact_q, youth=youth).select_related("agency"))
    v = vocabulary()
    contact_views = []
    for contact in contacts:
        spec = v.contact_type(contact.contact_type)
        details: dict[str, Any] = {}
        withheld_fields = []
        for f in spec.fields:
            if f.name not in contact.details:
                continue
            if f.category and not decide(contact.agency_id, f.category).allowed:
                withheld_fields.append(f.name)
            else:
                details[f.name] = contact.details[f.name]
        contact_views.append(
            ContactView(
                public_id=str(contact.public_id), agency=contact.agency.name, agency_type=contact.agency.agency_type,
                contact_type=contact.contact_type, contact_type_label=spec.label, category=contact.category,
                occurred_at=contact.occurred_at, details=details, withheld_fields=withheld_fields,
                version=contact.version, own=contact.agency_id == actor.agency_id,
            )
        )
    _audit_groups(ctx, decide, youth.pk, "contact", [(c.agency_id, c.category, c.pk) for c in contacts])
    withheld = (
        Contact.objects.filter(youth=youth).exclude(contact_q)
        .values("agency_id", "category").annotate(n=Count("id")).order_by()
    )
    withheld_total = 0
    for group in withheld:
        withheld_total += group["n"]
        decision = decide(group["agency_id"], group["category"])
        audit_decision(ctx, decision, youth_id=youth.pk, action="read", object_type="contact",
                       detail={"withheld": group["n"]})
    bases = sorted({d.basis for d in decisions.values() if d.allowed})
    return YouthView(
        public_id=str(youth.public_id), purpose=purpose, identities=identities, contacts=contact_views,
        withheld_contacts=withheld_total, withheld_records=len(records) - len(visible), bases=bases,
    )


def _audit_groups(
    ctx: AccessContext,
    decide: Callable[[int, str], Decision],
    youth_id: int,
    object_type: str,
    rows: list[tuple[int, str, int]],
    allowed: bool = True,
) -> None:
    """One audit event per (owning agency, category): which rows were read or refused."""
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for owner, category, pk in rows:
        groups[(owner, category)].append(pk)
    for (owner, category), ids in sorted(groups.items()):
        decision = decide(owner, category)
        detail = {"ids": ids} if allowed else {"withheld": len(ids)}
        audit_decision(ctx, decision, youth_id=youth_id, action="read", object_type=object_type, detail=detail)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def own_source_record(*, actor: User, public_id: str) -> SourceRecord:
    """A record of the actor's own agency, for writing to. Others' records look absent."""
    record = (
        SourceRecord.objects.filter(public_id=public_id, agency_id=actor.agency_id).select_related("youth").first()
        if is_uuid(public_id) and actor.agency_id
        else None
    )
    if record is None:
        raise NotFound("no such record in your agency")
    return record


def visible_youth(*, actor: User, public_id: str, purpose: str) -> Youth:
    """The youth, if the actor may see at least one record of them for ``purpose``.

    For services that attach new data (a screening, a referral) to a youth: the check
    and its audit event are the same as opening the youth, without reading everything.
    """
    ctx = context_for(actor, purpose)
    youth = Youth.objects.filter(public_id=public_id).first() if is_uuid(public_id) else None
    visible = youth is not None and SourceRecord.objects.filter(
        ctx.readable(["identity"], category_field=None), youth=youth
    ).exists()
    record_event(
        actor=actor, action="read", allowed=visible, youth_id=youth.pk if youth else None, category="identity",
        purpose=purpose, object_type="youth", object_id=str(public_id)[:64],
        reason="" if visible else "no record of this youth is visible to the actor",
    )
    if youth is None or not visible:
        raise NotFound("no such youth")
    return youth


@dataclass(frozen=True)
class KnownContact:
    agency: str
    agency_type: str
    occurred_at: dt.datetime


def shared_contacts(
    *, actor: User, youth: Youth, purpose: str, contact_types: set[str]
) -> dict[str, list[tuple[KnownContact, dict[str, Any]]]]:
    """Contacts of the given types the actor may see, by type, with their details: what
    another door already knows, so nobody asks the youth again. Audited as one read."""
    ctx = context_for(actor, purpose)
    rows = list(
        Contact.objects.filter(ctx.readable(vocabulary().purpose_categories(purpose)), youth=youth,
                               contact_type__in=sorted(contact_types))
        .select_related("agency").order_by("occurred_at")
    )
    record_event(actor=actor, action="read", youth_id=youth.pk, purpose=purpose, object_type="contact",
                 detail={"ids": [c.pk for c in rows], "for": "known_answers"})
    found: dict[str, list[tuple[KnownContact, dict[str, Any]]]] = {}
    for c in rows:
        found.setdefault(c.contact_type, []).append(
            (KnownContact(c.agency.name, c.agency.agency_type, c.occurred_at), dict(c.details))
        )
    return found
