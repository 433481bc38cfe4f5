"""Diversion and safe-harbour rules as data, and the one small engine that applies them
(PRODUCT.md B9; issue 10, part 3).

A rule set (``content/diversion/*.yaml``) says, for a youth alleged to have engaged in
prostitution, in order:

1. ``not_chargeable_below``: under this age the youth is **not charged** at all (a
   victim, never an offender): Minnesota under 16, Illinois under 18.
2. ``presumed_victim_below``: under this age the youth is presumed a victim (noted with
   the outcome).
3. ``diversion``: for a youth whose age is within ``ages``, every condition must hold
   for the ``outcome`` (eligible, or mandatory); the first that does not hold decides,
   and is named. ``otherwise`` is a second set tried when the first fails (Washington: a
   later offence may still be diverted at the prosecutor's discretion).

``evaluate`` is pure: given a youth's facts it returns the outcome, the condition that
decided it and every condition checked. Every file is validated when it loads; a
problem names the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

FACTS = {  # fact -> type of its value
    "age": int, "prior_prostitution_adjudications": int, "prior_prostitution_diversions": int,
    "prior_prostitution_probation": bool, "prior_prostitution_protection_finding": bool,
    "agrees_to_diversion": bool, "prostitution_offences": int, "county_has_comprehensive_programme": bool,
    "prior_pins_certification": bool,
}
OUTCOMES = ("not_chargeable", "mandatory", "eligible", "discretionary", "not_eligible", "not_covered")
_CONDITION: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["id", "fact", "equals", "text"],
    "properties": {"id": {"type": "string", "pattern": "^[a-z_]+$"}, "fact": {"enum": sorted(FACTS)},
                   "equals": {"type": ["integer", "boolean"]}, "text": {"type": "string", "minLength": 3}}}
_SET: dict[str, Any] = {"type": "object", "additionalProperties": False, "required": ["outcome", "conditions"],
        "properties": {"outcome": {"enum": ["mandatory", "eligible", "discretionary"]},
                       "conditions": {"type": "array", "minItems": 1, "items": _CONDITION}}}
SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["id", "version", "title", "source"],
    "anyOf": [{"required": ["not_chargeable_below"]}, {"required": ["diversion"]}],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z_]+$"}, "version": {"type": "integer", "minimum": 1},
        "title": {"type": "string"}, "source": {"type": "string", "pattern": "^report "},
        "not_chargeable_below": {"type": "integer", "minimum": 0, "maximum": 18},
        "presumed_victim_below": {"type": "integer", "minimum": 0, "maximum": 18},
        "diversion": {"type": "object", "additionalProperties": False, "required": ["ages", "outcome", "conditions"],
                      "properties": {"ages": {"type": "array", "items": {"type": "integer", "minimum": 0,
                                                                           "maximum": 21},
                                              "minItems": 2, "maxItems": 2},
                                     "outcome": {"enum": ["mandatory", "eligible"]},
                                     "conditions": _SET["properties"]["conditions"],
                                     "otherwise": _SET, "on_completion": {"type": "string"}}},
    },
}


class RulesInvalid(ValueError):
    """A rule set breaks the schema; the message names the file and the key."""


@dataclass(frozen=True)
class Condition:
    id: str
    fact: str
    equals: int | bool
    text: str


@dataclass(frozen=True)
class ConditionSet:
    outcome: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: int
    title: str
    source: str
    not_chargeable_below: int | None
    presumed_victim_below: int | None
    ages: tuple[int, int] | None
    sets: tuple[ConditionSet, ...]  # tried in order
    on_completion: str


@dataclass(frozen=True)
class Checked:
    condition: Condition
    holds: bool


@dataclass(frozen=True)
class Result:
    outcome: str
    deciding: str  # the condition (or age rule) that decided
    presumed_victim: bool
    checked: list[Checked] = field(default_factory=list)
    rule_set: str = ""
    version: int = 0


def parse(document: Any, name: str) -> RuleSet:
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        raise RulesInvalid("; ".join(f"{name}: {'.'.join(map(str, e.path)) or '(top)'}: {e.message}"
                                     for e in errors))
    diversion = document.get("diversion")
    sets: list[ConditionSet] = []
    ages = None
    if diversion:
        low, high = diversion["ages"]
        if low > high:
            raise RulesInvalid(f"{name}: diversion.ages: {low} is above {high}")
        ages = (low, high)
        specs: list[dict[str, Any]] = [diversion, *([diversion["otherwise"]] if "otherwise" in diversion else [])]
        for i, spec in enumerate(specs):
            conditions = []
            for j, c in enumerate(spec["conditions"]):
                expected = FACTS[c["fact"]]
                equals: int | bool = c["equals"]
                if type(c["equals"]) is not expected:
                    key = "diversion" + (".otherwise" if i else "") + f".conditions.{j}.equals"
                    raise RulesInvalid(f"{name}: {key}: {c['fact']} is a {expected.__name__}")
                conditions.append(Condition(c["id"], c["fact"], equals, c["text"]))
            sets.append(ConditionSet(spec["outcome"], tuple(conditions)))
    return RuleSet(document["id"], document["version"], document["title"], document["source"],
                   document.get("not_chargeable_below"), document.get("presumed_victim_below"), ages, tuple(sets),
                   (diversion or {}).get("on_completion", ""))


@cache
def rule_sets() -> dict[str, RuleSet]:
    """Every shipped rule set by id."""
    out = {}
    for item in sorted(resources.files(__package__).joinpath("content/diversion").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            found = parse(yaml.safe_load(item.read_text()), item.name)
            out[found.id] = found
    return out


def evaluate(rules: RuleSet, facts: dict[str, int | bool]) -> Result:
    """The outcome for one youth (see the module docstring). A missing fact is refused."""
    needed = {"age"} | {c.fact for s in rules.sets for c in s.conditions}
    missing = sorted(needed - set(facts))
    if missing:
        raise ValueError(f"missing facts: {', '.join(missing)}")
    age = int(facts["age"])
    presumed = rules.presumed_victim_below is not None and age < rules.presumed_victim_below

    def result(outcome: str, deciding: str, checked: list[Checked] | None = None) -> Result:
        return Result(outcome, deciding, presumed, checked or [], rules.id, rules.version)

    if rules.not_chargeable_below is not None and age < rules.not_chargeable_below:
        return result("not_chargeable", f"under {rules.not_chargeable_below}")
    if rules.ages is None or not rules.ages[0] <= age <= rules.ages[1]:
        return result("not_covered", "age")
    checked: list[Checked] = []
    deciding = ""
    for condition_set in rules.sets:
        results = [Checked(c, facts[c.fact] == c.equals) for c in condition_set.conditions]
        checked += results
        failed = next((r for r in results if not r.holds), None)
        if failed is None:
            return result(condition_set.outcome, condition_set.conditions[-1].id, checked)
        deciding = deciding or failed.condition.id
    return result("not_eligible", deciding, checked)
