"""Aliases as evidence, counted once (``features.prepare``'s ``alias_extra`` and
``given_tokens``, the aliases comparison of ``model.comparisons``).

A changed surname is often recorded with the earlier full name as an alias ("Destiny
Jones" on Destiny Smith's record). Its first word is the record's own first name, which
the first-name comparison already weighs; its surname is weighed by the surname
comparison. Counting either again as "an alias is the other's name" made two different
girls called Destiny, born the same day, look certain. What the aliases comparison must
still see: the real first name recorded as an alias on a record under a false name.

Every name here is invented.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from nowrongdoor.identity import features
from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile, evidence_labels, link
from nowrongdoor.synth.people import COLUMNS


def row(record_id: str, first: str, last: str, birth: str = "", **fields: str) -> dict[str, str]:
    return {**dict.fromkeys(COLUMNS, ""), "record_id": record_id, "first_name": first, "last_name": last,
            "birth_date": birth, "sex": "female", **fields}


def prepared(tmp_path: Path, rows: list[dict[str, str]]) -> duckdb.DuckDBPyConnection:
    path = tmp_path / "in.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    con = features.connect()
    features.load_file(con, path)
    features.prepare(con)
    return con


def alias_evidence(tmp_path: Path, rows: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    """The aliases comparison's level, in words, for every pair the shipped model scores."""
    model = ModelFile.load(DEFAULT_MODEL)
    con = prepared(tmp_path, rows)
    link(con, "records", model, keep_above=0.0, cluster=False, evidence=True)
    labels = next(levels for column, _, levels in evidence_labels(model) if column == "aliases")
    return {(left, right): labels[gamma] for left, right, gamma in con.execute(
        "SELECT unique_id_l, unique_id_r, gamma_aliases FROM nwd_pairs").fetchall()}


def test_alias_words_exclude_the_records_own_names(tmp_path: Path) -> None:
    con = prepared(tmp_path, [row("A", "Destiny", "Smith", "2011-05-06", aliases="Destiny Jones;Dee",
                                  middle_name="Rose")])
    extra, given = con.execute("SELECT alias_extra, given_tokens FROM records").fetchall()[0]
    assert sorted(extra) == ["dee", "jones"]
    assert given == ["destiny", "rose"]


def test_a_changed_surnames_alias_is_not_counted_again_against_another_girl(tmp_path: Path) -> None:
    evidence = alias_evidence(tmp_path, [
        row("A", "Destiny", "Smith", "2011-05-06", aliases="Destiny Jones"),
        row("B", "Destiny", "Brown", "2011-05-06"),
    ])
    assert evidence == {("A", "B"): "All other comparisons"}


def test_the_real_first_name_recorded_as_an_alias_meets_the_other_records_first_name(tmp_path: Path) -> None:
    evidence = alias_evidence(tmp_path, [
        row("F", "Kash", "Brown", aliases="Destiny", age_stated="19", age_recorded_on="2026-01-10"),
        row("R", "Destiny", "Brown", "2011-05-06"),
    ])
    assert evidence == {("F", "R"): "an alias is the other's given name"}
