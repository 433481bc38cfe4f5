"""Placement matching: hard safety rules that exclude, soft scores that rank.

Pure functions over plain facts, so every rule can be tested over generated youth and
resources (``tests/placements/test_matching_properties.py``) and the same code runs in
the search, at the moment of placing, and in the benchmark.

- A **hard rule** removes a resource from the options and is named in the result with
  its detail (which area and how far, which age range, how many beds). A youth is never
  placed with a caregiver recorded as complicit in their exploitation, a young child is
  never placed with older youth being exploited (and the mirror), a group home near an
  area where the youth was exploited is not offered, and a full resource is full even
  when its beds are *held* for absent youth under no-reject-no-eject agreements.
- A **soft score** ranks what remains: a bed held for this youth, the previous
  caregiver, CSEC-trained caregivers, a specialised safe home for an identified victim,
  the same county, LGBTQ-affirming care where it matters to the youth, the youth's
  school and therapist zones, their language.

The rules and the points live in ``content/matching.yaml`` (versioned); each search
records the version. The ranking is deterministic: score, then free beds, then id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any

import jsonschema
import yaml

from nowrongdoor.dictionary import vocabulary

HARD_RULES = ["complicit_caregiver", "young_child_with_exploited_youth", "exploited_youth_with_young_children",
              "group_home_near_exploitation_area", "capacity", "age_served", "gender_served", "not_requested_type"]
SOFT_SCORES = ["holds_bed", "previous_caregiver", "csec_trained", "specialised_for_victims", "same_county",
               "lgbtq_affirming", "school_zone", "therapist_zone", "language", "accepts_holds"]
_LABEL = {"type": "object", "required": ["en", "es"], "additionalProperties": False,
          "properties": {"en": {"type": "string", "minLength": 1}, "es": {"type": "string", "minLength": 1}}}
SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["version", "source", "hard_rules", "soft_scores", "holds"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "integer", "minimum": 1}, "source": {"type": "string", "minLength": 1},
        "hard_rules": {
            "type": "object", "required": HARD_RULES, "additionalProperties": False,
            "properties": {
                **{code: {"type": "object", "required": ["label"], "additionalProperties": False,
                          "properties": {"label": _LABEL}} for code in HARD_RULES},
                "young_child_with_exploited_youth": {
                    "type": "object", "additionalProperties": False,
                    "required": ["label", "young_child_max_age", "min_age_gap_years", "statuses"],
                    "properties": {"label": _LABEL,
                                   "young_child_max_age": {"type": "integer", "minimum": 0, "maximum": 17},
                                   "min_age_gap_years": {"type": "integer", "minimum": 0, "maximum": 17},
                                   "statuses": {"type": "array", "items": {"type": "string"}, "minItems": 1}}},
                "exploited_youth_with_young_children": {
                    "type": "object", "additionalProperties": False, "required": ["label", "enabled"],
                    "properties": {"label": _LABEL, "enabled": {"type": "boolean"}}},
                "group_home_near_exploitation_area": {
                    "type": "object", "additionalProperties": False,
                    "required": ["label", "resource_types", "distance_km"],
                    "properties": {"label": _LABEL, "distance_km": {"type": "number", "minimum": 0, "maximum": 100},
                                   "resource_types": {"type": "array", "items": {"type": "string"}}}},
            },
        },
        "soft_scores": {
            "type": "object", "required": SOFT_SCORES, "additionalProperties": False,
            "properties": {code: {
                "type": "object", "required": ["label", "points"], "additionalProperties": False,
                "properties": {"label": _LABEL, "points": {"type": "integer", "minimum": 0, "maximum": 1000},
                               **({"resource_types": {"type": "array", "items": {"type": "string"}}}
                                  if code == "specialised_for_victims" else {})}} for code in SOFT_SCORES},
        },
        "holds": {"type": "object", "required": ["default_days", "max_days"], "additionalProperties": False,
                  "properties": {"default_days": {"type": "integer", "minimum": 1, "maximum": 730},
                                 "max_days": {"type": "integer", "minimum": 1, "maximum": 730}}},
    },
}


class RulesInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Rules:
    version: int
    source: str
    hard: dict[str, dict[str, Any]]
    soft: dict[str, dict[str, Any]]
    hold_default_days: int
    hold_max_days: int

    # The numbers the rules read for every candidate, looked up once per rules file.
    @cached_property
    def young_child_max_age(self) -> int:
        return int(self.hard["young_child_with_exploited_youth"]["young_child_max_age"])

    @cached_property
    def min_age_gap(self) -> int:
        return int(self.hard["young_child_with_exploited_youth"]["min_age_gap_years"])

    @cached_property
    def mirror_rule(self) -> bool:
        return bool(self.hard["exploited_youth_with_young_children"]["enabled"])

    @cached_property
    def near_area_types(self) -> frozenset[str]:
        return frozenset(self.hard["group_home_near_exploitation_area"]["resource_types"])

    @cached_property
    def near_area_km(self) -> float:
        return float(self.hard["group_home_near_exploitation_area"]["distance_km"])

    @cached_property
    def weights(self) -> dict[str, int]:
        return {code: int(spec["points"]) for code, spec in self.soft.items()}

    @cached_property
    def specialised_types(self) -> frozenset[str]:
        return frozenset(self.soft["specialised_for_victims"].get("resource_types", []))

    def label(self, code: str, lang: str = "en") -> str:
        spec = self.hard.get(code) or self.soft.get(code)
        return spec["label"][lang] if spec else code

    def points(self, code: str) -> int:
        return self.weights[code]


def parse_rules(document: dict[str, Any]) -> Rules:
    """Validate a rules document (schema and codes) and return it as ``Rules``."""
    errors = [f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}"
              for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)]
    if not errors:
        v = vocabulary()
        statuses = set(v.codes("exploitation_status"))
        types = set(v.codes("placement_type"))
        errors += [f"hard_rules.young_child_with_exploited_youth.statuses: unknown status {s!r}"
                   for s in document["hard_rules"]["young_child_with_exploited_youth"]["statuses"] if s not in statuses]
        for path, listed in [("hard_rules.group_home_near_exploitation_area.resource_types",
                              document["hard_rules"]["group_home_near_exploitation_area"]["resource_types"]),
                             *((f"soft_scores.{code}.resource_types", spec.get("resource_types", []))
                               for code, spec in document["soft_scores"].items())]:
            errors += [f"{path}: unknown placement type {t!r}" for t in listed if t not in types]
        if document["holds"]["default_days"] > document["holds"]["max_days"]:
            errors.append("holds.default_days: must not exceed holds.max_days")
    if errors:
        raise RulesInvalid("; ".join(sorted(errors)))
    return Rules(version=document["version"], source=document["source"], hard=document["hard_rules"],
                 soft=document["soft_scores"], hold_default_days=document["holds"]["default_days"],
                 hold_max_days=document["holds"]["max_days"])


@cache
def document() -> dict[str, Any]:
    """``matching.yaml`` as written (a jurisdiction profile may change parts of it)."""
    raw: dict[str, Any] = yaml.safe_load(resources.files(__package__).joinpath("content/matching.yaml").read_text())
    return raw


@cache
def rules() -> Rules:
    """The deployment's matching rules, validated once per process (a county's profile
    may change them: ``jurisdiction.profiles.in_force(county).placement``)."""
    return parse_rules(document())


@dataclass(frozen=True)
class Area:
    id: int
    name: str
    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True)
class YouthFacts:
    """What the rules know about the youth being placed (no names)."""

    age: int | None
    gender: str = ""  # a genders_served code, "" when unknown
    lgbtq: bool = False
    language: str = ""
    county_id: int | None = None
    currently_exploited: bool = False
    identified_victim: bool = False
    complicit_resources: frozenset[int] = frozenset()
    areas: tuple[Area, ...] = ()
    previous_resources: frozenset[int] = frozenset()
    held_resources: frozenset[int] = frozenset()
    school_zone: int | None = None
    therapist_zone: int | None = None
    types: frozenset[str] = frozenset()  # empty: every type


@dataclass(frozen=True, slots=True)
class Occupant:
    """Another youth living at (or holding a bed at) the resource: only age and whether
    they are currently being exploited, never who they are."""

    age: int | None
    exploited: bool


@dataclass(slots=True)
class Candidate:  # not frozen: thousands are built per search, and frozen init costs 3x
    id: int
    resource_type: str
    county_id: int
    zone_id: int | None
    latitude: float | None
    longitude: float | None
    capacity: int
    taken: int  # beds used by other youth: placements (absent included) and their holds
    min_age: int
    max_age: int
    genders: frozenset[str] = frozenset()  # empty: all
    lgbtq_affirming: bool = False
    csec_trained: bool = False
    languages: frozenset[str] = frozenset()
    accepts_holds: bool = False
    occupants: tuple[Occupant, ...] = ()

    @property
    def free(self) -> int:
        return self.capacity - self.taken


@dataclass(frozen=True)
class Ranked:
    resource_id: int
    score: int
    free: int
    reasons: tuple[tuple[str, int, dict[str, Any]], ...]


@dataclass(frozen=True)
class Excluded:
    resource_id: int
    rules: tuple[tuple[str, dict[str, Any]], ...]


@dataclass
class MatchResult:
    ranked: list[Ranked] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def exclusions(youth: YouthFacts, c: Candidate, r: Rules) -> list[tuple[str, dict[str, Any]]]:
    """Every hard rule the candidate breaks for this youth, with its detail."""
    out: list[tuple[str, dict[str, Any]]] = []
    if youth.types and c.resource_type not in youth.types:
        out.append(("not_requested_type", {"type": c.resource_type}))
    if c.id in youth.complicit_resources:
        out.append(("complicit_caregiver", {}))
    age = youth.age
    if age is not None:
        if c.occupants:
            gap, max_young = r.min_age_gap, r.young_child_max_age
            if age <= max_young and any(o.exploited and o.age is not None and o.age - age >= gap
                                        for o in c.occupants):
                out.append(("young_child_with_exploited_youth", {"age_gap_at_least": gap}))
            if r.mirror_rule and youth.currently_exploited and any(
                    o.age is not None and o.age <= max_young and age - o.age >= gap for o in c.occupants):
                out.append(("exploited_youth_with_young_children", {"age_gap_at_least": gap}))
        if not c.min_age <= age <= c.max_age:
            out.append(("age_served", {"serves": f"{c.min_age}-{c.max_age}"}))
    if youth.areas and c.resource_type in r.near_area_types and c.latitude is not None and c.longitude is not None:
        for area in youth.areas:
            km = max(0.0, distance_km(c.latitude, c.longitude, area.latitude, area.longitude) - area.radius_km)
            if km == 0.0 or km < r.near_area_km:  # inside the area itself, whatever the limit
                out.append(("group_home_near_exploitation_area",
                            {"area": area.name, "km": round(km, 1), "limit_km": r.near_area_km}))
                break
    if c.capacity - c.taken <= 0:
        out.append(("capacity", {"capacity": c.capacity, "taken": c.taken}))
    if c.genders and youth.gender and youth.gender not in c.genders:
        out.append(("gender_served", {"serves": sorted(c.genders)}))
    return out


def score(youth: YouthFacts, c: Candidate, r: Rules) -> tuple[int, tuple[tuple[str, int, dict[str, Any]], ...]]:
    """The candidate's points for this youth and the reasons that earned them."""
    w = r.weights
    earned: list[tuple[str, int, dict[str, Any]]] = []
    if c.id in youth.held_resources:
        earned.append(("holds_bed", w["holds_bed"], {}))
    if c.id in youth.previous_resources:
        earned.append(("previous_caregiver", w["previous_caregiver"], {}))
    if c.csec_trained:
        earned.append(("csec_trained", w["csec_trained"], {}))
    if youth.identified_victim and c.resource_type in r.specialised_types:
        earned.append(("specialised_for_victims", w["specialised_for_victims"], {}))
    if youth.county_id is not None and c.county_id == youth.county_id:
        earned.append(("same_county", w["same_county"], {}))
    if youth.lgbtq and c.lgbtq_affirming:
        earned.append(("lgbtq_affirming", w["lgbtq_affirming"], {}))
    if youth.school_zone is not None and c.zone_id == youth.school_zone:
        earned.append(("school_zone", w["school_zone"], {}))
    if youth.therapist_zone is not None and c.zone_id == youth.therapist_zone:
        earned.append(("therapist_zone", w["therapist_zone"], {}))
    if youth.language and youth.language in c.languages:
        earned.append(("language", w["language"], {"language": youth.language}))
    if c.accepts_holds:
        earned.append(("accepts_holds", w["accepts_holds"], {}))
    reasons = tuple(reason for reason in earned if reason[1])
    return sum(points for _, points, _ in reasons), reasons


def match(youth: YouthFacts, candidates: list[Candidate], r: Rules) -> MatchResult:
    """Exclude by every hard rule, rank the rest. Every candidate ends in one list."""
    result = MatchResult()
    for c in candidates:
        broken = exclusions(youth, c, r)
        if broken:
            result.excluded.append(Excluded(c.id, tuple(broken)))
        else:
            points, reasons = score(youth, c, r)
            result.ranked.append(Ranked(c.id, points, c.free, reasons))
    result.ranked.sort(key=lambda x: (-x.score, -x.free, x.resource_id))
    result.excluded.sort(key=lambda x: x.resource_id)
    return result
