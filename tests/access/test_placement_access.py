"""Access cases for safe placement, through the real read and write paths.

Placement data has two categories (data dictionary): ``placement`` (type, county, dates,
absences, holds) and ``placement_address`` (the resource's name, address and zone, and the
caregiver who agreed a hold: where the youth lives). Only a purpose that uses
``placement_address`` (case coordination) *and* an access basis for the placing agency's
records (own agency, break-glass, a sharing agreement that names it; never an MDT share,
whose categories do not list it) open the address; everyone else sees "Foster family,
<county>". Writes stay with the placing agency, and only with staff who coordinate cases.

The world (``tests/placements/conftest.py``): a child-welfare agency (placement worker,
supervisor, screener) places a 13-year-old girl with the Rivera Family under a
no-reject-no-eject hold; a police agency's case manager (``detective``) and others reach
her record only on the basis each case sets up, through the real services. Roles and
purposes come from the dictionary, so the cases follow it.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Max

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent, SharingAgreement
from nowrongdoor.access.services import create_agreement, open_break_glass
from nowrongdoor.cases import services as case_services
from nowrongdoor.cases.content import mdt_rules
from nowrongdoor.cases.models import Case
from nowrongdoor.dictionary import Vocabulary, vocabulary
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.placements import selectors, services
from nowrongdoor.placements.models import Absence, Hold, MatchRun, Placement
from nowrongdoor.youth.models import Contact, SourceRecord
from tests.placements import conftest as placement_world
from tests.placements.conftest import T0, PlacementWorld

pw = placement_world.pw  # the placement world fixture, shared with tests/placements

pytestmark = pytest.mark.django_db

NOW = T0 + dt.timedelta(days=1)
PLACED_AT = T0
GONE_AT = T0 + dt.timedelta(hours=6)
AGREED_BY = "Foster mother (synthetic)"
JUSTIFICATION = "Synthetic emergency: the youth was reported missing from placement tonight."
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

# -- the vocabulary, from the dictionary -----------------------------------------------------

V = vocabulary()
ROLES = sorted(V.roles)
COORDINATION = "case_coordination"


def categories_of(purpose: str) -> frozenset[str]:
    return frozenset(V.purpose_categories(purpose))


ADDRESS_PURPOSES = sorted(p for p in V.purposes if "placement_address" in categories_of(p))
PLACEMENT_PURPOSES = sorted(p for p in V.purposes if "placement" in categories_of(p))
# (role, purpose) pairs that open a youth's placements at all (individual records: identity).
READERS = [(r, p) for r in ROLES for p in sorted(V.role_purposes(r))
           if p in PLACEMENT_PURPOSES and "identity" in categories_of(p)]
COORDINATORS = [r for r in ROLES if COORDINATION in V.role_purposes(r)]
NOT_COORDINATORS = [r for r in ROLES if COORDINATION not in V.role_purposes(r)]
ANALYTICS_ROLES = [r for r in ROLES if V.role_purposes(r)
                   and all("identity" not in categories_of(p) for p in V.role_purposes(r))]
MDT_ROLES = [r for r in ROLES if set(mdt_rules().purposes) & V.role_purposes(r)]


def test_the_dictionary_gives_every_case_something_to_check() -> None:
    """The cases below are derived from the dictionary: none of them may be vacuous."""
    assert ADDRESS_PURPOSES == [COORDINATION], "only case coordination uses where a youth lives"
    assert {"screening", "mdt", COORDINATION} <= set(PLACEMENT_PURPOSES)
    assert "placement_address" not in mdt_rules().categories, "an MDT share never opens the address"
    assert {"placement", "identity"} <= set(mdt_rules().categories)
    assert {"screener", "agency_admin", "analyst"} <= set(NOT_COORDINATORS)
    assert {"placement_worker", "case_manager", "mdt_coordinator", "supervisor"} == set(COORDINATORS)
    assert ANALYTICS_ROLES == ["analyst", "state_analyst"]
    assert ("screener", "screening") in READERS and ("supervisor", "mdt") in READERS
    assert "mdt_coordinator" in MDT_ROLES


# -- the world ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    """Every test runs the day after the placement (fixtures nest their own clocks)."""
    with clock.frozen(NOW):
        yield


@dataclass
class Placed:
    placement: Placement
    hold: Hold

    def refresh(self) -> Placed:
        self.placement.refresh_from_db()
        self.hold.refresh_from_db()
        return self


@pytest.fixture
def placed(pw: PlacementWorld) -> Placed:
    """The girl placed with the Rivera Family at T0; the caregiver agreed a 90-day hold."""
    placement = services.place(actor=pw.worker, youth_public_id=pw.youth,
                               resource_public_id=str(pw.resources["family"].public_id), started_at=PLACED_AT,
                               hold_days=90, hold_agreed_by=AGREED_BY)
    return Placed(placement, Hold.objects.get(placement=placement))


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("system_admin", None)


def agree(pw: PlacementWorld, admin: User, categories: list[str], purposes: list[str],
          recipient: Agency | None = None) -> SharingAgreement:
    """An agreement from child welfare (the placing agency) to the police, unless told otherwise."""
    return create_agreement(actor=admin, county=pw.county, title="Synthetic placement MOU", discloser=pw.cws,
                            recipient=recipient or pw.police, categories=categories, purposes=purposes,
                            legal_basis_code="WIC827", valid_from=NOW.date() - dt.timedelta(days=30))


def open_case(pw: PlacementWorld) -> Case:
    return case_services.open_case(actor=pw.worker, youth_public_id=pw.youth,
                                   reason="Recovered from exploitation; synthetic case.")


def join_mdt(pw: PlacementWorld, member: User) -> None:
    case = Case.objects.filter(youth=pw.record.youth, agency=pw.cws, status=Case.OPEN).first() or open_case(pw)
    case_services.add_member(actor=pw.worker, case_public_id=str(case.public_id), member_username=member.username,
                             role_in_team="MDT member (synthetic)")


def own_record_for(pw: PlacementWorld, actor: User, make_record: Callable[..., Any],
                   link_records: Callable[..., None]) -> SourceRecord:
    """The actor's agency's own record of the same girl (as identity resolution would link it)."""
    record = make_record(actor, sex="female")
    link_records(record, pw.record)
    return record


def last_seq() -> int:
    return AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0


def events_since(seq: int, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq, **filters).order_by("seq"))


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every placement-side row, to show a refused write changed nothing."""
    return {model.__name__: list(model.objects.order_by("pk").values())
            for model in (Placement, Absence, Hold, MatchRun, Contact)}


def history(pw: PlacementWorld, actor: User, purpose: str = COORDINATION) -> selectors.PlacementHistory:
    return selectors.youth_placements(actor=actor, youth_public_id=pw.youth, purpose=purpose)


def assert_type_and_county_only(pw: PlacementWorld, seen: selectors.PlacementHistory) -> None:
    [placement] = seen.placements
    [hold] = seen.holds
    assert (placement.type_label, placement.county, placement.agency) == ("Foster family", pw.county.name,
                                                                           pw.cws.name)
    assert (placement.resource_name, placement.address, placement.zone) == (None, None, None)
    assert hold.type_label == "Foster family" and hold.in_force
    assert (hold.resource_name, hold.agreed_by) == (None, None)
    assert seen.withheld == 0


def assert_address_shown(pw: PlacementWorld, seen: selectors.PlacementHistory) -> None:
    family = pw.resources["family"]
    [placement] = seen.placements
    [hold] = seen.holds
    assert (placement.type_label, placement.county) == ("Foster family", pw.county.name)
    assert (placement.resource_name, placement.address, placement.zone) == (family.name, family.address,
                                                                            family.zone.name)
    assert (hold.resource_name, hold.agreed_by) == (family.name, AGREED_BY)


def read_event(actor: User, seq: int) -> AuditEvent:
    [event] = events_since(seq, actor=actor, object_type="placement", allowed=True)
    return event


# -- 1. the placing agency: the address only for case coordination --------------------------------


@pytest.mark.parametrize(("role", "purpose"), READERS)
def test_the_placing_agency_sees_the_address_only_for_a_purpose_that_uses_it(
        pw: PlacementWorld, placed: Placed, make_user: Callable[..., User], role: str, purpose: str) -> None:
    reader = pw.worker if role == "placement_worker" else make_user(role, pw.cws)
    seq = last_seq()

    seen = history(pw, reader, purpose)

    if purpose in ADDRESS_PURPOSES:
        assert_address_shown(pw, seen)
    else:
        assert_type_and_county_only(pw, seen)
    assert seen.placements[0].own and seen.holds[0].own
    event = read_event(reader, seq)
    assert (event.allowed, event.purpose, event.category, event.youth_id) == (True, purpose, "placement",
                                                                                placed.placement.youth_id)
    assert event.detail == {"ids": [str(placed.placement.public_id)], "withheld": 0,
                            "addresses": 1 if purpose in ADDRESS_PURPOSES else 0}


def test_the_screener_of_the_placing_agency_sees_type_and_county_never_the_address(
        pw: PlacementWorld, placed: Placed) -> None:
    assert_type_and_county_only(pw, history(pw, pw.screener, "screening"))
    with pytest.raises(AccessDenied):  # a screener does not coordinate cases, so cannot ask for that purpose
        history(pw, pw.screener, COORDINATION)


# -- 2. another agency's MDT member: placement yes, address never ----------------------------------


@pytest.mark.parametrize("purpose", ["mdt", COORDINATION])
def test_an_mdt_member_of_another_agency_sees_type_and_county_never_the_address(
        pw: PlacementWorld, placed: Placed, make_user: Callable[..., User], purpose: str) -> None:
    member = make_user("mdt_coordinator", pw.police)
    with pytest.raises(NotFound):
        history(pw, member, purpose)

    join_mdt(pw, member)
    seq = last_seq()
    seen = history(pw, member, purpose)

    assert_type_and_county_only(pw, seen)
    assert not seen.placements[0].own
    assert read_event(member, seq).detail["addresses"] == 0


# -- 3. another agency under a sharing agreement ----------------------------------------------------

AGREEMENTS = [
    # (agreements as (categories, purposes), purpose read, address shown)
    pytest.param([(["identity", "placement"], [COORDINATION])], COORDINATION, False, id="placement-only"),
    pytest.param([(["identity", "placement", "placement_address"], [COORDINATION])], COORDINATION, True,
                 id="placement-and-address"),
    pytest.param([(["identity", "placement"], [COORDINATION]), (["placement_address"], ["screening", "mdt"])],
                 COORDINATION, False, id="address-for-another-purpose"),
    pytest.param([(["identity", "placement", "placement_address"], ["screening"])], "screening", False,
                 id="address-named-for-screening-which-does-not-use-it"),
]


@pytest.mark.parametrize(("agreements", "purpose", "address"), AGREEMENTS)
def test_an_agreement_opens_the_address_only_when_it_names_placement_address_for_case_coordination(
        pw: PlacementWorld, placed: Placed, admin: User, agreements: list[tuple[list[str], list[str]]],
        purpose: str, address: bool) -> None:
    for categories, purposes in agreements:
        agree(pw, admin, categories, purposes)
    seq = last_seq()

    seen = history(pw, pw.detective, purpose)

    if address:
        assert_address_shown(pw, seen)
    else:
        assert_type_and_county_only(pw, seen)
    assert not seen.placements[0].own
    assert read_event(pw.detective, seq).detail["addresses"] == (1 if address else 0)


def test_an_agreement_with_another_agency_opens_nothing_of_the_placing_agency(
        pw: PlacementWorld, placed: Placed, admin: User, make_agency: Callable[..., Agency]) -> None:
    """The address needs a basis for the *placing* agency's records: an agreement naming
    every placement category from some other agency does not reach child welfare's."""
    other = make_agency("probation")
    agree(pw, admin, ["identity", "placement"], [COORDINATION])
    create_agreement(actor=admin, county=pw.county, title="Synthetic unrelated MOU", discloser=other,
                     recipient=pw.police, categories=["placement", "placement_address"], purposes=[COORDINATION],
                     legal_basis_code="WIC827", valid_from=NOW.date() - dt.timedelta(days=30))

    assert_type_and_county_only(pw, history(pw, pw.detective))


def test_break_glass_is_a_basis_for_the_address_but_only_for_case_coordination(
        pw: PlacementWorld, placed: Placed) -> None:
    with pytest.raises(NotFound):
        history(pw, pw.detective)
    open_break_glass(actor=pw.detective, youth_public_id=pw.youth, justification=JUSTIFICATION)

    assert_address_shown(pw, history(pw, pw.detective))
    assert_type_and_county_only(pw, history(pw, pw.detective, "screening"))
    with clock.frozen(NOW + dt.timedelta(hours=5)), pytest.raises(NotFound):  # the grant lasts four hours
        history(pw, pw.detective)


# -- 4. another agency with no basis -------------------------------------------------------------------


@pytest.mark.parametrize(("role", "purpose"), READERS)
def test_another_agency_with_no_basis_cannot_open_the_youth_and_the_refusal_is_audited(
        pw: PlacementWorld, placed: Placed, make_user: Callable[..., User], role: str, purpose: str) -> None:
    outsider = make_user(role, pw.police)
    seq = last_seq()

    with pytest.raises(NotFound) as hidden:
        history(pw, outsider, purpose)
    with pytest.raises(NotFound) as unknown:
        selectors.youth_placements(actor=outsider, youth_public_id=UNKNOWN_ID, purpose=purpose)
    assert str(hidden.value) == str(unknown.value), "a hidden youth and no youth look the same"

    refusal = events_since(seq, actor=outsider)[0]
    assert (refusal.action, refusal.allowed, refusal.category, refusal.purpose) == ("read", False, "identity",
                                                                                    purpose)
    assert (refusal.youth_id, refusal.object_type) == (placed.placement.youth_id, "youth")
    assert not AuditEvent.objects.filter(actor=outsider, allowed=True).exists()


def test_identity_without_placement_shows_the_youth_but_withholds_every_placement_and_hold(
        pw: PlacementWorld, placed: Placed, admin: User) -> None:
    agree(pw, admin, ["identity", "child_welfare"], [COORDINATION])
    seq = last_seq()

    seen = history(pw, pw.detective)

    assert (seen.placements, seen.holds, seen.withheld) == ([], [], 2)
    assert (seen.current, seen.moves, seen.days_in_care) == (None, 0, 0)
    event = read_event(pw.detective, seq)
    assert event.detail == {"ids": [], "withheld": 2, "addresses": 0}


def test_withheld_placements_are_audited_as_a_refusal(pw: PlacementWorld, placed: Placed, admin: User) -> None:
    agree(pw, admin, ["identity", "child_welfare"], [COORDINATION])
    seq = last_seq()

    history(pw, pw.detective)

    refusals = events_since(seq, actor=pw.detective, allowed=False, category="placement")
    assert refusals and {e.owner_agency_id for e in refusals} == {pw.cws.pk}


# -- 5. analysts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ANALYTICS_ROLES)
def test_an_analyst_of_the_placing_agency_reads_and_writes_no_placement(
        pw: PlacementWorld, placed: Placed, make_user: Callable[..., User], role: str) -> None:
    run = services.search(actor=pw.worker, youth_public_id=pw.youth, needs={})
    analyst = make_user(role, pw.cws)
    before = snapshot()
    seq = last_seq()

    calls: list[tuple[str, Callable[[], Any]]] = [
        ("youth_placements", lambda: history(pw, analyst)),
        *((f"youth_placements/{p}", lambda p=p: history(pw, analyst, p)) for p in sorted(V.role_purposes(role))),
        ("search", lambda: services.search(actor=analyst, youth_public_id=pw.youth, needs={})),
        ("place", lambda: services.place(actor=analyst, youth_public_id=pw.youth,
                                         resource_public_id=str(pw.resources["safe"].public_id), started_at=NOW)),
        ("get_match", lambda: selectors.get_match(actor=analyst, public_id=str(run.public_id))),
        ("resource_directory", lambda: selectors.resource_directory(actor=analyst)),
    ]
    for name, call in calls:
        at = last_seq()
        with pytest.raises((AccessDenied, NotFound)):
            call()
        refusals = events_since(at, actor=analyst, allowed=False)
        assert refusals, f"{name}: the refusal is not audited"

    assert snapshot() == before
    assert not AuditEvent.objects.filter(seq__gt=seq, actor=analyst, allowed=True).exists()


@pytest.mark.parametrize("role", ANALYTICS_ROLES)
def test_an_analyst_of_another_agency_under_an_analytics_agreement_opens_no_placement(
        pw: PlacementWorld, placed: Placed, admin: User, make_user: Callable[..., User], role: str) -> None:
    analyst = make_user(role, pw.police)
    agree(pw, admin, ["identity", "placement", "placement_address"], sorted(V.purposes))

    for purpose in [COORDINATION, *sorted(V.role_purposes(role))]:
        with pytest.raises((AccessDenied, NotFound)):
            history(pw, analyst, purpose)
    with pytest.raises(AccessDenied):
        services.search(actor=analyst, youth_public_id=pw.youth, needs={})
    with pytest.raises(AccessDenied):
        selectors.resource_directory(actor=analyst)
    assert AuditEvent.objects.filter(actor=analyst, allowed=False).count() >= 3
    assert not AuditEvent.objects.filter(actor=analyst, allowed=True).exists()


# -- 6. writes stay with the placing agency -------------------------------------------------------------


def run_away(pw: PlacementWorld, placed: Placed) -> Absence:
    """The placing worker records that she ran six hours after the placement."""
    absence = services.record_absence(actor=pw.worker, placement_public_id=str(placed.placement.public_id),
                                      expected_version=placed.placement.version, started_at=GONE_AT)
    placed.refresh()
    return absence


def absence_write(actor: User, placed: Placed) -> tuple[str, Callable[[], Any]]:
    """Recording an absence on child welfare's (active) placement."""
    p = placed.placement
    return ("record_absence", lambda: services.record_absence(
        actor=actor, placement_public_id=str(p.public_id), expected_version=p.version, started_at=NOW))


def writes_during_absence(pw: PlacementWorld, actor: User, placed: Placed, absence: Absence
                          ) -> list[tuple[str, Callable[[], Any]]]:
    """Every other write on child welfare's placement, absence and hold, with valid input."""
    p, h = placed.placement, placed.hold
    return [
        ("end_placement", lambda: services.end_placement(
            actor=actor, placement_public_id=str(p.public_id), expected_version=p.version, ended_at=NOW,
            reason="reunified")),
        ("move", lambda: services.move(
            actor=actor, placement_public_id=str(p.public_id), expected_version=p.version,
            resource_public_id=str(pw.resources["safe"].public_id), moved_at=NOW)),
        ("record_return", lambda: services.record_return(
            actor=actor, absence_public_id=str(absence.public_id), expected_version=absence.version,
            returned_at=NOW, back_in_placement=False)),
        ("agree_hold", lambda: services.agree_hold(actor=actor, placement_public_id=str(p.public_id),
                                                   days=30, agreed_by="Someone else (synthetic)")),
        ("extend_hold", lambda: services.extend_hold(
            actor=actor, hold_public_id=str(h.public_id), expected_version=h.version,
            expires_on=h.expires_on + dt.timedelta(days=30))),
        ("release_hold", lambda: services.release_hold(
            actor=actor, hold_public_id=str(h.public_id), expected_version=h.version,
            reason="Released by another agency (synthetic)")),
    ]


BASES = ["agreement", "mdt", "break_glass"]


@pytest.mark.parametrize("basis", BASES)
def test_another_agency_never_writes_the_placing_agencys_placement_absence_or_hold(
        pw: PlacementWorld, placed: Placed, admin: User, make_record: Callable[..., Any],
        link_records: Callable[..., None], basis: str) -> None:
    actor = pw.detective
    # The police know the girl (their own linked record) and read child welfare's placements,
    # the address included where the basis gives it: read access, never write access.
    own_record_for(pw, actor, make_record, link_records)
    if basis == "agreement":
        agree(pw, admin, ["identity", "placement", "placement_address"], [COORDINATION])
    elif basis == "mdt":
        join_mdt(pw, actor)
    else:
        open_break_glass(actor=actor, youth_public_id=pw.youth, justification=JUSTIFICATION)
    assert [p.public_id for p in history(pw, actor).placements] == [str(placed.placement.public_id)], "set-up"
    seq = last_seq()

    def refused(name: str, call: Callable[[], Any]) -> None:
        before = snapshot()
        with pytest.raises(NotFound):  # another agency's placement, absence or hold looks absent
            call()
        assert snapshot() == before, f"{name} changed the database"

    refused(*absence_write(actor, placed))
    absence = run_away(pw, placed)
    seen = history(pw, actor)
    assert seen.open_absence is not None and seen.holds[0].in_force, "set-up: the absence and hold are read"
    for name, call in writes_during_absence(pw, actor, placed, absence):
        refused(name, call)

    assert not events_since(seq, actor=actor, allowed=True, object_type__in=["absence", "hold"])
    assert not events_since(seq, actor=actor, allowed=True, action__in=[
        "end_placement", "move", "record_absence", "record_return", "agree_hold", "extend_hold", "release_hold"])


@pytest.mark.parametrize("role", [r for r in NOT_COORDINATORS if r != "system_admin"])
def test_staff_of_the_placing_agency_who_do_not_coordinate_cases_write_nothing_and_are_audited(
        pw: PlacementWorld, placed: Placed, make_user: Callable[..., User], role: str) -> None:
    actor = pw.screener if role == "screener" else make_user(role, pw.cws)

    def refused(name: str, call: Callable[[], Any]) -> None:
        before = snapshot()
        seq = last_seq()
        with pytest.raises(AccessDenied):
            call()
        assert snapshot() == before, f"{name} changed the database"
        [event] = events_since(seq)
        assert (event.actor_id, event.action, event.allowed, event.purpose) == (actor.pk, name, False, COORDINATION)
        assert (event.owner_agency_id, event.youth_id) == (pw.cws.pk, placed.placement.youth_id)

    refused(*absence_write(actor, placed))
    absence = run_away(pw, placed)
    for name, call in writes_during_absence(pw, actor, placed, absence):
        refused(name, call)


# -- 7. placing and searching need a role that coordinates cases -----------------------------------------


@pytest.mark.parametrize("role", NOT_COORDINATORS)
def test_a_role_that_does_not_coordinate_cases_cannot_place_or_search_and_is_audited(
        pw: PlacementWorld, make_user: Callable[..., User], role: str) -> None:
    actor = pw.screener if role == "screener" else make_user(role, None if role == "system_admin" else pw.cws)
    before = snapshot()

    for name, call in [
        ("search", lambda: services.search(actor=actor, youth_public_id=pw.youth, needs={"types": ["safe_home"]})),
        ("place", lambda: services.place(actor=actor, youth_public_id=pw.youth,
                                         resource_public_id=str(pw.resources["safe"].public_id), started_at=NOW)),
    ]:
        seq = last_seq()
        with pytest.raises(AccessDenied):
            call()
        [event] = events_since(seq)
        assert (event.actor_id, event.action, event.allowed, event.purpose) == (
            actor.pk, "purpose_denied", False, COORDINATION), name
    assert snapshot() == before


# -- 8. a search belongs to the agency that ran it ---------------------------------------------------------


def test_another_agencys_placement_worker_cannot_read_or_use_a_search(
        pw: PlacementWorld, admin: User, make_agency: Callable[..., Agency], make_user: Callable[..., User],
        make_record: Callable[..., Any], link_records: Callable[..., None]) -> None:
    run = services.search(actor=pw.worker, youth_public_id=pw.youth, needs={})
    other_agency = make_agency("child_welfare")
    other = make_user("placement_worker", other_agency)
    own_record_for(pw, other, make_record, link_records)
    agree(pw, admin, ["identity", "placement", "placement_address"], [COORDINATION], recipient=other_agency)
    assert history(pw, other).placements == [], "set-up: the other worker knows the youth"

    with pytest.raises(NotFound) as hidden:
        selectors.get_match(actor=other, public_id=str(run.public_id))
    with pytest.raises(NotFound) as unknown:
        selectors.get_match(actor=other, public_id=UNKNOWN_ID)
    assert str(hidden.value) == str(unknown.value)
    with pytest.raises(ValidationFailed) as failed:
        services.place(actor=other, youth_public_id=pw.youth, resource_public_id=str(pw.resources["safe"].public_id),
                       started_at=NOW, match_run_public_id=str(run.public_id))
    assert set(failed.value.errors) == {"match_run"}
    assert not Placement.objects.exists()
    assert not AuditEvent.objects.filter(actor=other, object_type="match_run", allowed=True).exists()
    # The placing agency's supervisor reads it.
    assert selectors.get_match(actor=pw.supervisor, public_id=str(run.public_id)).public_id == str(run.public_id)


# -- 9. the resource directory -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", COORDINATORS)
def test_the_resource_directory_shows_addresses_to_every_role_that_coordinates_cases(
        pw: PlacementWorld, make_user: Callable[..., User], role: str) -> None:
    """Every role admitted to the directory acts for case coordination, which uses
    placement addresses (so an MDT coordinator sees them too: it also coordinates cases)."""
    actor = make_user(role, pw.police)
    assert selectors.sees_addresses(actor)

    shown = {r.name: r.address for r in selectors.resource_directory(actor=actor)}

    assert shown == {r.name: r.address for r in pw.resources.values()}
    assert all(shown.values())


@pytest.mark.parametrize("role", NOT_COORDINATORS)
def test_the_resource_directory_refuses_roles_that_do_not_coordinate_cases_and_audits_it(
        pw: PlacementWorld, make_user: Callable[..., User], role: str) -> None:
    actor = make_user(role, None if role == "system_admin" else pw.cws)
    seq = last_seq()

    with pytest.raises(AccessDenied):
        selectors.resource_directory(actor=actor)

    [event] = events_since(seq)
    assert (event.actor_id, event.allowed, event.object_type, event.purpose) == (
        actor.pk, False, "placement_resource", COORDINATION)


def test_the_resource_directory_withholds_addresses_where_no_purpose_of_the_role_uses_them(
        pw: PlacementWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """A county whose case coordination does not use placement addresses: the same
    placement worker gets the directory without them (the ``address=None`` branch)."""
    raw = copy.deepcopy(V.raw)
    raw["purposes"][COORDINATION]["categories"].remove("placement_address")
    county_vocabulary = Vocabulary(version=V.version, raw=raw)
    monkeypatch.setattr(selectors, "vocabulary", lambda: county_vocabulary)

    assert not selectors.sees_addresses(pw.worker)
    shown = selectors.resource_directory(actor=pw.worker)

    assert {r.name for r in shown} == {r.name for r in pw.resources.values()}
    assert {r.address for r in shown} == {None}


def test_a_search_shows_addresses_only_to_those_who_see_them(pw: PlacementWorld) -> None:
    run = services.search(actor=pw.worker, youth_public_id=pw.youth, needs={})
    view = selectors.get_match(actor=pw.worker, public_id=str(run.public_id))
    assert view.options and all(o.resource and o.resource.address for o in view.options)


# -- 10. leaks through the search (bug report) ----------------------------------------------------------------

CONTINUITY = ("Holds a bed for this youth", "Previous caregiver")


@pytest.mark.parametrize("basis", ["identity-only-agreement", "agreement-without-address", "mdt"])
def test_a_search_does_not_reveal_where_the_youth_lives_to_someone_who_may_not_see_it(
        pw: PlacementWorld, placed: Placed, admin: User, basis: str) -> None:
    if basis == "identity-only-agreement":
        agree(pw, admin, ["identity"], [COORDINATION])
    elif basis == "agreement-without-address":
        agree(pw, admin, ["identity", "placement"], [COORDINATION])
    else:
        join_mdt(pw, pw.detective)
    seen = history(pw, pw.detective)
    assert all(p.resource_name is None for p in seen.placements), "set-up: the address is withheld"

    try:
        run = services.search(actor=pw.detective, youth_public_id=pw.youth, needs={})
        view = selectors.get_match(actor=pw.detective, public_id=str(run.public_id))
    except (AccessDenied, NotFound):
        return  # refusing such a search would also keep the address
    revealed = [(o.resource.name, o.resource.address) for o in view.options
                if o.resource and any(c in reason for reason in o.reasons for c in CONTINUITY)]
    assert revealed == []


# -- 11. every allowed read and write is audited ---------------------------------------------------------------


def test_every_allowed_read_and_write_leaves_its_audit_event(pw: PlacementWorld) -> None:
    actor = pw.worker

    def only(seq: int, action: str, object_type: str) -> AuditEvent:
        [event] = events_since(seq, actor=actor, action=action, object_type=object_type)
        assert (event.allowed, event.actor_agency_id, event.purpose) == (True, pw.cws.pk, COORDINATION)
        assert event.youth_id == pw.record.youth_id
        return event

    seq = last_seq()
    run = services.search(actor=actor, youth_public_id=pw.youth, needs={})
    event = only(seq, "placement_search", "match_run")
    assert (event.object_id, event.basis, event.category) == (str(run.public_id), "own_agency", "placement")

    seq = last_seq()
    selectors.get_match(actor=actor, public_id=str(run.public_id))
    event = only(seq, "read", "match_run")
    assert (event.object_id, event.basis, event.owner_agency_id) == (str(run.public_id), "own_agency", pw.cws.pk)

    seq = last_seq()
    placement = services.place(actor=actor, youth_public_id=pw.youth,
                               resource_public_id=str(pw.resources["safe"].public_id), started_at=PLACED_AT,
                               match_run_public_id=str(run.public_id))
    event = only(seq, "place", "placement")
    assert (event.object_id, event.basis, event.owner_agency_id) == (str(placement.public_id), "own_agency",
                                                                    pw.cws.pk)
    assert event.detail == {"type": "safe_home", "hold_days": None}

    seq = last_seq()
    hold = services.agree_hold(actor=actor, placement_public_id=str(placement.public_id), agreed_by=AGREED_BY)
    event = only(seq, "agree_hold", "hold")
    assert (event.object_id, event.category) == (str(hold.public_id), "placement")

    seq = last_seq()
    absence = services.record_absence(actor=actor, placement_public_id=str(placement.public_id),
                                      expected_version=placement.version, started_at=GONE_AT)
    event = only(seq, "record_absence", "absence")
    assert (event.object_id, event.owner_agency_id) == (str(absence.public_id), pw.cws.pk)

    seq = last_seq()
    seen = history(pw, actor)
    event = only(seq, "read", "placement")
    assert event.category == "placement"
    assert event.detail == {"ids": [str(placement.public_id)], "withheld": 0, "addresses": 1}
    assert seen.open_absence is not None and seen.open_absence.public_id == str(absence.public_id)
