"""The scoring engine as a specification: levels, reasons, missing answers, monotonicity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nowrongdoor.screening.engine import LEVELS, Instrument, Item, Scoring, check_answers, score

ITEMS = {
    "sexual_abuse_history": Item("sexual_abuse_history", "abuse_and_trauma", "risk_factor", 2, "yes_no_unknown"),
    "child_welfare_history": Item("child_welfare_history", "family_and_home", "risk_factor", 1, "yes_no_unknown"),
    "runaways_past_year": Item("runaways_past_year", "running_away", "indicator", 2, "count", positive_at=2),
    "older_controlling_partner": Item("older_controlling_partner", "relationships", "indicator", 3, "yes_no_unknown"),
    "unexplained_money": Item("unexplained_money", "money", "indicator", 2, "rating"),
    "paid_for_sex_disclosed": Item("paid_for_sex_disclosed", "relationships", "clear_indicator", 5, "yes_no_unknown"),
    "where_sleeping": Item(
        "where_sleeping",
        "running_away",
        "indicator",
        2,
        "choice",
        positive_options=frozenset({"with_adult_met_online", "street"}),
        options=("home", "placement", "with_adult_met_online", "street"),
    ),
    "in_danger_now": Item("in_danger_now", "safety_now", "immediate_safety", 5, "yes_no_unknown"),
}
INSTRUMENT = Instrument(
    id="test_setting",
    version=3,
    bank_version=2,
    setting="probation",
    agency_types=("probation",),
    forms={"full": tuple(ITEMS), "short": ("older_controlling_partner", "paid_for_sex_disclosed", "in_danger_now")},
    items=ITEMS,
    scoring=Scoring(total_indicator_weight=5, domain_weight={"relationships": 3}, risk_factor_weight=3),
)
NEUTRAL = {
    "yes_no_unknown": "no",
    "count": 0,
    "rating": "no_concern",
    "choice": "home",
}


def answers(**given_answers: object) -> dict[str, object]:
    base = {item_id: NEUTRAL[item.answer] for item_id, item in ITEMS.items()}
    return {**base, **given_answers}


def test_no_signs_is_no_concern():
    result = score(INSTRUMENT, "full", answers())
    assert (result.level, result.drivers, result.immediate_safety) == ("no_concern", (), False)


def test_any_clear_indicator_gives_clear_indicators_and_names_it():
    result = score(INSTRUMENT, "full", answers(paid_for_sex_disclosed="yes"))
    assert result.level == "clear_indicators"
    assert result.drivers == ("paid_for_sex_disclosed",)
    assert result.driving_domains == ("relationships",)


def test_an_indicator_rated_clear_concern_gives_clear_indicators():
    assert score(INSTRUMENT, "full", answers(unexplained_money="clear_concern")).level == "clear_indicators"
    assert score(INSTRUMENT, "full", answers(unexplained_money="possible_concern")).level == "at_risk"


def test_a_domain_threshold_gives_possible_exploitation():
    result = score(INSTRUMENT, "full", answers(older_controlling_partner="yes"))
    assert result.level == "possible_exploitation"
    assert result.driving_domains == ("relationships",)


def test_total_indicator_weight_gives_possible_exploitation():
    result = score(
        INSTRUMENT, "full", answers(runaways_past_year=3, where_sleeping="street", unexplained_money="possible_concern")
    )
    assert result.level == "possible_exploitation"
    assert set(result.drivers) == {"runaways_past_year", "where_sleeping", "unexplained_money"}


def test_a_count_below_its_threshold_is_not_a_sign():
    assert score(INSTRUMENT, "full", answers(runaways_past_year=1)).level == "no_concern"
    assert score(INSTRUMENT, "full", answers(runaways_past_year=2)).level == "at_risk"


def test_risk_factors_reaching_their_weight_give_at_risk():
    assert score(INSTRUMENT, "full", answers(sexual_abuse_history="yes")).level == "no_concern"
    result = score(INSTRUMENT, "full", answers(sexual_abuse_history="yes", child_welfare_history="yes"))
    assert result.level == "at_risk"
    assert set(result.drivers) == {"sexual_abuse_history", "child_welfare_history"}


def test_immediate_safety_is_a_flag_beside_any_level():
    result = score(INSTRUMENT, "full", answers(in_danger_now="yes"))
    assert (result.level, result.immediate_safety, result.safety_items) == ("no_concern", True, ("in_danger_now",))


def test_unknown_is_reported_as_missing_not_as_no():
    result = score(INSTRUMENT, "full", answers(older_controlling_partner="unknown", unexplained_money="no_information"))
    assert set(result.missing) == {"older_controlling_partner", "unexplained_money"}


def test_the_result_records_the_instrument_and_bank_versions():
    assert score(INSTRUMENT, "short", {}).instrument == "test_setting@3/bank@2"


def test_check_answers_names_each_bad_item():
    problems = check_answers(
        INSTRUMENT,
        "short",
        {"older_controlling_partner": "maybe", "runaways_past_year": 3, "no_such_item": "yes"},
        complete=True,
    )
    assert set(problems) == {
        "older_controlling_partner",
        "runaways_past_year",
        "no_such_item",
        "paid_for_sex_disclosed",
        "in_danger_now",
    }
    assert "needs an answer" in problems["in_danger_now"]


@pytest.mark.parametrize(
    ("item_id", "value"),
    [
        ("runaways_past_year", -1),
        ("runaways_past_year", True),
        ("runaways_past_year", "3"),
        ("where_sleeping", "castle"),
        ("unexplained_money", "yes"),
    ],
)
def test_check_answers_refuses_values_of_the_wrong_type(item_id, value):
    assert item_id in check_answers(INSTRUMENT, "full", {item_id: value}, complete=False)


def value_strategy(item: Item) -> st.SearchStrategy[object]:
    if item.answer == "yes_no_unknown":
        return st.sampled_from(["yes", "no", "unknown"])
    if item.answer == "rating":
        return st.sampled_from(["no_concern", "possible_concern", "clear_concern", "no_information"])
    if item.answer == "choice":
        return st.sampled_from([*item.options, "unknown"])
    return st.one_of(st.integers(0, 20), st.just("unknown"))


ANSWER_SETS = st.fixed_dictionaries({item_id: value_strategy(item) for item_id, item in ITEMS.items()})
POSITIVE = {"yes_no_unknown": "yes", "rating": "clear_concern", "choice": "street", "count": 20}


@settings(max_examples=300, deadline=None)
@given(ANSWER_SETS, st.sampled_from(sorted(ITEMS)))
def test_making_an_answer_positive_never_lowers_the_level(given_answers, item_id):
    before = score(INSTRUMENT, "full", given_answers)
    after = score(INSTRUMENT, "full", {**given_answers, item_id: POSITIVE[ITEMS[item_id].answer]})
    assert LEVELS.index(after.level) >= LEVELS.index(before.level)
    assert after.immediate_safety >= before.immediate_safety


@settings(max_examples=300, deadline=None)
@given(ANSWER_SETS, st.sampled_from(sorted(ITEMS)))
def test_an_unknown_never_lowers_the_level_compared_with_no(given_answers, item_id):
    item = ITEMS[item_id]
    with_no = score(INSTRUMENT, "full", {**given_answers, item_id: NEUTRAL[item.answer]})
    with_unknown = score(
        INSTRUMENT, "full", {**given_answers, item_id: "no_information" if item.answer == "rating" else "unknown"}
    )
    assert LEVELS.index(with_unknown.level) >= LEVELS.index(with_no.level)
    assert item_id in with_unknown.missing


@settings(max_examples=200, deadline=None)
@given(ANSWER_SETS)
def test_same_input_same_output(given_answers):
    assert score(INSTRUMENT, "full", given_answers) == score(INSTRUMENT, "full", dict(given_answers))
