"""Spelling keys: records whose names are one typing error apart are compared, at the cost
of a handful of keys per record (``features.add_file_features``).

Every name here is invented or comes from the synthetic generator.
"""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from nowrongdoor.identity import features
from nowrongdoor.identity.encoded import encode_file, load_encoded
from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile, _linker
from nowrongdoor.synth.people import COLUMNS


def row(record_id: str, first: str, last: str, birth: str = "", **fields: str) -> dict[str, str]:
    return {**dict.fromkeys(COLUMNS, ""), "record_id": record_id, "first_name": first, "last_name": last,
            "birth_date": birth, "sex": "female", **fields}


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def prepared(tmp_path: Path, rows: list[dict[str, str]]) -> duckdb.DuckDBPyConnection:
    con = features.connect()
    features.load_file(con, write(tmp_path / "in.csv", rows))
    features.prepare(con)
    return con


def column(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, list[str]]:
    return dict(con.execute(f"SELECT unique_id, {name} FROM records").fetchall())  # noqa: S608 (a column name)


# Jocelyn's surname lost an "r" and one digit of her birth date changed: no name key, no
# day/month key and no sound key is shared, so before spelling keys they were never compared.
JOCELYN = [row("J-1", "Jocelyn", "Kreamekirt", "2014-03-28"), row("J-2", "Jocelyn", "Keamekirt", "2014-02-28")]


def test_a_typing_error_in_the_surname_shares_a_key_where_no_other_key_is_shared(tmp_path: Path) -> None:
    con = prepared(tmp_path, JOCELYN)
    keys, names, dob = column(con, "spelling_keys"), column(con, "name_keys"), column(con, "dob_key")
    assert not set(names["J-1"]) & set(names["J-2"])
    assert dob["J-1"] != dob["J-2"]
    assert set(keys["J-1"]) & set(keys["J-2"])


def test_the_model_compares_the_two_records(tmp_path: Path) -> None:
    con = prepared(tmp_path, JOCELYN)
    linker = _linker(con, "records", ModelFile.load(DEFAULT_MODEL).splink)
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    pairs = con.execute(f"SELECT join_key_l, join_key_r FROM {blocked.physical_name}").fetchall()  # noqa: S608
    assert pairs == [("J-1", "J-2")]


def test_changed_and_swapped_letters_in_a_first_name_share_a_key(tmp_path: Path) -> None:
    rows = [row("A-1", "Ludrea", "Washington"), row("A-2", "Lusrea", "Washington", "", age_stated="19"),
            row("B-1", "Andre", "Nuteaova", "2013-09-19"), row("B-2", "Anrde", "Vecharail", "2013-09-19")]
    keys = column(prepared(tmp_path, rows), "spelling_keys")
    assert set(keys["A-1"]) & set(keys["A-2"])  # one letter changed, same surname
    assert set(keys["B-1"]) & set(keys["B-2"])  # two letters swapped, same date of birth


def test_a_common_name_lists_no_variants_and_each_error_lists_the_common_name(tmp_path: Path) -> None:
    typos = ["Emly", "Emiily", "Emilly", "Emilu", "Enily", "Meily", "Emiyl"]
    rows = [row(f"E-{i}", "Emily", "Garcia", f"2010-01-{i + 1:02d}") for i in range(20)]
    rows += [row(f"T-{i}", name, "Garcia", f"2010-02-{i + 1:02d}") for i, name in enumerate(typos)]
    con = prepared(tmp_path, rows)
    keys = column(con, "spelling_keys")
    # The common name carries one key of each kind (given name with surname sound, with a
    # surname variant, with the day/month key): no more, however many errors it has.
    assert all(len(keys[f"E-{i}"]) == 3 for i in range(20))
    for i in range(len(typos)):
        assert set(keys[f"T-{i}"]) & set(keys["E-0"]), typos[i]


def test_names_of_three_letters_or_fewer_are_no_one_s_variant(tmp_path: Path) -> None:
    rows = [row("S-1", "Amy", "Pyrbeck", "2012-05-05"), row("S-2", "Ama", "Pyrbeck", "2013-06-06"),
            row("S-3", "Ana", "Pyrbeck", "2014-07-07")]
    keys = column(prepared(tmp_path, rows), "spelling_keys")
    assert not set(keys["S-1"]) & set(keys["S-2"])
    assert not set(keys["S-2"]) & set(keys["S-3"])


letters = st.text(alphabet="abcdelmnorst", min_size=4, max_size=9)


@st.composite
def name_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A name and either an unrelated name or the same name with one or two letters
    deleted, inserted or changed (so that neighbours are common among the examples)."""
    a = draw(letters)
    b = a
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(b) - 1))
        letter = draw(st.sampled_from("abcdelmnorst"))
        b = draw(st.sampled_from([b[:i] + b[i + 1:], b[:i] + letter + b[i:], b[:i] + letter + b[i + 1:]]))
    return a, draw(st.one_of(st.just(b), letters))


@settings(max_examples=60, deadline=None)
@given(names=name_pairs())
def test_two_first_names_are_neighbours_exactly_when_they_share_a_one_letter_deletion(
        names: tuple[str, str]) -> None:
    """Checked against the definition in Python: the name and every way of deleting one
    letter, on each side (names under four letters: only the name); neighbours share a
    surname and so a spelling key."""
    a, b = names
    con = features.connect()
    con.execute("CREATE TABLE raw_input AS SELECT 1 AS row_no, * FROM (VALUES ('1', ?, 'Wexcombe'), "
                "('2', ?, 'Wexcombe')) v(record_id, first_name, last_name)", [a, b])
    for name in features.INPUT_COLUMNS:
        if name not in {"record_id", "first_name", "last_name"}:
            con.execute(f"ALTER TABLE raw_input ADD COLUMN {name} VARCHAR")
    features.prepare(con)
    keys = column(con, "spelling_keys")

    def deletions(s: str) -> set[str]:
        return {s} | ({s[:i] + s[i + 1:] for i in range(len(s))} if len(s) >= 4 else set())

    f_keys = {k for k in set(keys["1"]) & set(keys["2"]) if k.startswith("f|")}
    assert bool(f_keys) == bool(deletions(a) & deletions(b))


def test_an_encoded_file_gives_the_hub_the_same_spelling_keys_as_tokens(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    encode_file(write(tmp_path / "in.csv", JOCELYN), key, tmp_path / "enc.parquet")
    con = features.connect()
    load_encoded(con, tmp_path / "enc.parquet")
    keys = column(con, "spelling_keys")
    shared = set(keys["J-1"]) & set(keys["J-2"])
    assert shared
    assert not any("keamekirt" in k or "jocelyn" in k for k in shared)  # tokens, not names

    # Each agency encodes half under a different key: the hub finds nothing shared.
    encode_file(write(tmp_path / "one.csv", JOCELYN[:1]), key, tmp_path / "one.parquet")
    encode_file(write(tmp_path / "two.csv", JOCELYN[1:]), secrets.token_bytes(32), tmp_path / "two.parquet")
    pq.write_table(pa.concat_tables([pq.read_table(tmp_path / "one.parquet"), pq.read_table(tmp_path / "two.parquet")]),
                   tmp_path / "both.parquet")
    load_encoded(con, tmp_path / "both.parquet")
    keys = column(con, "spelling_keys")
    assert not set(keys["J-1"]) & set(keys["J-2"])
