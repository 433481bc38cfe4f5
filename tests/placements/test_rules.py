"""The matching rules file: the shipped one validates and labels every rule and score in
English and Spanish; a broken copy is refused with the path of what is wrong (a missing
hard rule, an unknown status or placement type, negative points, holds that outlast
their maximum, a key nobody reads)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
import yaml

from nowrongdoor.dictionary import vocabulary
from nowrongdoor.placements import matching
from nowrongdoor.placements.matching import HARD_RULES, SOFT_SCORES, Rules, RulesInvalid, parse_rules, rules

Edit = Callable[[dict[str, Any]], None]


@functools.cache
def _shipped() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        resources.files(matching.__package__).joinpath("content/matching.yaml").read_text())
    return loaded


def document() -> dict[str, Any]:
    """A fresh, editable copy of the shipped rules document."""
    return copy.deepcopy(_shipped())


def refusal(edit: Edit) -> str:
    doc = document()
    edit(doc)
    with pytest.raises(RulesInvalid) as refused:
        parse_rules(doc)
    return str(refused.value)


# -- the shipped file -----------------------------------------------------------------------

def test_the_shipped_rules_validate_and_are_the_ones_in_use() -> None:
    parsed = parse_rules(document())
    assert isinstance(parsed, Rules)
    assert parsed.version >= 1
    assert parsed.source.strip()
    assert parsed == rules()
    assert set(parsed.hard) == set(HARD_RULES)
    assert set(parsed.soft) == set(SOFT_SCORES)
    assert 1 <= parsed.hold_default_days <= parsed.hold_max_days


@pytest.mark.parametrize("code", HARD_RULES + SOFT_SCORES)
def test_every_rule_and_score_is_labelled_in_english_and_spanish(code: str) -> None:
    r = rules()
    spec = r.hard.get(code) or r.soft[code]
    assert set(spec["label"]) == {"en", "es"}
    for lang in ("en", "es"):
        assert spec["label"][lang].strip()
        assert r.label(code, lang) == spec["label"][lang] != code


def test_the_shipped_statuses_and_types_are_in_the_vocabulary() -> None:
    r = rules()
    v = vocabulary()
    assert set(r.hard["young_child_with_exploited_youth"]["statuses"]) <= set(v.codes("exploitation_status"))
    types = set(v.codes("placement_type"))
    assert set(r.hard["group_home_near_exploitation_area"]["resource_types"]) <= types
    for spec in r.soft.values():
        assert set(spec.get("resource_types", [])) <= types


def test_a_valid_edit_is_accepted_and_read() -> None:
    doc = document()
    doc["version"] += 1
    doc["hard_rules"]["young_child_with_exploited_youth"]["min_age_gap_years"] = 5
    doc["hard_rules"]["young_child_with_exploited_youth"]["statuses"] = ["victim_in_foster_care"]
    doc["hard_rules"]["group_home_near_exploitation_area"]["resource_types"] = ["group_home", "emergency_shelter"]
    doc["soft_scores"]["csec_trained"]["points"] = 0
    doc["holds"] = {"default_days": 30, "max_days": 30}
    parsed = parse_rules(doc)
    assert parsed.version == rules().version + 1
    assert parsed.hard["young_child_with_exploited_youth"]["min_age_gap_years"] == 5
    assert parsed.points("csec_trained") == 0
    assert (parsed.hold_default_days, parsed.hold_max_days) == (30, 30)


# -- refusals, each naming the path ---------------------------------------------------------

@pytest.mark.parametrize("code", HARD_RULES)
def test_a_missing_hard_rule_is_refused(code: str) -> None:
    message = refusal(lambda doc: doc["hard_rules"].pop(code))
    assert message.startswith("hard_rules: ")
    assert repr(code) in message


@pytest.mark.parametrize("code", SOFT_SCORES)
def test_a_missing_soft_score_is_refused(code: str) -> None:
    message = refusal(lambda doc: doc["soft_scores"].pop(code))
    assert message.startswith("soft_scores: ")
    assert repr(code) in message


@pytest.mark.parametrize("status", ["trafficked", "", "VICTIM_IN_FOSTER_CARE"])
def test_an_unknown_exploitation_status_is_refused(status: str) -> None:
    message = refusal(lambda doc: doc["hard_rules"]["young_child_with_exploited_youth"]["statuses"].append(status))
    assert message == f"hard_rules.young_child_with_exploited_youth.statuses: unknown status {status!r}"


def test_an_unknown_placement_type_near_an_area_is_refused() -> None:
    message = refusal(
        lambda doc: doc["hard_rules"]["group_home_near_exploitation_area"]["resource_types"].append("castle"))
    assert message == "hard_rules.group_home_near_exploitation_area.resource_types: unknown placement type 'castle'"


@pytest.mark.parametrize("code", SOFT_SCORES)
def test_an_unknown_placement_type_in_a_soft_score_is_refused(code: str) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["soft_scores"][code]["resource_types"] = ["safe_home", "castle"]

    if code == "specialised_for_victims":
        assert refusal(edit) == f"soft_scores.{code}.resource_types: unknown placement type 'castle'"
    else:  # only the specialised-home score reads resource types: elsewhere the key is refused
        message = refusal(edit)
        assert message.startswith(f"soft_scores.{code}: ") and "'resource_types' was unexpected" in message


@pytest.mark.parametrize("code", SOFT_SCORES)
def test_negative_points_are_refused(code: str) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["soft_scores"][code]["points"] = -1

    message = refusal(edit)
    assert message.startswith(f"soft_scores.{code}.points: ")
    assert "-1" in message


@pytest.mark.parametrize(("path", "value"), [
    ("hard_rules.young_child_with_exploited_youth.min_age_gap_years", -1),
    ("hard_rules.young_child_with_exploited_youth.young_child_max_age", 18),
    ("hard_rules.group_home_near_exploitation_area.distance_km", -0.5),
    ("hard_rules.exploited_youth_with_young_children.enabled", "yes"),
    ("holds.default_days", 0),
    ("version", 0),
])
def test_a_number_out_of_range_is_refused(path: str, value: Any) -> None:
    def edit(doc: dict[str, Any]) -> None:
        *parents, key = path.split(".")
        functools.reduce(lambda node, part: node[part], parents, doc)[key] = value

    assert refusal(edit).startswith(f"{path}: ")


def test_holds_whose_default_outlasts_their_maximum_are_refused() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["holds"] = {"default_days": 91, "max_days": 90}

    assert refusal(edit) == "holds.default_days: must not exceed holds.max_days"


@pytest.mark.parametrize("where", [
    "",
    "hard_rules",
    "hard_rules.capacity",
    "soft_scores",
    "hard_rules.complicit_caregiver.label",
    "hard_rules.young_child_with_exploited_youth",
    "hard_rules.group_home_near_exploitation_area",
    "soft_scores.holds_bed",
    "soft_scores.language.label",
    "holds",
])
def test_an_unknown_extra_key_is_refused(where: str) -> None:
    def edit(doc: dict[str, Any]) -> None:
        node = functools.reduce(lambda n, part: n[part], where.split("."), doc) if where else doc
        node["Surprise"] = 1

    message = refusal(edit)
    assert message.startswith(f"{where or '(top)'}: ")
    assert "'Surprise'" in message


def test_an_unknown_soft_score_is_refused() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["soft_scores"]["csec_trainning"] = {"label": {"en": "Typo", "es": "Errata"}, "points": 40}

    assert refusal(edit).startswith("soft_scores: ")


def test_every_problem_is_named_at_once() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["soft_scores"]["holds_bed"]["points"] = -5
        doc["soft_scores"]["language"]["points"] = -1
        doc["extra"] = True

    message = refusal(edit)
    for path in ("soft_scores.holds_bed.points: ", "soft_scores.language.points: ", "(top): "):
        assert path in message
    assert len(message.split("; ")) == 3

