"""The scoring engine: a pure function from (instrument, form, answers) to a result.

No database, no clock, no randomness: the same instrument version and answers always
give the same result, and the result records the version it was computed with.

Vocabulary:
- an item is **positive** when its answer shows the sign: "yes", a count at or above the
  item's threshold, a positive choice, or a rating of possible or clear concern;
- an answer of "unknown" (or the rating "no information") is **missing**: never a "no",
  reported as missing, and it never lowers a level;
- **clear indicators**: any positive item of kind ``clear_indicator``, or an indicator
  rated "clear concern" by the professional;
- **possible exploitation**: positive indicator weight reaching the instrument's total
  threshold, or a domain's threshold;
- **at risk**: positive risk-factor weight reaching its threshold, or any positive
  indicator at all;
- **immediate safety** is a flag beside the level, raised by any positive item of kind
  ``immediate_safety`` whatever the level.

Every rule only ever adds on a positive answer, so turning any answer into a positive one
can never lower the level (a property test holds the engine to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("no_concern", "at_risk", "possible_exploitation", "clear_indicators")
YES_NO = ("yes", "no", "unknown")
RATINGS = ("no_concern", "possible_concern", "clear_concern", "no_information")
MISSING = ("unknown", "no_information")
INDICATOR_KINDS = ("indicator", "clear_indicator")


@dataclass(frozen=True)
class Item:
    id: str
    domain: str
    kind: str
    weight: int
    answer: str
    positive_options: frozenset[str] = frozenset()
    options: tuple[str, ...] = ()
    positive_at: int | None = None
    setting_specific: bool = False
    known_from: Mapping[str, Any] | None = None
    text: Mapping[str, str] = field(default_factory=dict)
    help: Mapping[str, str] = field(default_factory=dict)
    option_texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Scoring:
    total_indicator_weight: int | None
    domain_weight: Mapping[str, int]
    risk_factor_weight: int


@dataclass(frozen=True)
class Instrument:
    id: str
    version: int
    bank_version: int
    setting: str
    agency_types: tuple[str, ...]
    forms: Mapping[str, tuple[str, ...]]
    items: Mapping[str, Item]
    scoring: Scoring
    domains: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    title: Mapping[str, str] = field(default_factory=dict)
    introduction: Mapping[str, str] = field(default_factory=dict)
    next_steps: Mapping[str, Mapping[str, list[str]]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What a result records: instrument id and version, and the core bank version."""
        return f"{self.id}@{self.version}/bank@{self.bank_version}"

    def form_items(self, form: str) -> list[Item]:
        return [self.items[i] for i in self.forms[form]]


@dataclass(frozen=True)
class Result:
    instrument: str
    form: str
    level: str
    immediate_safety: bool
    drivers: tuple[str, ...]
    driving_domains: tuple[str, ...]
    domain_scores: Mapping[str, int]
    missing: tuple[str, ...]
    safety_items: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument, "form": self.form, "level": self.level,
            "immediate_safety": self.immediate_safety, "drivers": list(self.drivers),
            "driving_domains": list(self.driving_domains), "domain_scores": dict(self.domain_scores),
            "missing": list(self.missing), "safety_items": list(self.safety_items),
        }


def answer_problem(item: Item, value: Any) -> str | None:
    """Why ``value`` does not fit ``item``, or ``None`` when it does."""
    if item.answer == "yes_no_unknown":
        return None if value in YES_NO else f"answer one of {', '.join(YES_NO)}"
    if item.answer == "rating":
        return None if value in RATINGS else f"answer one of {', '.join(RATINGS)}"
    if item.answer == "choice":
        if value == "unknown" or value in item.options:
            return None
        return f"answer one of {', '.join(item.options)}, unknown"
    if item.answer == "count":
        if value == "unknown" or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1000):
            return None
        return "answer a whole number from 0 to 1000, or unknown"
    return f"unknown answer type {item.answer!r}"


def check_answers(instrument: Instrument, form: str, answers: Mapping[str, Any], *, complete: bool) -> dict[str, str]:
    """Problems by item id: items not on the form, answers of the wrong type, and (when
    completing) items left unanswered. "unknown" is an answer; silence is not."""
    if form not in instrument.forms:
        return {"form": f"no form {form!r} in {instrument.id}"}
    on_form = set(instrument.forms[form])
    problems = {item_id: "is not an item of this form" for item_id in answers if item_id not in on_form}
    for item_id, value in answers.items():
        if item_id in on_form:
            problem = answer_problem(instrument.items[item_id], value)
            if problem:
                problems[item_id] = problem
    if complete:
        for item_id in instrument.forms[form]:
            if item_id not in answers:
                problems.setdefault(item_id, "needs an answer (\"unknown\" is fine)")
    return problems


def is_positive(item: Item, value: Any) -> bool:
    if item.answer == "yes_no_unknown":
        return bool(value == "yes")
    if item.answer == "rating":
        return value in ("possible_concern", "clear_concern")
    if item.answer == "choice":
        return value in item.positive_options
    if item.answer == "count":
        return isinstance(value, int) and item.positive_at is not None and value >= item.positive_at
    return False


def is_clear(item: Item, value: Any) -> bool:
    if not is_positive(item, value):
        return False
    return item.kind == "clear_indicator" or (
        item.answer == "rating" and value == "clear_concern" and item.kind in INDICATOR_KINDS
    )


def score(instrument: Instrument, form: str, answers: Mapping[str, Any]) -> Result:
    """Score answers already checked with ``check_answers``. Pure and deterministic."""
    items = instrument.form_items(form)
    positive = [i for i in items if is_positive(i, answers.get(i.id))]
    missing = tuple(i.id for i in items if answers.get(i.id, "unknown") in MISSING)
    clear = [i.id for i in positive if is_clear(i, answers.get(i.id))]
    indicators = [i for i in positive if i.kind in INDICATOR_KINDS]
    risks = [i for i in positive if i.kind == "risk_factor"]
    safety = tuple(i.id for i in positive if i.kind == "immediate_safety")

    domain_scores: dict[str, int] = {}
    for i in indicators:
        domain_scores[i.domain] = domain_scores.get(i.domain, 0) + i.weight
    rules = instrument.scoring
    total = sum(domain_scores.values())
    crossed = tuple(
        sorted(d for d, w in domain_scores.items() if d in rules.domain_weight and w >= rules.domain_weight[d])
    )
    possible = bool(crossed) or (rules.total_indicator_weight is not None and total >= rules.total_indicator_weight)
    risk_weight = sum(i.weight for i in risks)

    if clear:
        level, drivers = "clear_indicators", tuple(clear)
        driving = tuple(sorted({instrument.items[i].domain for i in clear}))
    elif possible:
        level, drivers = "possible_exploitation", tuple(i.id for i in indicators)
        driving = crossed or tuple(sorted(domain_scores))
    elif indicators or risk_weight >= rules.risk_factor_weight:
        level, drivers = "at_risk", tuple(i.id for i in indicators + risks)
        driving = tuple(sorted({i.domain for i in indicators + risks}))
    else:
        level, drivers, driving = "no_concern", (), ()
    return Result(
        instrument=instrument.key, form=form, level=level, immediate_safety=bool(safety), drivers=drivers,
        driving_domains=driving, domain_scores=domain_scores, missing=missing, safety_items=safety,
    )
