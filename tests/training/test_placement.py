"""Caregivers' training moves a placement score: a resource whose caregivers all hold
the placement course becomes CSEC-trained and a placement search ranks it with the
``csec_trained`` points; when the certificate expires (the clock moved, the tick run)
the flag and the points go."""
# ruff: noqa: F811 (the ``pw`` fixture is imported from the placement tests)

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.placements import selectors as placement_selectors
from nowrongdoor.placements import services as placement_services
from nowrongdoor.placements.matching import rules
from nowrongdoor.placements.models import Caregiver, Resource
from nowrongdoor.training import services
from nowrongdoor.training.catalogue import catalogue
from nowrongdoor.training.models import Assignment
from tests.placements.conftest import PlacementWorld, make_resource, pw  # noqa: F401 (the fixture)
from tests.training.conftest import at, complete


def noon(day: dt.date, hour: int = 12) -> dt.datetime:
    return at(day.year, day.month, day.day, hour)


# After the real time: a flag change stamps ``updated_at`` with the clock, and matching's
# cache only sees a change that moves the newest stamp (see the xfail at the end).
TRAINED = noon(clock.today() + dt.timedelta(days=40))
EXPIRES = catalogue().courses["csec_caregiving"].expires_on(TRAINED.date())  # 12 months on
assert EXPIRES is not None


def scored(pw: PlacementWorld, when: dt.datetime, name: str) -> tuple[int, list[str], list[str]]:
    """The resource's score, its reason codes as stored, and its reasons in words."""
    with clock.frozen(when):
        run = placement_services.search(actor=pw.worker, youth_public_id=pw.youth, needs={})
        view = placement_selectors.get_match(actor=pw.worker, public_id=str(run.public_id))
    resource = Resource.objects.get(name=name)
    codes = next(row[3] for row in run.ranked if row[0] == resource.pk)
    option = next(o for o in view.options if o.resource_public_id == str(resource.public_id))
    assert option.score == next(row[1] for row in run.ranked if row[0] == resource.pk)
    return option.score, codes, option.reasons


@pytest.fixture
def admin(pw: PlacementWorld, make_user: Any) -> Any:
    return make_user("agency_admin", pw.cws)


def test_a_trained_caregiver_makes_the_resource_csec_trained_and_an_expired_one_unmakes_it(
        pw: PlacementWorld, admin: Any, make_user: Any) -> None:
    system = make_user("system_admin", None)
    home = pw.resources["group"]  # Southside Group Home: not CSEC-trained
    caregiver = home.caregivers.get()
    before, codes, _ = scored(pw, TRAINED, home.name)
    assert "csec_trained" not in codes

    complete(admin, caregiver, "csec_caregiving", TRAINED.date(), when=TRAINED)
    home.refresh_from_db()
    assert home.csec_trained
    points = rules().weights["csec_trained"]
    assert points == 25
    after, codes, reasons = scored(pw, TRAINED + dt.timedelta(hours=1), home.name)
    assert "csec_trained" in codes and after == before + points
    assert f"+{points} CSEC-trained caregivers" in reasons

    # Still valid the day before it expires: the tick keeps the flag and opens a renewal.
    eve = EXPIRES - dt.timedelta(days=1)
    with clock.frozen(noon(eve)):
        renewals, _ = services.tick_training(system=system)
    assert renewals == 1 and Assignment.objects.get(caregiver=caregiver).due_on == EXPIRES
    home.refresh_from_db()
    assert home.csec_trained
    assert "csec_trained" in scored(pw, noon(eve, 13), home.name)[1]

    # Expired: the tick takes the flag away, and the points with it.
    with clock.frozen(noon(EXPIRES)):
        services.tick_training(system=system)
    home.refresh_from_db()
    assert not home.csec_trained
    lapsed, codes, reasons = scored(pw, noon(EXPIRES, 13), home.name)
    assert "csec_trained" not in codes and lapsed == before
    assert not any("CSEC-trained" in r for r in reasons)

    # Renewed: back again.
    renewed = EXPIRES + dt.timedelta(days=5)
    complete(admin, caregiver, "csec_caregiving", renewed)
    home.refresh_from_db()
    assert home.csec_trained
    assert scored(pw, noon(renewed, 13), home.name)[0] == before + points


def test_every_active_caregiver_must_hold_the_course(pw: PlacementWorld, admin: Any) -> None:
    with clock.frozen(TRAINED):
        home = make_resource(pw.county, pw.cws, "Two Carers Home (synthetic)", "foster_family")
    first = home.caregivers.get()
    second = Caregiver.objects.create(resource=home, name="Second carer (synthetic)", role="foster parent")
    complete(admin, first, "csec_caregiving", TRAINED.date())
    home.refresh_from_db()
    assert not home.csec_trained  # the second has not taken it
    assert "csec_trained" not in scored(pw, TRAINED + dt.timedelta(hours=1), home.name)[1]
    complete(admin, second, "csec_caregiving", TRAINED.date())
    home.refresh_from_db()
    assert home.csec_trained
    # another course (not the placement course) is not enough
    third = Caregiver.objects.create(resource=home, name="Third carer (synthetic)", role="relative")
    complete(admin, third, "csec_foundations", TRAINED.date())
    home.refresh_from_db()
    assert not home.csec_trained
    third.active = False  # an inactive caregiver does not count
    third.save()
    with clock.frozen(TRAINED + dt.timedelta(hours=2)):
        assert services.sync_resource_training(resource_ids=[home.pk]) == 1
    home.refresh_from_db()
    assert home.csec_trained


def test_a_resource_with_no_caregivers_recorded_keeps_its_flag(pw: PlacementWorld) -> None:
    bare = Resource.objects.create(agency=pw.cws, county=pw.county, name="Bare Home (synthetic)",
                                   resource_type="foster_family", csec_trained=True)
    with clock.frozen(TRAINED):
        services.sync_resource_training()
    bare.refresh_from_db()
    assert bare.csec_trained


def test_a_resource_whose_trained_caregivers_all_left_loses_the_flag(pw: PlacementWorld, admin: Any) -> None:
    home = pw.resources["group"]
    caregiver = home.caregivers.get()
    complete(admin, caregiver, "csec_caregiving", TRAINED.date(), when=TRAINED)
    home.refresh_from_db()
    assert home.csec_trained
    caregiver.active = False
    caregiver.save()
    with clock.frozen(TRAINED + dt.timedelta(days=1)):
        services.sync_resource_training()
    home.refresh_from_db()
    assert not home.csec_trained


def test_a_flag_changed_with_the_clock_in_the_past_still_reaches_matching(pw: PlacementWorld, admin: Any) -> None:
    from tests.placements.conftest import T0  # 2026-11-20: before the resources were stamped by auto_now

    home = pw.resources["group"]
    before, codes, _ = scored(pw, T0, home.name)  # fills the matching cache
    assert "csec_trained" not in codes
    complete(admin, home.caregivers.get(), "csec_caregiving", T0.date(), when=T0)
    home.refresh_from_db()
    assert home.csec_trained  # the flag is set in the database...
    after, codes, _ = scored(pw, T0 + dt.timedelta(hours=1), home.name)
    assert "csec_trained" in codes and after == before + 25  # ...but matching does not see it
