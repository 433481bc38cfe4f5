"""Privacy-preserving encodings: deterministic for a key, useless without it (another key
links nothing), a day/month swap still agrees, and name filters keep names that are close
close and names that differ apart. Names come from the synthetic generator."""

from __future__ import annotations

import csv
import datetime as dt
import secrets
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nowrongdoor.identity.encoded import encode_file
from nowrongdoor.identity.encoding import KeyTooShort, bigrams, bloom, bloom_positions, dice, token
from nowrongdoor.synth.generator import plan_person
from nowrongdoor.synth.names import GIRLS, SURNAMES
from nowrongdoor.synth.people import COLUMNS, population

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def names_filter(key: bytes, *names: str) -> int:
    return bloom(key, (g for n in names for g in bigrams(n.lower())))


def _encode(tmp_path: Path, key: bytes, rows: list[dict[str, str]], name: str) -> list[dict[str, object]]:
    source = tmp_path / f"{name}.csv"
    with source.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)
    out = tmp_path / f"{name}.parquet"
    encode_file(source, key, out, today=dt.date(2026, 6, 30))
    return pq.read_table(out).to_pylist()


def _rows(people: int, seed: int = 5) -> list[dict[str, str]]:
    return [record.row() for record in population(seed, people)]


def test_file_encodings_are_deterministic_for_a_key_and_differ_under_another_key(tmp_path: Path) -> None:
    rows = _rows(30)
    first = _encode(tmp_path, KEY, rows, "a")
    shouted = [{**r, "first_name": r["first_name"].upper(), "last_name": f" {r['last_name']} "} for r in rows]
    assert _encode(tmp_path, KEY, shouted, "b") == first  # normalised before encoding
    other = _encode(tmp_path, OTHER_KEY, rows, "c")
    for ours, theirs in zip(first, other, strict=True):
        for column in ("first_name", "last_name", "dob", "dob_key", "first_sound", "name_tokens", "first_bloom"):
            if ours[column]:
                assert ours[column] != theirs[column], column
        assert ours["birth_year_low"] == theirs["birth_year_low"]  # coarse fields stay in clear
    # No name is sent as itself (names are not searched in the raw bytes: a 4-letter name
    # can occur inside a base32 token by chance), and no date or phone appears anywhere.
    cells = {value for row in first for cell in row.values()
             for value in (cell if isinstance(cell, list) else [cell]) if isinstance(value, str)}
    raw = (tmp_path / "a.parquet").read_bytes()
    for row in rows:
        for name in (row["first_name"], row["last_name"]):
            assert name.lower() not in cells, name
        for value in (row["birth_date"], row["phone"]):
            if value:
                assert value.encode() not in raw, value


def test_another_key_shares_no_tokens() -> None:
    """Tokens made under different keys agree no more than chance."""
    people = [plan_person(5, i) for i in range(60)]
    ours = {token(KEY, "name", p.records[0].first_name.lower()) for p in people}
    theirs = {token(OTHER_KEY, "name", p.records[0].first_name.lower()) for p in people}
    assert not ours & theirs
    same_person = [dice(names_filter(KEY, p.records[0].first_name), names_filter(OTHER_KEY, p.records[0].first_name))
                   for p in people]
    assert max(same_person) < 0.7  # what a random pair of filters looks like, not a match (~0.9+)


def test_a_day_month_swap_shares_the_day_month_token_but_not_the_date_token(tmp_path: Path) -> None:
    base = {"first_name": "Quenby", "last_name": "Marlowitz", "sex": "female"}
    rows = [{**base, "record_id": r, "birth_date": d}
            for r, d in (("a", "2012-03-04"), ("b", "2012-04-03"), ("c", "2013-03-04"))]
    a, b, c = _encode(tmp_path, KEY, rows, "swap")
    assert a["dob_key"] == b["dob_key"] != c["dob_key"]
    assert a["dob"] != b["dob"]


def test_a_wrong_digit_shares_two_date_part_tokens_and_two_wrong_parts_share_none(tmp_path: Path) -> None:
    base = {"first_name": "Quenby", "last_name": "Marlowitz", "sex": "female"}
    rows = [{**base, "record_id": r, "birth_date": d}
            for r, d in (("a", "2012-03-04"), ("b", "2012-03-07"), ("c", "2012-05-07"), ("d", ""))]
    a, b, c, d = _encode(tmp_path, KEY, rows, "parts")
    assert len(set(a["dob_parts"]) & set(b["dob_parts"])) == 1  # year and month: only the day differs
    assert not set(a["dob_parts"]) & set(c["dob_parts"])  # month and day differ
    assert d["dob_parts"] == []
    assert not any("2012" in part for part in a["dob_parts"])


def test_name_filters_keep_close_names_close_and_different_names_apart() -> None:
    close = dice(names_filter(KEY, "destiny"), names_filter(KEY, "destinee"))
    apart = dice(names_filter(KEY, "destiny"), names_filter(KEY, "maria"))
    assert close > 0.6 and apart < 0.3
    assert dice(names_filter(KEY, "destiny", "smith"), names_filter(KEY, "destiny", "smith")) == 1.0


@settings(max_examples=60, deadline=None)
@given(a=st.sampled_from(GIRLS), b=st.sampled_from(SURNAMES))
def test_the_filter_dice_follows_the_bigram_dice(a: str, b: str) -> None:
    """Bloom-filter Dice approximates the Dice of the bigram sets (the published property),
    biased upwards by bit collisions: with 1,024 bits and 20 hashes a short name sets ~150
    bits, so two unrelated names share ~15 % of them by chance."""
    ga, gb = set(bigrams(a.lower())), set(bigrams(b.lower()))
    exact = 2 * len(ga & gb) / (len(ga) + len(gb))
    approx = dice(names_filter(KEY, a.lower()), names_filter(KEY, b.lower()))
    assert -0.05 < approx - exact < 0.25


def test_empty_values_give_empty_tokens_and_keys_must_be_long() -> None:
    assert token(KEY, "first_name", "") == ""
    assert bloom_positions(KEY, []) == []
    with pytest.raises(KeyTooShort):
        token(b"short", "first_name", "ana")
    assert len(token(secrets.token_bytes(32), "first_name", "ana")) == 26  # 128 bits in base32


def test_files_encoded_under_two_keys_link_nothing_across_them(tmp_path: Path) -> None:
    """The same youth encoded by two groups of agencies with different keys: the hub links
    each group's records (the machinery works on encodings) but never across the groups."""
    import pyarrow as pa

    from nowrongdoor.identity.linkfile import link_file

    rows = _rows(400, seed=11)
    ours = _encode(tmp_path, KEY, [{**r, "record_id": f"ours-{r['record_id']}"} for r in rows], "ours")
    theirs = _encode(tmp_path, OTHER_KEY, [{**r, "record_id": f"theirs-{r['record_id']}"} for r in rows], "theirs")
    combined = tmp_path / "combined.parquet"
    schema = pq.read_schema(tmp_path / "ours.parquet")
    pq.write_table(pa.Table.from_pylist(ours + theirs, schema=schema), combined)
    result = link_file(combined, tmp_path / "out", retrain=True, encoded=True, today=dt.date(2026, 6, 30))
    with (tmp_path / "out" / "pairs.csv").open() as f:
        pairs = list(csv.DictReader(f))
    within = [p for p in pairs if p["record_id_l"].split("-")[0] == p["record_id_r"].split("-")[0]]
    across = [p for p in pairs if p["record_id_l"].split("-")[0] != p["record_id_r"].split("-")[0]]
    assert result.links > 100 and len(within) == len(pairs)
    assert across == []
