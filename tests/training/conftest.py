"""A small synthetic county for the training tests: a child-welfare agency with its
administrator, a probation agency with its own, a county training coordinator, and a
second county with a coordinator and an agency of its own. Staff are made with a
``date_joined`` long past the new-staff grace unless a test says otherwise, and every
completion is recorded through the real services under the frozen clock."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nowrongdoor import clock
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.placements.models import Caregiver, Resource
from nowrongdoor.synth.names import GIRLS, SURNAMES
from nowrongdoor.training import services
from nowrongdoor.training.models import Completion
from nowrongdoor.training.selectors import person_ref

LA = ZoneInfo("America/Los_Angeles")
LONG_AGO = dt.datetime(2020, 1, 6, 12, tzinfo=LA)  # joined long before any new-staff grace in these tests
_names = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    """Noon in the county's time zone: the clock's ``today`` is that day whatever the UTC offset."""
    return dt.datetime(year, month, day, hour, tzinfo=LA)


@dataclass
class TrainingWorld:
    county: County
    cws: Agency
    probation: Agency
    admin: User  # agency_admin of cws
    probation_admin: User
    coordinator: User  # training_coordinator of ``county``
    other_county: County
    other_agency: Agency
    other_coordinator: User
    system: User


@pytest.fixture
def staff(make_user: Callable[..., User]) -> Callable[..., User]:
    """A staff member with a synthetic name, joined long ago unless ``date_joined`` is given."""
    def make(role: str, agency: Agency | None, **extra: Any) -> User:
        n = next(_names)
        extra.setdefault("date_joined", LONG_AGO)
        extra.setdefault("first_name", GIRLS[n % len(GIRLS)])
        extra.setdefault("last_name", f"{SURNAMES[n % len(SURNAMES)]} (synthetic)")
        return make_user(role, agency, **extra)

    return make


@pytest.fixture
def tw(county: County, make_agency: Callable[..., Agency], staff: Callable[..., User]) -> TrainingWorld:
    cws, probation = make_agency("child_welfare"), make_agency("probation")
    office = make_agency("community_provider", name="County training office (synthetic)")
    other_county = County.objects.create(name=f"{county.name} Other (synthetic)")
    other_agency = make_agency("child_welfare", in_county=other_county)
    return TrainingWorld(
        county=county, cws=cws, probation=probation, admin=staff("agency_admin", cws),
        probation_admin=staff("agency_admin", probation), coordinator=staff("training_coordinator", office),
        other_county=other_county, other_agency=other_agency,
        other_coordinator=staff("training_coordinator", other_agency), system=staff("system_admin", None),
    )


def caregiver_at(agency: Agency, resource_type: str = "foster_family", name: str = "") -> Caregiver:
    """A placement resource of ``agency`` with one caregiver."""
    n = next(_names)
    resource = Resource.objects.create(agency=agency, county=agency.county, name=name or f"Resource {n} (synthetic)",
                                       resource_type=resource_type, address=f"{n} Elm street (synthetic)",
                                       capacity=2, min_age=10, max_age=17)
    return Caregiver.objects.create(resource=resource, name=f"{GIRLS[n % len(GIRLS)]} {SURNAMES[n % len(SURNAMES)]} "
                                                            "(synthetic)", role="foster parent")


def complete(admin: User, person: User | Caregiver, course: str, completed_on: dt.date,
             when: dt.datetime | None = None) -> Completion:
    """Record a completion through the service, with the clock at ``when`` (default: noon that day)."""
    with clock.frozen(when or at(completed_on.year, completed_on.month, completed_on.day)):
        return services.record_completion(actor=admin, person_key=person_ref(person), course=course,
                                          completed_on=completed_on, certificate=f"SYN-{next(_names):06d}")
