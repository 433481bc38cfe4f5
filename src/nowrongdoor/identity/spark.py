"""The saved linkage model on Splink's Spark backend, for state-scale data.

Everything that differs between DuckDB and Spark lives here and in ``model.DIALECTS``:

- **Features** are built once, with DuckDB (``features.prepare``), and handed to Spark as
  Parquet of plain types (strings, integers, booleans, lists of strings; dates as ISO
  strings), so Spark never parses a date format of its own.
- **The model** is the same saved file: its comparisons are rebuilt in Spark SQL
  (``arrays_overlap`` for ``list_has_any``, Splink's ``jaro_winkler`` UDF for
  ``jaro_winkler_similarity``) and its trained parameters (m, u, the prior) copied
  level by level, so both backends weigh evidence identically.
- **Clustering** is not Spark's: the scored pairs come back to DuckDB and are clustered
  by ``clustering.cluster_links``, the rule every other run uses.
- **The session** registers Splink's similarity UDF jar and sets a checkpoint directory
  (Splink breaks long Spark lineages by checkpointing; without one it fails).

Training stays on DuckDB (train on a sample, link everything on Spark). The
privacy-preserving comparisons (Bloom filters as DuckDB bitstrings) are DuckDB only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from nowrongdoor.identity.clustering import cluster_links
from nowrongdoor.identity.features import sql_path
from nowrongdoor.identity.model import LinkResult, ModelFile, settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_PARAMETERS = ("m_probability", "u_probability")


def session(work_dir: Path, *, master: str = "local[2]", driver_memory: str = "2g") -> SparkSession:
    """A Spark session with Splink's UDFs and a checkpoint directory under ``work_dir``.
    On a cluster, pass the cluster's master URL (or build the session yourself with the
    same two settings)."""
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

    work_dir.mkdir(parents=True, exist_ok=True)
    spark = (SparkSession.builder.master(master).appName("nowrongdoor-linkage")
             .config("spark.jars", similarity_jar_location())
             .config("spark.driver.memory", driver_memory)
             .config("spark.sql.shuffle.partitions", "8")
             .config("spark.ui.enabled", "false")
             .config("spark.local.dir", str(work_dir / "local"))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(str(work_dir / "checkpoints"))
    return spark


def spark_settings(model: ModelFile) -> dict[str, Any]:
    """The saved model's settings in Spark SQL, with its trained parameters."""
    if model.kind == "encoded":
        raise ValueError("the privacy-preserving model runs on DuckDB only")
    if model.kind == "baseline":
        raise ValueError("the baseline model is for the benchmark only")
    rebuilt = settings(dialect="spark").create_settings_dict("spark")
    saved = model.splink
    rebuilt["probability_two_random_records_match"] = saved["probability_two_random_records_match"]
    rebuilt["blocking_rules_to_generate_predictions"] = saved["blocking_rules_to_generate_predictions"]
    for new, old in zip(rebuilt["comparisons"], saved["comparisons"], strict=True):
        if len(new["comparison_levels"]) != len(old["comparison_levels"]):
            raise ValueError(f"comparison {old['output_column_name']} has other levels than the saved model; retrain")
        for new_level, old_level in zip(new["comparison_levels"], old["comparison_levels"], strict=True):
            for key in _PARAMETERS:
                if key in old_level:
                    new_level[key] = old_level[key]
    rebuilt["sql_dialect"] = "spark"
    return rebuilt


def link_on_spark(con: duckdb.DuckDBPyConnection, table: str, model: ModelFile, work_dir: Path,
                  spark: SparkSession | None = None) -> LinkResult:
    """Link the prepared DuckDB ``table`` on Spark; results come back as ``nwd_pairs``
    and ``nwd_clusters`` in ``con``, exactly as ``model.link`` leaves them."""
    from splink import Linker, SparkAPI

    prepared = work_dir / "prepared.parquet"
    con.execute(f"COPY (SELECT * FROM {table}) TO '{sql_path(prepared)}' (FORMAT parquet)")
    spark = spark or session(work_dir)
    api = SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]
    frame = api.register(spark.read.parquet(str(prepared)))
    linker = Linker(frame, spark_settings(model), log_level=logging.WARNING)
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    compared = int(blocked.as_spark_dataframe().count())
    predictions = linker.inference.predict(threshold_match_probability=model.thresholds.review,
                                           warning_mode="never")
    pairs_path = work_dir / "pairs.parquet"
    predictions.as_spark_dataframe().write.mode("overwrite").parquet(str(pairs_path))
    con.execute(f"CREATE OR REPLACE TABLE nwd_pairs AS SELECT * FROM read_parquet('{sql_path(pairs_path)}/*.parquet')")
    # The links are clustered back in DuckDB by the same rule as every other run: the
    # pairs of a state-scale run fit on one machine even when the comparisons did not.
    clustered = cluster_links(con, table, "nwd_pairs", model.thresholds.link)
    return LinkResult(pairs="nwd_pairs", clusters=clustered.table, compared=compared, kept_apart=clustered.refused)

