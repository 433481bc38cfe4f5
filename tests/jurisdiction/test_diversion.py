"""Diversion and safe-harbour rules: each shipped rule set validates, Minnesota's five
conditions each flip eligibility on their own, the age rules decide before any
condition, and a broken rule set names the file and the key."""

from __future__ import annotations

from typing import Any

import pytest

from nowrongdoor.jurisdiction.diversion import RulesInvalid, evaluate, parse, rule_sets

ELIGIBLE_16 = {"age": 16, "prior_prostitution_adjudications": 0, "prior_prostitution_diversions": 0,
               "prior_prostitution_probation": False, "prior_prostitution_protection_finding": False,
               "agrees_to_diversion": True}


def test_the_shipped_rule_sets_load() -> None:
    assert set(rule_sets()) == {"minnesota_safe_harbor", "washington_safe_harbor", "illinois_safe_harbor",
                                "new_york_safe_harbor", "connecticut", "multnomah_no_arrest", "los_angeles_first_step"}
    assert all(r.source.startswith(("report ch. 4", "report ch. 6", "report app. C")) for r in rule_sets().values())


@pytest.mark.parametrize(("fact", "value", "deciding"), [
    ("prior_prostitution_adjudications", 1, "not_tried_before"),
    ("prior_pins_certification", True, "not_certified_before"),
    ("agrees_to_diversion", False, "accepts_services"),
])
def test_new_york_refuses_certification_for_each_reason_the_report_lists(fact: str, value: Any, deciding: str) -> None:
    rules = rule_sets()["new_york_safe_harbor"]
    facts: dict[str, Any] = {"age": 15, "prior_prostitution_adjudications": 0, "prior_pins_certification": False,
                             "agrees_to_diversion": True}
    first = evaluate(rules, facts)
    assert (first.outcome, first.presumed_victim) == ("eligible", True)
    refused = evaluate(rules, {**facts, fact: value})
    assert (refused.outcome, refused.deciding) == ("not_eligible", deciding)


def test_connecticut_and_multnomah_age_rules() -> None:
    ct = rule_sets()["connecticut"]
    assert evaluate(ct, {"age": 15}).outcome == "not_chargeable"
    at_16 = evaluate(ct, {"age": 16})
    assert (at_16.outcome, at_16.presumed_victim) == ("not_covered", True)  # charged, but presumed coerced
    assert evaluate(rule_sets()["multnomah_no_arrest"], {"age": 17}).outcome == "not_chargeable"


@pytest.mark.parametrize(("fact", "value"), [
    ("prior_prostitution_adjudications", 1), ("prior_prostitution_diversions", 1),
    ("prior_prostitution_probation", True), ("prior_prostitution_protection_finding", True),
    ("agrees_to_diversion", False),
])
def test_each_minnesota_condition_flips_eligibility_and_is_named(fact: str, value: Any) -> None:
    rules = rule_sets()["minnesota_safe_harbor"]
    assert evaluate(rules, ELIGIBLE_16).outcome == "eligible"
    result = evaluate(rules, {**ELIGIBLE_16, fact: value})
    assert result.outcome == "not_eligible"
    assert next(c.condition.fact for c in result.checked if c.condition.id == result.deciding) == fact
    assert [c.condition.fact for c in result.checked if not c.holds] == [fact]


@pytest.mark.parametrize(("age", "outcome"), [(12, "not_chargeable"), (15, "not_chargeable"), (16, "eligible"),
                                              (17, "eligible"), (18, "not_covered")])
def test_minnesota_does_not_charge_under_16_and_diverts_16_and_17(age: int, outcome: str) -> None:
    rules = rule_sets()["minnesota_safe_harbor"]
    # even with every condition failing, a 15-year-old is not charged
    facts = {**ELIGIBLE_16, "age": age, "prior_prostitution_adjudications": 3 if age < 16 else 0}
    assert evaluate(rules, facts).outcome == outcome


def test_washington_mandates_a_first_diversion_and_leaves_later_ones_to_the_prosecutor() -> None:
    rules = rule_sets()["washington_safe_harbor"]
    base = {"age": 15, "prostitution_offences": 1, "county_has_comprehensive_programme": False}
    first = evaluate(rules, base)
    assert first.outcome == "mandatory" and first.presumed_victim
    assert evaluate(rules, {**base, "prostitution_offences": 2, "county_has_comprehensive_programme": True}
                    ).outcome == "discretionary"
    later = evaluate(rules, {**base, "prostitution_offences": 2})
    assert later.outcome == "not_eligible" and later.deciding == "first_offence"


def test_illinois_charges_no_minor() -> None:
    result = evaluate(rule_sets()["illinois_safe_harbor"], {"age": 17})
    assert result.outcome == "not_chargeable" and result.presumed_victim


def test_a_missing_fact_is_refused() -> None:
    with pytest.raises(ValueError, match="agrees_to_diversion"):
        evaluate(rule_sets()["minnesota_safe_harbor"], {k: v for k, v in ELIGIBLE_16.items()
                                                         if k != "agrees_to_diversion"})


@pytest.mark.parametrize(("change", "key"), [
    (lambda d: d["diversion"]["conditions"][0].update(fact="star_sign"), "diversion.conditions.0.fact"),
    (lambda d: d["diversion"]["conditions"][4].update(equals=1), "diversion.conditions.4.equals"),
    (lambda d: d.update(not_chargeable_below=30), "not_chargeable_below"),
    (lambda d: d["diversion"].update(ages=[17, 16]), "diversion.ages"),
    (lambda d: d.pop("source"), "(top)"),
])
def test_a_broken_rule_set_names_the_file_and_the_key(change: Any, key: str) -> None:
    from importlib import resources

    import yaml

    text = resources.files("nowrongdoor.jurisdiction").joinpath("content/diversion/minnesota.yaml").read_text()
    document = yaml.safe_load(text)
    change(document)
    with pytest.raises(RulesInvalid, match=rf"minnesota\.yaml: {key.replace('(', '[(]').replace(')', '[)]')}"):
        parse(document, "minnesota.yaml")
