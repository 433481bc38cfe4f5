"""Disagreement floors: a training set in which a youth's phone never changes must not
teach the model that a changed phone rules a match out."""

from __future__ import annotations

import math

import pytest

from nowrongdoor.identity.model import DEFAULT_MODEL, DISAGREEMENT_FLOORS, ModelFile, apply_floors


def comparison(name: str, m: list[float]) -> dict[str, object]:
    levels: list[dict[str, object]] = [{"sql_condition": "x IS NULL", "is_null_level": True}]
    levels += [{"sql_condition": f"level {i}", "m_probability": p, "u_probability": 0.1} for i, p in enumerate(m)]
    return {"output_column_name": name, "comparison_levels": levels}


def m_values(c: dict[str, object]) -> list[float]:
    levels = c["comparison_levels"]
    assert isinstance(levels, list)
    return [float(level["m_probability"]) for level in levels if not level.get("is_null_level")]


def test_a_disagreement_learnt_as_impossible_is_raised_to_its_floor() -> None:
    splink = {"comparisons": [comparison("phone", [0.999999, 1e-6]), comparison("first_name", [0.9, 0.1 - 1e-9, 1e-9])]}
    apply_floors(splink, {"phone": 0.3})
    phone, first = (m_values(c) for c in splink["comparisons"])
    assert phone == pytest.approx([0.7, 0.3])
    assert sum(phone) == pytest.approx(1.0)
    assert first == [0.9, 0.1 - 1e-9, 1e-9]  # no floor for first names: left as trained


def test_a_disagreement_already_above_its_floor_is_left_alone() -> None:
    splink = {"comparisons": [comparison("street_address", [0.4, 0.1, 0.5])]}
    apply_floors(splink, {"street_address": 0.1})
    assert m_values(splink["comparisons"][0]) == [0.4, 0.1, 0.5]


def test_the_shipped_model_does_not_veto_a_changed_phone_middle_name_or_sex() -> None:
    model = ModelFile.load(DEFAULT_MODEL)
    for c in model.splink["comparisons"]:
        name = c["output_column_name"]
        if name in DISAGREEMENT_FLOORS:
            last = [level for level in c["comparison_levels"] if not level.get("is_null_level")][-1]
            weight = math.log2(last["m_probability"] / last["u_probability"])
            assert last["m_probability"] >= DISAGREEMENT_FLOORS[name] - 1e-12, name
            assert weight > -6, f"{name}: a disagreement weighs {weight:.1f} bits"
