"""Differentially private releases: the mechanism, the budget, which tables, who, the API and the page.

What this file proves:

- **the mechanism** (``analytics.privacy``): OpenDP's own privacy map gives exactly the
  epsilon asked for at sensitivity 1; one noisy count per count, never negative (clamped
  to 0, not folded); the noise is real (a tiny epsilon changes almost every count) and
  has the discrete Laplace distribution of scale 1 / epsilon (mean error near 0, variance
  as the formula says, and not that of half or twice the scale);
- **the budget**: releases of a year spend from one budget and add up; one that would
  go over it is refused naming ``epsilon`` and stores and spends nothing; the same
  measure and year from the same snapshot is the same release (no new noise, nothing
  spent, even with the budget gone); a new snapshot may be released again and spends again;
- **which tables**: every measure of distinct youth (``one_cell_per_youth``) can be
  released and is the measure's own table with noise; every other measure (events,
  overlapping columns) is refused naming ``measure``; and on a synthetic population, with
  at-risk youth added, each youth really is in at most one cell: every county's total is
  the number of distinct youth counted from the events themselves, and removing any one
  youth from the whole snapshot changes an eligible table by at most 1 in all (while it
  changes a measure with overlapping columns by more, so the check can fail);
- **who**: screeners, county analysts and inactive state analysts cannot release (service
  and API), and each refusal is in the audit log; a county analyst sees their own
  county's row and the state totals, a state analyst every county;
- **the API**: 201 with rows that add up to the state row; 422 naming the field, never a
  500, for a bad epsilon, a missing note, an event-count measure, an overspent budget;
- **the page**: renders for both analyst roles (the form only for a state analyst); a
  state analyst's POST releases and redirects; an invalid POST is a 400 that keeps what
  was typed.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import opendp.prelude as dp
import pytest
from django.conf import settings as django_settings

from nowrongdoor.access.models import AuditEvent
from nowrongdoor.analytics import measures, privacy, selectors, snapshot
from nowrongdoor.analytics.models import PrivacyBudget, PrivateRelease
from nowrongdoor.analytics.services import release_privately
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, ValidationFailed
from nowrongdoor.synth.generator import generate
from tests.analytics.conftest import link_perfectly
from tests.api.http import fields_named, post

pytestmark = pytest.mark.django_db

YOUTH = 500
SEED = 2  # 500 youth of seed 2 in 2 counties: identified youth in both counties in YEAR
YEAR = 2025
API = "/api/analytics/private-releases"
PAGE = "/data/releases/"
NOTE = "Annual report to the state council (test)"
YEAR_END = dt.date(YEAR, 12, 31)

ELIGIBLE = [m for m, (d, _) in measures.MEASURES.items() if d.one_cell_per_youth]
INELIGIBLE = [m for m in measures.MEASURES if m not in ELIGIBLE]


# -- the mechanism -------------------------------------------------------------------------


@pytest.mark.parametrize("epsilon", [0.01, 0.1, 0.25, 1 / 3, 0.7, 1.0, 3.7, 10.0])
def test_opendps_privacy_map_gives_the_epsilon_asked_for_at_sensitivity_one(epsilon: float) -> None:
    noisy = privacy.noisy_counts([3, 0, 12], epsilon)

    assert privacy.SENSITIVITY == 1
    assert noisy.scale == pytest.approx(1 / epsilon, rel=1e-12)
    assert noisy.epsilon == pytest.approx(epsilon, rel=1e-9)
    # The same measurement built here, from the scale the release used: OpenDP's own map.
    measurement = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int),
                                    scale=noisy.scale)
    assert float(measurement.map(1)) == pytest.approx(epsilon, rel=1e-9)
    assert float(measurement.map(2)) == pytest.approx(2 * epsilon, rel=1e-9)  # what sensitivity 2 would cost


@pytest.mark.parametrize("epsilon", [0.0, -0.5, float("nan")])
def test_the_mechanism_refuses_an_epsilon_that_is_not_positive(epsilon: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        privacy.noisy_counts([1, 2, 3], epsilon)


@pytest.mark.parametrize("values", [[7], [0, 1, 2, 3, 4, 5, 6], list(range(100)), [0] * 500])
def test_one_noisy_count_per_count_none_negative(values: list[int]) -> None:
    noisy = privacy.noisy_counts(values, 0.1)

    assert len(noisy.values) == len(values)
    assert all(isinstance(v, int) and v >= 0 for v in noisy.values)


def test_negative_noisy_counts_become_zero_rather_than_being_folded_back() -> None:
    # At scale 10 a count of 0 gets noise <= 0 with probability 0.525, so about 1,050 of 2,000 come
    # out 0 and 950 above it (binomial sd 22: 700 is over 11 sd away from either). Were negatives
    # folded back (absolute value), only noise of exactly 0, about 5%, would give 0.
    noisy = privacy.noisy_counts([0] * 2000, 0.1)

    assert sum(v == 0 for v in noisy.values) > 700
    assert sum(v > 0 for v in noisy.values) > 700  # and the rest is noise, not all zeros


def test_a_tiny_epsilon_really_changes_the_counts() -> None:
    # Scale 100: a count stays as it was with probability about 0.005. More than 50 of 200
    # unchanged would take a binomial tail far below 1e-60.
    values = [10_000 + k for k in range(200)]
    noisy = privacy.noisy_counts(values, 0.01)

    unchanged = sum(a == b for a, b in zip(values, noisy.values, strict=True))
    assert unchanged < 50


def discrete_laplace_variance(scale: float) -> float:
    """P(k) proportional to exp(-|k| / scale): variance 2q / (1 - q)^2 with q = exp(-1 / scale)."""
    q = math.exp(-1 / scale)
    return 2 * q / (1 - q) ** 2


@pytest.mark.parametrize("epsilon", [0.5, 2.0])
def test_the_noise_is_centred_and_its_spread_is_that_of_scale_one_over_epsilon(epsilon: float) -> None:
    n = 40_000
    true = 10_000  # far from 0: no draw is clamped (that would need noise below -10,000)
    errors = [v - true for v in privacy.noisy_counts([true] * n, epsilon).values]

    mean = sum(errors) / n
    variance = sum((e - mean) ** 2 for e in errors) / (n - 1)
    expected = discrete_laplace_variance(1 / epsilon)
    # Standard error of the mean: sqrt(variance / n) (0.014 at epsilon 0.5); the bound is > 10 of them.
    assert abs(mean) < 10 * math.sqrt(expected / n) + 0.01
    # The sample variance's relative standard error is sqrt((kurtosis - 1) / n): 1.1% at epsilon 0.5
    # (kurtosis about 6), 1.4% at 2 (about 9); 15% is over 10 of them, and half or twice the scale
    # would put the variance 2 to 5 times off.
    assert expected * 0.85 < variance < expected * 1.15, (variance, expected)
    assert discrete_laplace_variance(2 / epsilon) > 2 * expected  # so the bounds tell the scales apart
    assert discrete_laplace_variance(0.5 / epsilon) < expected / 2


# -- the synthetic population and the people ------------------------------------------------


@dataclass
class World:
    path: Path
    counties: list[str]  # names, in the snapshot's order
    state_analyst: User
    county_analyst: User  # of counties[0]
    other_analyst: User  # a county analyst of counties[1]
    screener: User


@pytest.fixture
def world(db: None, snapshot_path: Path, make_user: Callable[..., User], settings: Any) -> World:
    settings.DP_EPSILON_PER_YEAR = 1.0
    generate(youth=YOUTH, seed=SEED, counties=2)
    snapshot.refresh(path=snapshot_path)
    counties = list(County.objects.order_by("name"))
    assert len(counties) == 2
    home = Agency.objects.filter(county=counties[0]).order_by("pk").first()
    away = Agency.objects.filter(county=counties[1]).order_by("pk").first()
    con = snapshot.connect(snapshot_path)
    try:
        grid = measures.compute(con, "flagged", YEAR).grid
    finally:
        con.close()
    assert grid.rows == [c.name for c in counties]
    assert all(row[0] > 0 for row in grid.cells), "the test population has identified youth in both counties"
    return World(snapshot_path, grid.rows, make_user("state_analyst", home), make_user("analyst", home),
                 make_user("analyst", away), make_user("screener", home))


def release(world: World, measure_id: str = "gender", epsilon: float = 0.25, *, actor: User | None = None,
            year: int = YEAR, note: str = NOTE) -> PrivateRelease:
    return release_privately(actor=actor or world.state_analyst, measure_id=measure_id, year=year,
                             epsilon=epsilon, note=note)


def spent(year: int = YEAR) -> float:
    budget = PrivacyBudget.objects.filter(year=year).first()
    return 0.0 if budget is None else budget.spent


def truth(world: World, measure_id: str, year: int = YEAR) -> measures.Result:
    con = snapshot.connect(world.path)
    try:
        return measures.compute(con, measure_id, year)
    finally:
        con.close()


def released_events(actor: User, allowed: bool) -> Any:
    return AuditEvent.objects.filter(actor=actor, action="analytics.private_release", allowed=allowed)


# -- the budget ----------------------------------------------------------------------------


def test_releases_of_a_year_spend_from_one_budget_and_add_up(world: World, settings: Any) -> None:
    settings.DP_EPSILON_PER_YEAR = 0.8

    first = release(world, "flagged", 0.1)
    second = release(world, "gender", 0.2)
    budget = PrivacyBudget.objects.get(year=YEAR)

    assert (first.epsilon, second.epsilon) == (0.1, 0.2)
    assert budget.total == 0.8 and budget.spent == pytest.approx(0.3) and budget.left == pytest.approx(0.5)
    assert PrivateRelease.objects.count() == 2
    events = list(released_events(world.state_analyst, True).order_by("seq"))
    assert [(e.detail["measure"], e.detail["epsilon"]) for e in events] == [("flagged", 0.1), ("gender", 0.2)]
    assert events[-1].detail["budget_left"] == pytest.approx(0.5)
    assert [e.object_id for e in events] == [str(first.pk), str(second.pk)]

    third = release(world, "age", 0.5)  # exactly what is left (0.1 + 0.2 is not 0.3 in binary)

    assert third.epsilon == 0.5
    budget.refresh_from_db()
    assert budget.left == 0.0 and budget.spent == pytest.approx(0.8)
    assert PrivacyBudget.objects.count() == 1


def test_a_release_over_the_budget_is_refused_naming_epsilon_and_nothing_is_kept(world: World) -> None:
    release(world, "flagged", 0.4)
    before = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as refused:
        release(world, "gender", 0.6 + 1e-6)

    assert set(refused.value.errors) == {"epsilon"}
    assert "0.6" in refused.value.errors["epsilon"][0]  # says what is left
    assert PrivateRelease.objects.count() == 1 and not PrivateRelease.objects.filter(measure="gender").exists()
    assert spent() == pytest.approx(0.4)
    assert not released_events(world.state_analyst, True).filter(detail__measure="gender").exists()
    assert AuditEvent.objects.count() == before

    release(world, "gender", 0.6)  # what is left can still be spent
    assert spent() == pytest.approx(1.0)
    with pytest.raises(ValidationFailed) as refused:
        release(world, "race", 0.01)
    assert set(refused.value.errors) == {"epsilon"}


def test_other_years_have_their_own_budget(world: World) -> None:
    release(world, "race_known", 1.0)
    other = release(world, "race_known", 1.0, year=YEAR - 1)

    assert other.year == YEAR - 1
    assert spent(YEAR) == pytest.approx(1.0) and spent(YEAR - 1) == pytest.approx(1.0)


def test_the_same_measure_and_year_from_the_same_snapshot_is_the_same_release(world: World) -> None:
    first = release(world, "age", 0.3)

    again = release(world, "age", 0.3)
    with_more = release(world, "age", 0.9)  # another epsilon does not buy new noise either

    assert again.pk == first.pk and with_more.pk == first.pk
    assert again.rows == first.rows == PrivateRelease.objects.get(pk=first.pk).rows
    assert with_more.epsilon == 0.3
    assert PrivateRelease.objects.count() == 1 and spent() == pytest.approx(0.3)
    assert released_events(world.state_analyst, True).count() == 1

    release(world, "gender", 0.7)  # the budget is gone now ...
    assert release(world, "age", 0.3).pk == first.pk  # ... and the release made is still shown
    assert spent() == pytest.approx(1.0)


def test_a_new_snapshot_may_be_released_again_and_spends_again(world: World) -> None:
    first = release(world, "age", 0.3)

    snapshot.refresh(path=world.path)
    con = snapshot.connect(world.path)
    built_at = str(snapshot.meta(con)["built_at"])
    con.close()
    second = release(world, "age", 0.3)

    assert first.snapshot_built_at != built_at == second.snapshot_built_at
    assert second.pk != first.pk
    assert spent() == pytest.approx(0.6)
    assert PrivateRelease.objects.filter(measure="age", year=YEAR).count() == 2
    assert release(world, "age", 0.3).pk == second.pk and spent() == pytest.approx(0.6)
    listed = selectors.private_releases(actor=world.state_analyst, year=YEAR).tables
    assert [t.release.pk for t in listed] == [second.pk, first.pk]  # newest first


# -- which tables ----------------------------------------------------------------------------


def test_counts_of_distinct_youth_are_eligible_and_counts_of_events_are_not() -> None:
    assert {"flagged", "trend", "age", "gender", "race", "race_known", "lgbtq", "systems", "first_system",
            "identifying_system", "time_to_identification"} <= set(ELIGIBLE)
    assert {"csec_reports", "on_time_by_kind", "on_time_by_agency", "screening_coverage", "referral_gaps",
            "placement_gaps", "added_up", "cw_components", "exploitation_status", "prevention_need"} <= set(INELIGIBLE)
    assert not [m for m in ELIGIBLE if measures.MEASURES[m][0].overlapping]


def test_every_measure_of_distinct_youth_can_be_released(world: World) -> None:
    made = {m: release(world, m, 0.05) for m in ELIGIBLE}

    for measure_id, r in made.items():
        grid = truth(world, measure_id).grid
        assert r.measure == measure_id and r.year == YEAR and r.columns == grid.columns
        assert [county for county, _ in r.rows] == world.counties
        assert all(len(cells) == len(grid.columns) and min(cells) >= 0 for _, cells in r.rows)
        assert r.scale == pytest.approx(20.0) and r.mechanism == privacy.MECHANISM and r.note == NOTE
    assert spent() == pytest.approx(0.05 * len(ELIGIBLE))


def test_a_release_is_the_measures_own_table_with_noise(world: World, settings: Any) -> None:
    settings.DP_EPSILON_PER_YEAR = 10.0
    grid = truth(world, "race_known").grid

    r = release(world, "race_known", 10.0)  # the most epsilon allowed: scale 0.1

    # |noise| >= 4 at scale 0.1 has probability 2 exp(-40) / (1 + exp(-10)) < 1e-17 a cell.
    assert [county for county, _ in r.rows] == grid.rows and r.columns == grid.columns
    for (county, noisy), exact in zip(r.rows, grid.cells, strict=True):
        assert all(abs(a - b) < 4 for a, b in zip(noisy, exact, strict=True)), (county, noisy, exact)
    assert sum(map(sum, grid.cells)) > 30, "a table with something in it"


def test_a_measure_of_events_or_overlapping_columns_is_refused_naming_measure(world: World) -> None:
    for measure_id in [*INELIGIBLE, "no_such_measure"]:
        with pytest.raises(ValidationFailed) as refused:
            release(world, measure_id, 0.1)

        assert set(refused.value.errors) == {"measure"}, (measure_id, refused.value.errors)
    assert not PrivateRelease.objects.exists() and not PrivacyBudget.objects.exists()
    assert not released_events(world.state_analyst, True).exists()


BAD_SERVICE_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"epsilon": 0.0}, "epsilon"), ({"epsilon": -1.0}, "epsilon"), ({"epsilon": 10.01}, "epsilon"),
    ({"epsilon": 1e-320}, "epsilon"), ({"epsilon": float("nan")}, "epsilon"), ({"epsilon": float("inf")}, "epsilon"),
    ({"note": ""}, "note"), ({"note": "   "}, "note"), ({"year": YEAR - 60}, "year"),  # a year with nothing in it
]


def test_the_service_refuses_a_bad_epsilon_a_missing_note_or_an_empty_year(world: World, settings: Any) -> None:
    settings.DP_EPSILON_PER_YEAR = 100.0  # so that only the rule on epsilon itself can refuse 10.01
    for changes, field in BAD_SERVICE_INPUT:
        arguments = {"measure_id": "gender", "epsilon": 0.25, "note": NOTE, **changes}
        with pytest.raises(ValidationFailed) as refused:
            release(world, **arguments)

        assert set(refused.value.errors) == {field}, (changes, refused.value.errors)
    assert not PrivateRelease.objects.exists() and not PrivacyBudget.objects.exists()
    assert release(world, "gender", 10.0).epsilon == 10.0  # 10 itself is allowed


# -- each youth in at most one cell, on a synthetic population ---------------------------------


@pytest.fixture
def linked_facts(db: None, tmp_path: Path) -> Any:
    """A writable copy of a snapshot of the synthetic population, linked perfectly (one youth
    per true person, so youth have records in several agencies and counties), with at-risk
    screenings added (the generator makes none) and the facts derived again."""
    generate(youth=YOUTH, seed=SEED, counties=2)
    link_perfectly()
    built = tmp_path / "built.duckdb"
    snapshot.refresh(path=built)
    copy = tmp_path / "facts.duckdb"
    shutil.copy(built, copy)
    con = duckdb.connect(str(copy))
    con.execute("SET TimeZone = 'UTC'")
    agency = con.execute("SELECT min(agency_id) FROM src_agencies").fetchall()[0][0]
    identified = [y for (y,) in con.execute(
        "SELECT youth_id FROM youth_facts WHERE identified_on IS NOT NULL ORDER BY youth_id").fetchall()]
    with_contacts = [y for (y,) in con.execute(
        "SELECT DISTINCT youth_id FROM contacts_y WHERE year(occurred_on) = ? AND youth_id NOT IN "
        "(SELECT youth_id FROM youth_facts WHERE identified_on IS NOT NULL) ORDER BY youth_id", [YEAR]).fetchall()]
    screenings: list[tuple[int, str, str]] = []
    for youth_id in identified:  # screened at risk in the year of identification, before and after it
        on = con.execute("SELECT identified_on FROM youth_facts WHERE youth_id = ?", [youth_id]).fetchall()[0][0]
        screenings += [(youth_id, "possible_exploitation", f"{on.year}-01-01 12:00:00+00"),
                       (youth_id, "at_risk", f"{on.year}-12-30 12:00:00+00")]
    for k, youth_id in enumerate(with_contacts[:24]):  # at risk only, some twice, some in two years
        screenings.append((youth_id, "at_risk", f"{YEAR}-0{1 + k % 9}-15 12:00:00+00"))
        if k % 3 == 0:
            screenings.append((youth_id, "clear_indicators", f"{YEAR}-11-20 12:00:00+00"))
        if k % 4 == 0:
            screenings.append((youth_id, "at_risk", f"{YEAR - 1}-06-01 12:00:00+00"))
    con.executemany("INSERT INTO src_screenings (screening_id, youth_id, agency_id, setting, level, completed_at) "
                    "VALUES (?, ?, ?, 'test', ?, CAST(? AS TIMESTAMPTZ))",
                    [(10_000_000 + i, y, agency, level, at) for i, (y, level, at) in enumerate(screenings)])
    snapshot.derive(con, today=YEAR_END, time_zone=django_settings.TIME_ZONE)
    assert con.execute("SELECT count(*) FROM youth_facts WHERE year(at_risk_on) = ? AND identified_on IS NULL",
                       [YEAR]).fetchall()[0][0] >= 15
    yield con
    con.close()


def per_county(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, int]:
    """Distinct youth per county name from ``sql`` (which selects youth_id)."""
    rows = con.execute(f"SELECT c.county, count(DISTINCT s.youth_id) FROM ({sql}) s "  # noqa: S608
                       "JOIN youth_facts y USING (youth_id) JOIN src_counties c ON c.county_id = y.county_id "
                       "GROUP BY 1", params).fetchall()
    return {str(county): int(n) for county, n in rows}


FIRST_IDENTIFIED = "SELECT youth_id, min(on_day) AS first_on FROM identifying GROUP BY youth_id"
FIRST_AT_RISK = "SELECT youth_id, min(on_day) AS first_on FROM at_risk GROUP BY youth_id"


def youth_counted(con: duckdb.DuckDBPyConnection, measure_id: str, year: int) -> dict[str, int]:
    """The distinct youth a measure counts, per county, worked out from the events themselves."""
    start, end = f"{year}-01-01", f"{year}-12-31"
    identified = per_county(con, f"SELECT youth_id FROM ({FIRST_IDENTIFIED}) "  # noqa: S608
                            "WHERE first_on BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)", [start, end])
    if measure_id == "race_known":
        return per_county(con, "SELECT youth_id FROM contacts_y "
                          "WHERE occurred_on BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)", [start, end])
    if measure_id == "flagged":
        at_risk = per_county(con, f"SELECT r.youth_id FROM ({FIRST_AT_RISK}) r "  # noqa: S608
                             f"LEFT JOIN ({FIRST_IDENTIFIED}) i USING (youth_id) "
                             "WHERE r.first_on BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) "
                             "AND (i.first_on IS NULL OR i.first_on > CAST(? AS DATE))", [start, end, end])
        return {c: identified.get(c, 0) + at_risk.get(c, 0) for c in {*identified, *at_risk}}
    assert measures.MEASURES[measure_id][0].population == "identified", measure_id
    return identified


def l1(a: measures.Result, b: measures.Result) -> int:
    assert (a.grid.rows, a.grid.columns) == (b.grid.rows, b.grid.columns), "the table's shape is not the data's"
    return sum(abs(x - y) for ra, rb in zip(a.grid.cells, b.grid.cells, strict=True)
               for x, y in zip(ra, rb, strict=True))


def youth_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table of the snapshot with a row per youth or per youth's event (and contacts)."""
    return ["contacts", *(t for (t,) in con.execute(
        "SELECT DISTINCT table_name FROM information_schema.columns WHERE column_name = 'youth_id' "
        "ORDER BY 1").fetchall())]


def without_youth(con: duckdb.DuckDBPyConnection, youth_id: int, work: Callable[[], Any]) -> Any:
    """``work()`` on the snapshot with one youth taken out of every table (then put back)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM contacts WHERE record_id IN (SELECT record_id FROM src_records WHERE youth_id = ?)",
                    [youth_id])
        for table in youth_tables(con)[1:]:  # contacts: by their records, above
            con.execute(f"DELETE FROM {table} WHERE youth_id = ?", [youth_id])  # noqa: S608
        return work()
    finally:
        con.execute("ROLLBACK")


TAKEN_OUT = [*ELIGIBLE, "prevention_need"]  # the eligible tables, and one whose columns overlap


def test_each_youth_is_in_at_most_one_cell_of_every_eligible_table(linked_facts: Any) -> None:
    con = linked_facts
    years = [y for (y,) in con.execute("SELECT DISTINCT year(flagged_on) FROM youth_facts "
                                       "WHERE flagged_on IS NOT NULL ORDER BY 1").fetchall()]
    assert YEAR in years and len(years) >= 4
    assert con.execute("SELECT count(*) = count(DISTINCT youth_id) FROM youth_facts").fetchall()[0][0]

    # Every county's total is the number of distinct youth counted, worked out from the events.
    for year in years:
        for measure_id in ELIGIBLE:
            grid = measures.compute(con, measure_id, year).grid
            expected = youth_counted(con, measure_id, year)
            totals = {county: sum(row) for county, row in zip(grid.rows, grid.cells, strict=True)}
            assert totals == {c: expected.get(c, 0) for c in grid.rows}, (measure_id, year)
    flagged = measures.compute(con, "flagged", YEAR).grid
    assert all(row[1] > 0 for row in flagged.cells), "youth at risk and not identified, in both counties"

    # The table's shape does not depend on the data: a county with no youth has its row of zeros,
    # and with no youth at all the rows and columns are the same.
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("INSERT INTO src_counties (county_id, county) VALUES (999999, 'Empty County (synthetic)')")
        shapes = {}
        for measure_id in ELIGIBLE:
            grid = measures.compute(con, measure_id, YEAR).grid
            assert "Empty County (synthetic)" in grid.rows, measure_id
            assert grid.cells[grid.rows.index("Empty County (synthetic)")] == [0] * len(grid.columns), measure_id
            shapes[measure_id] = (grid.rows, grid.columns)
        for table in youth_tables(con):
            con.execute(f"DELETE FROM {table}")  # noqa: S608
        for measure_id in ELIGIBLE:
            grid = measures.compute(con, measure_id, YEAR).grid
            assert (grid.rows, grid.columns) == shapes[measure_id] and not any(map(any, grid.cells)), measure_id
    finally:
        con.execute("ROLLBACK")

    # Taking any one youth out changes a whole eligible table by at most 1: sensitivity 1.
    checked = 0
    worst_overlapping = 0
    for year in (YEAR - 1, YEAR):
        flagged_youth = [y for (y,) in con.execute(
            "SELECT youth_id FROM youth_facts WHERE year(flagged_on) = ? ORDER BY youth_id", [year]).fetchall()]
        busiest = [y for (y,) in con.execute(
            "SELECT youth_id FROM contacts_y WHERE year(occurred_on) = ? GROUP BY youth_id "
            "ORDER BY count(*) DESC, youth_id LIMIT 8", [year]).fetchall()]
        before = {m: measures.compute(con, m, year) for m in TAKEN_OUT}
        for youth_id in dict.fromkeys([*flagged_youth, *busiest]):
            after = without_youth(con, youth_id, lambda y=year: {m: measures.compute(con, m, y) for m in TAKEN_OUT})
            changes = {m: l1(before[m], after[m]) for m in before}
            assert all(changes[m] <= 1 for m in ELIGIBLE), (year, youth_id, changes)
            worst_overlapping = max(worst_overlapping, changes["prevention_need"])
            checked += 1
    assert checked >= 30
    # The same check on a measure whose columns overlap finds a youth in two cells: it can fail.
    assert worst_overlapping >= 2


# -- who releases, who sees what ---------------------------------------------------------------


@pytest.fixture
def api(client: Any) -> Any:
    client.raise_request_exception = False  # a bug shows as the 500 a caller would get
    return client


@pytest.mark.parametrize("who", ["screener", "county_analyst", "inactive_state_analyst"])
def test_only_an_active_state_analyst_releases_and_refusals_are_audited(world: World, api: Any, who: str) -> None:
    if who == "inactive_state_analyst":
        actor = world.state_analyst
        User.objects.filter(pk=actor.pk).update(is_active=False)
        actor.refresh_from_db()
    else:
        actor = getattr(world, who)

    with pytest.raises(AccessDenied):
        release(world, "gender", 0.25, actor=actor)

    assert released_events(actor, False).count() == 1
    refusal = released_events(actor, False).get()
    assert refusal.purpose == "analytics" and refusal.reason
    assert not PrivateRelease.objects.exists() and spent() == 0.0
    if who != "inactive_state_analyst":  # an inactive user cannot sign in at all
        api.force_login(actor)
        response = post(api, API, {"measure": "gender", "year": YEAR, "epsilon": 0.25, "note": NOTE})
        assert response.status_code == 403, response.content[:300]
        assert released_events(actor, False).count() == 2
        assert not PrivateRelease.objects.exists() and spent() == 0.0


def test_a_county_analyst_sees_their_own_countys_row_and_the_state_totals(world: World, api: Any) -> None:
    made = release(world, "gender", 0.5)
    all_rows = dict(made.rows)
    home, other = world.counties

    mine = selectors.private_releases(actor=world.county_analyst, year=YEAR)
    api.force_login(world.county_analyst)
    body = api.get(API, {"year": YEAR}).json()

    (table,) = mine.tables
    assert [county for county, _, _ in table.rows] == [home]
    assert table.rows[0][1] == all_rows[home] and table.rows[0][2] == sum(all_rows[home])
    state_cells = [sum(cells[k] for cells in all_rows.values()) for k in range(len(made.columns))]
    assert table.state == (state_cells, sum(state_cells))
    assert not mine.may_release
    (shown,) = body["releases"]
    assert [r["county"] for r in shown["rows"]] == [home] and other not in str(body)
    assert shown["state"]["cells"] == state_cells and shown["state"]["total"] == sum(state_cells)
    assert AuditEvent.objects.filter(actor=world.county_analyst, action="analytics.view", allowed=True,
                                     object_type="private_release").count() == 2

    theirs = selectors.private_releases(actor=world.other_analyst).tables[0]
    assert [county for county, _, _ in theirs.rows] == [other]
    everything = selectors.private_releases(actor=world.state_analyst)
    assert [county for county, _, _ in everything.tables[0].rows] == world.counties and everything.may_release


def test_a_screener_sees_no_private_release(world: World, api: Any) -> None:
    release(world, "gender", 0.5)
    api.force_login(world.screener)

    assert api.get(API).status_code == 403
    assert api.get(PAGE).status_code == 403
    with pytest.raises(AccessDenied):
        selectors.private_releases(actor=world.screener)
    assert AuditEvent.objects.filter(actor=world.screener, action="analytics.view", allowed=False).count() == 3


# -- the API --------------------------------------------------------------------------------


def test_the_api_releases_with_201_and_the_rows_add_up(world: World, api: Any) -> None:
    api.force_login(world.state_analyst)

    response = post(api, API, {"measure": "gender", "year": YEAR, "epsilon": 0.5, "note": NOTE})

    assert response.status_code == 201, response.content[:300]
    body = response.json()
    grid = truth(world, "gender").grid
    assert body["measure"] == "gender" and body["year"] == YEAR and body["note"] == NOTE
    assert body["epsilon"] == 0.5 and body["scale"] == pytest.approx(2.0)
    assert [c["code"] for c in body["columns"]] == grid.columns
    assert [r["county"] for r in body["rows"]] == world.counties
    for row in body["rows"]:
        assert len(row["cells"]) == len(grid.columns) and min(row["cells"]) >= 0
        assert row["total"] == sum(row["cells"])
    assert body["state"]["cells"] == [sum(r["cells"][k] for r in body["rows"]) for k in range(len(grid.columns))]
    assert body["state"]["total"] == sum(body["state"]["cells"]) == sum(r["total"] for r in body["rows"])
    assert body["rows"] == [{"county": c, "cells": cells, "total": sum(cells)}
                            for c, cells in PrivateRelease.objects.get(pk=body["id"]).rows]

    listed = api.get(API, {"year": YEAR}).json()
    assert [r["id"] for r in listed["releases"]] == [body["id"]] and listed["releases"][0]["rows"] == body["rows"]
    assert listed["budgets"] == [{"year": YEAR, "total": 1.0, "spent": 0.5, "left": 0.5}]
    assert api.get(API, {"year": YEAR - 1}).json()["releases"] == []

    again = post(api, API, {"measure": "gender", "year": YEAR, "epsilon": 0.5, "note": NOTE})
    assert again.status_code == 201 and again.json()["id"] == body["id"] and again.json()["rows"] == body["rows"]
    assert spent() == pytest.approx(0.5)


BAD_API_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"epsilon": 0}, "epsilon"), ({"epsilon": -0.25}, "epsilon"), ({"epsilon": 10.5}, "epsilon"),
    ({"epsilon": "lots"}, "epsilon"), ({"epsilon": None}, "epsilon"), ({"epsilon": [0.5]}, "epsilon"),
    ({"note": None}, "note"), ({"note": ""}, "note"), ({"note": "   "}, "note"), ({"year": "last"}, "year"),
    ({"measure": "csec_reports"}, "measure"), ({"measure": "on_time_by_kind"}, "measure"),
    ({"measure": "nothing_like_it"}, "measure"),
]  # None: the field left out


def api_release(api: Any, **changes: Any) -> Any:
    body = {"measure": "gender", "year": YEAR, "epsilon": 0.25, "note": NOTE, **changes}
    return post(api, API, {k: v for k, v in body.items() if v is not None})


def test_the_api_answers_a_bad_request_with_422_naming_the_field(world: World, api: Any, settings: Any) -> None:
    settings.DP_EPSILON_PER_YEAR = 100.0  # only the rules on the input refuse, not the budget
    api.force_login(world.state_analyst)
    for changes, field in BAD_API_INPUT:
        response = api_release(api, **changes)

        assert response.status_code == 422, (changes, response.status_code, response.content[:300])
        assert field in fields_named(response), (changes, response.json())
    assert not PrivateRelease.objects.exists() and not PrivacyBudget.objects.exists()

    settings.DP_EPSILON_PER_YEAR = 1.0
    over = api_release(api, epsilon=1.5)
    assert over.status_code == 422 and fields_named(over) == {"epsilon"}, over.content[:300]
    assert not PrivateRelease.objects.exists() and spent() == 0.0


@pytest.mark.parametrize("epsilon", [1e-320, 1e-9, 0.0099])
def test_an_epsilon_too_small_for_a_useful_noise_scale_is_a_422_not_a_500(world: World, api: Any,
                                                                        epsilon: float) -> None:
    # 1e-320 once passed every check and made the noise scale 1 / epsilon infinite: OpenDP raised, a 500.
    api.force_login(world.state_analyst)

    response = api_release(api, epsilon=epsilon)

    assert response.status_code == 422, response.content[:300]
    assert fields_named(response) == {"epsilon"}
    with pytest.raises(ValidationFailed) as refused:
        release(world, "gender", epsilon)
    assert set(refused.value.errors) == {"epsilon"}
    assert not PrivateRelease.objects.exists() and not PrivacyBudget.objects.exists()
    assert api_release(api, epsilon=0.01).status_code == 201  # the smallest allowed


# -- the page -------------------------------------------------------------------------------


def test_the_page_renders_for_both_analyst_roles(world: World, client: Any) -> None:
    made = release(world, "gender", 0.5)
    home, other = world.counties

    client.force_login(world.state_analyst)
    state_page = client.get(PAGE)
    client.force_login(world.county_analyst)
    county_page = client.get(PAGE)

    assert state_page.status_code == 200 and county_page.status_code == 200
    state_html, county_html = state_page.content.decode(), county_page.content.decode()
    assert 'id="release-form"' in state_html and 'id="release-form"' not in county_html
    assert 'id="budget-table"' in state_html and 'id="budget-table"' in county_html
    assert f'id="release-{made.pk}"' in state_html and f'id="release-{made.pk}"' in county_html
    assert home in state_html and other in state_html
    assert home in county_html and other not in county_html
    assert '<option value="gender"' in state_html and '<option value="csec_reports"' not in state_html
    for measure_id in ELIGIBLE:
        assert f'<option value="{measure_id}"' in state_html


def test_a_state_analysts_post_releases_and_redirects(world: World, client: Any) -> None:
    client.force_login(world.state_analyst)

    response = client.post(PAGE, {"action": "release", "measure": "age", "year": str(YEAR), "epsilon": "0.25",
                                  "note": NOTE})

    assert response.status_code == 302 and response["Location"] == PAGE
    made = PrivateRelease.objects.get()
    assert (made.measure, made.year, made.epsilon, made.note, made.created_by_id) == (
        "age", YEAR, 0.25, NOTE, world.state_analyst.pk)
    assert spent() == pytest.approx(0.25)
    page = client.get(PAGE).content.decode()
    assert f'id="release-{made.pk}"' in page and NOTE in page


BAD_FORMS: list[tuple[dict[str, str], str]] = [
    ({"epsilon": "abc"}, "epsilon"), ({"epsilon": "0"}, "epsilon"), ({"epsilon": "10.5"}, "epsilon"),
    ({"epsilon": "nan"}, "epsilon"), ({"epsilon": ""}, "epsilon"), ({"epsilon": "-1"}, "epsilon"),
    ({"note": "  "}, "note"), ({"year": ""}, "year"), ({"year": "soon"}, "year"),
    ({"measure": "csec_reports"}, "measure"),
]


def test_an_invalid_post_is_a_400_that_keeps_what_was_typed(world: World, client: Any, settings: Any) -> None:
    settings.DP_EPSILON_PER_YEAR = 100.0  # only the rules on the form refuse, not the budget
    client.force_login(world.state_analyst)
    for form, field in [*BAD_FORMS, ({"epsilon": "1.5"}, "epsilon")]:
        if form == {"epsilon": "1.5"}:
            settings.DP_EPSILON_PER_YEAR = 1.0  # and last, over the year's budget
        posted = {"action": "release", "measure": "race", "year": str(YEAR), "epsilon": "0.3",
                  "note": "Bulletin for the county board", **form}

        response = client.post(PAGE, posted)

        assert response.status_code == 400, (form, response.status_code)
        html = response.content.decode()
        assert 'role="alert"' in html and f'<p class="usa-alert__text">{field}: ' in html, form
        if posted["note"].strip():
            assert f">{posted['note']}</textarea>" in html, form
        if posted["epsilon"]:
            assert f'id="epsilon" name="epsilon" type="number" step="0.01" min="0.01" max="10" ' \
                   f'value="{posted["epsilon"]}"' in html, form
        if posted["measure"] == "race":
            assert '<option value="race" selected>' in html, form
        if posted["year"] == str(YEAR):
            assert f'<option value="{YEAR}" selected>' in html, form
    assert not PrivateRelease.objects.exists() and spent() == 0.0


def test_a_county_analysts_post_is_refused_and_audited(world: World, client: Any) -> None:
    client.force_login(world.county_analyst)

    response = client.post(PAGE, {"action": "release", "measure": "age", "year": str(YEAR), "epsilon": "0.25",
                                  "note": NOTE})

    assert response.status_code == 403
    assert released_events(world.county_analyst, False).count() == 1
    assert not PrivateRelease.objects.exists() and spent() == 0.0
