"""The saved model on Splink's Spark backend (PySpark in local mode) gives the same
pairs, probabilities and youth as on DuckDB for the same synthetic sample. Needs a Java
runtime; scripts/test.sh runs this module only where one is installed (CI requires it)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from nowrongdoor.identity.linkfile import link_file
from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile
from nowrongdoor.identity.spark import spark_settings
from nowrongdoor.synth.people import write_population

pytestmark = pytest.mark.spark
TODAY = dt.date(2026, 6, 30)


def _pairs(out: Path) -> dict[tuple[str, str], float]:
    with (out / "pairs.csv").open() as f:
        return {(r["record_id_l"], r["record_id_r"]): float(r["match_probability"]) for r in csv.DictReader(f)}


def _youth(out: Path) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    with (out / "clusters.csv").open() as f:
        for row in csv.DictReader(f):
            groups.setdefault(row["cluster_id"], set()).add(row["record_id"])
    return {frozenset(g) for g in groups.values()}


def test_spark_and_duckdb_agree_on_a_sample(tmp_path: Path) -> None:
    records, _, count = write_population(tmp_path / "data", seed=77, people=300, noise="heavy")
    on_duckdb = link_file(records, tmp_path / "duckdb", today=TODAY)
    on_spark = link_file(records, tmp_path / "spark", backend="spark", spark_master="local[2]", today=TODAY)
    assert on_spark.records == on_duckdb.records == count
    assert on_spark.compared == on_duckdb.compared  # the same blocking rules, the same pairs compared
    duck, spark = _pairs(tmp_path / "duckdb"), _pairs(tmp_path / "spark")
    assert len(duck) > 100 and set(spark) == set(duck)
    assert max(abs(spark[k] - duck[k]) for k in duck) < 1e-6
    assert _youth(tmp_path / "spark") == _youth(tmp_path / "duckdb")


def test_the_spark_settings_carry_the_trained_parameters_level_by_level() -> None:
    model = ModelFile.load(DEFAULT_MODEL)
    rebuilt = spark_settings(model)
    assert rebuilt["probability_two_random_records_match"] == model.splink["probability_two_random_records_match"]
    for new, old in zip(rebuilt["comparisons"], model.splink["comparisons"], strict=True):
        assert [lv.get("m_probability") for lv in new["comparison_levels"]] == \
            [lv.get("m_probability") for lv in old["comparison_levels"]]
    sql = " ".join(lv["sql_condition"] for c in rebuilt["comparisons"] for lv in c["comparison_levels"])
    assert "arrays_overlap" in sql and "list_has_any" not in sql


def test_spark_refuses_training_and_the_encoded_model(tmp_path: Path) -> None:
    from nowrongdoor.identity.features import InputInvalid

    with pytest.raises(InputInvalid, match="train with DuckDB"):
        link_file(tmp_path / "x.csv", tmp_path / "out", retrain=True, backend="spark")
    encoded = ModelFile(**{**ModelFile.load(DEFAULT_MODEL).__dict__, "kind": "encoded"})
    with pytest.raises(ValueError, match="DuckDB only"):
        spark_settings(encoded)
