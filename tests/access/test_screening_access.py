"""Access-matrix cases for screening data, through the real read and write paths.

Who can and cannot see a screening (category ``screening``) and its notes (category
``case_notes``), read with ``screening.selectors.get_screening`` and
``screenings_of_youth``, and who can write one with ``screening.services``.

The world: a probation agency screens a youth (one completed screening, one draft, both
with notes). A child welfare agency serves the same youth (its own record, linked to
probation's), so it knows the youth and reads its screenings only on the basis the rule
allows: an agreement naming ``screening`` for the purpose read, or break-glass. An
education agency has never met the youth. Roles and purposes come from the data
dictionary, so the cases follow the dictionary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Max

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent, BreakGlass, SharingAgreement
from nowrongdoor.access.services import create_agreement, open_break_glass, terminate_agreement
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.screening import selectors, services
from nowrongdoor.screening.engine import Instrument
from nowrongdoor.screening.instruments import for_agency_type
from nowrongdoor.screening.models import Screening
from nowrongdoor.youth.models import SourceRecord, Youth

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Synthetic emergency: the youth was reported missing from placement tonight."
DONE_NOTES = "Synthetic case note written during the completed screening."
DRAFT_NOTES = "Synthetic case note written in the draft screening."
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

# -- the vocabulary, from the dictionary -----------------------------------------------

V = vocabulary()
ROLES = sorted(V.roles)


def categories_of(purpose: str) -> frozenset[str]:
    return frozenset(V.purpose_categories(purpose))


SCREENING_PURPOSES = sorted(p for p in V.purposes if "screening" in categories_of(p))
# Purposes that open individual records (the ones break-glass applies to).
INDIVIDUAL_PURPOSES = sorted(p for p in SCREENING_PURPOSES if "identity" in categories_of(p))
NOTES_PURPOSES = frozenset(p for p in V.purposes if "case_notes" in categories_of(p))
# Every (role, purpose) that reads individual screenings at all.
READERS = [(r, p) for r in ROLES for p in sorted(V.role_purposes(r)) if p in INDIVIDUAL_PURPOSES]
# Roles that act for no purpose using the screening category.
NO_SCREENING_ROLES = [r for r in ROLES if not any(p in SCREENING_PURPOSES for p in V.role_purposes(r))]
# Roles that do not act for the screening purpose (the purpose a screening is started for).
NOT_SCREENERS = [r for r in ROLES if "screening" not in V.role_purposes(r)]
ANALYTICS_ROLES = [r for r in ROLES if any("identity" not in categories_of(p) for p in V.role_purposes(r))]


def test_the_dictionary_gives_every_case_something_to_check() -> None:
    """The cases below are derived from the dictionary: none of them may be vacuous."""
    assert set(INDIVIDUAL_PURPOSES) >= {"screening", "case_coordination", "mdt"}
    assert "screening" in NOTES_PURPOSES, "a screening's notes are case notes, which screening reads"
    assert NOTES_PURPOSES & set(INDIVIDUAL_PURPOSES)
    assert set(NO_SCREENING_ROLES) == {"agency_admin", "system_admin", "identity_steward", "training_coordinator",
                                       "oversight_member"}
    assert {"mdt_coordinator", "analyst"} <= set(NOT_SCREENERS)
    assert ANALYTICS_ROLES == ["analyst", "state_analyst"]
    assert ("screener", "screening") in READERS and ("supervisor", "mdt") in READERS


# -- the world -------------------------------------------------------------------------


@dataclass
class World:
    county: County
    probation: Agency
    child_welfare: Agency
    school: Agency
    writer: User
    admin: User
    record: SourceRecord
    cw_record: SourceRecord
    youth: Youth
    instrument: Instrument
    done: Screening
    draft: Screening
    staff: Callable[..., User]

    @property
    def youth_id(self) -> str:
        return str(self.youth.public_id)


def full_answers(instrument: Instrument) -> dict[str, Any]:
    """Every item of the short form answered ("unknown", or 0 for counts): completes it."""
    return {i.id: ("unknown" if i.answer != "count" else 0) for i in instrument.form_items("short")}


@pytest.fixture
def w(
    county: County,
    make_agency: Callable[..., Agency],
    make_user: Callable[..., User],
    make_record: Callable[..., SourceRecord],
    link_records: Callable[..., None],
) -> World:
    probation, child_welfare, school = make_agency("probation"), make_agency("child_welfare"), make_agency("education")
    writer = make_user("screener", probation)
    record = make_record(writer)
    cw_record = make_record(make_user("case_manager", child_welfare))
    link_records(cw_record, record)
    instrument = for_agency_type("probation")[0]
    youth_id = str(record.youth.public_id)

    done = services.start_screening(actor=writer, youth_public_id=youth_id, instrument_id=instrument.id)
    saved = services.save_answers(
        actor=writer, screening_public_id=str(done.public_id), expected_version=1, answers={}, notes=DONE_NOTES
    )
    done = services.complete_screening(
        actor=writer,
        screening_public_id=str(done.public_id),
        expected_version=saved.version,
        answers=full_answers(instrument),
    )
    draft = services.start_screening(actor=writer, youth_public_id=youth_id, instrument_id=instrument.id)
    first = instrument.form_items("short")[0]
    draft = services.save_answers(
        actor=writer,
        screening_public_id=str(draft.public_id),
        expected_version=1,
        answers={first.id: "unknown" if first.answer != "count" else 0},
        notes=DRAFT_NOTES,
    )
    done.refresh_from_db()
    draft.refresh_from_db()
    assert (done.status, done.notes) == (Screening.COMPLETED, DONE_NOTES), "set-up"
    assert (draft.status, draft.notes) == (Screening.DRAFT, DRAFT_NOTES), "set-up"
    return World(
        county=county,
        probation=probation,
        child_welfare=child_welfare,
        school=school,
        writer=writer,
        admin=make_user("system_admin", None),
        record=record,
        cw_record=cw_record,
        youth=record.youth,
        instrument=instrument,
        done=done,
        draft=draft,
        staff=make_user,
    )


def agree(
    w: World,
    categories: list[str],
    purposes: list[str],
    *,
    discloser: Agency | None = None,
    recipient: Agency | None = None,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> SharingAgreement:
    """An agreement from probation (the screening's owner) to child welfare, unless told otherwise."""
    return create_agreement(
        actor=w.admin,
        county=w.county,
        title="Synthetic screening MOU",
        discloser=discloser or w.probation,
        recipient=recipient or w.child_welfare,
        categories=categories,
        purposes=purposes,
        legal_basis_code="WIC827",
        valid_from=valid_from or clock.today() - dt.timedelta(days=30),
        valid_to=valid_to,
    )


def last_seq() -> int:
    return AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def listed(w: World, actor: User, purpose: str) -> list[tuple[str, str | None]]:
    """(public id, notes) of every screening of the youth the actor is shown."""
    return [
        (s.public_id, s.notes)
        for s in selectors.screenings_of_youth(actor=actor, youth_public_id=w.youth_id, purpose=purpose)
    ]


def refused_read(actor: User, screening: Screening, purpose: str) -> AuditEvent:
    """get_screening refuses with NotFound; returns the refusal's (single) audit event."""
    seq = last_seq()
    with pytest.raises(NotFound):
        selectors.get_screening(actor=actor, public_id=str(screening.public_id), purpose=purpose)
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id, event.category, event.purpose) == (
        "read",
        False,
        actor.pk,
        "screening",
        purpose,
    )
    assert (event.youth_id, event.owner_agency_id) == (screening.youth_id, screening.agency_id)
    assert (event.object_type, event.object_id) == ("screening", str(screening.public_id))
    return event


def notes_for(purpose: str, notes: str) -> str | None:
    return notes if purpose in NOTES_PURPOSES else None


# -- 1. the writing agency -------------------------------------------------------------


@pytest.mark.parametrize(("role", "purpose"), READERS)
def test_the_writing_agency_sees_its_own_draft_and_completed_screening(w: World, role: str, purpose: str) -> None:
    reader = w.writer if role == "screener" else w.staff(role, w.probation)

    draft = selectors.get_screening(actor=reader, public_id=str(w.draft.public_id), purpose=purpose)
    done = selectors.get_screening(actor=reader, public_id=str(w.done.public_id), purpose=purpose)

    assert (draft.status, draft.own, draft.agency, draft.youth_id) == ("draft", True, w.probation.name, w.youth_id)
    assert draft.answers == w.draft.answers and draft.result is None
    assert (done.status, done.own, done.level) == ("completed", True, w.done.level)
    assert done.result == w.done.result and done.answers == full_answers(w.instrument)
    # Notes are case notes: the writer's own agency sees them wherever the purpose reads
    # case notes; under the screening purpose (which does not) they are withheld even here.
    assert draft.notes == notes_for(purpose, DRAFT_NOTES)
    assert done.notes == notes_for(purpose, DONE_NOTES)
    assert listed(w, reader, purpose) == [
        (str(w.done.public_id), notes_for(purpose, DONE_NOTES)),
        (str(w.draft.public_id), notes_for(purpose, DRAFT_NOTES)),
    ]


# -- 2. another agency, no agreement ---------------------------------------------------


@pytest.mark.parametrize(("role", "purpose"), READERS)
def test_another_agency_without_an_agreement_sees_no_screening_and_the_refusal_is_audited(
    w: World, role: str, purpose: str
) -> None:
    reader = w.staff(role, w.child_welfare)

    for screening in (w.done, w.draft):
        event = refused_read(reader, screening, purpose)
        assert event.actor_agency_id == w.child_welfare.pk
    # The reader knows the youth (its own record), so the list opens, and is empty.
    seq = last_seq()
    assert listed(w, reader, purpose) == []
    list_event = next(e for e in events_since(seq) if e.category == "screening")
    assert (list_event.actor_id, list_event.youth_id, list_event.detail) == (reader.pk, w.youth.pk, {"ids": []})


def test_an_agency_that_never_met_the_youth_cannot_tell_a_screening_or_the_youth_exists(w: World) -> None:
    outsider = w.staff("screener", w.school)

    refused_read(outsider, w.done, "screening")
    with pytest.raises(NotFound) as unknown:
        selectors.get_screening(actor=outsider, public_id=UNKNOWN_ID)
    with pytest.raises(NotFound) as hidden:
        selectors.get_screening(actor=outsider, public_id=str(w.done.public_id))
    assert str(hidden.value) == str(unknown.value), "a hidden screening and no screening look the same"

    seq = last_seq()
    with pytest.raises(NotFound):
        selectors.screenings_of_youth(actor=outsider, youth_public_id=w.youth_id, purpose="screening")
    [event] = events_since(seq)
    assert (event.allowed, event.category, event.youth_id, event.object_type) == (
        False,
        "identity",
        w.youth.pk,
        "youth",
    )


# -- 3. an agreement covering screening --------------------------------------------------

SHARED = [
    # (agreements as (categories, purposes), reader role, purpose read, notes shown)
    pytest.param([(["screening"], ["screening"])], "screener", "screening", False, id="screening-only"),
    pytest.param(
        [(["screening"], ["screening", "case_coordination"])],
        "case_manager",
        "case_coordination",
        False,
        id="no-case-notes-in-agreement",
    ),
    pytest.param(
        [(["screening", "case_notes"], ["case_coordination"])],
        "case_manager",
        "case_coordination",
        True,
        id="case-notes-for-case-coordination",
    ),
    pytest.param(
        [(["screening", "case_notes"], ["screening"])],
        "case_manager",
        "screening",
        True,
        id="case-notes-for-screening",
    ),
    pytest.param(
        [(["screening"], ["case_coordination"]), (["case_notes"], ["mdt"])],
        "supervisor",
        "case_coordination",
        False,
        id="case-notes-for-another-purpose",
    ),
    pytest.param([(["screening", "case_notes"], ["mdt"])], "mdt_coordinator", "mdt", True, id="mdt-with-notes"),
    pytest.param([(["screening", "case_notes"], ["mdt"])], "supervisor", "mdt", True, id="supervisor-mdt"),
]


@pytest.mark.parametrize(("agreements", "role", "purpose", "notes_shown"), SHARED)
def test_an_agreement_shares_completed_screenings_never_drafts(
    w: World, agreements: list[tuple[list[str], list[str]]], role: str, purpose: str, notes_shown: bool
) -> None:
    for categories, purposes in agreements:
        agree(w, categories, purposes)
    reader = w.staff(role, w.child_welfare)

    seen = selectors.get_screening(actor=reader, public_id=str(w.done.public_id), purpose=purpose)

    assert (seen.public_id, seen.status, seen.own, seen.agency) == (
        str(w.done.public_id),
        "completed",
        False,
        w.probation.name,
    )
    assert seen.result == w.done.result and seen.level == w.done.level
    assert seen.notes == (DONE_NOTES if notes_shown else None)
    refused_read(reader, w.draft, purpose)
    assert listed(w, reader, purpose) == [(str(w.done.public_id), DONE_NOTES if notes_shown else None)]


# -- 4. an agreement that does not cover what is read ------------------------------------

NOT_COVERED = [
    pytest.param(["screening"], ["case_coordination"], "screener", "screening", id="other-purpose-screener"),
    pytest.param(["screening"], ["case_coordination"], "case_manager", "screening", id="other-purpose-case-manager"),
    pytest.param(["screening"], ["screening"], "case_manager", "case_coordination", id="screening-purpose-only"),
    pytest.param(["screening"], ["mdt"], "supervisor", "case_coordination", id="mdt-only"),
    pytest.param(["screening"], ["analytics"], "supervisor", "screening", id="analytics-only"),
    pytest.param(
        ["identity", "case_notes", "probation"],
        list(INDIVIDUAL_PURPOSES),
        "supervisor",
        "case_coordination",
        id="every-purpose-but-not-the-screening-category",
    ),
]


@pytest.mark.parametrize(("categories", "purposes", "role", "purpose"), NOT_COVERED)
def test_an_agreement_that_does_not_name_the_category_for_the_purpose_read_is_refused(
    w: World, categories: list[str], purposes: list[str], role: str, purpose: str
) -> None:
    agree(w, categories, purposes)
    reader = w.staff(role, w.child_welfare)

    event = refused_read(reader, w.done, purpose)
    assert event.reason == "not visible to the actor"
    assert listed(w, reader, purpose) == []


def test_an_agreement_runs_one_way_only(w: World) -> None:
    """Child welfare disclosing to probation gives child welfare nothing of probation's."""
    agree(w, ["screening", "case_notes"], list(INDIVIDUAL_PURPOSES), discloser=w.child_welfare, recipient=w.probation)
    reader = w.staff("supervisor", w.child_welfare)

    for purpose in INDIVIDUAL_PURPOSES:
        refused_read(reader, w.done, purpose)
        assert listed(w, reader, purpose) == []


# -- 5. terminated and expired agreements ----------------------------------------------


def test_a_terminated_agreement_shares_nothing_from_the_day_it_ends(w: World) -> None:
    agreement = agree(w, ["screening"], ["screening"])
    reader = w.staff("screener", w.child_welfare)
    assert selectors.get_screening(actor=reader, public_id=str(w.done.public_id)).status == "completed"

    terminate_agreement(actor=w.admin, agreement=agreement, expected_version=agreement.version, on=clock.today())

    refused_read(reader, w.done, "screening")
    assert listed(w, reader, "screening") == []


def test_an_agreement_shares_only_while_it_is_in_force(w: World) -> None:
    noon = dt.datetime(2025, 6, 16, 19, 0, tzinfo=dt.UTC)  # midday in the county, far from midnight
    start = noon.date()
    agree(w, ["screening"], ["screening"], valid_from=start, valid_to=start + dt.timedelta(days=30))
    reader = w.staff("screener", w.child_welfare)

    def sees_it(days: int) -> bool:
        with clock.frozen(noon + dt.timedelta(days=days)):
            try:
                selectors.get_screening(actor=reader, public_id=str(w.done.public_id))
            except NotFound:
                assert listed(w, reader, "screening") == []
                return False
            assert listed(w, reader, "screening") == [(str(w.done.public_id), None)]
            return True

    assert [sees_it(days) for days in (-1, 0, 30, 31)] == [False, True, True, False]


def test_an_expired_agreement_shares_nothing(w: World) -> None:
    today = clock.today()
    agree(
        w,
        ["screening", "case_notes"],
        list(INDIVIDUAL_PURPOSES),
        valid_from=today - dt.timedelta(days=400),
        valid_to=today - dt.timedelta(days=1),
    )
    reader = w.staff("supervisor", w.child_welfare)

    for purpose in INDIVIDUAL_PURPOSES:
        refused_read(reader, w.done, purpose)
        assert listed(w, reader, purpose) == []


# -- 6. roles that do not screen ---------------------------------------------------------


@pytest.mark.parametrize("role", NO_SCREENING_ROLES)
def test_a_role_with_no_screening_purpose_reads_no_screening_even_of_its_own_agency(w: World, role: str) -> None:
    actor = w.staff(role, w.probation)

    for purpose in sorted(V.purposes):
        for screening in (w.done, w.draft):
            seq = last_seq()
            with pytest.raises(AccessDenied):
                selectors.get_screening(actor=actor, public_id=str(screening.public_id), purpose=purpose)
            [event] = events_since(seq)
            assert (event.action, event.allowed, event.actor_id, event.purpose) == (
                "purpose_denied",
                False,
                actor.pk,
                purpose,
            )
        with pytest.raises(AccessDenied):
            selectors.screenings_of_youth(actor=actor, youth_public_id=w.youth_id, purpose=purpose)
    assert not AuditEvent.objects.filter(actor=actor, allowed=True).exists()


@pytest.mark.parametrize("role", NO_SCREENING_ROLES)
def test_a_role_with_no_screening_purpose_writes_no_screening_even_of_its_own_agency(w: World, role: str) -> None:
    actor = w.staff(role, w.probation)
    before = list(Screening.objects.order_by("pk").values())

    with pytest.raises(AccessDenied):
        services.save_answers(
            actor=actor,
            screening_public_id=str(w.draft.public_id),
            expected_version=w.draft.version,
            answers={},
            notes="overwritten",
        )
    with pytest.raises(AccessDenied):
        services.complete_screening(
            actor=actor,
            screening_public_id=str(w.draft.public_id),
            expected_version=w.draft.version,
            answers=full_answers(w.instrument),
        )
    with pytest.raises(AccessDenied):
        services.correct_screening(actor=actor, screening_public_id=str(w.done.public_id))

    assert list(Screening.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("role", NOT_SCREENERS)
def test_a_role_that_does_not_act_for_screening_cannot_start_one(w: World, role: str) -> None:
    actor = w.staff(role, w.probation)
    count = Screening.objects.count()
    seq = last_seq()

    with pytest.raises(AccessDenied):
        services.start_screening(actor=actor, youth_public_id=w.youth_id, instrument_id=w.instrument.id)

    assert Screening.objects.count() == count
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id, event.purpose) == (
        "purpose_denied",
        False,
        actor.pk,
        "screening",
    )


# -- 7. analysts ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ANALYTICS_ROLES)
@pytest.mark.parametrize("own", [True, False], ids=["own-agency", "other-agency-under-agreement"])
def test_an_analyst_is_refused_individual_screenings_on_the_screening_path(w: World, role: str, own: bool) -> None:
    if not own:
        agree(w, ["screening", "identity"], sorted(V.purposes))
    analyst = w.staff(role, w.probation if own else w.child_welfare)

    for screening in (w.done, w.draft):
        with pytest.raises(AccessDenied):
            selectors.get_screening(actor=analyst, public_id=str(screening.public_id))
    for purpose in sorted(V.role_purposes(role)):
        with pytest.raises(AccessDenied):  # analytics opens no individual youth
            selectors.screenings_of_youth(actor=analyst, youth_public_id=w.youth_id, purpose=purpose)
    assert not AuditEvent.objects.filter(actor=analyst, allowed=True).exists()


@pytest.mark.parametrize("role", ANALYTICS_ROLES)
@pytest.mark.parametrize("own", [True, False], ids=["own-agency", "other-agency-under-agreement"])
def test_an_analyst_never_sees_an_individual_screening_for_analytics(w: World, role: str, own: bool) -> None:
    if not own:
        agree(w, ["screening"], ["analytics"])
    analyst = w.staff(role, w.probation if own else w.child_welfare)

    for purpose in sorted(V.role_purposes(role)):
        with pytest.raises((NotFound, AccessDenied)):
            selectors.get_screening(actor=analyst, public_id=str(w.done.public_id), purpose=purpose)
    assert not AuditEvent.objects.filter(actor=analyst, allowed=True, category="screening").exists()


@pytest.mark.parametrize("role", ANALYTICS_ROLES)
def test_an_analyst_cannot_break_glass_and_a_glass_row_opens_nothing_for_analytics(w: World, role: str) -> None:
    analyst = w.staff(role, w.child_welfare)
    with pytest.raises(AccessDenied):
        open_break_glass(actor=analyst, youth_public_id=w.youth_id, justification=JUSTIFICATION)
    assert not BreakGlass.objects.filter(actor=analyst).exists()

    # Even a grant made by hand does not apply to analytics (break-glass opens individual records).
    now = clock.now()
    BreakGlass.objects.create(
        actor=analyst,
        agency=w.child_welfare,
        youth=w.youth,
        justification=JUSTIFICATION,
        opened_at=now,
        expires_at=now + dt.timedelta(hours=4),
    )
    for purpose in sorted(V.role_purposes(role)):
        seq = last_seq()
        with pytest.raises(AccessDenied):
            selectors.get_screening(actor=analyst, public_id=str(w.done.public_id), purpose=purpose)
        [event] = events_since(seq)
        assert (event.allowed, event.category, event.purpose, event.object_id) == (
            False, "screening", purpose, str(w.done.public_id)
        )


# -- 8. writes stay with the owning agency -----------------------------------------------


@pytest.mark.parametrize("basis", ["agreement", "break_glass"])
@pytest.mark.parametrize("role", sorted({r for r, _ in READERS}))
def test_another_agency_never_writes_a_screening_it_does_not_own(w: World, role: str, basis: str) -> None:
    actor = w.staff(role, w.child_welfare)
    if basis == "agreement":
        agree(w, ["identity", "screening", "case_notes"], list(INDIVIDUAL_PURPOSES))
    else:
        open_break_glass(actor=actor, youth_public_id=w.youth_id, justification=JUSTIFICATION)
    before = list(Screening.objects.order_by("pk").values())

    with pytest.raises(NotFound):
        services.save_answers(
            actor=actor,
            screening_public_id=str(w.draft.public_id),
            expected_version=w.draft.version,
            answers={},
            notes="overwritten",
        )
    with pytest.raises(NotFound):
        services.complete_screening(
            actor=actor,
            screening_public_id=str(w.draft.public_id),
            expected_version=w.draft.version,
            answers=full_answers(w.instrument),
        )
    for screening in (w.done, w.draft):
        with pytest.raises(NotFound):
            services.correct_screening(actor=actor, screening_public_id=str(screening.public_id))

    assert list(Screening.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.filter(
        actor=actor, object_type="screening", allowed=True, action__in=["create", "update", "complete"]
    ).exists()


@pytest.mark.parametrize("role", ANALYTICS_ROLES)
def test_an_analyst_of_the_owning_agency_cannot_copy_a_screening_into_a_correction(w: World, role: str) -> None:
    analyst = w.staff(role, w.probation)
    count = Screening.objects.count()

    with pytest.raises(AccessDenied):
        services.correct_screening(actor=analyst, screening_public_id=str(w.done.public_id))
    assert Screening.objects.count() == count


# -- 9. break-glass --------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "purpose"), READERS)
def test_break_glass_opens_completed_screenings_for_purposes_that_open_individual_records(
    w: World, role: str, purpose: str
) -> None:
    reader = w.staff(role, w.child_welfare)
    refused_read(reader, w.done, purpose)
    open_break_glass(actor=reader, youth_public_id=w.youth_id, justification=JUSTIFICATION)
    seq = last_seq()

    seen = selectors.get_screening(actor=reader, public_id=str(w.done.public_id), purpose=purpose)

    assert (seen.public_id, seen.status, seen.own) == (str(w.done.public_id), "completed", False)
    # Break-glass opens every category the purpose uses, case notes included where it uses them.
    assert seen.notes == notes_for(purpose, DONE_NOTES)
    [event] = events_since(seq)
    assert (event.allowed, event.basis, event.category, event.youth_id) == (
        True,
        "break_glass",
        "screening",
        w.youth.pk,
    )
    refused_read(reader, w.draft, purpose)  # a draft stays with its agency, emergency or not
    assert listed(w, reader, purpose) == [(str(w.done.public_id), notes_for(purpose, DONE_NOTES))]

    with clock.frozen(clock.now() + dt.timedelta(hours=5)):  # the grant lasts four hours
        refused_read(reader, w.done, purpose)


def test_break_glass_on_one_youth_opens_no_other_youths_screenings(
    w: World, make_record: Callable[..., SourceRecord]
) -> None:
    reader = w.staff("screener", w.child_welfare)
    other_youth = make_record(w.staff("screener", w.child_welfare)).youth
    open_break_glass(actor=reader, youth_public_id=str(other_youth.public_id), justification=JUSTIFICATION)

    refused_read(reader, w.done, "screening")
    assert listed(w, reader, "screening") == []


# -- 10. every allowed read is audited ---------------------------------------------------


@pytest.mark.parametrize("basis", ["own_agency", "agreement", "break_glass"])
def test_every_allowed_read_is_audited_with_reader_youth_and_category(w: World, basis: str) -> None:
    if basis == "own_agency":
        reader = w.staff("case_manager", w.probation)
    else:
        reader = w.staff("case_manager", w.child_welfare)
        if basis == "agreement":
            agree(w, ["screening", "case_notes"], ["case_coordination"])
        else:
            open_break_glass(actor=reader, youth_public_id=w.youth_id, justification=JUSTIFICATION)
    purpose = "case_coordination"

    seq = last_seq()
    selectors.get_screening(actor=reader, public_id=str(w.done.public_id), purpose=purpose)
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id, event.actor_agency_id) == (
        "read",
        True,
        reader.pk,
        reader.agency_id,
    )
    assert (event.youth_id, event.category, event.purpose, event.basis, event.owner_agency_id) == (
        w.youth.pk,
        "screening",
        purpose,
        basis,
        w.probation.pk,
    )
    assert (event.object_type, event.object_id) == ("screening", str(w.done.public_id))

    seq = last_seq()
    shown = selectors.screenings_of_youth(actor=reader, youth_public_id=w.youth_id, purpose=purpose)
    events = events_since(seq)
    assert [(e.action, e.allowed, e.category) for e in events] == [
        ("read", True, "identity"),
        ("read", True, "screening"),
    ]
    list_event = events[-1]
    assert (list_event.actor_id, list_event.youth_id, list_event.purpose, list_event.object_type) == (
        reader.pk,
        w.youth.pk,
        purpose,
        "screening",
    )
    expected_ids = [w.done.pk, w.draft.pk] if basis == "own_agency" else [w.done.pk]
    assert list_event.detail == {"ids": expected_ids}
    assert [s.public_id for s in shown] == [
        str(s.public_id) for s in Screening.objects.filter(pk__in=expected_ids).order_by("started_at", "id")
    ]
