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
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, Value

from nowrongdoor.cases.models import ExploitationStatus
from nowrongdoor.directory.models import County
from nowrongdoor.placements.matching import Area, Candidate, Occupant, Rules, YouthFacts, rules
from nowrongdoor.placements.models import (
    Caregiver,
    Hold,
    OccupancyVersion,
    Placement,
    Resource,
    YouthExploitationArea,
)
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
                default_county_id: int | None, sees_address: Callable[[int], bool] = lambda owner: True
                ) -> YouthFacts:
    """``sees_address(owner_agency_id)``: whether the searcher may know where that agency
    placed the youth. Earlier placements and holds recorded by agencies it may not see
    there earn no continuity points: a "previous caregiver" reason would say where the
    youth lives. Safety facts (complicity, areas, status) apply whoever recorded them."""
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
        previous_resources=frozenset(rid for rid, owner in Placement.objects.filter(youth_id=youth_id)
                                     .values_list("resource_id", "agency_id") if sees_address(owner)),
        held_resources=frozenset(rid for rid, owner in Hold.objects.filter(live_hold_filter(on), youth_id=youth_id)
                                 .values_list("resource_id", "agency_id") if sees_address(owner)),
        school_zone=needs.get("school_zone"), therapist_zone=needs.get("therapist_zone"),
        types=frozenset(needs.get("types") or ()),
    )


_PROFILE_FIELDS = ("pk", "resource_type", "county_id", "zone_id", "latitude", "longitude", "capacity", "min_age",
                   "max_age", "genders_served", "lgbtq_affirming", "csec_trained", "languages", "accepts_holds")
# Per-process caches. Each holds one snapshot, replaced whole (one atomic assignment),
# so a request thread never pairs one build's list with another build's index.
_cache: dict[str, Any] = {}


def _resource_profiles() -> tuple[Any, dict[int, dict[str, Any]]]:
    """What matching needs of every active resource, kept per process and re-read when
    the resources change (their count or latest ``updated_at``; one small query)."""
    key = tuple(Resource.objects.aggregate(n=Count("pk"), latest=Max("updated_at"), active=Count(
        "pk", filter=Q(active=True))).values())
    snapshot = _cache.get("profiles")
    if snapshot is None or key != snapshot[0]:
        rows = {}
        for (pk, rtype, county_id, zone_id, lat, lon, capacity, min_age, max_age, genders, affirming, trained,
             languages, accepts) in Resource.objects.filter(active=True).order_by("pk").values_list(*_PROFILE_FIELDS):
            rows[pk] = {"id": pk, "resource_type": rtype, "county_id": county_id, "zone_id": zone_id, "latitude": lat,
                        "longitude": lon, "capacity": capacity, "min_age": min_age, "max_age": max_age,
                        "genders": frozenset(genders or ()), "lgbtq_affirming": affirming, "csec_trained": trained,
                        "languages": frozenset(languages or ()), "accepts_holds": accepts}
        snapshot = _cache["profiles"] = (key, rows)
    return snapshot  # type: ignore[no-any-return]


Users = dict[int, list[tuple[int, dt.date | None, bool]]]  # resource -> (youth, birth date, exploited)


def bump_occupancy() -> None:
    """Inside the transaction of a write that changes who uses a bed or whether an
    occupant is being exploited: every process's occupancy cache is then read again."""
    stamp = uuid.uuid4().hex
    if not OccupancyVersion.objects.filter(pk=1).update(stamp=stamp):
        OccupancyVersion.objects.update_or_create(pk=1, defaults={"stamp": stamp})


def occupancy(on: dt.date, statuses: list[str] | None = None, resource_ids: list[int] | None = None) -> Users:
    """Per resource, every youth using a bed there (placed, absent included, or holding
    it under a live hold), once, with their birth date and whether one of ``statuses``
    is ongoing for them (always False without ``statuses``)."""
    exploited: Any = Value(False)
    if statuses:
        exploited = Exists(ExploitationStatus.objects.filter(_ongoing(on), youth_id=OuterRef("youth_id"),
                                                             status__in=statuses))
    placed = Placement.objects.exclude(status=Placement.ENDED).annotate(exploited=exploited)
    holds = Hold.objects.filter(live_hold_filter(on)).annotate(exploited=exploited)
    if resource_ids is not None:
        placed, holds = placed.filter(resource_id__in=resource_ids), holds.filter(resource_id__in=resource_ids)
    beds: dict[int, dict[int, tuple[int, dt.date | None, bool]]] = defaultdict(dict)
    for rid, youth, birth, is_exploited in placed.values_list("resource_id", "youth_id", "birth_date", "exploited"):
        beds[rid][youth] = (youth, birth, bool(is_exploited))
    for rid, youth, birth, is_exploited in holds.values_list("resource_id", "youth_id", "placement__birth_date",
                                                            "exploited"):
        beds[rid].setdefault(youth, (youth, birth, bool(is_exploited)))
    return {rid: list(users.values()) for rid, users in beds.items()}


def _deciding(users: list[tuple[int, dt.date | None, bool]], on: dt.date) -> tuple[int, tuple[Occupant, ...]]:
    """The beds used and the two occupants that decide the occupancy rules: the oldest
    one currently being exploited (is any exploited occupant old enough?) and the
    youngest one (is any occupant young enough?)."""
    births = [b for _, b, _ in users if b is not None]
    exploited = [b for _, b, e in users if e and b is not None]
    deciding = []
    if exploited:
        deciding.append(Occupant(age_from(min(exploited), on), True))
    if births:
        deciding.append(Occupant(age_from(max(births), on), False))
    return len(users), tuple(deciding)


def _cached_occupancy(on: dt.date, statuses: list[str]) -> dict[str, Any]:
    """Occupancy of every resource, kept per process until the occupancy stamp moves
    (or the day changes: ages and statuses are dated)."""
    stamp = OccupancyVersion.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""
    key = (stamp, on, tuple(statuses))
    snapshot = _cache.get("occupancy")
    if snapshot is None or key != snapshot["key"]:
        users = occupancy(on, statuses)
        by_youth: dict[int, list[int]] = defaultdict(list)
        for rid, rows in users.items():
            for youth, _, _ in rows:
                by_youth[youth].append(rid)
        snapshot = _cache["occupancy"] = {"key": key, "users": users, "by_youth": by_youth,
                                          "deciding": {rid: _deciding(rows, on) for rid, rows in users.items()}}
    return snapshot  # type: ignore[no-any-return]


def _build(profiles: dict[int, dict[str, Any]], beds: dict[int, tuple[int, tuple[Occupant, ...]]]) -> list[Candidate]:
    free: tuple[int, tuple[Occupant, ...]] = (0, ())
    return [Candidate(**profile, taken=beds.get(pk, free)[0], occupants=beds.get(pk, free)[1])
            for pk, profile in profiles.items()]


def candidates(youth_id: int, on: dt.date, r: Rules, *, resource_ids: list[int] | None = None) -> list[Candidate]:
    """Every active resource (or the ones named) as a matching candidate for the youth:
    its profile, the beds other youth use, and the occupants that decide the rules.

    Between changes the list is built once per process and shared by every search
    (matching only reads it); the searching youth's own beds are swapped in as copies
    that do not count the youth. ``resource_ids`` (placing) reads occupancy live."""
    profiles_key, profiles = _resource_profiles()
    statuses = r.hard["young_child_with_exploited_youth"]["statuses"]
    if resource_ids is not None:  # placing: read live, whatever is cached
        users = occupancy(on, statuses, resource_ids)
        beds = {rid: _deciding([u for u in rows if u[0] != youth_id], on) for rid, rows in users.items()}
        return _build({pk: profiles[pk] for pk in resource_ids if pk in profiles}, beds)
    cached = _cached_occupancy(on, statuses)
    key = (profiles_key, cached["key"])
    built = _cache.get("candidates")
    if built is None or key != built[0]:
        shared = _build(profiles, cached["deciding"])
        built = _cache["candidates"] = (key, shared, {c.id: n for n, c in enumerate(shared)})
    _, out, index = built
    own = [rid for rid in cached["by_youth"].get(youth_id, ()) if rid in index]
    if own:  # the youth's own bed is not taken by someone else
        out = list(out)
        for rid in own:
            taken, occupants = _deciding([u for u in cached["users"][rid] if u[0] != youth_id], on)
            out[index[rid]] = Candidate(**profiles[rid], taken=taken, occupants=occupants)
    return out
