"""Batch linkage of one file, without the database: for analysts and for evaluation.

``nowrongdoor link-file INPUT --out OUTDIR`` reads a CSV or Parquet file of records
(columns in ``features.INPUT_COLUMNS``), links it with the platform's trained model (or
trains one on the file with ``--train``) and writes:

- ``clusters.csv``: ``record_id,cluster_id``: records with the same cluster id are
  estimated to be the same youth (joined at the model's link threshold, strongest link
  first, never joining two groups whose dates of birth conflict: see ``clustering``);
- ``pairs.csv``: ``record_id_l,record_id_r,match_probability`` for every scored pair at
  or above the review threshold (the pairs a person would look at, and the links).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from nowrongdoor.identity import features
from nowrongdoor.identity.encoded import load_encoded
from nowrongdoor.identity.features import sql_path
from nowrongdoor.identity.model import DEFAULT_MODEL, LinkResult, ModelFile, Thresholds, link, train


@dataclass
class LinkFileResult:
    records: int
    compared: int
    pairs: int
    links: int
    review: int
    clusters: int
    kept_apart: int
    model: str
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        return (f"linked {self.records} records into {self.clusters} youth: {self.links} pairs joined, "
                f"{self.review} pairs for review, {self.kept_apart} links not joined (conflicting dates of birth "
                f"in the two groups), {self.compared} pairs compared "
                f"({self.compared / max(self.records, 1):.1f} per record); model {self.model}; {steps}")


def link_file(input_path: Path, out: Path, *, model_path: Path | None = None, retrain: bool = False,
              save_model: Path | None = None, thresholds: Thresholds | None = None,
              memory_limit: str = features.MEMORY_LIMIT, today: dt.date | None = None, encoded: bool = False,
              backend: str = "duckdb", spark_master: str = "local[2]",
              con: duckdb.DuckDBPyConnection | None = None) -> LinkFileResult:
    """Link ``input_path`` and write ``clusters.csv`` and ``pairs.csv`` into ``out``.

    ``encoded``: the input is an agency's encoded file (``encoded.encode_file``), linked
    with a privacy-preserving model (trained here with ``retrain``, or ``model_path``)."""
    if backend not in ("duckdb", "spark"):
        raise features.InputInvalid([f"no backend {backend!r}: duckdb or spark"])
    if backend == "spark" and (retrain or encoded):
        raise features.InputInvalid(["on Spark the saved clear-text model links; train with DuckDB on a sample "
                                     "(--train), then link with --backend spark --model FILE"])
    if encoded and not retrain and model_path is None:
        raise features.InputInvalid(["an encoded file needs --train or a privacy-preserving --model"])
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nwd-link-") as spill:
        con = con or features.connect(memory_limit=memory_limit, temp_directory=Path(spill))
        if encoded:
            prepared = load_encoded(con, input_path)
        else:
            features.load_file(con, input_path)
            features.validate(con, today=today)
            prepared = features.prepare(con, today=today)
        if prepared.rows == 0:
            raise features.InputInvalid([f"{input_path.name}: no records"])
        seconds["prepare"] = time.perf_counter() - started
        if retrain:
            mark = time.perf_counter()
            day = today or dt.datetime.now(dt.UTC).date()
            model = train(con, prepared.table, thresholds=thresholds, kind="encoded" if encoded else "nowrongdoor",
                          trained_on=f"{input_path.name}: {prepared.rows} records, {day}")
            seconds["train"] = time.perf_counter() - mark
            if save_model is not None:
                model.save(save_model)
        else:
            model = ModelFile.load(model_path or DEFAULT_MODEL)
            if (model.kind == "encoded") != encoded:
                raise features.InputInvalid([f"the model is a {model.kind} model; the input is "
                                             f"{'encoded' if encoded else 'clear text'}"])
            if thresholds is not None:
                model = ModelFile(**{**model.__dict__, "thresholds": thresholds})
        mark = time.perf_counter()
        if backend == "spark":
            from nowrongdoor.identity.spark import link_on_spark, session

            work = Path(spill) / "spark"
            result = link_on_spark(con, prepared.table, model, work, session(work, master=spark_master))
        else:
            result = link(con, prepared.table, model)
        seconds["predict and cluster"] = time.perf_counter() - mark
        counts = write_outputs(con, result, out, model.thresholds)
    seconds["total"] = time.perf_counter() - started
    return LinkFileResult(records=prepared.rows, compared=result.compared, model=model.trained_on or "trained here",
                          kept_apart=result.kept_apart, seconds=seconds, **counts)


def write_outputs(con: duckdb.DuckDBPyConnection, result: LinkResult, out: Path, thresholds: Thresholds
                  ) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT unique_id AS record_id, cluster_id FROM {result.clusters} ORDER BY cluster_id, "
                f"record_id) TO '{sql_path(out / 'clusters.csv')}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY (SELECT unique_id_l AS record_id_l, unique_id_r AS record_id_r, "
                f"round(match_probability, 6) AS match_probability FROM {result.pairs} "
                f"WHERE match_probability >= {thresholds.review} ORDER BY match_probability DESC, record_id_l, "
                f"record_id_r) TO '{sql_path(out / 'pairs.csv')}' (HEADER, DELIMITER ',')")
    pairs, links = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE match_probability >= {thresholds.link}) FROM {result.pairs} "
        f"WHERE match_probability >= {thresholds.review}").fetchall()[0]
    clusters = con.execute(f"SELECT count(DISTINCT cluster_id) FROM {result.clusters}").fetchall()[0][0]
    return {"pairs": int(pairs), "links": int(links), "review": int(pairs - links), "clusters": int(clusters)}

