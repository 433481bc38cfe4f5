"""Writes of youth data: the "any door" intake of source records and contacts.

An agency writes only its own records. Each service validates against the data
dictionary (naming every bad field), asks ``access`` before opening its transaction (so
a refusal is audited even though nothing is written), then writes and audits together.
Updates carry the version the editor read; a stale version is refused with ``StaleEdit``
and nothing is overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import IntegrityError, transaction

from nowrongdoor import clock, events
from nowrongdoor.access.decisions import audit_decision, authorize_write, context
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import County, User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.youth.events import ContactRecorded
from nowrongdoor.youth.models import Contact, SourceRecord, Youth
from nowrongdoor.youth.names import search_name
from nowrongdoor.youth.selectors import context_for, own_source_record, visible_youth

EARLIEST_BIRTH_YEAR = 1990
ZIP = re.compile(r"^\d{5}(-\d{4})?$")
NAME_FIELDS = ("first_name", "middle_name", "last_name")
CODED_FIELDS = {
    "sex": "sex",
    "gender_identity": "gender_identity",
    "sexual_orientation": "sexual_orientation",
    "race_ethnicity": "race_ethnicity",
    "language": "language",
}
REQUIRED_CODES = ("sex", "race_ethnicity")
NULLABLE_FIELDS = {"date_of_birth", "estimated_age", "age_recorded_on", "residence_county"}
EDITABLE_RECORD_FIELDS = {
    *NAME_FIELDS, "aliases", "date_of_birth", "estimated_age", "age_recorded_on", *CODED_FIELDS,
    "residence_county", "residence_zip",
}


def _agency_id(actor: User) -> int:
    if actor.agency_id is None:
        raise AccessDenied("your account belongs to no agency")
    return actor.agency_id


def writing_purpose(actor: User) -> str:
    """The purpose a write is made for: screening where the role screens, else its first."""
    purposes = vocabulary().role_purposes(actor.role)
    if not purposes:
        raise AccessDenied("your role does not record youth data")
    return "screening" if "screening" in purposes else sorted(purposes)[0]


def _in_utc(moment: dt.datetime) -> dt.datetime:
    """A contact's time in UTC: PostgreSQL refuses offsets beyond ±15:59, which an ISO
    time may carry (found by schemathesis: ``1722-08-05T00:36:41-16:36``)."""
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment


def _validate_record(data: dict[str, Any], *, partial: bool, today: dt.date | None = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def bad(name: str, problem: str) -> None:
        errors.setdefault(name, []).append(problem)

    for name in ("first_name", "last_name"):
        if (not partial or name in data) and not str(data.get(name) or "").strip():
            bad(name, "is required")
    for name in NAME_FIELDS:
        if len(str(data.get(name) or "")) > 100:
            bad(name, "is longer than 100 characters")
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        bad("aliases", "must be a list of names")
    elif len(aliases) > 20 or any(len(a) > 100 for a in aliases):
        bad("aliases", "at most 20 names of at most 100 characters")
    today = today or clock.today()
    dob = data.get("date_of_birth")
    if dob is not None and (dob > today or dob.year < EARLIEST_BIRTH_YEAR):
        bad("date_of_birth", f"must be between {EARLIEST_BIRTH_YEAR} and today")
    age = data.get("estimated_age")
    if age is not None and not 0 <= age <= 25:
        bad("estimated_age", "must be between 0 and 25")
    if not partial and dob is None and age is None:
        bad("date_of_birth", "give a date of birth or an estimated age")
    v = vocabulary()
    for name, code_list in CODED_FIELDS.items():
        value = data.get(name)
        if value and not v.is_code(code_list, value):
            bad(name, f"{value!r} is not a code of {code_list}")
    for name in REQUIRED_CODES:
        if (not partial or name in data) and not data.get(name):
            bad(name, "is required (use 'unknown' when not known)")
    for name, value in data.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            bad(name, "must not contain NUL characters")
    zip_code = data.get("residence_zip")
    if zip_code and not ZIP.match(zip_code):
        bad("residence_zip", "must be a 5-digit ZIP code")
    return errors


def _names_of(record: SourceRecord) -> list[str]:
    return [record.first_name, record.middle_name, record.last_name, *record.aliases]


def create_source_record(
    *,
    actor: User,
    local_id: str,
    first_name: str,
    last_name: str,
    middle_name: str = "",
    aliases: list[str] | None = None,
    date_of_birth: dt.date | None = None,
    estimated_age: int | None = None,
    sex: str = "unknown",
    gender_identity: str = "",
    sexual_orientation: str = "",
    race_ethnicity: str = "unknown",
    language: str = "",
    residence_county: County | None = None,
    residence_zip: str = "",
    youth_public_id: str | None = None,
) -> SourceRecord:
    """Record a youth as the actor's agency knows them.

    With ``youth_public_id`` the record joins a youth the actor can already see (a
    referral from another agency); otherwise it starts a new youth, which identity
    resolution may later link to others.
    """
    data: dict[str, Any] = {
        "local_id": local_id, "first_name": first_name, "middle_name": middle_name, "last_name": last_name,
        "aliases": aliases or [], "date_of_birth": date_of_birth, "estimated_age": estimated_age, "sex": sex,
        "gender_identity": gender_identity, "sexual_orientation": sexual_orientation,
        "race_ethnicity": race_ethnicity, "language": language, "residence_county": residence_county,
        "residence_zip": residence_zip,
    }
    agency_id = _agency_id(actor)
    errors = _validate_record(data, partial=False)
    if not local_id.strip() or len(local_id) > 64:
        errors.setdefault("local_id", []).append("is required, at most 64 characters")
    if errors:
        raise ValidationFailed(errors)
    if SourceRecord.objects.filter(agency_id=agency_id, local_id=local_id).exists():
        raise ValidationFailed({"local_id": ["your agency already has a record with this id"]})
    ctx = context_for(actor, writing_purpose(actor))
    youth: Youth | None = None
    if youth_public_id is not None:
        youth = visible_youth(actor=actor, public_id=youth_public_id, purpose=ctx.purpose)
    decision = authorize_write(ctx, youth_id=youth.pk if youth else 0, category="identity",
                               owner_agency_id=agency_id, action="create")
    now = clock.now()
    try:
        with transaction.atomic():
            if youth is None:
                youth = Youth.objects.create(created_at=now)
            record = SourceRecord(youth=youth, agency_id=agency_id, recorded_at=now, created_by=actor, **data)
            record.search_name = search_name(_names_of(record))
            record.save()
            audit_decision(ctx, decision, youth_id=youth.pk, action="create", object_type="source_record",
                           object_id=str(record.public_id))
    except IntegrityError as exc:  # a concurrent create with the same local id
        raise ValidationFailed({"local_id": ["your agency already has a record with this id"]}) from exc
    return record


def update_source_record(
    *, actor: User, public_id: str, expected_version: int, changes: dict[str, Any]
) -> SourceRecord:
    unknown = set(changes) - EDITABLE_RECORD_FIELDS
    if unknown:
        raise ValidationFailed({name: ["cannot be changed"] for name in sorted(unknown)})
    nulls = {name: ["may not be null"] for name, value in changes.items()
             if value is None and name not in NULLABLE_FIELDS}
    if nulls:
        raise ValidationFailed(nulls)
    record = own_source_record(actor=actor, public_id=public_id)
    merged = {name: getattr(record, name) for name in EDITABLE_RECORD_FIELDS} | changes
    errors = _validate_record(merged, partial=False)
    if errors:
        raise ValidationFailed({k: v for k, v in errors.items() if k in changes} or errors)
    ctx = context_for(actor, writing_purpose(actor))
    decision = authorize_write(ctx, youth_id=record.youth_id, category="identity",
                               owner_agency_id=record.agency_id, action="update")
    for name, value in changes.items():
        setattr(record, name, value)
    record.search_name = search_name(_names_of(record))
    with transaction.atomic():
        fields = {name: getattr(record, name) for name in changes} | {"search_name": record.search_name}
        update_if_current(SourceRecord, record.pk, expected_version, **fields)
        audit_decision(ctx, decision, youth_id=record.youth_id, action="update", object_type="source_record",
                       object_id=str(record.public_id), detail={"fields": sorted(changes)})
    record.refresh_from_db()
    return record


def _validate_details(contact_type: str, details: dict[str, Any]) -> dict[str, list[str]]:
    v = vocabulary()
    errors: dict[str, list[str]] = {}
    if contact_type not in v.contact_types:
        return {"contact_type": [f"{contact_type!r} is not a contact type"]}
    spec = v.contact_type(contact_type)
    known = {f.name for f in spec.fields}
    for name in sorted(set(details) - known):
        errors[f"details.{name}"] = [f"is not a field of {contact_type}"]
    for f in spec.fields:
        key = f"details.{f.name}"
        value = details.get(f.name)
        if value in (None, "", []):
            if f.required:
                errors[key] = ["is required"]
            continue
        if f.text:
            if not isinstance(value, str) or len(value) > (f.max_length or 200) or "\x00" in value:
                errors[key] = [f"must be text of at most {f.max_length or 200} characters, without NUL"]
        elif f.code_list:
            values = value if f.many else [value]
            if f.many and not isinstance(value, list):
                errors[key] = ["must be a list of codes"]
                continue
            wrong = [x for x in values if not isinstance(x, str) or x not in v.codes(f.code_list)]
            if wrong:
                errors[key] = [f"not codes of {f.code_list}: {wrong}"]
    return errors


def create_contact(
    *,
    actor: User,
    source_record_public_id: str,
    contact_type: str,
    occurred_at: dt.datetime,
    details: dict[str, Any] | None = None,
    local_id: str = "",
) -> Contact:
    """Record an event on one of the actor's agency's own records."""
    details = details or {}
    errors = _validate_details(contact_type, details)
    occurred_at = _in_utc(occurred_at)
    if occurred_at > clock.now() + dt.timedelta(minutes=5):
        errors.setdefault("occurred_at", []).append("is in the future")
    if len(local_id) > 64 or "\x00" in local_id:
        errors.setdefault("local_id", []).append("must be at most 64 characters, without NUL")
    if errors:
        raise ValidationFailed(errors)
    record = own_source_record(actor=actor, public_id=source_record_public_id)
    if local_id and Contact.objects.filter(agency_id=record.agency_id, local_id=local_id).exists():
        raise ValidationFailed({"local_id": ["your agency already has a contact with this id"]})
    category = vocabulary().contact_type(contact_type).category
    ctx = context(actor, writing_purpose(actor))
    decision = authorize_write(ctx, youth_id=record.youth_id, category=category,
                               owner_agency_id=record.agency_id, action="create")
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                youth_id=record.youth_id, source_record=record, agency_id=record.agency_id,
                contact_type=contact_type, category=category, occurred_at=occurred_at, details=details,
                local_id=local_id, recorded_at=clock.now(), created_by=actor,
            )
            audit_decision(ctx, decision, youth_id=record.youth_id, action="create", object_type="contact",
                           object_id=str(contact.public_id))
            events.publish(ContactRecorded(
                contact_id=contact.pk, public_id=str(contact.public_id), youth_id=record.youth_id,
                agency_id=record.agency_id, actor_id=actor.pk, contact_type=contact_type, details=dict(details),
                occurred_at=occurred_at,
            ))
    except IntegrityError as exc:
        raise ValidationFailed({"local_id": ["your agency already has a contact with this id"]}) from exc
    return contact


def update_contact(
    *, actor: User, public_id: str, expected_version: int, occurred_at: dt.datetime | None = None,
    details: dict[str, Any] | None = None,
) -> Contact:
    contact = (
        Contact.objects.filter(public_id=public_id, agency_id=actor.agency_id).first()
        if actor.agency_id else None
    )
    if contact is None:
        raise NotFound("no such contact in your agency")
    errors = _validate_details(contact.contact_type, details) if details is not None else {}
    occurred_at = _in_utc(occurred_at) if occurred_at is not None else None
    if occurred_at is not None and occurred_at > clock.now() + dt.timedelta(minutes=5):
        errors.setdefault("occurred_at", []).append("is in the future")
    if errors:
        raise ValidationFailed(errors)
    ctx = context(actor, writing_purpose(actor))
    decision = authorize_write(ctx, youth_id=contact.youth_id, category=contact.category,
                               owner_agency_id=contact.agency_id, action="update")
    fields: dict[str, Any] = {}
    if occurred_at is not None:
        fields["occurred_at"] = occurred_at
    if details is not None:
        fields["details"] = details
    with transaction.atomic():
        update_if_current(Contact, contact.pk, expected_version, **fields)
        audit_decision(ctx, decision, youth_id=contact.youth_id, action="update", object_type="contact",
                       object_id=str(contact.public_id), detail={"fields": sorted(fields)})
    contact.refresh_from_db()
    return contact


EMERGENCY_MATCH_LIMIT = 3


def emergency_lookup(
    *, actor: User, query: str, date_of_birth: dt.date, justification: str
) -> list[str]:
    """Break the glass: find a youth the actor cannot otherwise see, in an emergency.

    Needs a name and an exact date of birth, so it finds a particular child rather than
    browsing. Opens a time-limited, supervisor-reviewed break-glass on each match (at
    most three) and returns their public ids.
    """
    from nowrongdoor.access.services import open_break_glass
    from nowrongdoor.youth.names import normalise

    tokens = [t for t in normalise(query).split() if len(t) >= 2][:5]
    errors: dict[str, list[str]] = {}
    if not tokens:
        errors["q"] = ["type the youth's name"]
    if len(justification.strip()) < 20:
        errors["justification"] = ["write at least 20 characters: why, now"]
    if errors:
        raise ValidationFailed(errors)
    writing_purpose(actor)  # refuses roles that do not work with youth records
    matches = SourceRecord.objects.filter(date_of_birth=date_of_birth)
    for token in tokens:
        matches = matches.filter(search_name__contains=token)
    youth_ids = list(
        matches.order_by("youth_id").values_list("youth__public_id", flat=True).distinct()[: EMERGENCY_MATCH_LIMIT + 1]
    )
    if len(youth_ids) > EMERGENCY_MATCH_LIMIT:
        raise ValidationFailed({"q": ["too many youth match; give the full name"]})
    return [
        str(open_break_glass(actor=actor, youth_public_id=str(pid), justification=justification).youth.public_id)
        for pid in youth_ids
    ]
