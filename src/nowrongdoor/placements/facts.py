"""The facts matching works on, read from the database in a few set-based queries.

``youth_facts`` turns what the placing worker may see of the youth (their identity
records, through ``access``) plus the safety facts every agency recorded (a complicit
caregiver, areas where the youth was exploited, earlier placements, holds, current
exploitation status) into ``YouthFacts``. The safety facts are applied whoever recorded
them: a safety rule must not be defeated by what the searcher may read. The result
shows the rule's name, never the record behind it.

``candidates`` reads every active resource with the beds taken by other youth (their
placements, absent ones included, and their holds) and, for the occupancy rules, only
each occupant's age and whether they are currently being exploited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from nowrongdoor.cases.models import ExploitationStatus
from nowrongdoor.directory.models import County
from nowrongdoor.placements.matching import Area, Candidate, Occupant, Rules, YouthFacts, rules
from nowrongdoor.placements.models import Caregiver, Hold, Placement, Resource, YouthExploitationArea
from nowrongdoor.youth.selectors import YouthView

LGBTQ_GENDERS = {"transgender_girl", "transgender_boy", "nonbinary", "questioning"}
LGBTQ_ORIENTATIONS = {"lesbian_gay", "bisexual", "questioning", "other"}
GENDER_SERVED = {"girl": "girls", "transgender_girl": "girls", "boy": "boys", "transgender_boy": "boys",
                 "nonbinary": "nonbinary"}
SEX_SERVED = {"female": "girls", "male": "boys"}
VICTIM_STATUSES_EXCLUDED = {"at_risk", "assessed_not_victim"}


def age_from(birth_date: dt.date | None, on: dt.date) -> int | None:
    if birth_date is None:
        return None
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def birth_date_of(view: YouthView, on: dt.date) -> dt.date | None:
    """A recorded date of birth, else one estimated from a stated age (mid-year)."""
    for identity in view.identities:
        if identity.date_of_birth:
            return identity.date_of_birth
    age = view.age
    return dt.date(on.year - age - 1, 7, 1) if age is not None else None


def _ongoing(on: dt.date) -> Q:
    return Q(start_date__lte=on) & (Q(end_date__isnull=True) | Q(end_date__gte=on))


def live_hold_filter(on: dt.date) -> Q:
    """Holds in force on ``on``: agreed, not released, not expired."""
    return Q(released_on__isnull=True, starts_on__lte=on, expires_on__gte=on)


def youth_facts(youth_id: int, view: YouthView, needs: dict[str, Any], on: dt.date, *,
                default_county_id: int | None) -> YouthFacts:
    gender = ""
    lgbtq = bool(needs.get("lgbtq"))
    language = needs.get("language") or ""
    county_name = ""
    for identity in view.identities:
        gender = gender or GENDER_SERVED.get(identity.gender_identity or "", "") or SEX_SERVED.get(identity.sex, "")
        lgbtq = lgbtq or identity.gender_identity in LGBTQ_GENDERS or identity.sexual_orientation in LGBTQ_ORIENTATIONS
        language = language or identity.language
        county_name = county_name or identity.residence_county
    county_id = County.objects.filter(name=county_name).values_list("pk", flat=True).first() if county_name else None
    statuses = list(ExploitationStatus.objects.filter(youth_id=youth_id).values_list("status", "start_date",
                                                                                     "end_date"))
    exploited = set(rules().hard["young_child_with_exploited_youth"]["statuses"])
    complicit = frozenset(Caregiver.objects.filter(complicities__youth_id=youth_id).values_list("resource_id",
                                                                                                flat=True))
    areas = tuple(Area(a.pk, a.name, a.latitude, a.longitude, a.radius_km) for a in
                  (row.area for row in YouthExploitationArea.objects.filter(youth_id=youth_id, area__active=True)
                   .select_related("area").order_by("area__name")))
    return YouthFacts(
        age=view.age, gender=gender, lgbtq=lgbtq, language=language, county_id=county_id or default_county_id,
        currently_exploited=any(s in exploited and start <= on and (end is None or end >= on)
                                for s, start, end in statuses),
        identified_victim=any(s not in VICTIM_STATUSES_EXCLUDED for s, _, _ in statuses),
        complicit_resources=complicit, areas=areas,
        previous_resources=frozenset(Placement.objects.filter(youth_id=youth_id).values_list("resource_id",
                                                                                             flat=True)),
        held_resources=frozenset(Hold.objects.filter(live_hold_filter(on), youth_id=youth_id)
                                 .values_list("resource_id", flat=True)),
        school_zone=needs.get("school_zone"), therapist_zone=needs.get("therapist_zone"),
        types=frozenset(needs.get("types") or ()),
    )


def occupancy(on: dt.date, *, exclude_youth: int | None = None,
              resource_ids: Iterable[int] | None = None) -> dict[int, list[tuple[int, dt.date | None]]]:
    """Per resource, the other youth using a bed: placed there (absent included) or
    holding a bed there under a live hold, each once, with their birth date."""
    placed = Placement.objects.exclude(status=Placement.ENDED)
    holds = Hold.objects.filter(live_hold_filter(on))
    if exclude_youth is not None:
        placed, holds = placed.exclude(youth_id=exclude_youth), holds.exclude(youth_id=exclude_youth)
    if resource_ids is not None:
        ids = list(resource_ids)
        placed, holds = placed.filter(resource_id__in=ids), holds.filter(resource_id__in=ids)
    beds: dict[int, dict[int, dt.date | None]] = defaultdict(dict)
    for resource_id, youth_id, birth in placed.values_list("resource_id", "youth_id", "birth_date"):
        beds[resource_id][youth_id] = birth
    for resource_id, youth_id, birth in holds.values_list("resource_id", "youth_id", "placement__birth_date"):
        beds[resource_id].setdefault(youth_id, birth)
    return {rid: list(users.items()) for rid, users in beds.items()}


def candidates(youth_id: int, on: dt.date, r: Rules, *, resource_ids: list[int] | None = None) -> list[Candidate]:
    """Every active resource (or the ones named) as a matching candidate for the youth."""
    resources = Resource.objects.filter(active=True)
    if resource_ids is not None:
        resources = resources.filter(pk__in=resource_ids)
    beds = occupancy(on, exclude_youth=youth_id, resource_ids=resource_ids)
    occupant_ids = {y for users in beds.values() for y, _ in users}
    statuses = r.hard["young_child_with_exploited_youth"]["statuses"]
    exploited = set(ExploitationStatus.objects.filter(_ongoing(on), youth_id__in=occupant_ids, status__in=statuses)
                    .values_list("youth_id", flat=True)) if occupant_ids else set()
    out = []
    for (pk, rtype, county_id, zone_id, lat, lon, capacity, min_age, max_age, genders, affirming, trained,
         languages, accepts) in resources.order_by("pk").values_list(
            "pk", "resource_type", "county_id", "zone_id", "latitude", "longitude", "capacity", "min_age", "max_age",
            "genders_served", "lgbtq_affirming", "csec_trained", "languages", "accepts_holds"):
        users = beds.get(pk, [])
        out.append(Candidate(
            id=pk, resource_type=rtype, county_id=county_id, zone_id=zone_id, latitude=lat, longitude=lon,
            capacity=capacity, taken=len(users), min_age=min_age, max_age=max_age, genders=frozenset(genders or ()),
            lgbtq_affirming=affirming, csec_trained=trained, languages=frozenset(languages or ()),
            accepts_holds=accepts,
            occupants=tuple(Occupant(age_from(birth, on), y in exploited) for y, birth in users)))
    return out
