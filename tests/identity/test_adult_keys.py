"""A record given under a false name and a false adult age: compared with the child's own
records through her real first name recorded as an alias, her county and her sex (the
adult-age keys pair nothing else), and weighed by how uncommon that name is
(``features.add_file_features``).

Every name here is invented or comes from the synthetic generator.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import duckdb

from nowrongdoor.identity import features
from nowrongdoor.identity.encoded import encode_file, load_encoded
from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile, _linker, link
from nowrongdoor.synth.people import population
from tests.identity.test_spelling_keys import column, prepared, row, write

# Quenby's own record at child welfare, and the record the police made when she was
# arrested as "Candy Vortelle", 19: her real first name is the only alias, nothing else
# but her county and her sex is shared.
OWN = row("CW-1", "Quenby", "Marlowitz", "2011-04-17", county="Alder County")
ARRESTED = row("LE-1", "Candy", "Vortelle", "", age_stated="19", age_recorded_on="2026-05-02", aliases="Quenby",
               county="Alder County")


def blocked_pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    linker = _linker(con, "records", ModelFile.load(DEFAULT_MODEL).splink)
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    return sorted(con.execute(f"SELECT join_key_l, join_key_r FROM {blocked.physical_name}").fetchall())  # noqa: S608


def test_only_a_stated_adult_age_gives_alias_keys(tmp_path: Path) -> None:
    keys = column(prepared(tmp_path, [OWN, ARRESTED]), "adult_keys")
    assert keys["CW-1"] == ["o|quenby|alder|f"]
    assert sorted(keys["LE-1"]) == ["a|quenby|alder|f", "o|candy|alder|f"]


def test_without_a_county_or_a_sex_there_are_no_adult_keys(tmp_path: Path) -> None:
    rows = [{**ARRESTED, "county": ""}, {**OWN, "record_id": "CW-2", "sex": ""}]
    keys = column(prepared(tmp_path, rows), "adult_keys")
    assert keys == {"LE-1": [], "CW-2": []}


def test_the_false_name_record_is_compared_with_her_own(tmp_path: Path) -> None:
    con = prepared(tmp_path, [OWN, ARRESTED])
    other = column(con, "name_keys")
    assert not set(other["CW-1"]) & set(other["LE-1"])  # no name key: before, never compared
    assert blocked_pairs(con) == [("CW-1", "LE-1")]


def test_the_keys_are_one_sided(tmp_path: Path) -> None:
    """Two girls called Quenby in one county, neither stating an adult age, are not paired
    by these keys (a given name, county and sex alone would pair a county's every Quenby);
    the alias of a record with a date of birth pairs nothing either."""
    rows = [OWN, row("CW-2", "Quenby", "Sandoval", "2014-09-30", county="Alder County"),
            row("ED-1", "Marisol", "Tekauri", "2012-06-02", county="Alder County", aliases="Quenby")]
    assert blocked_pairs(prepared(tmp_path, rows)) == []


def test_the_alias_must_meet_the_same_county_and_sex(tmp_path: Path) -> None:
    rows = [OWN, {**ARRESTED, "county": "Birch County"},
            {**ARRESTED, "record_id": "LE-2", "first_name": "Starla", "last_name": "Quintavo", "sex": "male"}]
    assert blocked_pairs(prepared(tmp_path, rows)) == []


def test_the_hub_builds_the_same_keys_from_encoded_records(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    encode_file(write(tmp_path / "in.csv", [OWN, ARRESTED]), key, tmp_path / "enc.parquet")
    con = features.connect()
    load_encoded(con, tmp_path / "enc.parquet")
    keys = column(con, "adult_keys")
    assert len(keys["CW-1"]) == 1 and len(keys["LE-1"]) == 2
    assert "quenby" not in " ".join(keys["CW-1"] + keys["LE-1"])  # tokens, not names
    assert blocked_pairs(con) == [("CW-1", "LE-1")]


def background(people: int = 2000) -> list[dict[str, str]]:
    """About 5,400 generator records: enough that a name on one record is uncommon."""
    return [r.row() for r in population(77, people, "standard")]


def test_an_alias_is_uncommon_only_in_a_file_large_enough_to_tell(tmp_path: Path) -> None:
    marisols = [row(f"ED-{i}", "Marisol", f"Tekauri{'x' * i}", f"2012-06-{i + 1:02d}") for i in range(10)]
    common = {**ARRESTED, "record_id": "LE-2", "aliases": "Marisol"}
    con = prepared(tmp_path, [*background(), OWN, ARRESTED, common, *marisols])
    uncommon = column(con, "uncommon_alias")
    assert uncommon["LE-1"] == ["quenby"]
    assert uncommon["LE-2"] == []  # ten Marisols in 5,400 records
    assert column(prepared(tmp_path, [OWN, ARRESTED]), "uncommon_alias")["LE-1"] == []


def test_an_uncommon_alias_weighs_more_than_a_common_one(tmp_path: Path) -> None:
    """The same false-name record, once with the alias Quenby (one girl in the file) and
    once with Marisol (eleven girls, one of them the child's own record)."""
    marisols = [row(f"ED-{i}", "Marisol", f"Tekauri{'x' * i}", f"2012-06-{i + 1:02d}") for i in range(10)]
    own_marisol = {**OWN, "record_id": "CW-2", "first_name": "Marisol", "last_name": "Okonkwade"}
    common = {**ARRESTED, "record_id": "LE-2", "last_name": "Brisvane", "aliases": "Marisol"}
    con = prepared(tmp_path, [*background(), OWN, ARRESTED, own_marisol, common, *marisols])
    link(con, "records", ModelFile.load(DEFAULT_MODEL), keep_above=0.0, cluster=False)
    scored = {(left, right): p for left, right, p in con.execute(
        "SELECT unique_id_l, unique_id_r, match_probability FROM nwd_pairs").fetchall()}
    assert scored[("CW-1", "LE-1")] > scored[("CW-2", "LE-2")]
