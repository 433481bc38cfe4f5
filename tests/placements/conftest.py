"""A small synthetic county for the placement tests: a child-welfare agency with a
placement worker, zones and a known exploitation area, a handful of resources, and a
13-year-old girl recovered from exploitation (identity from the synthetic generator)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nowrongdoor import clock
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.placements.models import Caregiver, ExploitationArea, Resource, Zone

LA = ZoneInfo("America/Los_Angeles")
T0 = dt.datetime(2026, 11, 20, 21, 0, tzinfo=LA)  # a Friday night: an emergency bed tonight
BIRTH = dt.date(2013, 5, 2)  # 13 on T0


@dataclass
class PlacementWorld:
    county: County
    cws: Agency
    police: Agency
    worker: User
    supervisor: User
    screener: User
    detective: User
    zones: dict[str, Zone]
    area: ExploitationArea
    resources: dict[str, Resource]
    record: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def youth(self) -> str:
        return str(self.record.youth.public_id)


def make_resource(county: County, agency: Agency, name: str, resource_type: str, **fields: Any) -> Resource:
    defaults: dict[str, Any] = {"capacity": 2, "min_age": 10, "max_age": 17, "latitude": 37.80, "longitude": -122.20}
    defaults.update(fields)
    resource = Resource.objects.create(agency=agency, county=county, name=name, resource_type=resource_type,
                                       address=f"{name} street (synthetic)", **defaults)
    Caregiver.objects.create(resource=resource, name=f"Caregiver of {name} (synthetic)", role="caregiver")
    return resource


@pytest.fixture
def pw(county: County, make_agency: Callable[..., Agency], make_user: Callable[..., User],
       make_record: Callable[..., Any]) -> PlacementWorld:
    cws, police = make_agency("child_welfare"), make_agency("law_enforcement")
    supervisor = make_user("supervisor", cws)
    worker = make_user("placement_worker", cws, supervisor=supervisor)
    zones = {code: Zone.objects.create(county=county, code=code, name=f"{code.title()} (synthetic)",
                                       latitude=lat, longitude=lon)
             for code, lat, lon in [("north", 37.90, -122.25), ("south", 37.70, -122.15)]}
    area = ExploitationArea.objects.create(county=county, name="Corridor A (synthetic)", latitude=37.70,
                                           longitude=-122.15, radius_km=0.5)
    resources = {
        "shelter": make_resource(county, cws, "Harbor Shelter", "emergency_shelter", capacity=4, zone=zones["north"],
                                 genders_served=["girls"], languages=["en", "es"]),
        "family": make_resource(county, cws, "Rivera Family", "foster_family", capacity=2, zone=zones["north"],
                                csec_trained=True, accepts_holds=True, latitude=37.91, longitude=-122.26),
        "group": make_resource(county, cws, "Southside Group Home", "group_home", capacity=6, zone=zones["south"],
                               latitude=37.71, longitude=-122.16),
        "safe": make_resource(county, cws, "Lantern Safe Home", "safe_home", capacity=3, zone=zones["north"],
                              genders_served=["girls"], csec_trained=True, accepts_holds=True, lgbtq_affirming=True),
        "boys": make_resource(county, cws, "Oak Boys Home", "group_home", capacity=4, genders_served=["boys"],
                              zone=zones["north"]),
    }
    with clock.frozen(T0 - dt.timedelta(days=20)):
        record = make_record(worker, date_of_birth=BIRTH, sex="female", language="es")
    return PlacementWorld(county=county, cws=cws, police=police, worker=worker, supervisor=supervisor,
                          screener=make_user("screener", cws), detective=make_user("case_manager", police),
                          zones=zones, area=area, resources=resources, record=record)
