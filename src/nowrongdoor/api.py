"""The JSON API (django-ninja): the "any door" intake and reads, OpenAPI at /api/openapi.json.

Handlers are thin: they parse, call a selector or service with the acting user, and
shape the answer. Domain errors map to HTTP here, once: ``ValidationFailed`` -> 422
naming each field, ``AccessDenied`` -> 403, ``NotFound`` -> 404 (also for youth the caller
may not know exist), ``StaleEdit`` -> 409.
"""


import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from pydantic import AfterValidator, field_validator

from nowrongdoor import __version__
from nowrongdoor.access import selectors as access_selectors
from nowrongdoor.access import services as access_services
from nowrongdoor.cases import selectors as case_selectors
from nowrongdoor.cases import services as case_services
from nowrongdoor.directory.models import County, User
from nowrongdoor.errors import AccessDenied, Immutable, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.protocols import selectors as protocol_selectors
from nowrongdoor.protocols import services as protocol_services
from nowrongdoor.screening import selectors as screening_selectors
from nowrongdoor.screening import services as screening_services
from nowrongdoor.screening.instruments import instruments
from nowrongdoor.screening.models import Screening
from nowrongdoor.youth import selectors, services


class TokenAuth(HttpBearer):
    """``Authorization: Bearer nwd_...``: an agency system's integration token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return access_services.authenticate_token(token)


class SessionAuth(NinjaSessionAuth):
    """The web session. CSRF is checked only when a session cookie is actually sent, so a
    system posting with a bad token hears 401 (sign in), not a misleading CSRF 403."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)


class BoundedLimitOffset(LimitOffsetPagination):
    class Input(Schema):  # type: ignore[misc]
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0, le=1_000_000_000)


api = NinjaAPI(
    title="NoWrongDoor API",
    version=__version__,
    description="Any-door intake of agency records and contacts; access-controlled, audited reads.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)



def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Clean = AfterValidator(_no_nul)
Name = Annotated[str, Field(min_length=1, max_length=100), Clean]
ShortText = Annotated[str, Field(max_length=100), Clean]
Code = Annotated[str, Field(max_length=40), Clean]
LocalId = Annotated[str, Field(min_length=1, max_length=64), Clean]


def _actor(request: HttpRequest) -> User:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, User)
    return actor


def _error(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(ValidationFailed)
def _validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    detail = [
        {"loc": ["body", *field.split(".")], "msg": msg, "type": "value_error"}
        for field, msgs in exc.errors.items()
        for msg in msgs
    ]
    return _error(request, 422, {"detail": detail})


@api.exception_handler(AccessDenied)
def _access_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return _error(request, 403, {"detail": "You do not have access to this for that purpose."})


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _error(request, 404, {"detail": "Not found."})


@api.exception_handler(StaleEdit)
def _stale(request: HttpRequest, exc: StaleEdit) -> HttpResponse:
    return _error(request, 409, {"detail": str(exc), "current_version": exc.current_version})


@api.exception_handler(Immutable)
def _immutable(request: HttpRequest, exc: Immutable) -> HttpResponse:
    return _error(request, 409, {"detail": str(exc)})


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, {"detail": "Sign in, or send a valid integration token."})


@api.exception_handler(ValidationError)
def _schema_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, {"detail": exc.errors})


# -- schemas ---------------------------------------------------------------------


class SourceRecordIn(Schema):
    local_id: LocalId
    first_name: Name
    middle_name: ShortText = ""
    last_name: Name
    aliases: Annotated[list[Name], Field(max_length=20)] = []
    date_of_birth: dt.date | None = None
    estimated_age: Annotated[int, Field(ge=0, le=25)] | None = None
    sex: Code = "unknown"
    gender_identity: Code = ""
    sexual_orientation: Code = ""
    race_ethnicity: Code = "unknown"
    language: Annotated[str, Field(max_length=10), Clean] = ""
    residence_county: ShortText = ""
    residence_zip: Annotated[str, Field(max_length=10), Clean] = ""
    youth_id: uuid.UUID | None = Field(None, description="Join a youth you can already see (a referral).")


class SourceRecordPatch(Schema):
    version: Annotated[int, Field(ge=1)]
    first_name: Name | None = None
    middle_name: ShortText | None = None
    last_name: Name | None = None
    aliases: Annotated[list[Name], Field(max_length=20)] | None = None
    date_of_birth: dt.date | None = None
    estimated_age: Annotated[int, Field(ge=0, le=25)] | None = None
    sex: Code | None = None
    race_ethnicity: Code | None = None
    language: Annotated[str, Field(max_length=10), Clean] | None = None
    residence_zip: Annotated[str, Field(max_length=10), Clean] | None = None


class SourceRecordOut(Schema):
    id: uuid.UUID
    youth_id: uuid.UUID
    local_id: str
    first_name: str
    middle_name: str
    last_name: str
    aliases: list[str]
    date_of_birth: dt.date | None
    estimated_age: int | None
    sex: str
    race_ethnicity: str
    version: int


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone offset, e.g. 2026-05-03T14:00:00-07:00")
    return value


class ContactIn(Schema):
    source_record_id: uuid.UUID
    contact_type: Code
    occurred_at: dt.datetime
    details: dict[str, Any] = {}
    local_id: Annotated[str, Field(max_length=64), Clean] = ""

    @field_validator("occurred_at")
    @classmethod
    def _tz(cls, value: dt.datetime) -> dt.datetime:
        return _aware(value)


class ContactPatch(Schema):
    version: Annotated[int, Field(ge=1)]
    occurred_at: dt.datetime | None = None
    details: dict[str, Any] | None = None

    @field_validator("occurred_at")
    @classmethod
    def _tz(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else _aware(value)


class ContactOut(Schema):
    id: uuid.UUID
    youth_id: uuid.UUID
    source_record_id: uuid.UUID
    contact_type: str
    category: str
    occurred_at: dt.datetime
    details: dict[str, Any]
    version: int


class YouthSummaryOut(Schema):
    id: str
    display_name: str
    age: int | None
    county: str


class IdentityOut(Schema):
    id: str
    agency: str
    agency_type: str
    local_id: str
    first_name: str
    middle_name: str
    last_name: str
    aliases: list[str]
    date_of_birth: dt.date | None
    age: int | None
    sex: str
    race_ethnicity: str
    language: str
    residence_county: str
    gender_identity: str | None
    sexual_orientation: str | None
    version: int


class ContactViewOut(Schema):
    id: str
    agency: str
    agency_type: str
    contact_type: str
    category: str
    occurred_at: dt.datetime
    details: dict[str, Any]
    withheld_fields: list[str]
    version: int


class YouthOut(Schema):
    id: str
    purpose: str
    identities: list[IdentityOut]
    contacts: list[ContactViewOut]
    withheld_contacts: int
    withheld_records: int
    bases: list[str]


class BreakGlassIn(Schema):
    justification: Annotated[str, Field(min_length=1, max_length=2000), Clean]


class BreakGlassOut(Schema):
    id: int
    expires_at: dt.datetime


class AuditEventOut(Schema):
    """One audit event as the reader may see it (see ``access.selectors.audit_log``)."""

    seq: int
    at: dt.datetime
    actor_username: str
    actor_agency_id: int | None
    owner_agency: str
    youth_id: str | None
    category: str
    purpose: str
    action: str
    allowed: bool
    basis: str
    reason: str

    @staticmethod
    def resolve_owner_agency(obj: Any) -> str:
        return str(obj.shown_owner)

    @staticmethod
    def resolve_youth_id(obj: Any) -> str | None:
        return str(obj.youth_ref) if obj.youth_ref else None

    @staticmethod
    def resolve_category(obj: Any) -> str:
        return str(obj.shown_category)

    @staticmethod
    def resolve_reason(obj: Any) -> str:
        return str(obj.shown_reason)


class Problem(Schema):
    detail: Any


ERRORS: dict[int, type[Schema]] = {401: Problem, 403: Problem, 404: Problem, 422: Problem}


def _record_out(record: Any) -> dict[str, Any]:
    return {
        "id": record.public_id, "youth_id": record.youth.public_id, "local_id": record.local_id,
        "first_name": record.first_name, "middle_name": record.middle_name, "last_name": record.last_name,
        "aliases": record.aliases, "date_of_birth": record.date_of_birth, "estimated_age": record.estimated_age,
        "sex": record.sex, "race_ethnicity": record.race_ethnicity, "version": record.version,
    }


def _contact_out(contact: Any) -> dict[str, Any]:
    return {
        "id": contact.public_id, "youth_id": contact.youth.public_id,
        "source_record_id": contact.source_record.public_id, "contact_type": contact.contact_type,
        "category": contact.category, "occurred_at": contact.occurred_at, "details": contact.details,
        "version": contact.version,
    }


def _county(name: str) -> County | None:
    if not name:
        return None
    county = County.objects.filter(name__iexact=name).first()
    if county is None:
        raise ValidationFailed({"residence_county": [f"unknown county {name!r}"]})
    return county


# -- source records ----------------------------------------------------------------


@api.post("/source-records", response={201: SourceRecordOut, **ERRORS}, tags=["intake"])
def create_source_record(request: HttpRequest, payload: SourceRecordIn) -> Status[dict[str, Any]]:
    """Record a youth as your agency knows them (your own local id, names, date of birth)."""
    data = payload.model_dump(exclude={"youth_id", "residence_county"})
    record = services.create_source_record(
        actor=_actor(request), residence_county=_county(payload.residence_county),
        youth_public_id=str(payload.youth_id) if payload.youth_id else None, **data,
    )
    return Status(201, _record_out(record))


@api.get("/source-records/{record_id}", response={200: SourceRecordOut, **ERRORS}, tags=["intake"])
def read_source_record(request: HttpRequest, record_id: uuid.UUID) -> dict[str, Any]:
    """One of your agency's own records, for editing (other agencies' records: see /youth)."""
    actor = _actor(request)
    record = selectors.own_source_record(actor=actor, public_id=str(record_id))
    selectors.get_youth(actor=actor, public_id=str(record.youth.public_id), purpose=services.writing_purpose(actor))
    return _record_out(record)


@api.patch("/source-records/{record_id}", response={200: SourceRecordOut, 409: Problem, **ERRORS}, tags=["intake"])
def update_source_record(request: HttpRequest, record_id: uuid.UUID, payload: SourceRecordPatch) -> dict[str, Any]:
    """Change your record; send the ``version`` you read. A stale version gets 409."""
    changes = payload.model_dump(exclude={"version"}, exclude_unset=True)
    record = services.update_source_record(
        actor=_actor(request), public_id=str(record_id), expected_version=payload.version, changes=changes
    )
    return _record_out(record)


# -- contacts ----------------------------------------------------------------------


@api.post("/contacts", response={201: ContactOut, **ERRORS}, tags=["intake"])
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[dict[str, Any]]:
    """Record a dated event (report, placement, absence, arrest, visit...) on your record."""
    contact = services.create_contact(
        actor=_actor(request), source_record_public_id=str(payload.source_record_id),
        contact_type=payload.contact_type, occurred_at=payload.occurred_at, details=payload.details,
        local_id=payload.local_id,
    )
    return Status(201, _contact_out(contact))


@api.patch("/contacts/{contact_id}", response={200: ContactOut, 409: Problem, **ERRORS}, tags=["intake"])
def update_contact(request: HttpRequest, contact_id: uuid.UUID, payload: ContactPatch) -> dict[str, Any]:
    """Correct your contact; send the ``version`` you read. A stale version gets 409."""
    contact = services.update_contact(
        actor=_actor(request), public_id=str(contact_id), expected_version=payload.version,
        occurred_at=payload.occurred_at, details=payload.details,
    )
    return _contact_out(contact)


# -- youth -------------------------------------------------------------------------


class YouthSearch(Schema):
    q: Annotated[str, Field(min_length=1, max_length=100), Clean]
    purpose: Code = ""
    date_of_birth: dt.date | None = None


@api.get("/youth", response={200: list[YouthSummaryOut], **ERRORS}, tags=["youth"])
def search_youth(request: HttpRequest, filters: Query[YouthSearch]) -> list[dict[str, Any]]:
    """Youth you may see whose names match; only name, age and county until you open one."""
    actor = _actor(request)
    results = selectors.search_youth(
        actor=actor, query=filters.q, purpose=filters.purpose or services.writing_purpose(actor),
        date_of_birth=filters.date_of_birth,
    )
    return [{"id": r.public_id, "display_name": r.display_name, "age": r.age, "county": r.county} for r in results]


@api.get("/youth/{youth_id}", response={200: YouthOut, **ERRORS}, tags=["youth"])
def read_youth(request: HttpRequest, youth_id: uuid.UUID, purpose: Code = "") -> dict[str, Any]:
    """A youth with the records and contacts you may see for ``purpose``; the rest are counted."""
    actor = _actor(request)
    view = selectors.get_youth(
        actor=actor, public_id=str(youth_id), purpose=purpose or services.writing_purpose(actor)
    )
    return {
        "id": view.public_id, "purpose": view.purpose,
        "identities": [{"id": i.public_id, **{k: getattr(i, k) for k in IdentityOut.model_fields if k != "id"}}
                       for i in view.identities],
        "contacts": [{"id": c.public_id, **{k: getattr(c, k) for k in ContactViewOut.model_fields if k != "id"}}
                     for c in view.contacts],
        "withheld_contacts": view.withheld_contacts, "withheld_records": view.withheld_records,
        "bases": view.bases,
    }


@api.post("/youth/{youth_id}/break-glass", response={201: BreakGlassOut, **ERRORS}, tags=["youth"])
def break_glass(request: HttpRequest, youth_id: uuid.UUID, payload: BreakGlassIn) -> Status[dict[str, Any]]:
    """Emergency access to a youth for a few hours; your supervisor reviews it."""
    grant = access_services.open_break_glass(
        actor=_actor(request), youth_public_id=str(youth_id), justification=payload.justification
    )
    return Status(201, {"id": grant.pk, "expires_at": grant.expires_at})


# -- audit -------------------------------------------------------------------------


class AuditFilters(Schema):
    action: Annotated[str, Field(max_length=40), Clean] = ""
    actor: Annotated[str, Field(max_length=150), Clean] = ""
    denied_only: bool = False


@api.get("/audit", response={200: list[AuditEventOut], **ERRORS}, tags=["audit"])
@paginate(BoundedLimitOffset)
def read_audit(request: HttpRequest, filters: Query[AuditFilters]) -> Any:
    """Who saw what: your agency's staff and your agency's records (administrators only)."""
    return access_selectors.audit_log(
        actor=_actor(request), action=filters.action, actor_username=filters.actor, denied_only=filters.denied_only
    )


# -- screening -----------------------------------------------------------------------

Answer = str | int


class InstrumentSummaryOut(Schema):
    id: str
    version: int
    bank_version: int
    setting: str
    agency_types: list[str]
    title: str
    forms: dict[str, list[str]]


class ItemOut(Schema):
    id: str
    domain: str
    kind: str
    answer: str
    text: str
    help: str
    options: list[str]
    setting_specific: bool
    source: str


class InstrumentOut(InstrumentSummaryOut):
    introduction: str
    items: list[ItemOut]
    next_steps: dict[str, list[str]]


class ScreeningStart(Schema):
    youth_id: uuid.UUID
    instrument: Code
    form: Annotated[str, Field(pattern="^(short|full)$",
                               description="Omit for the county's default (its profile's, else short)")] = ""


class ScreeningAnswers(Schema):
    version: Annotated[int, Field(ge=1)]
    answers: dict[Annotated[str, Field(max_length=60), Clean], Answer] = {}
    notes: Annotated[str, Field(max_length=5000), Clean] | None = None


class ScreeningComplete(Schema):
    version: Annotated[int, Field(ge=1)]
    answers: dict[Annotated[str, Field(max_length=60), Clean], Answer] = {}


class ScreeningOut(Schema):
    id: str
    youth_id: str
    agency: str
    instrument_id: str
    instrument_version: int
    form: str
    status: str
    answers: dict[str, Answer]
    result: dict[str, Any] | None
    level: str
    immediate_safety: bool
    notes: str | None
    started_at: dt.datetime
    completed_at: dt.datetime | None
    corrects: str | None
    version: int


def _lang(request: HttpRequest) -> str:
    return "es" if getattr(request, "LANGUAGE_CODE", "en").startswith("es") else "en"


def _instrument_summary(inst: Any, lang: str) -> dict[str, Any]:
    return {
        "id": inst.id, "version": inst.version, "bank_version": inst.bank_version, "setting": inst.setting,
        "agency_types": list(inst.agency_types), "title": inst.title.get(lang, ""),
        "forms": {form: list(ids) for form, ids in inst.forms.items()},
    }


def _screening_dict(view: screening_selectors.ScreeningView) -> dict[str, Any]:
    return {"id": view.public_id, **{k: getattr(view, k) for k in ScreeningOut.model_fields if k != "id"}}


def _screening_out(actor: User, public_id: str) -> dict[str, Any]:
    return _screening_dict(screening_selectors.get_screening(actor=actor, public_id=public_id))


def _written_out(actor: User, screening: Screening) -> dict[str, Any]:
    return _screening_dict(screening_selectors.written_view(actor, screening))


@api.get("/screening/instruments", response={200: list[InstrumentSummaryOut], **ERRORS}, tags=["screening"])
def list_instruments(request: HttpRequest) -> list[dict[str, Any]]:
    """Every screening instrument with its version, setting and forms."""
    return [_instrument_summary(i, _lang(request)) for i in instruments().values()]


@api.get("/screening/instruments/{instrument_id}", response={200: InstrumentOut, **ERRORS}, tags=["screening"])
def read_instrument(request: HttpRequest, instrument_id: str) -> dict[str, Any]:
    """One instrument's items (in the request's language), guidance sources and next steps."""
    inst = instruments().get(instrument_id)
    if inst is None:
        raise NotFound("no such instrument")
    lang = _lang(request)
    return {
        **_instrument_summary(inst, lang), "introduction": inst.introduction.get(lang, ""),
        "items": [
            {"id": i.id, "domain": i.domain, "kind": i.kind, "answer": i.answer, "text": i.text.get(lang, ""),
             "help": i.help.get(lang, ""), "options": list(i.options), "setting_specific": i.setting_specific,
             "source": i.source}
            for i in inst.items.values()
        ],
        "next_steps": {level: list(texts.get(lang, [])) for level, texts in inst.next_steps.items()},
    }


@api.post("/screenings", response={201: ScreeningOut, **ERRORS}, tags=["screening"])
def start_screening(request: HttpRequest, payload: ScreeningStart) -> Status[dict[str, Any]]:
    """Start a draft screening of a youth you can see, with your setting's instrument."""
    actor = _actor(request)
    screening = screening_services.start_screening(
        actor=actor, youth_public_id=str(payload.youth_id), instrument_id=payload.instrument, form=payload.form
    )
    return Status(201, _written_out(actor, screening))


@api.get("/screenings/{screening_id}", response={200: ScreeningOut, **ERRORS}, tags=["screening"])
def read_screening(request: HttpRequest, screening_id: uuid.UUID) -> dict[str, Any]:
    """A screening you may see: your agency's drafts, and completed ones shared with you."""
    return _screening_out(_actor(request), str(screening_id))


@api.patch("/screenings/{screening_id}", response={200: ScreeningOut, 409: Problem, **ERRORS}, tags=["screening"])
def save_screening(request: HttpRequest, screening_id: uuid.UUID, payload: ScreeningAnswers) -> dict[str, Any]:
    """Save some answers (and notes) to a draft; send the ``version`` you read."""
    actor = _actor(request)
    screening = screening_services.save_answers(
        actor=actor, screening_public_id=str(screening_id), expected_version=payload.version,
        answers=payload.answers, notes=payload.notes,
    )
    return _written_out(actor, screening)


@api.post("/screenings/{screening_id}/complete", response={200: ScreeningOut, 409: Problem, **ERRORS},
          tags=["screening"])
def complete_screening(request: HttpRequest, screening_id: uuid.UUID, payload: ScreeningComplete) -> dict[str, Any]:
    """Score and freeze the draft; 422 names every item that is missing or does not fit."""
    actor = _actor(request)
    screening = screening_services.complete_screening(
        actor=actor, screening_public_id=str(screening_id), expected_version=payload.version,
        answers=payload.answers,
    )
    return _written_out(actor, screening)


@api.post("/screenings/{screening_id}/correct", response={201: ScreeningOut, **ERRORS}, tags=["screening"])
def correct_screening(request: HttpRequest, screening_id: uuid.UUID) -> Status[dict[str, Any]]:
    """Start a correction of a completed screening: a new draft that points to it."""
    actor = _actor(request)
    new = screening_services.correct_screening(actor=actor, screening_public_id=str(screening_id))
    return Status(201, _written_out(actor, new))


@api.get("/youth/{youth_id}/screenings", response={200: list[ScreeningOut], **ERRORS}, tags=["screening"])
def youth_screenings(request: HttpRequest, youth_id: uuid.UUID, purpose: Code = "") -> list[dict[str, Any]]:
    """A youth's screenings you may see, oldest first: the concern level over time."""
    actor = _actor(request)
    views = screening_selectors.screenings_of_youth(
        actor=actor, youth_public_id=str(youth_id), purpose=purpose or services.writing_purpose(actor)
    )
    return [_screening_dict(v) for v in views]


# -- protocol tasks -----------------------------------------------------------------
class TaskOut(Schema):
    id: str
    youth_id: str
    title: dict[str, str]
    instructions: dict[str, str]
    kind: str
    protocol_id: str
    protocol_version: str
    step_id: str
    agency: str
    agency_type: str
    role: str
    assignee: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    status: str
    overdue: bool
    escalation_level: int
    evidence_spec: list[dict[str, Any]]
    evidence: dict[str, Any]
    closed_at: dt.datetime | None
    closed_by: str | None
    reason: str
    version: int


class TaskComplete(Schema):
    version: Annotated[int, Field(ge=1)]
    evidence: dict[Annotated[str, Field(max_length=60), Clean], Annotated[str, Field(max_length=500), Clean]] = {}


class TaskWaive(Schema):
    version: Annotated[int, Field(ge=1)]
    reason: Annotated[str, Field(max_length=2000), Clean]


class TaskAssign(Schema):
    version: Annotated[int, Field(ge=1)]
    assignee: Annotated[str, Field(max_length=150), Clean] = ""


class ComplianceOut(Schema):
    kind: str
    agency: str
    county: str
    due: int | None
    on_time: int | None
    late: int | None
    waived: int | None
    still_open: int | None
    on_time_rate: float | None
    suppressed: bool


def _task_dict(view: protocol_selectors.TaskView) -> dict[str, Any]:
    return {"id": view.public_id, **{k: getattr(view, k) for k in TaskOut.model_fields if k != "id"}}


def _task_out(actor: User, public_id: str) -> dict[str, Any]:
    view = protocol_selectors.get_task(actor=actor, public_id=public_id, purpose=services.writing_purpose(actor))
    return _task_dict(view)


@api.get("/tasks", response={200: list[TaskOut], **ERRORS}, tags=["protocols"])
def list_tasks(request: HttpRequest, scope: Literal["mine", "agency"] = "mine") -> list[dict[str, Any]]:
    """Your open tasks (``mine``: assigned to you or your role, most urgent first, then
    what closed in the last two weeks) or, for supervisors, the agency's overdue and due
    in the next 24 hours (``agency``)."""
    actor = _actor(request)
    purpose = services.writing_purpose(actor)
    if scope == "agency":
        board = protocol_selectors.agency_board(actor=actor, purpose=purpose)
        views = board.overdue + board.due_soon
    else:
        work = protocol_selectors.my_work(actor=actor, purpose=purpose)
        views = work.overdue + work.due_soon + work.later + work.done
    return [_task_dict(v) for v in views]


@api.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, tags=["protocols"])
def read_task(request: HttpRequest, task_id: uuid.UUID) -> dict[str, Any]:
    """One task you may see: your agency's, or another agency's where shared."""
    return _task_out(_actor(request), str(task_id))


@api.post("/tasks/{task_id}/complete", response={200: TaskOut, 409: Problem, **ERRORS}, tags=["protocols"])
def complete_task(request: HttpRequest, task_id: uuid.UUID, payload: TaskComplete) -> dict[str, Any]:
    """Close a task as done with the evidence its step asks for; 422 names each missing or
    malformed piece (``evidence.<id>``)."""
    actor = _actor(request)
    protocol_services.complete_task(actor=actor, task_public_id=str(task_id), expected_version=payload.version,
                                    evidence=dict(payload.evidence))
    return _task_out(actor, str(task_id))


@api.post("/tasks/{task_id}/waive", response={200: TaskOut, 409: Problem, **ERRORS}, tags=["protocols"])
def waive_task(request: HttpRequest, task_id: uuid.UUID, payload: TaskWaive) -> dict[str, Any]:
    """Close a task that does not apply, with the reason."""
    actor = _actor(request)
    protocol_services.waive_task(actor=actor, task_public_id=str(task_id), expected_version=payload.version,
                                 reason=payload.reason)
    return _task_out(actor, str(task_id))


@api.post("/tasks/{task_id}/assign", response={200: TaskOut, 409: Problem, **ERRORS}, tags=["protocols"])
def assign_task(request: HttpRequest, task_id: uuid.UUID, payload: TaskAssign) -> dict[str, Any]:
    """(Supervisors) give the task to one person of the agency, or back to the role."""
    actor = _actor(request)
    protocol_services.assign_task(actor=actor, task_public_id=str(task_id), expected_version=payload.version,
                                  assignee_username=payload.assignee)
    return _task_out(actor, str(task_id))


@api.get("/youth/{youth_id}/tasks", response={200: list[TaskOut], **ERRORS}, tags=["protocols"])
def youth_tasks(request: HttpRequest, youth_id: uuid.UUID, purpose: Code = "") -> list[dict[str, Any]]:
    """A youth's protocol tasks you may see, by due time."""
    actor = _actor(request)
    views = protocol_selectors.tasks_of_youth(
        actor=actor, youth_public_id=str(youth_id), purpose=purpose or services.writing_purpose(actor)
    )
    return [_task_dict(v) for v in views]


@api.get("/analytics/task-compliance", response={200: list[ComplianceOut], **ERRORS}, tags=["protocols"])
def task_compliance(request: HttpRequest, since: dt.date | None = None) -> list[dict[str, Any]]:
    """On-time rate per task kind, agency and county over tasks already due. Analysts see
    all agencies, with counts of 1-10 masked and complementary masking (docs/measures.md);
    supervisors see their own agency's counts."""
    return protocol_selectors.compliance(actor=_actor(request), since=since)


# -- cases ------------------------------------------------------------------------------
class CaseOpen(Schema):
    youth_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=2000), Clean]


class CaseSummaryOut(Schema):
    id: str
    youth_id: str
    agency: str
    worker: str | None
    status: str
    phase: str
    opened_on: dt.date


class MemberOut(Schema):
    username: str
    agency: str
    role_in_team: str
    joined_on: dt.date
    left_on: dt.date | None
    sharing_until: dt.date
    sharing_open: bool


class TimelineOut(Schema):
    on: dt.datetime
    kind: str
    title: str
    agency: str
    detail: str


class CaseOut(Schema):
    id: str
    youth_id: str
    agency: str
    worker: str | None
    status: str
    opened_on: dt.date
    phase: str
    phase_since: dt.date
    county_of_residence: str
    county_of_exploitation: str | None
    version: int
    stages: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    team: list[MemberOut]
    timeline: list[TimelineOut]
    withheld: int


class StageIn(Schema):
    stage: Code
    on: dt.date
    note: Annotated[str, Field(max_length=2000), Clean] = ""


class MemberIn(Schema):
    member: Annotated[str, Field(max_length=150), Clean]
    role_in_team: Annotated[str, Field(max_length=100), Clean]


class StatusIn(Schema):
    status: Code
    start_date: dt.date
    end_date: dt.date | None = None


class ClosureIn(Schema):
    version: Annotated[int, Field(ge=1)]
    reason: Code
    note: Annotated[str, Field(max_length=2000), Clean] = ""


class ClosureDecisionIn(Schema):
    version: Annotated[int, Field(ge=1)]
    approve: bool


def _case_out(actor: User, public_id: str) -> dict[str, Any]:
    v = case_selectors.get_case(actor=actor, public_id=public_id)
    return {
        "id": v.public_id, "youth_id": v.youth_id, "agency": v.agency, "worker": v.worker, "status": v.status,
        "opened_on": v.opened_on, "phase": v.phase, "phase_since": v.phase_since,
        "county_of_residence": v.county_of_residence, "county_of_exploitation": v.county_of_exploitation,
        "version": v.version, "stages": [{"stage": s, "on": on, "note": note} for s, on, note in v.stages],
        "statuses": [{"status": s, "start_date": a, "end_date": b, "agency": ag} for s, a, b, ag in v.statuses],
        "team": [vars(m) for m in v.team], "timeline": [vars(i) for i in v.timeline], "withheld": v.withheld,
    }


@api.get("/cases", response={200: list[CaseSummaryOut], **ERRORS}, tags=["cases"])
def list_cases(request: HttpRequest) -> list[dict[str, Any]]:
    """Open cases you may see: yours, your agency's, and those shared with you."""
    return [{"id": str(c.public_id), "youth_id": str(c.youth.public_id), "agency": c.agency.name,
             "worker": c.worker.username if c.worker else None, "status": c.status, "phase": c.phase,
             "opened_on": c.opened_on} for c in case_selectors.caseload(actor=_actor(request))]


@api.post("/cases", response={201: CaseOut, **ERRORS}, tags=["cases"])
def open_case(request: HttpRequest, payload: CaseOpen) -> Status[dict[str, Any]]:
    """Open a case led by your agency, with you as the worker."""
    actor = _actor(request)
    case = case_services.open_case(actor=actor, youth_public_id=str(payload.youth_id), reason=payload.reason)
    return Status(201, _case_out(actor, str(case.public_id)))


@api.get("/cases/{case_id}", response={200: CaseOut, **ERRORS}, tags=["cases"])
def read_case(request: HttpRequest, case_id: uuid.UUID) -> dict[str, Any]:
    """A case with its team, stages, statuses and the cross-system timeline you may see."""
    return _case_out(_actor(request), str(case_id))


@api.post("/cases/{case_id}/stages", response={200: CaseOut, 409: Problem, **ERRORS}, tags=["cases"])
def record_stage(request: HttpRequest, case_id: uuid.UUID, payload: StageIn) -> dict[str, Any]:
    """Record the youth's stage of change on a date (any stage may follow any other)."""
    actor = _actor(request)
    case_services.record_stage(actor=actor, case_public_id=str(case_id), stage=payload.stage, on=payload.on,
                               note=payload.note)
    return _case_out(actor, str(case_id))


@api.post("/cases/{case_id}/members", response={200: CaseOut, 409: Problem, **ERRORS}, tags=["cases"])
def add_member(request: HttpRequest, case_id: uuid.UUID, payload: MemberIn) -> dict[str, Any]:
    """Add staff of any agency to the youth's MDT; their sharing window opens."""
    actor = _actor(request)
    case_services.add_member(actor=actor, case_public_id=str(case_id), member_username=payload.member,
                             role_in_team=payload.role_in_team)
    return _case_out(actor, str(case_id))


@api.post("/youth/{youth_id}/exploitation-status", response={201: list[dict[str, Any]], **ERRORS},
          tags=["cases"])
def record_status(request: HttpRequest, youth_id: uuid.UUID, payload: StatusIn) -> Status[list[dict[str, Any]]]:
    """Add a dated exploitation status; answers with the youth's history as you may see it."""
    actor = _actor(request)
    case_services.record_status(actor=actor, youth_public_id=str(youth_id), status=payload.status,
                                start_date=payload.start_date, end_date=payload.end_date)
    return Status(201, case_selectors.status_history(actor=actor, youth_public_id=str(youth_id)))


@api.post("/cases/{case_id}/closure", response={200: CaseOut, 409: Problem, **ERRORS}, tags=["cases"])
def request_closure(request: HttpRequest, case_id: uuid.UUID, payload: ClosureIn) -> dict[str, Any]:
    """Ask to close the case (never on relapse); a supervisor decides."""
    actor = _actor(request)
    case_services.request_closure(actor=actor, case_public_id=str(case_id), expected_version=payload.version,
                                  reason=payload.reason, note=payload.note)
    return _case_out(actor, str(case_id))


@api.post("/cases/{case_id}/closure/decision", response={200: CaseOut, 409: Problem, **ERRORS}, tags=["cases"])
def decide_closure(request: HttpRequest, case_id: uuid.UUID, payload: ClosureDecisionIn) -> dict[str, Any]:
    """(Supervisors) approve the closure, or keep the case open."""
    actor = _actor(request)
    case_services.decide_closure(actor=actor, case_public_id=str(case_id), expected_version=payload.version,
                                 approve=payload.approve)
    return _case_out(actor, str(case_id))


class PlanOut(Schema):
    kind: str
    version: int
    content: dict[str, Any]
    author: str | None
    saved_at: dt.datetime | None
    conflicts: list[dict[str, Any]]


class PlanIn(Schema):
    version: Annotated[int, Field(ge=0)]
    content: dict[str, Any]


def _plan_out(actor: User, case_id: str, kind: str) -> dict[str, Any]:
    view = case_selectors.get_plan(actor=actor, case_public_id=case_id, kind=kind)
    return {"kind": view.kind, "version": view.version, "content": view.content, "author": view.author,
            "saved_at": view.saved_at, "conflicts": view.conflicts}


@api.get("/cases/{case_id}/plans/{kind}", response={200: PlanOut, **ERRORS}, tags=["cases"])
def read_plan(request: HttpRequest, case_id: uuid.UUID, kind: Literal["care", "safety"]) -> dict[str, Any]:
    """The case's current care or safety plan, and edits kept as conflicts."""
    return _plan_out(_actor(request), str(case_id), kind)


@api.put("/cases/{case_id}/plans/{kind}", response={200: PlanOut, 409: Problem, **ERRORS}, tags=["cases"])
def save_plan(request: HttpRequest, case_id: uuid.UUID, kind: Literal["care", "safety"], payload: PlanIn
              ) -> dict[str, Any]:
    """Save a new version (send the ``version`` you read; 0 for the first). A stale
    version answers 409 and your edit is kept beside the current one as a conflict."""
    actor = _actor(request)
    case_services.save_plan(actor=actor, case_public_id=str(case_id), kind=kind, expected_version=payload.version,
                            content=payload.content)
    return _plan_out(actor, str(case_id), kind)


class ProviderOut(Schema):
    agency_id: int
    name: str
    county: str
    services: list[str]
    populations: list[str]
    languages: list[str]
    csec_specialised: bool
    openings: int
    capacity: int


class ReferralIn(Schema):
    provider_id: int
    services: list[Code]
    consent_override: Annotated[str, Field(max_length=2000), Clean] = ""


class ReferralMove(Schema):
    version: Annotated[int, Field(ge=1)]
    status: Code
    reason: Annotated[str, Field(max_length=2000), Clean] = ""
    decline_reason: Code = ""


@api.get("/providers", response={200: list[ProviderOut], **ERRORS}, tags=["cases"])
def providers(request: HttpRequest, service: Code = "", population: Code = "", language: Code = "",
              with_openings: bool = True) -> list[Any]:
    """Providers offering a service (directory data), CSEC-specialised and open first."""
    _actor(request)
    return [vars(m) for m in case_selectors.find_providers(service=service, population=population,
                                                           language=language, with_openings=with_openings)]


@api.post("/cases/{case_id}/referrals", response={201: list[dict[str, Any]], **ERRORS}, tags=["cases"])
def refer(request: HttpRequest, case_id: uuid.UUID, payload: ReferralIn) -> Status[list[dict[str, Any]]]:
    """Refer the youth; 422 names the consent that is missing (a supervisor may override
    with ``consent_override``, audited). Answers with the case's referrals."""
    actor = _actor(request)
    case_services.refer(actor=actor, case_public_id=str(case_id), provider_id=payload.provider_id,
                        services_=list(payload.services), consent_override=payload.consent_override)
    return Status(201, case_selectors.referrals_of_case(actor=actor, case_public_id=str(case_id)))


@api.post("/referrals/{referral_id}/status", response={200: dict[str, Any], 409: Problem, **ERRORS},
          tags=["cases"])
def move_referral(request: HttpRequest, referral_id: uuid.UUID, payload: ReferralMove) -> dict[str, Any]:
    """The provider accepts, declines (with ``decline_reason``, a code of
    ``referral_decline_reason`` such as ``no_capacity``, and a ``reason`` in words),
    starts, completes; either side records a drop-out."""
    referral = case_services.move_referral(actor=_actor(request), referral_public_id=str(referral_id),
                                           expected_version=payload.version, status=payload.status,
                                           reason=payload.reason, decline_reason=payload.decline_reason)
    return {"id": str(referral.public_id), "status": referral.status, "version": referral.version}


@api.get("/referrals/received", response={200: list[dict[str, Any]], **ERRORS}, tags=["cases"])
def referrals_received(request: HttpRequest) -> list[dict[str, Any]]:
    """Referrals addressed to your agency as a provider."""
    return case_selectors.referrals_received(actor=_actor(request))


class ActionItemIn(Schema):
    what: Annotated[str, Field(max_length=500), Clean]
    owner: Annotated[str, Field(max_length=150), Clean]
    due_on: dt.date


class MeetingIn(Schema):
    held_on: dt.date
    attendees: list[Annotated[str, Field(max_length=150), Clean]]
    agenda: Annotated[str, Field(max_length=2000), Clean] = ""
    decisions: Annotated[str, Field(max_length=2000), Clean] = ""
    action_items: list[ActionItemIn] = []


class TransferIn(Schema):
    version: Annotated[int, Field(ge=1)]
    to_agency_id: int
    reason: Annotated[str, Field(max_length=2000), Clean]


class WorkerIn(Schema):
    version: Annotated[int, Field(ge=1)]
    worker: Annotated[str, Field(max_length=150), Clean]


@api.post("/cases/{case_id}/meetings", response={200: CaseOut, **ERRORS}, tags=["cases"])
def record_meeting(request: HttpRequest, case_id: uuid.UUID, payload: MeetingIn) -> dict[str, Any]:
    """Record an MDT meeting; each action item becomes a task for its owner."""
    actor = _actor(request)
    case_services.record_meeting(
        actor=actor, case_public_id=str(case_id), held_on=payload.held_on, attendees=list(payload.attendees),
        agenda=payload.agenda, decisions=payload.decisions,
        action_items=[{"what": i.what, "owner": i.owner, "due_on": i.due_on.isoformat()} for i in payload.action_items])
    return _case_out(actor, str(case_id))


@api.post("/cases/{case_id}/transfer", response={200: dict[str, Any], 409: Problem, **ERRORS}, tags=["cases"])
def transfer_case(request: HttpRequest, case_id: uuid.UUID, payload: TransferIn) -> dict[str, Any]:
    """(Supervisors) hand the case's lead to an agency in another county (audited)."""
    case = case_services.transfer_case(actor=_actor(request), case_public_id=str(case_id),
                                       expected_version=payload.version, to_agency_id=payload.to_agency_id,
                                       reason=payload.reason)
    return {"id": str(case.public_id), "agency": case.agency.name, "version": case.version}


@api.post("/cases/{case_id}/worker", response={200: CaseOut, 409: Problem, **ERRORS}, tags=["cases"])
def assign_worker(request: HttpRequest, case_id: uuid.UUID, payload: WorkerIn) -> dict[str, Any]:
    """(Supervisors of the lead agency) name the case's worker."""
    actor = _actor(request)
    case_services.assign_worker(actor=actor, case_public_id=str(case_id), expected_version=payload.version,
                                worker_username=payload.worker)
    return _case_out(actor, str(case_id))


# The placement endpoints live beside their app; mounted last, as they use the helpers above.
from nowrongdoor.analytics.api import router as analytics_router  # noqa: E402
from nowrongdoor.jurisdiction.api import router as jurisdiction_router  # noqa: E402
from nowrongdoor.oversight.api import router as oversight_router  # noqa: E402
from nowrongdoor.placements.api import router as placements_router  # noqa: E402
from nowrongdoor.prevention.api import router as prevention_router  # noqa: E402
from nowrongdoor.training.api import router as training_router  # noqa: E402

api.add_router("", placements_router)
api.add_router("", analytics_router)
api.add_router("", training_router)
api.add_router("", oversight_router)
api.add_router("", prevention_router)
api.add_router("", jurisdiction_router)
