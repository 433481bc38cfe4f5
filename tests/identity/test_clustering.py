"""Clustering links into youth without chaining two children together (``clustering``).

The pairs here are written by hand in the shape Splink's predictions have (ids and the
probability; each record's date of birth and day/month key are in the records table), so
each case shows one rule: strongest link first, dates of birth in the two groups with no
real date among them that every other is a recording error of refuse the join, the
errors the model forgives do not, a steward's decision refuses it too.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nowrongdoor.identity.clustering import (
    Birth,
    Groups,
    _cluster_edges,
    birth_of,
    births_agree,
    births_compatible,
    cluster_links,
)
from nowrongdoor.identity.encoded import date_parts
from nowrongdoor.identity.encoding import token


@pytest.mark.parametrize(("a", "b", "agree"), [
    ("2011-03-04", "2011-03-04", True),   # the same
    ("2011-03-04", "2011-04-03", True),   # day and month swapped
    ("2011-03-04", "2011-03-05", True),   # one digit
    ("2011-03-04", "2012-03-04", True),   # one digit of the year
    ("2009-03-04", "2010-03-04", True),   # the year one more, carried: two characters
    ("2011-09-04", "2011-10-04", True),   # the month one more, carried
    ("2011-03-19", "2011-03-20", True),   # the day one more, carried
    ("2011-03-15", "2011-03-28", False),  # the day, by two digits: another date, not a typo
    ("2011-03-04", "2011-11-04", False),  # the month, by two digits
    ("2011-03-04", "2011-05-06", False),  # month and day
    ("2011-03-04", "2013-08-04", False),  # year and month
    ("2011-03-04", "2012-04-03", False),  # swapped and another year
])
def test_births_agree_as_the_model_forgives(a: str, b: str, agree: bool) -> None:
    left, right = birth_of(dt.date.fromisoformat(a)), birth_of(dt.date.fromisoformat(b))
    assert births_agree(left, right) is agree
    assert births_agree(right, left) is agree


@given(st.dates(dt.date(2000, 1, 1), dt.date(2020, 12, 31)), st.dates(dt.date(2000, 1, 1), dt.date(2020, 12, 31)))
def test_births_agree_when_one_part_is_one_typing_error_off_or_day_and_month_swap(a: dt.date, b: dt.date) -> None:
    differ = [(x, y) for x, y in ((a.year, b.year), (a.month, b.month), (a.day, b.day)) if x != y]
    typo = len(differ) == 1 and (abs(differ[0][0] - differ[0][1]) == 1 or sum(
        x != y for x, y in zip(f"{differ[0][0]:02d}", f"{differ[0][1]:02d}", strict=True)) == 1)
    swapped = a.year == b.year and {a.month, a.day} == {b.month, b.day}
    assert births_agree(birth_of(a), birth_of(b)) is (a == b or typo or swapped)


def _births(*days: str) -> Counter[Birth]:
    """Dates of birth with how many records give each (a date repeated is recorded again)."""
    return Counter(birth_of(dt.date.fromisoformat(d)) for d in days)


def test_births_are_compatible_around_the_most_recorded_date_that_every_other_is_an_error_of() -> None:
    assert births_compatible(Counter())
    assert births_compatible(_births("2011-03-04"))
    # A swap and a typo disagree with each other; both are errors of 2011-03-04.
    assert not births_compatible(_births("2011-04-03", "2011-03-05"))
    assert births_compatible(_births("2011-04-03", "2011-03-05", "2011-03-04"))
    assert births_compatible(_births("2011-04-03", "2011-03-05", "2011-03-04", "2011-03-04"))
    # Two dates two parts apart: no centre among them, and a third that agrees with one only adds none.
    assert not births_compatible(_births("2011-03-04", "2011-05-06"))
    assert not births_compatible(_births("2011-03-04", "2011-05-06", "2011-03-05"))
    # Two children recorded twice each (2011-03-04, 2012-03-05) and a date one error from
    # each recorded once: the centre must be among the most recorded.
    assert not births_compatible(_births("2011-03-04", "2011-03-04", "2012-03-05", "2012-03-05", "2011-03-05"))
    assert births_compatible(_births("2011-03-05", "2011-03-05", "2011-03-04", "2012-03-05"))


def test_birth_of_matches_the_linkage_features() -> None:
    """The key must be the one ``features.prepare`` writes, so that groups built from the
    platform's dates and from Splink's columns agree."""
    con = duckdb.connect()
    key = con.execute("SELECT year(d) || '/' || lpad(CAST(least(month(d), day(d)) AS VARCHAR), 2, '0') || '/' || "
                      "lpad(CAST(greatest(month(d), day(d)) AS VARCHAR), 2, '0') FROM (SELECT DATE '2010-11-07' d)"
                      ).fetchall()[0][0]
    assert birth_of(dt.date(2010, 11, 7)) == Birth("2010-11-07", key, ())


def _encoded_birth(day: str, key: bytes) -> Birth:
    """A date of birth as the hub sees it: keyed tokens, and hashes of its parts' tokens."""
    born = birth_of(dt.date.fromisoformat(day))
    return Birth(token(key, "dob", born.date), token(key, "dob_key", born.key),
                 tuple(hash(token(key, "dob_part", part)) for part in date_parts(day)))


@pytest.mark.parametrize(("a", "b", "agree"), [
    ("2011-03-04", "2011-03-04", True),   # the same
    ("2011-03-04", "2011-04-03", True),   # day and month swapped
    ("2011-03-04", "2011-03-05", True),   # only the day
    ("2011-03-04", "2012-03-04", True),   # only the year
    ("2011-03-04", "2011-11-04", True),   # only the month, by two characters: tokens cannot tell
    ("2011-03-04", "2011-05-06", False),  # month and day
    ("2011-03-04", "2013-08-04", False),  # year and month
])
def test_encoded_births_agree_when_only_one_of_year_month_and_day_differs(a: str, b: str, agree: bool) -> None:
    key = b"k" * 32
    left, right = _encoded_birth(a, key), _encoded_birth(b, key)
    assert a == b or left.date != right.date  # tokens, not dates: nothing to read an edit from
    assert births_agree(left, right) is agree
    assert births_agree(right, left) is agree


def test_encoded_clustering_reads_the_date_parts_of_the_records() -> None:
    """On an encoded file (``dob_parts`` in the records), a typo in the day joins and two
    parts different refuse, as the tokens of whole dates alone could not tell."""
    key = b"k" * 32
    con = duckdb.connect()
    days = {"a": "2011-03-04", "b": "2011-03-05", "c": "2011-05-06"}
    born = {r: _encoded_birth(d, key) for r, d in days.items()}
    con.execute("CREATE TABLE recs (unique_id VARCHAR, dob VARCHAR, dob_key VARCHAR, dob_parts VARCHAR[])")
    con.executemany("INSERT INTO recs VALUES (?, ?, ?, ?)", [
        [r, born[r].date, born[r].key, [token(key, "dob_part", p) for p in date_parts(d)]] for r, d in days.items()])
    con.execute("CREATE TABLE preds (unique_id_l VARCHAR, unique_id_r VARCHAR, match_probability DOUBLE)")
    con.executemany("INSERT INTO preds VALUES (?, ?, ?)", [("a", "b", 0.999), ("b", "c", 0.995)])
    result = cluster_links(con, "recs", "preds", 0.99)
    clusters = dict(con.execute("SELECT unique_id, cluster_id FROM nwd_clusters").fetchall())
    assert result.table == "nwd_clusters"
    assert clusters["a"] == clusters["b"] != clusters["c"]
    assert result.refused == 1


def _table(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str, float, str | None, str | None]],
           records: list[str]) -> None:
    def key(day: str | None) -> str | None:
        return birth_of(dt.date.fromisoformat(day))[1] if day else None

    born: dict[str, str | None] = {}
    for a, b, _, da, db in pairs:  # each record's date of birth, written with every pair it is in
        for record, day in ((a, da), (b, db)):
            assert born.setdefault(record, day) == day, f"{record} given two dates"
    con.execute("CREATE OR REPLACE TABLE recs (unique_id VARCHAR, dob VARCHAR, dob_key VARCHAR)")
    con.executemany("INSERT INTO recs VALUES (?, ?, ?)", [[r, born.get(r), key(born.get(r))] for r in records])
    con.execute("CREATE OR REPLACE TABLE preds (unique_id_l VARCHAR, unique_id_r VARCHAR, match_probability DOUBLE)")
    con.executemany("INSERT INTO preds VALUES (?, ?, ?)", [[a, b, p] for a, b, p, _, _ in pairs])


def _clusters(con: duckdb.DuckDBPyConnection) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for unique_id, cluster_id in con.execute("SELECT unique_id, cluster_id FROM nwd_clusters").fetchall():
        groups.setdefault(cluster_id, set()).add(unique_id)
    return {frozenset(g) for g in groups.values()}


def test_a_record_without_a_birth_date_does_not_chain_two_children() -> None:
    """A (born 2011-03-04) and B (born 2012-09-20) are two girls; C, a street name and no
    date of birth, links strongly to both. Connected components would make one youth of
    all three; here C joins the stronger link and the other is refused."""
    con = duckdb.connect()
    _table(con, [("A", "C", 0.999, "2011-03-04", None), ("B", "C", 0.995, "2012-09-20", None)], ["A", "B", "C", "D"])
    clustered = cluster_links(con, "recs", "preds", 0.99)
    assert _clusters(con) == {frozenset({"A", "C"}), frozenset({"B"}), frozenset({"D"})}
    assert clustered.refused == 1
    assert con.execute("SELECT unique_id_l, unique_id_r, reason FROM nwd_clusters_refused").fetchall() == [
        ("B", "C", "dates of birth")]
    assert clustered.joined == 1


def test_typos_and_swaps_still_join_and_links_below_the_threshold_do_not() -> None:
    con = duckdb.connect()
    _table(con, [
        ("A", "B", 0.999, "2011-03-04", "2011-04-03"),  # swapped
        ("B", "C", 0.998, "2011-04-03", "2011-03-04"),  # swapped back
        ("C", "D", 0.997, "2011-03-04", None),
        ("E", "F", 0.996, "2009-12-30", "2008-12-30"),  # one digit of the year
        ("D", "E", 0.98, None, "2009-12-30"),  # below the link threshold
    ], ["A", "B", "C", "D", "E", "F"])
    clustered = cluster_links(con, "recs", "preds", 0.99)
    assert _clusters(con) == {frozenset("ABCD"), frozenset("EF")}
    assert clustered.refused == 0


def test_two_different_errors_of_one_date_join_around_the_real_date() -> None:
    """B (day and month swapped) and C (a typo in the day) disagree with each other, but
    both are errors of A's date: all three join, whichever link comes first."""
    con = duckdb.connect()
    _table(con, [
        ("A", "B", 0.999, "2011-03-04", "2011-04-03"),
        ("A", "C", 0.998, "2011-03-04", "2011-03-05"),
    ], ["A", "B", "C"])
    assert cluster_links(con, "recs", "preds", 0.99).refused == 0
    assert _clusters(con) == {frozenset("ABC")}


def test_two_different_errors_without_the_real_date_stay_apart() -> None:
    """The same B and C linked straight to each other, and the real date not among them
    yet: refused (it could be two children); when A's link comes later, A joins B's group,
    and the refused link waits for a steward."""
    con = duckdb.connect()
    _table(con, [
        ("B", "C", 0.999, "2011-04-03", "2011-03-05"),
        ("A", "B", 0.998, "2011-03-04", "2011-04-03"),
    ], ["A", "B", "C"])
    assert cluster_links(con, "recs", "preds", 0.99).refused == 1
    assert _clusters(con) == {frozenset("AB"), frozenset("C")}
    assert con.execute("SELECT unique_id_l, unique_id_r FROM nwd_clusters_refused").fetchall() == [("B", "C")]


def test_a_conflict_anywhere_in_either_group_refuses_the_join() -> None:
    """B and C agree with each other (one digit), but C's group already holds D, whose
    date conflicts with A in B's group: joining would put A and D in one youth."""
    con = duckdb.connect()
    _table(con, [
        ("A", "B", 0.9999, "2011-03-04", None),
        ("C", "D", 0.9998, "2011-03-05", "2011-07-15"),  # a conflict within one pair is refused too
        ("B", "C", 0.999, None, "2011-03-05"),
    ], ["A", "B", "C", "D"])
    assert cluster_links(con, "recs", "preds", 0.99).refused == 1
    assert _clusters(con) == {frozenset("ABC"), frozenset("D")}
    assert con.execute("SELECT unique_id_l, unique_id_r FROM nwd_clusters_refused").fetchall() == [("C", "D")]


def test_integer_ids_keep_their_type() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE recs AS SELECT CAST(range AS BIGINT) AS unique_id, NULL::VARCHAR dob, "
                "NULL::VARCHAR dob_key FROM range(1, 5)")
    con.execute("CREATE TABLE preds AS SELECT 3::BIGINT unique_id_l, 2::BIGINT unique_id_r, 0.995 match_probability")
    cluster_links(con, "recs", "preds", 0.99)
    rows = con.execute("SELECT unique_id, cluster_id, typeof(cluster_id) FROM nwd_clusters ORDER BY 1").fetchall()
    assert rows == [(1, 1, "BIGINT"), (2, 2, "BIGINT"), (3, 2, "BIGINT"), (4, 4, "BIGINT")]


def test_a_stewards_decision_refuses_a_join_through_any_member() -> None:
    groups = Groups(apart=[(1, 3)])
    assert groups.union(1, 2) is True
    assert groups.try_union(2, 3) == (False, "decision")
    assert groups.union(2, 1) is None
    assert groups.roots() == {1: 1, 2: 1, 3: 3}


@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=30),
       st.dictionaries(st.integers(0, 11), st.sampled_from(["2011-03-04", "2011-04-03", "2011-03-05", "2012-07-09",
                                                            "2013-01-02"]), max_size=8))
def test_splitting_by_component_gives_what_every_edge_through_groups_gives(
        edges: list[tuple[int, int]], born: dict[int, str]) -> None:
    """``_cluster_edges`` sends only the components holding a conflict through ``Groups``;
    the labels, joins and refusals must be those of sending every edge through it."""
    edges = [(a, b) for a, b in edges if a != b]
    nodes = sorted({x for edge in edges for x in edge})
    number = {x: i for i, x in enumerate(nodes)}  # nodes 0 .. n-1, as cluster_links numbers them
    births = {number[x]: [birth_of(dt.date.fromisoformat(d))] for x, d in born.items() if x in number}
    left = np.array([number[a] for a, _ in edges], dtype=np.int64)
    right = np.array([number[b] for _, b in edges], dtype=np.int64)
    labels, joined, refused, reasons = _cluster_edges(left, right, births)

    groups = Groups(births=births)
    expected_joined, expected_refused = 0, []
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        done = groups.union(a, b)
        expected_joined += bool(done)
        if done is False:
            expected_refused.append((a, b))
    roots = groups.roots()
    expected_refused = [(a, b) for a, b in expected_refused if roots[a] != roots[b]]
    assert labels.tolist() == [roots[i] for i in range(len(nodes))]
    assert (joined, refused) == (expected_joined, expected_refused)
    assert reasons == ["dates of birth"] * len(refused)
