"""The matching engine over generated youth and resources: each hard rule excludes exactly
when its condition holds (recomputed here from the facts, never by asking ``exclusions``)
and names itself; every resource ends in one list; the ranking is deterministic, ignores
input order and follows score, free beds, id; a score is the sum of the reasons that
earned it; weights move scores, never exclusions; the configurable numbers matter."""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nowrongdoor.dictionary import vocabulary
from nowrongdoor.placements import matching
from nowrongdoor.placements.matching import (
    HARD_RULES,
    SOFT_SCORES,
    Area,
    Candidate,
    MatchResult,
    Occupant,
    Rules,
    YouthFacts,
    distance_km,
    match,
    parse_rules,
    rules,
)

EARTH_RADIUS_KM = 6371.0
EPSILON_KM = 1e-6  # generated distances this close to a limit are floating-point coin tosses: left out
TYPES: list[str] = vocabulary().codes("placement_type")
GENDERS: list[str] = vocabulary().codes("genders_served")
LANGUAGES = ["en", "es", "vi", "zh"]
BASE_LAT, BASE_LON = 34.05, -118.25  # every generated place lies within ~15 km of here
Scenario = tuple[YouthFacts, list[Candidate]]
FAST = settings(max_examples=100, deadline=None)


# -- the rules document -------------------------------------------------------------------

@functools.cache
def _shipped() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        resources.files(matching.__package__).joinpath("content/matching.yaml").read_text())
    return loaded


def document() -> dict[str, Any]:
    """A fresh, editable copy of the deployment's rules document (loaded with safe_load)."""
    return copy.deepcopy(_shipped())


@functools.cache
def _edited(changes: tuple[tuple[str, Any], ...]) -> Rules:
    doc = document()
    young = doc["hard_rules"]["young_child_with_exploited_youth"]
    near = doc["hard_rules"]["group_home_near_exploitation_area"]
    for key, value in changes:
        if key in ("young_child_max_age", "min_age_gap_years"):
            young[key] = value
        elif key == "enabled":
            doc["hard_rules"]["exploited_youth_with_young_children"]["enabled"] = value
        elif key in ("distance_km", "resource_types"):
            near[key] = list(value) if key == "resource_types" else value
        else:
            raise KeyError(key)
    return parse_rules(doc)


def edited(**changes: Any) -> Rules:
    """The shipped rules with some numbers changed (``young_child_max_age``, ``min_age_gap_years``,
    ``enabled``, ``distance_km``, ``resource_types``); parsed once per distinct change."""
    return _edited(tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in changes.items())))


@st.composite
def rule_documents(draw: st.DrawFn) -> dict[str, Any]:
    """The shipped document with every configurable number and list redrawn."""
    doc = document()
    young = doc["hard_rules"]["young_child_with_exploited_youth"]
    young["young_child_max_age"] = draw(st.integers(8, 17) | st.integers(0, 17))
    young["min_age_gap_years"] = draw(st.integers(0, 5) | st.integers(0, 17))
    doc["hard_rules"]["exploited_youth_with_young_children"]["enabled"] = draw(st.booleans())
    near = doc["hard_rules"]["group_home_near_exploitation_area"]
    near["resource_types"] = draw(st.just(["group_home"]) | SOME_TYPES)
    near["distance_km"] = draw(st.just(0) | st.integers(0, 20) | st.floats(0, 20, allow_nan=False))
    for code in SOFT_SCORES:
        doc["soft_scores"][code]["points"] = draw(POINTS)
    doc["soft_scores"]["specialised_for_victims"]["resource_types"] = draw(SOME_TYPES)
    return doc


SOME_TYPES = st.lists(st.sampled_from(TYPES), unique=True, max_size=4)
POINTS = st.just(0) | st.integers(1, 100)
# The deployment's rules about a third of the time, redrawn ones otherwise.
RULE_SETS: st.SearchStrategy[Rules] = st.integers(0, 2).flatmap(
    lambda n: st.just(rules()) if n == 0 else rule_documents().map(parse_rules))


# -- generated youth and resources --------------------------------------------------------

OFFSET = st.floats(-0.1, 0.1, allow_nan=False)
PLACES = st.tuples(OFFSET, OFFSET).map(lambda d: (BASE_LAT + d[0], BASE_LON + d[1]))
AGES = st.integers(0, 21)
ZONES = st.none() | st.integers(1, 4)
COUNTIES = st.integers(1, 3)


def _candidate(resource_id: int, resource_type: str, county_id: int, zone_id: int | None,
               place: tuple[float, float] | None, capacity: int, taken: int, ages_served: tuple[int, int],
               genders: frozenset[str], flags: tuple[bool, bool, bool], languages: frozenset[str],
               occupants: list[Occupant]) -> Candidate:
    return Candidate(id=resource_id, resource_type=resource_type, county_id=county_id, zone_id=zone_id,
                     latitude=place[0] if place else None, longitude=place[1] if place else None,
                     capacity=capacity, taken=taken, min_age=min(ages_served), max_age=max(ages_served),
                     genders=genders, lgbtq_affirming=flags[0], csec_trained=flags[1], accepts_holds=flags[2],
                     languages=languages, occupants=tuple(occupants))


def candidate_lists(ages: st.SearchStrategy[int]) -> st.SearchStrategy[list[Candidate]]:
    one = st.builds(
        _candidate, st.integers(1, 10_000), st.sampled_from(TYPES) | st.just("group_home"), COUNTIES, ZONES,
        st.none() | PLACES, st.integers(0, 6), st.integers(0, 3), st.tuples(st.integers(0, 14), st.integers(10, 21)),
        st.frozensets(st.sampled_from(GENDERS)), st.tuples(st.booleans(), st.booleans(), st.booleans()),
        st.frozensets(st.sampled_from(LANGUAGES)),
        st.lists(st.builds(Occupant, age=st.none() | ages, exploited=st.booleans()), max_size=5))
    return st.lists(one, max_size=7, unique_by=lambda c: c.id)


AREAS = st.lists(st.tuples(PLACES, st.floats(0, 3, allow_nan=False)), max_size=3).map(
    lambda found: tuple(Area(id=n + 1, name=f"Area {n + 1}", latitude=place[0], longitude=place[1], radius_km=radius)
                        for n, (place, radius) in enumerate(found)))
CANDIDATE_LISTS = {"any": candidate_lists(AGES), "young": candidate_lists(st.integers(0, 16))}


@st.composite
def scenarios(draw: st.DrawFn, ages: str = "any") -> Scenario:
    found = draw(CANDIDATE_LISTS[ages])
    ids = [c.id for c in found]
    # Facts naming resources: mostly the generated ones, sometimes a resource not in the search.
    named = st.frozensets(st.sampled_from(ids) | st.integers(10_001, 10_002) if ids else st.integers(10_001, 10_002),
                          max_size=4)
    # Some areas drawn around a generated resource, so "inside the area" happens often.
    located = [(c.latitude, c.longitude) for c in found if c.latitude is not None and c.longitude is not None]
    areas = tuple(dataclasses.replace(a, latitude=place[0], longitude=place[1])
                  if (place := draw(st.none() | st.sampled_from(located) if located else st.none())) else a
                  for a in draw(AREAS))
    youth = YouthFacts(
        age=draw(st.none() | (AGES if ages == "any" else st.integers(0, 16))),
        gender=draw(st.sampled_from(["", *GENDERS])), lgbtq=draw(st.booleans()),
        language=draw(st.sampled_from(["", *LANGUAGES])), county_id=draw(st.none() | COUNTIES),
        currently_exploited=draw(st.booleans()), identified_victim=draw(st.booleans()),
        complicit_resources=draw(named), areas=areas, previous_resources=draw(named),
        held_resources=draw(named), school_zone=draw(ZONES), therapist_zone=draw(ZONES),
        types=draw(st.just(frozenset()) | st.frozensets(st.sampled_from(TYPES), max_size=3)),
    )
    return youth, found


# -- the conditions, recomputed from the facts --------------------------------------------

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, written independently of the engine (atan2 form)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    h = min(1.0, h)  # rounding can push antipodal points a hair over 1
    return 2 * EARTH_RADIUS_KM * math.atan2(math.sqrt(h), math.sqrt(1 - h))


def centre_km(c: Candidate, area: Area) -> float:
    assert c.latitude is not None and c.longitude is not None
    return haversine_km(c.latitude, c.longitude, area.latitude, area.longitude)


def edge_km(c: Candidate, area: Area) -> float:
    """How far the candidate lies outside the area's circle (0 inside it)."""
    return max(0.0, centre_km(c, area) - area.radius_km)


def located_in_scope(c: Candidate, r: Rules) -> bool:
    near = r.hard["group_home_near_exploitation_area"]
    return c.resource_type in near["resource_types"] and c.latitude is not None and c.longitude is not None


def on_a_boundary(youth: YouthFacts, cs: list[Candidate], r: Rules) -> bool:
    """A located home of a configured type lying (within rounding) on an area's circle or on the limit."""
    limit = r.hard["group_home_near_exploitation_area"]["distance_km"]
    outside = [centre_km(c, a) - a.radius_km for c in cs if located_in_scope(c, r) for a in youth.areas]
    return any(abs(km - limit) < EPSILON_KM or abs(km) < EPSILON_KM for km in outside)


def _young_child(y: YouthFacts, c: Candidate, r: Rules) -> bool:
    spec = r.hard["young_child_with_exploited_youth"]
    return (y.age is not None and y.age <= spec["young_child_max_age"]
            and any(o.exploited and o.age is not None and o.age >= y.age + spec["min_age_gap_years"]
                    for o in c.occupants))


def _exploited_with_young(y: YouthFacts, c: Candidate, r: Rules) -> bool:
    spec = r.hard["young_child_with_exploited_youth"]
    return (r.hard["exploited_youth_with_young_children"]["enabled"] is True and y.currently_exploited
            and y.age is not None
            and any(o.age is not None and o.age <= spec["young_child_max_age"]
                    and y.age >= o.age + spec["min_age_gap_years"] for o in c.occupants))


def _near_area(y: YouthFacts, c: Candidate, r: Rules) -> bool:
    """Inside an area's circle, or less than ``distance_km`` from its edge."""
    limit = r.hard["group_home_near_exploitation_area"]["distance_km"]
    return located_in_scope(c, r) and any(centre_km(c, a) <= a.radius_km or edge_km(c, a) < limit for a in y.areas)


HARD: dict[str, Callable[[YouthFacts, Candidate, Rules], bool]] = {
    "complicit_caregiver": lambda y, c, r: c.id in y.complicit_resources,
    "young_child_with_exploited_youth": _young_child,
    "exploited_youth_with_young_children": _exploited_with_young,
    "group_home_near_exploitation_area": _near_area,
    "capacity": lambda y, c, r: c.capacity - c.taken <= 0,
    "age_served": lambda y, c, r: y.age is not None and (y.age < c.min_age or y.age > c.max_age),
    "gender_served": lambda y, c, r: bool(y.gender) and bool(c.genders) and y.gender not in c.genders,
    "not_requested_type": lambda y, c, r: bool(y.types) and c.resource_type not in y.types,
}

SOFT: dict[str, Callable[[YouthFacts, Candidate, Rules], bool]] = {
    "holds_bed": lambda y, c, r: c.id in y.held_resources,
    "previous_caregiver": lambda y, c, r: c.id in y.previous_resources,
    "csec_trained": lambda y, c, r: c.csec_trained,
    "specialised_for_victims": lambda y, c, r: (
        y.identified_victim and c.resource_type in r.soft["specialised_for_victims"].get("resource_types", [])),
    "same_county": lambda y, c, r: y.county_id is not None and c.county_id == y.county_id,
    "lgbtq_affirming": lambda y, c, r: y.lgbtq and c.lgbtq_affirming,
    "school_zone": lambda y, c, r: y.school_zone is not None and c.zone_id == y.school_zone,
    "therapist_zone": lambda y, c, r: y.therapist_zone is not None and c.zone_id == y.therapist_zone,
    "language": lambda y, c, r: bool(y.language) and y.language in c.languages,
    "accepts_holds": lambda y, c, r: c.accepts_holds,
}


def broken(y: YouthFacts, c: Candidate, r: Rules) -> set[str]:
    return {code for code, holds in HARD.items() if holds(y, c, r)}


def named_rules(result: MatchResult) -> dict[int, list[str]]:
    return {e.resource_id: [code for code, _ in e.rules] for e in result.excluded}


def expected_score(y: YouthFacts, c: Candidate, r: Rules) -> int:
    return sum(r.points(code) for code, earns in SOFT.items() if earns(y, c, r))


# -- the tests ----------------------------------------------------------------------------

def test_the_recomputed_conditions_cover_every_rule_and_score() -> None:
    assert set(HARD) == set(HARD_RULES)
    assert set(SOFT) == set(SOFT_SCORES)


@FAST
@given(st.floats(-80, 80), st.floats(-180, 180), st.floats(-80, 80), st.floats(-180, 180))
def test_the_engine_distance_is_the_great_circle_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    km = distance_km(lat1, lon1, lat2, lon2)
    # within a metre: near the antipode asin and atan2 part ways by ~1e-4 km of rounding
    assert km == pytest.approx(haversine_km(lat1, lon1, lat2, lon2), abs=1e-3)
    assert km == pytest.approx(distance_km(lat2, lon2, lat1, lon1), abs=1e-3)
    assert 0.0 <= km <= math.pi * EARTH_RADIUS_KM + 1e-6


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert haversine_km(0, 0, 1, 0) == pytest.approx(2 * math.pi * EARTH_RADIUS_KM / 360)
    assert distance_km(0, 0, 1, 0) == pytest.approx(2 * math.pi * EARTH_RADIUS_KM / 360)


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios(), r=RULE_SETS)
def test_each_hard_rule_excludes_exactly_when_its_condition_holds_and_names_itself_once(
        scenario: Scenario, r: Rules) -> None:
    youth, cs = scenario
    assume(not on_a_boundary(youth, cs, r))
    result = match(youth, cs, r)
    named = named_rules(result)
    for c in cs:
        codes = named.get(c.id, [])
        assert len(codes) == len(set(codes)), codes
        for code in HARD_RULES:
            assert HARD[code](youth, c, r) == (code in codes), f"{code} for {c}"
    by_id = {c.id: c for c in cs}
    for e in result.excluded:
        c = by_id[e.resource_id]
        detail = dict(e.rules)
        if "capacity" in detail:
            assert detail["capacity"] == {"capacity": c.capacity, "taken": c.taken}
        if "age_served" in detail:
            assert detail["age_served"] == {"serves": f"{c.min_age}-{c.max_age}"}
        if "gender_served" in detail:
            assert detail["gender_served"] == {"serves": sorted(c.genders)}
        if "not_requested_type" in detail:
            assert detail["not_requested_type"] == {"type": c.resource_type}
        if "group_home_near_exploitation_area" in detail:
            near = detail["group_home_near_exploitation_area"]
            limit = r.hard["group_home_near_exploitation_area"]["distance_km"]
            area = next(a for a in youth.areas if a.name == near["area"])
            assert edge_km(c, area) == 0 or edge_km(c, area) < limit
            assert near["limit_km"] == limit
            assert near["km"] == pytest.approx(edge_km(c, area), abs=0.05 + 1e-9)


@FAST
@given(scenario=scenarios(), r=RULE_SETS)
def test_every_candidate_ends_in_exactly_one_list_and_no_ranked_one_breaks_a_rule(
        scenario: Scenario, r: Rules) -> None:
    youth, cs = scenario
    assume(not on_a_boundary(youth, cs, r))
    result = match(youth, cs, r)
    ranked = [x.resource_id for x in result.ranked]
    excluded = [x.resource_id for x in result.excluded]
    assert not set(ranked) & set(excluded)
    assert sorted(ranked + excluded) == sorted(c.id for c in cs)
    by_id = {c.id: c for c in cs}
    for x in result.ranked:
        assert broken(youth, by_id[x.resource_id], r) == set()
    for e in result.excluded:
        assert e.rules
    assert excluded == sorted(excluded)


@FAST
@given(data=st.data(), scenario=scenarios(), r=RULE_SETS)
def test_the_ranking_is_deterministic_whatever_the_input_order(
        data: st.DataObject, scenario: Scenario, r: Rules) -> None:
    youth, cs = scenario
    shuffled = data.draw(st.permutations(cs), label="shuffled")
    first, again, other_order = match(youth, cs, r), match(youth, list(cs), r), match(youth, shuffled, r)
    assert first == again
    assert [x.resource_id for x in other_order.ranked] == [x.resource_id for x in first.ranked]
    assert other_order == first
    by_id = {c.id: c for c in cs}
    keys = [(-x.score, -by_id[x.resource_id].free, x.resource_id) for x in first.ranked]
    assert keys == sorted(keys)
    for x in first.ranked:
        assert x.free == by_id[x.resource_id].capacity - by_id[x.resource_id].taken
        assert x.score == expected_score(youth, by_id[x.resource_id], r)


@FAST
@given(scenario=scenarios(), r=RULE_SETS)
def test_a_score_is_the_sum_of_its_reasons_and_each_reason_holds(scenario: Scenario, r: Rules) -> None:
    youth, cs = scenario
    by_id = {c.id: c for c in cs}
    for x in match(youth, cs, r).ranked:
        c = by_id[x.resource_id]
        codes = [code for code, _, _ in x.reasons]
        assert len(codes) == len(set(codes))
        assert set(codes) <= set(SOFT_SCORES)
        assert x.score == sum(points for _, points, _ in x.reasons)
        for code, points, _ in x.reasons:
            assert SOFT[code](youth, c, r), (code, c)
            assert points == r.points(code) > 0
        # and nothing that earns points is left out
        assert set(codes) == {code for code, earns in SOFT.items() if earns(youth, c, r) and r.points(code)}


@FAST
@given(scenario=scenarios(), doc=rule_documents(), code=st.sampled_from(SOFT_SCORES), points=st.integers(0, 1000))
def test_a_soft_weight_moves_scores_never_exclusions(
        scenario: Scenario, doc: dict[str, Any], code: str, points: int) -> None:
    youth, cs = scenario
    before_rules = parse_rules(doc)
    reweighted = copy.deepcopy(doc)
    reweighted["soft_scores"][code]["points"] = points
    after_rules = parse_rules(reweighted)
    before, after = match(youth, cs, before_rules), match(youth, cs, after_rules)
    assert after.excluded == before.excluded
    assert {x.resource_id for x in after.ranked} == {x.resource_id for x in before.ranked}
    old_scores = {x.resource_id: x.score for x in before.ranked}
    by_id = {c.id: c for c in cs}
    delta = points - before_rules.points(code)
    for x in after.ranked:
        earns = SOFT[code](youth, by_id[x.resource_id], before_rules)
        assert x.score == old_scores[x.resource_id] + (delta if earns else 0)


@FAST
@given(scenario=scenarios(ages="young"))
def test_a_min_age_gap_above_every_generated_gap_stops_both_young_child_rules(scenario: Scenario) -> None:
    youth, cs = scenario
    gaps = [abs(o.age - youth.age) for c in cs for o in c.occupants
            if o.age is not None and youth.age is not None]
    widest = max(gaps, default=0)
    assert widest < 17
    raised = edited(min_age_gap_years=widest + 1, young_child_max_age=17, enabled=True)
    for codes in named_rules(match(youth, cs, raised)).values():
        assert "young_child_with_exploited_youth" not in codes
        assert "exploited_youth_with_young_children" not in codes


@FAST
@given(scenario=scenarios())
def test_the_young_child_rule_excludes_up_to_the_configured_gap_and_not_beyond(scenario: Scenario) -> None:
    youth, cs = scenario
    assume(youth.age is not None and youth.age <= 17)
    assert youth.age is not None
    for c in cs:
        older = [o.age - youth.age for o in c.occupants if o.exploited and o.age is not None and o.age >= youth.age]
        if not older or max(older) > 16:
            continue
        gap = max(older)
        # the youth's own age as the oldest young child, and the widest gap: still excluded
        at_gap = named_rules(match(youth, [c], edited(min_age_gap_years=gap, young_child_max_age=youth.age)))
        above = named_rules(match(youth, [c], edited(min_age_gap_years=gap + 1, young_child_max_age=17)))
        assert "young_child_with_exploited_youth" in at_gap.get(c.id, [])
        assert "young_child_with_exploited_youth" not in above.get(c.id, [])
        # one year younger as the oldest young child: the youth no longer counts as one
        if youth.age >= 1:
            too_old = named_rules(match(youth, [c], edited(min_age_gap_years=0, young_child_max_age=youth.age - 1)))
            assert "young_child_with_exploited_youth" not in too_old.get(c.id, [])


@FAST
@given(scenario=scenarios())
def test_the_mirror_rule_excludes_up_to_the_configured_age_and_gap_and_not_beyond(scenario: Scenario) -> None:
    youth, cs = scenario
    assume(youth.age is not None)
    assert youth.age is not None
    youth = dataclasses.replace(youth, currently_exploited=True)
    mirror = "exploited_youth_with_young_children"
    for c in cs:
        ages = [o.age for o in c.occupants if o.age is not None and o.age <= min(youth.age, 17)]
        if not ages:
            continue
        youngest = min(ages)
        gap = youth.age - youngest
        if gap > 17:
            continue
        at_limits = named_rules(match(youth, [c], edited(young_child_max_age=youngest, min_age_gap_years=gap)))
        assert mirror in at_limits.get(c.id, [])
        if gap < 17:
            wider = named_rules(match(youth, [c], edited(young_child_max_age=youngest, min_age_gap_years=gap + 1)))
            assert mirror not in wider.get(c.id, [])
        if youngest >= 1:
            younger = named_rules(match(youth, [c], edited(young_child_max_age=youngest - 1, min_age_gap_years=0)))
            assert mirror not in younger.get(c.id, [])
        calm = named_rules(match(dataclasses.replace(youth, currently_exploited=False), [c],
                                 edited(young_child_max_age=youngest, min_age_gap_years=gap)))
        assert mirror not in calm.get(c.id, [])


@FAST
@given(scenario=scenarios())
def test_the_mirror_rule_never_excludes_when_disabled(scenario: Scenario) -> None:
    youth, cs = scenario
    off = edited(enabled=False, young_child_max_age=17, min_age_gap_years=0)
    for codes in named_rules(match(youth, cs, off)).values():
        assert "exploited_youth_with_young_children" not in codes


@FAST
@given(scenario=scenarios())
def test_with_no_distance_a_group_home_outside_every_area_is_not_excluded(scenario: Scenario) -> None:
    youth, cs = scenario
    r = edited(distance_km=0, resource_types=TYPES)
    named = named_rules(match(youth, cs, r))
    for c in cs:
        if c.latitude is None or all(edge_km(c, a) > EPSILON_KM for a in youth.areas):
            assert "group_home_near_exploitation_area" not in named.get(c.id, [])


@FAST
@given(scenario=scenarios())
def test_a_distance_beyond_every_area_excludes_every_located_home_of_the_configured_types(
        scenario: Scenario) -> None:
    youth, cs = scenario
    r = edited(distance_km=50, resource_types=TYPES)  # every generated place is within ~30 km of every area
    named = named_rules(match(youth, cs, r))
    for c in cs:
        if c.latitude is not None:
            assert all(edge_km(c, a) < 45 for a in youth.areas)  # the generator keeps places this close
        expected = bool(youth.areas) and c.latitude is not None
        assert ("group_home_near_exploitation_area" in named.get(c.id, [])) == expected
    untyped = named_rules(match(youth, cs, edited(distance_km=50, resource_types=[])))
    assert all("group_home_near_exploitation_area" not in codes for codes in untyped.values())


@pytest.mark.parametrize("radius_km", [0.5, 2.0, 6.0])
def test_with_no_distance_a_group_home_inside_an_area_is_still_excluded(radius_km: float) -> None:
    area = Area(id=1, name="Here", latitude=BASE_LAT, longitude=BASE_LON, radius_km=radius_km)
    youth = YouthFacts(age=15, areas=(area,))
    # A group home well inside the area's circle (about half its radius from the centre).
    home = Candidate(id=1, resource_type="group_home", county_id=1, zone_id=None,
                     latitude=BASE_LAT + radius_km / 2 / 111.2, longitude=BASE_LON, capacity=4, taken=0,
                     min_age=12, max_age=18)
    assert edge_km(home, area) == 0.0
    named = named_rules(match(youth, [home], edited(distance_km=0)))
    assert "group_home_near_exploitation_area" in named.get(home.id, [])
