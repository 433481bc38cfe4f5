"""Synthetic placement resources for the demo, the tests and the benchmark: zones and
known exploitation areas per county, resources of every type with caregivers, and (for
the demo) one youth's story: placed with a foster family that agreed to no reject, no
eject, missing for three days, and the family still holding her bed.

Every name and place here is invented; coordinates sit in an arbitrary box, not on any
real street."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction

from nowrongdoor.directory.models import Agency, County
from nowrongdoor.placements.models import Caregiver, ExploitationArea, Resource, Zone
from nowrongdoor.synth.names import GIRLS, SURNAMES

ZONES = ["North", "Riverside", "Downtown", "Hillcrest", "East Valley", "Harbor"]
AREAS = ["Corridor A", "Motel strip B", "Truck stop C"]
WORDS = ["Harbor", "Cedar", "Lantern", "Willow", "Beacon", "Juniper", "Sparrow", "Meadow", "Summit", "Haven"]
# type: (share of resources, capacity range, age range, takes holds, CSEC-trained share)
TYPES: dict[str, tuple[float, tuple[int, int], tuple[int, int], bool, float]] = {
    "foster_family": (0.40, (1, 3), (0, 17), True, 0.35),
    "relative": (0.12, (1, 2), (0, 17), True, 0.10),
    "emergency_shelter": (0.12, (4, 12), (10, 17), False, 0.50),
    "group_home": (0.16, (4, 10), (12, 17), True, 0.30),
    "transitional_housing": (0.08, (2, 8), (16, 21), True, 0.40),
    "safe_home": (0.07, (2, 6), (11, 17), True, 0.95),
    "secure_setting": (0.05, (6, 20), (12, 17), False, 0.40),
}
ORIGIN = (38.40, -121.60)  # an arbitrary box, about 40 km a side


def _point(rng: random.Random) -> tuple[float, float]:
    return ORIGIN[0] + rng.uniform(0, 0.36), ORIGIN[1] + rng.uniform(0, 0.45)


def ensure_geography(county: County, rng: random.Random) -> tuple[list[Zone], list[ExploitationArea]]:
    zones = []
    for name in ZONES:
        lat, lon = _point(rng)
        zone, _ = Zone.objects.get_or_create(county=county, code=name.lower().replace(" ", "-"),
                                             defaults={"name": name, "latitude": lat, "longitude": lon})
        zones.append(zone)
    areas = []
    for name in AREAS:
        lat, lon = _point(rng)
        area, _ = ExploitationArea.objects.get_or_create(
            county=county, name=f"{name} (synthetic)",
            defaults={"latitude": lat, "longitude": lon, "radius_km": 0.8, "note": "Synthetic demo area"})
        areas.append(area)
    return zones, areas


def build_resources(county: County, agency: Agency, zones: list[Zone], n: int, rng: random.Random,
                    *, prefix: str = "") -> list[Resource]:
    """``n`` unsaved resources of every type, in the proportions above."""
    types = list(TYPES)
    weights = [TYPES[t][0] for t in types]
    out = []
    for i in range(n):
        first = i < len(types)  # one of every type first, trained and taking holds where it can
        rtype = types[i] if first else rng.choices(types, weights)[0]
        _, (cap_lo, cap_hi), (age_lo, age_hi), holds, trained = TYPES[rtype]
        zone = rng.choice(zones)
        lat, lon = zone.latitude + rng.uniform(-0.05, 0.05), zone.longitude + rng.uniform(-0.05, 0.05)
        if rtype in ("foster_family", "relative"):
            name = f"{rng.choice(SURNAMES)} family"
            genders: list[str] = []
        else:
            name = f"{rng.choice(WORDS)} {rtype.replace('_', ' ')}"
            genders = rng.choice([[], [], ["girls"], ["boys"], ["girls", "nonbinary"]])
        out.append(Resource(
            agency=agency, county=county, zone=zone, name=f"{prefix}{name} {i + 1} (synthetic)", resource_type=rtype,
            address=f"{100 + i} {zone.name} Way (synthetic)", latitude=lat, longitude=lon,
            capacity=rng.randint(cap_lo, cap_hi), min_age=age_lo, max_age=age_hi, genders_served=genders,
            lgbtq_affirming=rng.random() < 0.3, csec_trained=first or rng.random() < trained,
            languages=["en"] + (["es"] if rng.random() < 0.4 else []) + (["vi"] if rng.random() < 0.05 else []),
            accepts_holds=holds and (first or rng.random() < 0.7)))
    return out


def add_caregivers(resources: list[Resource], rng: random.Random) -> None:
    Caregiver.objects.bulk_create([
        Caregiver(resource=r, name=f"{rng.choice(GIRLS)} {r.name.split()[0]} (synthetic)",
                  role="foster parent" if r.resource_type == "foster_family" else "caregiver")
        for r in resources])


def ensure_placement_resources(seed: int = 2013, per_county: int = 40) -> int:
    """Zones, areas and ``per_county`` resources in every county that has none. Returns
    how many resources were made."""
    made = 0
    for county in County.objects.order_by("pk"):
        if Resource.objects.filter(county=county).exists():
            continue
        agency = Agency.objects.filter(county=county, agency_type="child_welfare").order_by("pk").first()
        if agency is None:
            continue
        rng = random.Random(f"{seed}-{county.name}")  # the same county whatever the database
        with transaction.atomic():
            zones, _ = ensure_geography(county, rng)
            resources = Resource.objects.bulk_create(build_resources(county, agency, zones, per_county, rng))
            add_caregivers(resources, rng)
        made += len(resources)
    return made


def seed_placement_story(username: str = "cws.placement") -> dict[str, Any] | None:
    """Once per installation: a girl of 12 to 14 known to child welfare was placed with a
    foster family that agreed to no reject, no eject; she went missing for three days and
    was found; the family keeps her bed. Recorded through the real services."""
    from nowrongdoor import clock
    from nowrongdoor.cases.services import record_status
    from nowrongdoor.directory.models import User
    from nowrongdoor.placements import services
    from nowrongdoor.placements.models import Placement
    from nowrongdoor.protocols.services import tick
    from nowrongdoor.youth.models import SourceRecord

    actor = User.objects.filter(username=username).first()
    if actor is None or actor.agency_id is None or Placement.objects.exists():
        return None
    today = clock.today()
    record = (SourceRecord.objects.filter(agency_id=actor.agency_id, sex="female",
                                          date_of_birth__gt=today.replace(year=today.year - 15),
                                          date_of_birth__lte=today.replace(year=today.year - 12))
              .order_by("pk").first())
    family = (Resource.objects.filter(county_id=actor.agency.county_id if actor.agency else 0,
                                      resource_type="foster_family", accepts_holds=True, csec_trained=True,
                                      min_age__lte=12).order_by("pk").first())
    if record is None or family is None:
        return None
    youth = str(record.youth.public_id)
    start = clock.now() - dt.timedelta(days=40)
    with clock.frozen(start):
        record_status(actor=actor, youth_public_id=youth, status="victim_in_foster_care",
                      start_date=start.date() - dt.timedelta(days=5))
        placement = services.place(actor=actor, youth_public_id=youth, resource_public_id=str(family.public_id),
                                   started_at=start, hold_days=120, hold_agreed_by=f"Foster parent of {family.name}")
    gone = clock.now() - dt.timedelta(days=5)
    with clock.frozen(gone):
        absence = services.record_absence(actor=actor, placement_public_id=str(placement.public_id),
                                          expected_version=placement.version, started_at=gone)
    back = clock.now() - dt.timedelta(days=2)
    with clock.frozen(back):
        services.record_return(actor=actor, absence_public_id=str(absence.public_id),
                               expected_version=absence.version, returned_at=back,
                               whereabouts="Found by police at a motel (synthetic); now at the assessment centre",
                               back_in_placement=False)
    tick()  # evaluate any event whose on-commit evaluation did not run
    return {"youth": youth, "resource": family.name}
