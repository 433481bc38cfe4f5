"""Measures: each one a function over the snapshot with its written definition.

Every measure answers for one calendar year (dates in the county's time zone) and for
every county at once: a grid of counts with counties as rows. A county view is one row
of it; the state view is the column totals. Computing the whole grid, and protecting it
as one table (``disclosure``), is what keeps a county's masked cell from being
recovered by subtracting the other counties from the state figure.

**Identified** (a victim of commercial sexual exploitation known to a system) on the
earliest of: a child-abuse report alleging commercial sexual exploitation
(``hotline_report`` with allegation ``sexual_exploitation``); an arrest, citation or
detention for a ``prostitution_related`` offence (a minor so arrested is a victim, not an
offender); an exploitation status in a victim category (``victim_*``).
**At risk**: a completed screening at level ``at_risk``, ``possible_exploitation`` or
``clear_indicators``, or an exploitation status ``at_risk``.
A youth is the platform's youth after identity resolution, so a girl known to four
agencies is counted once; the "added up" measure shows what summing agency counts gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from nowrongdoor.analytics.disclosure import Grid
from nowrongdoor.dictionary import vocabulary


@dataclass(frozen=True)
class Definition:
    """What a measure counts, in words shown beside its chart and in docs/measures.md."""

    id: str
    title: str
    counts: str
    numerator: str = ""
    denominator: str = ""
    period: str = "Calendar year, by date in the county's time zone."
    needs: str = ""
    chart: str = "bar"  # bar, line or parts (stacked shares)
    rate_parts: tuple[str, ...] = ()  # for parts charts: the part that is the numerator first
    population: str = ""  # "identified": row totals equal each county's identified youth
    overlapping: bool = False  # a youth may count in several columns: no row total is shown

    @property
    def one_cell_per_youth(self) -> bool:
        """Each youth adds 1 to at most one cell of the whole table (one county, one
        column): what a differentially private release needs to bound its noise."""
        return self.population in ("flagged", "identified") or self.id in PARTITIONS_OF_YOUTH


@dataclass
class Result:
    definition: Definition
    grid: Grid
    labels: dict[str, str] = field(default_factory=dict)
    has_data: bool = True


PARTITIONS_OF_YOUTH = {"race_known"}  # counts of distinct youth, one column each, beyond the identified

MeasureFn = Callable[[duckdb.DuckDBPyConnection, int], Result]
MEASURES: dict[str, tuple[Definition, MeasureFn]] = {}


def measure(definition: Definition) -> Callable[[MeasureFn], MeasureFn]:
    def register(fn: MeasureFn) -> MeasureFn:
        MEASURES[definition.id] = (definition, fn)
        return fn
    return register


def counties(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return [(int(i), str(n)) for i, n in con.execute(
        "SELECT county_id, county FROM src_counties ORDER BY county").fetchall()]


def _bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _grid(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], columns: list[str]) -> Grid:
    """A grid from rows of (county_id, column, count); unknown columns are dropped."""
    rows = counties(con)
    position = {county_id: r for r, (county_id, _) in enumerate(rows)}
    column_of = {c: k for k, c in enumerate(columns)}
    cells = [[0] * len(columns) for _ in rows]
    for county_id, column, count in con.execute(sql, params).fetchall():
        if county_id in position and str(column) in column_of:
            cells[position[county_id]][column_of[str(column)]] += int(count)
    return Grid([name for _, name in rows], list(columns), cells)


def _has(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> bool:
    return bool(con.execute(f"SELECT EXISTS ({sql})", params or []).fetchall()[0][0])


def _codes(code_list: str) -> dict[str, str]:
    return dict(vocabulary().choices(code_list))


def _result(definition: Definition, grid: Grid, labels: dict[str, str], has_data: bool = True) -> Result:
    return Result(definition, grid, labels, has_data)


IDENTIFIED_IN_YEAR = "identified_on BETWEEN ? AND ?"

# -- prevalence -------------------------------------------------------------------------


@measure(Definition(
    id="flagged", title="Youth identified or screened at risk",
    counts="Distinct youth, unduplicated across agencies: first identified as a victim in the year, or "
           "first flagged at risk in the year and not identified by its end.",
    needs="Contacts (reports, arrests), screenings, exploitation statuses.", population="flagged"))
def flagged(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, """
        SELECT county_id, 'identified', count(*) FROM youth_facts WHERE identified_on BETWEEN ? AND ? GROUP BY 1
        UNION ALL
        SELECT county_id, 'at_risk', count(*) FROM youth_facts
         WHERE at_risk_on BETWEEN ? AND ? AND (identified_on IS NULL OR identified_on > ?) GROUP BY 1
    """, [start, end, start, end, end], ["identified", "at_risk"])
    return _result(MEASURES["flagged"][0], grid, {"identified": "Identified as victims",
                                                  "at_risk": "At risk (not identified)"})


@measure(Definition(
    id="added_up", title="What adding up agency counts would give",
    counts="For each kind of agency, the distinct youth that agency's own events identified in the year. "
           "Summed across agencies this over-counts: a youth known to several agencies is counted by each. "
           "Compare with the unduplicated count of identified youth.",
    needs="Contacts, exploitation statuses.", chart="bar"))
def added_up(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    types = vocabulary().agency_types
    grid = _grid(con, """
        SELECT y.county_id, i.agency_type, count(DISTINCT i.youth_id)
          FROM identifying i JOIN youth_facts y USING (youth_id) WHERE i.on_day BETWEEN ? AND ? GROUP BY 1, 2
    """, [start, end], list(types))
    return _result(MEASURES["added_up"][0], grid, types)


@measure(Definition(
    id="trend", title="Youth first identified, by month",
    counts="Distinct youth by the month of their first identification.", chart="line", population="identified"))
def trend(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    grid = _grid(con, f"""
        SELECT county_id, strftime(identified_on, '%Y-%m'), count(*) FROM youth_facts
         WHERE {IDENTIFIED_IN_YEAR} GROUP BY 1, 2
    """, [start, end], months)
    labels = {m: dt.date(year, int(m[5:]), 1).strftime("%b") for m in months}
    return _result(MEASURES["trend"][0], grid, labels)


AGE_BANDS = {"under_12": "Under 12", "12_13": "12-13", "14_15": "14-15", "16_17": "16-17", "18_up": "18 or older",
             "unknown": "Age not known"}


@measure(Definition(
    id="age", title="Age when identified",
    counts="Youth first identified in the year, by age in whole years on the day of identification "
           "(birth date from the youth's records; an age stated on a day where no birth date is known).",
    population="identified"))
def age(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, f"""
        SELECT county_id, CASE WHEN birth_date IS NULL THEN 'unknown'
                               WHEN date_diff('year', birth_date, identified_on)
                                    - (strftime(identified_on, '%m%d') < strftime(birth_date, '%m%d'))::INT < 12
                                    THEN 'under_12'
                               ELSE CASE (date_diff('year', birth_date, identified_on)
                                    - (strftime(identified_on, '%m%d') < strftime(birth_date, '%m%d'))::INT)
                                    WHEN 12 THEN '12_13' WHEN 13 THEN '12_13' WHEN 14 THEN '14_15'
                                    WHEN 15 THEN '14_15' WHEN 16 THEN '16_17' WHEN 17 THEN '16_17'
                                    ELSE '18_up' END END,
               count(*)
          FROM youth_facts WHERE {IDENTIFIED_IN_YEAR} GROUP BY 1, 2
    """, [start, end], list(AGE_BANDS))
    return _result(MEASURES["age"][0], grid, AGE_BANDS)


GENDERS = {"girl": "Girls", "boy": "Boys", "transgender_girl": "Transgender girls",
           "transgender_boy": "Transgender boys", "nonbinary": "Nonbinary youth", "unknown": "Not recorded"}


@measure(Definition(
    id="gender", title="Gender",
    counts="Youth first identified in the year, by gender: the gender identity recorded by any agency "
           "(transgender and nonbinary youth shown as such), else the sex recorded. Boys are shown, "
           "not folded into another group.", population="identified"))
def gender(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, f"SELECT county_id, gender, count(*) FROM youth_facts WHERE {IDENTIFIED_IN_YEAR} "
                      "GROUP BY 1, 2", [start, end], list(GENDERS))
    return _result(MEASURES["gender"][0], grid, GENDERS)


@measure(Definition(
    id="race", title="Race and ethnicity",
    counts="Youth first identified in the year, by the race/ethnicity most often recorded for them "
           "(code list race_ethnicity). The 'known to the platform' measure gives the comparison population.",
    population="identified"))
def race(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    codes = _codes("race_ethnicity")
    grid = _grid(con, f"SELECT county_id, race, count(*) FROM youth_facts WHERE {IDENTIFIED_IN_YEAR} GROUP BY 1, 2",
                 [start, end], list(codes))
    return _result(MEASURES["race"][0], grid, codes)


@measure(Definition(
    id="race_known", title="Race and ethnicity of all youth with a contact in the year",
    counts="Distinct youth with any contact with any system in the year, by race/ethnicity: the population "
           "against which the identified youth's shares are compared (a disparity is a share among identified "
           "youth well above the share among all youth the systems met).",
    needs="Contacts."))
def race_known(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    codes = _codes("race_ethnicity")
    grid = _grid(con, """
        SELECT y.county_id, y.race, count(*) FROM youth_facts y
         WHERE youth_id IN (SELECT youth_id FROM contacts_y WHERE occurred_on BETWEEN ? AND ?) GROUP BY 1, 2
    """, [start, end], list(codes))
    return _result(MEASURES["race_known"][0], grid, codes)


LGBTQ = {"lgbtq": "LGBTQ", "not_lgbtq": "Not LGBTQ", "not_recorded": "Not recorded"}


@measure(Definition(
    id="lgbtq", title="LGBTQ youth",
    counts="Youth first identified in the year: LGBTQ where a gender identity (transgender, nonbinary, "
           "questioning) or sexual orientation (lesbian/gay, bisexual, questioning, other) was recorded, "
           "with consent, by any agency; 'not recorded' where neither was.", population="identified"))
def lgbtq(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, f"SELECT county_id, lgbtq, count(*) FROM youth_facts WHERE {IDENTIFIED_IN_YEAR} GROUP BY 1, 2",
                 [start, end], list(LGBTQ))
    return _result(MEASURES["lgbtq"][0], grid, LGBTQ)


# -- pathways ---------------------------------------------------------------------------

SYSTEM_COUNTS = {"0": "None before", "1": "1 system", "2": "2 systems", "3": "3 systems", "4": "4 systems",
                 "5+": "5 or more"}


@measure(Definition(
    id="systems", title="Systems each youth touched",
    counts="Youth first identified in the year, by how many kinds of agency (child welfare, probation, "
           "court, law enforcement, health, mental health, education, community) had a contact with them "
           "up to the day of identification.", population="identified"))
def systems(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, f"""
        SELECT y.county_id, CASE WHEN n >= 5 THEN '5+' ELSE CAST(n AS VARCHAR) END, count(*)
          FROM (SELECT y.youth_id, y.county_id, count(DISTINCT c.agency_type) AS n FROM youth_facts y
                  LEFT JOIN contacts_y c ON c.youth_id = y.youth_id AND c.occurred_at <= y.identified_at
                 WHERE y.{IDENTIFIED_IN_YEAR} GROUP BY 1, 2) y GROUP BY 1, 2
    """, [start, end], list(SYSTEM_COUNTS))
    return _result(MEASURES["systems"][0], grid, SYSTEM_COUNTS)


@measure(Definition(
    id="first_system", title="Which system met them first",
    counts="Youth first identified in the year, by the kind of agency of their earliest recorded contact, "
           "and so the order: the first door is where identification could have started.",
    population="identified"))
def first_system(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    types = vocabulary().agency_types
    grid = _grid(con, f"""
        SELECT y.county_id, coalesce(arg_min(c.agency_type, c.occurred_at), 'none'), 1
          FROM youth_facts y LEFT JOIN contacts_y c USING (youth_id)
         WHERE y.{IDENTIFIED_IN_YEAR} GROUP BY y.youth_id, y.county_id
    """, [start, end], [*types, "none"])
    return _result(MEASURES["first_system"][0], grid, {**types, "none": "No contact recorded"})


@measure(Definition(
    id="identifying_system", title="Which system identified them",
    counts="Youth first identified in the year, by the kind of agency whose event identified them first.",
    population="identified"))
def identifying_system(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    types = vocabulary().agency_types
    grid = _grid(con, f"SELECT county_id, identified_by, count(*) FROM youth_facts WHERE {IDENTIFIED_IN_YEAR} "
                      "GROUP BY 1, 2", [start, end], list(types))
    return _result(MEASURES["identifying_system"][0], grid, types)


YEARS_TO_ID = {"under_1": "Under 1 year", "1_2": "1-2 years", "2_5": "2-5 years", "5_up": "5 years or more",
               "unknown": "No earlier contact"}


@measure(Definition(
    id="time_to_identification", title="Time from first system contact to identification",
    counts="Youth first identified in the year, by the time between their earliest recorded contact with any "
           "system and their identification.", population="identified"))
def time_to_identification(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, f"""
        SELECT county_id, CASE WHEN first_contact_at IS NULL OR first_contact_at >= identified_at THEN 'unknown'
                               WHEN identified_at - first_contact_at < INTERVAL 365 DAY THEN 'under_1'
                               WHEN identified_at - first_contact_at < INTERVAL 730 DAY THEN '1_2'
                               WHEN identified_at - first_contact_at < INTERVAL 1826 DAY THEN '2_5'
                               ELSE '5_up' END, count(*)
          FROM youth_facts WHERE {IDENTIFIED_IN_YEAR} GROUP BY 1, 2
    """, [start, end], list(YEARS_TO_ID))
    return _result(MEASURES["time_to_identification"][0], grid, YEARS_TO_ID)


# -- response ---------------------------------------------------------------------------

SCREENING_EVENTS = {"removal": "Entry to care", "probation_intake": "Probation intake", "detention": "Detention",
                    "absence_return": "Return from absence"}
SCREEN_WINDOW_DAYS = 30


@measure(Definition(
    id="screening_coverage", title="Screening coverage",
    counts="Intakes (entry to foster care, probation intake, detention) and returns from absence in the year.",
    numerator=f"those followed by a completed screening of the same youth from the day before to "
              f"{SCREEN_WINDOW_DAYS} days after",
    denominator="all such intakes and returns", chart="parts", rate_parts=("screened", "not_screened"),
    needs="Contacts and screenings."))
def screening_coverage(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    columns = [f"{event}:{part}" for event in SCREENING_EVENTS for part in ("screened", "not_screened")]
    grid = _grid(con, f"""
        SELECT y.county_id, e.contact_type || ':' || CASE WHEN EXISTS (
                   SELECT 1 FROM src_screenings s WHERE s.youth_id = e.youth_id
                      AND s.completed_at BETWEEN e.occurred_at - INTERVAL 1 DAY
                                             AND e.occurred_at + INTERVAL {SCREEN_WINDOW_DAYS} DAY)
               THEN 'screened' ELSE 'not_screened' END, count(*)
          FROM contacts_y e JOIN youth_facts y USING (youth_id)
         WHERE e.contact_type IN ('removal', 'probation_intake', 'detention', 'absence_return')
           AND e.occurred_on BETWEEN ? AND ? GROUP BY 1, 2
    """, [start, end], columns)
    labels = {f"{e}:{p}": f"{name}: {'screened' if p == 'screened' else 'not screened'}"
              for e, name in SCREENING_EVENTS.items() for p in ("screened", "not_screened")}
    return _result(MEASURES["screening_coverage"][0], grid, labels)


TASK_PARTS = {"on_time": "done on time", "late": "done late", "not_done": "not done", "waived": "waived"}


def _task_outcome() -> str:
    return """CASE WHEN status = 'done' AND closed_at <= due_at THEN 'on_time'
                   WHEN status = 'done' THEN 'late' WHEN status = 'waived' THEN 'waived' ELSE 'not_done' END"""


@measure(Definition(
    id="on_time_by_agency", title="Protocol deadlines met, by kind of agency",
    counts="Protocol tasks due in the year (cancelled tasks left out), by the kind of agency that owns them.",
    numerator="tasks done by their deadline", denominator="tasks due", chart="parts",
    rate_parts=("on_time", "late", "not_done", "waived"), needs="Protocol tasks."))
def on_time_by_agency(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    types = vocabulary().agency_types
    columns = [f"{t}:{p}" for t in types for p in TASK_PARTS]
    grid = _grid(con, f"""
        SELECT county_id, agency_type || ':' || {_task_outcome()}, count(*) FROM src_tasks
         WHERE status <> 'cancelled' AND CAST(due_at AS DATE) BETWEEN ? AND ? GROUP BY 1, 2
    """, [start, end], columns)
    labels = {f"{t}:{p}": f"{name}: {part}" for t, name in types.items() for p, part in TASK_PARTS.items()}
    return _result(MEASURES["on_time_by_agency"][0], _drop_empty(grid), labels)


@measure(Definition(
    id="on_time_by_kind", title="Protocol deadlines met, by kind of task",
    counts="Protocol tasks due in the year (cancelled left out), by kind of task (e.g. screening, "
           "safety plan, notify law enforcement).",
    numerator="tasks done by their deadline", denominator="tasks due", chart="parts",
    rate_parts=("on_time", "late", "not_done", "waived"), needs="Protocol tasks."))
def on_time_by_kind(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    kinds = [k for (k,) in con.execute("SELECT DISTINCT kind FROM src_tasks ORDER BY kind").fetchall()]
    columns = [f"{k}:{p}" for k in kinds for p in TASK_PARTS]
    grid = _grid(con, f"""
        SELECT county_id, kind || ':' || {_task_outcome()}, count(*) FROM src_tasks
         WHERE status <> 'cancelled' AND CAST(due_at AS DATE) BETWEEN ? AND ? GROUP BY 1, 2
    """, [start, end], columns)
    labels = {f"{k}:{p}": f"{k.replace('_', ' ')}: {part}" for k in kinds for p, part in TASK_PARTS.items()}
    return _result(MEASURES["on_time_by_kind"][0], _drop_empty(grid), labels, has_data=bool(kinds))


def _drop_empty(grid: Grid) -> Grid:
    """Leave out column groups ('x:part') with no count anywhere (e.g. agency kinds without tasks)."""
    groups: dict[str, list[int]] = {}
    for k, column in enumerate(grid.columns):
        groups.setdefault(column.split(":")[0], []).append(k)
    keep = [k for ks in groups.values() if any(row[k] for row in grid.cells for k in ks) for k in ks]
    return Grid(grid.rows, [grid.columns[k] for k in keep], [[row[k] for k in keep] for row in grid.cells])


REFERRAL_PARTS = {"no_capacity": "Declined: no capacity", "declined_other": "Declined: other reason",
                  "not_declined": "Not declined"}


@measure(Definition(
    id="referral_gaps", title="Referrals declined for lack of capacity",
    counts="Referrals to services made in the year, by whether the provider declined them for lack of "
           "capacity (decline reason no_capacity), declined them for another reason, or did not decline.",
    numerator="referrals declined for lack of capacity", denominator="referrals made", chart="parts",
    rate_parts=("no_capacity", "declined_other", "not_declined"), needs="Case referrals."))
def referral_gaps(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, """
        SELECT a.county_id, CASE WHEN r.status = 'declined' AND r.decline_reason = 'no_capacity' THEN 'no_capacity'
                                 WHEN r.status = 'declined' THEN 'declined_other' ELSE 'not_declined' END, count(*)
          FROM src_referrals r JOIN src_agencies a USING (agency_id)
         WHERE CAST(r.created_at AS DATE) BETWEEN ? AND ? GROUP BY 1, 2
    """, [start, end], list(REFERRAL_PARTS))
    return _result(MEASURES["referral_gaps"][0], grid, {f"{k}": v for k, v in REFERRAL_PARTS.items()},
                   has_data=_has(con, "SELECT 1 FROM src_referrals"))


@measure(Definition(
    id="placement_gaps", title="Placement searches with no suitable placement",
    counts="Placement searches made in the year that found no resource passing every safety rule, and the "
           "distinct youth they were for. Nights without a suitable placement: for each such search, the "
           "nights until the youth's next placement began (or the year's end), shown where the youth are.",
    needs="Placement searches and placements.", overlapping=True))
def placement_gaps(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, """
        WITH empty AS (
            SELECT m.match_run_id, m.youth_id, m.requested_at, a.county_id FROM src_match_runs m
              JOIN src_agencies a USING (agency_id)
             WHERE m.options = 0 AND CAST(m.requested_at AS DATE) BETWEEN ? AND ?
        )
        SELECT county_id, 'searches', count(*) FROM empty GROUP BY 1
        UNION ALL SELECT county_id, 'youth', count(DISTINCT youth_id) FROM empty GROUP BY 1
    """, [start, end], ["searches", "youth"])
    labels = {"searches": "Searches with no suitable placement", "youth": "Youth they were for"}
    return _result(MEASURES["placement_gaps"][0], grid, labels, has_data=_has(con, "SELECT 1 FROM src_match_runs"))


def nights_without_placement(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, int]:
    """Per county name: nights from each search with no suitable placement to the youth's next
    placement start (capped at the year's end). Published only beside a shown youth count."""
    start, end = _bounds(year)
    rows = con.execute("""
        SELECT c.county, sum(date_diff('day', CAST(m.requested_at AS DATE),
                                       least(coalesce((SELECT min(CAST(p.started_at AS DATE)) FROM src_placements p
                                                        WHERE p.youth_id = m.youth_id
                                                          AND p.started_at >= m.requested_at), ?), ?)))
          FROM src_match_runs m JOIN src_agencies a USING (agency_id) JOIN src_counties c USING (county_id)
         WHERE m.options = 0 AND CAST(m.requested_at AS DATE) BETWEEN ? AND ?
         GROUP BY 1
    """, [end, end, start, end]).fetchall()
    return {str(county): int(nights or 0) for county, nights in rows}


@measure(Definition(
    id="csec_reports", title="Child-abuse reports alleging commercial sexual exploitation",
    counts="Child-abuse reports (hotline reports) made in the year with an allegation of commercial sexual "
           "exploitation, by month. Reports, not youth: one youth may be reported more than once.",
    chart="line", needs="Child-welfare hotline reports."))
def csec_reports(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    grid = _grid(con, """
        SELECT y.county_id, strftime(c.occurred_on, '%Y-%m'), count(*) FROM contacts_y c JOIN youth_facts y
         USING (youth_id) WHERE c.contact_type = 'hotline_report'
           AND list_contains(c.allegations, 'sexual_exploitation')
           AND c.occurred_on BETWEEN ? AND ? GROUP BY 1, 2
    """, [start, end], months)
    labels = {m: dt.date(year, int(m[5:]), 1).strftime("%b") for m in months}
    return _result(MEASURES["csec_reports"][0], grid, labels,
                   has_data=_has(con, "SELECT 1 FROM contacts_y WHERE contact_type = 'hotline_report'"))


@measure(Definition(
    id="cw_components", title="Child-welfare services by programme component",
    counts="Distinct youth identified or flagged at risk (at any time up to the year's end) who had a "
           "child-welfare service episode in the year, by programme component (emergency response, family "
           "maintenance, family reunification, permanent placement). A youth served under two components "
           "counts in both.", needs="Child-welfare service episodes (contact type cw_service).", overlapping=True))
def cw_components(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    codes = _codes("cw_service_component")
    grid = _grid(con, """
        SELECT y.county_id, c.component, count(DISTINCT c.youth_id) FROM contacts_y c JOIN youth_facts y
         USING (youth_id) WHERE c.contact_type = 'cw_service' AND c.occurred_on BETWEEN ? AND ?
           AND y.flagged_on <= ? GROUP BY 1, 2
    """, [start, end, end], list(codes))
    return _result(MEASURES["cw_components"][0], grid, codes,
                   has_data=_has(con, "SELECT 1 FROM contacts_y WHERE contact_type = 'cw_service'"))


@measure(Definition(
    id="exploitation_status", title="Exploitation status recorded",
    counts="Distinct youth with an exploitation status starting in the year, by the status category "
           "(victim before entering foster care, while in care, while absent from placement, at risk...). A "
           "youth with two statuses in the year counts in both.", needs="Case exploitation statuses.",
    overlapping=True))
def exploitation_status(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    codes = _codes("exploitation_status")
    grid = _grid(con, """
        SELECT y.county_id, s.status, count(DISTINCT s.youth_id) FROM src_exploitation_statuses s
          JOIN youth_facts y USING (youth_id) WHERE s.start_date BETWEEN ? AND ? GROUP BY 1, 2
    """, [start, end], list(codes))
    return _result(MEASURES["exploitation_status"][0], grid, codes,
                   has_data=_has(con, "SELECT 1 FROM src_exploitation_statuses"))


# -- prevention programmes (C1) -----------------------------------------------------------


@measure(Definition(
    id="prevention_programmes", title="Youth in prevention programmes",
    counts="Distinct youth enrolled in a prevention programme in the year, those who completed one in the year "
           "(attended the catalogue's share of its sessions), and, of all youth who completed one by the year's "
           "end, those later screened at risk or identified as a victim (an outcome to watch, not proof of "
           "effect). The area is the youth's county of residence.",
    needs="Prevention cohorts and enrolments.", overlapping=True))
def prevention_programmes(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    try:
        zone = str(dict(con.execute("SELECT key, value FROM meta").fetchall()).get("time_zone", "UTC"))
    except duckdb.CatalogException:  # facts derived outside a refresh (tests)
        zone = "UTC"
    zone = zone.replace("'", "")
    grid = _grid(con, f"""
        WITH e AS (SELECT *, CAST(timezone('{zone}', enrolled_at) AS DATE) AS enrolled_on FROM src_enrolments),
        later AS (SELECT youth_id, on_day FROM at_risk UNION ALL SELECT youth_id, on_day FROM identifying)
        SELECT y.county_id, 'enrolled', count(DISTINCT e.youth_id) FROM e JOIN youth_facts y USING (youth_id)
         WHERE e.enrolled_on BETWEEN ? AND ? GROUP BY 1
        UNION ALL
        SELECT y.county_id, 'completed', count(DISTINCT e.youth_id) FROM e JOIN youth_facts y USING (youth_id)
         WHERE e.status = 'completed' AND e.completed_on BETWEEN ? AND ? GROUP BY 1
        UNION ALL
        SELECT y.county_id, 'flagged_after', count(DISTINCT e.youth_id) FROM e JOIN youth_facts y USING (youth_id)
         WHERE e.status = 'completed' AND e.completed_on <= ?
           AND EXISTS (SELECT 1 FROM later l WHERE l.youth_id = e.youth_id AND l.on_day > e.completed_on
                                               AND l.on_day <= ?)
         GROUP BY 1
    """, [start, end, start, end, end, end], ["enrolled", "completed", "flagged_after"])
    has = _has(con, "SELECT 1 FROM src_enrolments")
    return _result(MEASURES["prevention_programmes"][0], grid, {
        "enrolled": "Enrolled in the year", "completed": "Completed in the year",
        "flagged_after": "Completed, then flagged at risk or identified"}, has)


# -- prevention need (C2) -----------------------------------------------------------------

NEED_INDICATORS = {"screened_at_risk": "Screened at risk", "ran_away": "Absent from placement",
                   "prostitution_arrest": "Arrested for a prostitution-related offence",
                   "truancy": "Chronic truancy", "known": "All youth with a contact"}


@measure(Definition(
    id="prevention_need", title="Where prevention is most needed",
    counts="Distinct youth in the year with each warning sign: screened at risk or higher, absent from "
           "placement, arrested or cited for a prostitution-related offence, chronic truancy; and all youth "
           "with any contact (the base of the rates). The area is the youth's county of residence. Rates per "
           "1,000 youth known to the systems rank the areas that most need prevention services.",
    needs="Contacts and screenings.", overlapping=True))
def prevention_need(con: duckdb.DuckDBPyConnection, year: int) -> Result:
    start, end = _bounds(year)
    grid = _grid(con, """
        WITH signs AS (
            SELECT youth_id, 'screened_at_risk' AS sign FROM at_risk WHERE how = 'screening' AND on_day BETWEEN ? AND ?
            UNION SELECT youth_id, 'ran_away' FROM contacts_y
                   WHERE contact_type = 'absence_start' AND occurred_on BETWEEN ? AND ?
            UNION SELECT youth_id, 'prostitution_arrest' FROM contacts_y
                   WHERE contact_type IN ('arrest', 'citation') AND offence_category = 'prostitution_related'
                     AND occurred_on BETWEEN ? AND ?
            UNION SELECT youth_id, 'truancy' FROM contacts_y
                   WHERE contact_type = 'school_event' AND event = 'truancy' AND occurred_on BETWEEN ? AND ?
            UNION SELECT youth_id, 'known' FROM contacts_y WHERE occurred_on BETWEEN ? AND ?
        )
        SELECT y.county_id, s.sign, count(*) FROM signs s JOIN youth_facts y USING (youth_id) GROUP BY 1, 2
    """, [start, end] * 5, list(NEED_INDICATORS))
    return _result(MEASURES["prevention_need"][0], grid, NEED_INDICATORS)


def compute(con: duckdb.DuckDBPyConnection, measure_id: str, year: int) -> Result:
    definition, fn = MEASURES[measure_id]
    del definition
    return fn(con, year)


def markdown() -> str:
    """The measures' definitions as Markdown (the generated part of docs/measures.md)."""
    out = []
    for definition, _ in MEASURES.values():
        out.append(f"### {definition.title} (`{definition.id}`)\n")
        out.append(f"- **Counts**: {definition.counts}")
        if definition.numerator:
            out.append(f"- **Share**: {definition.numerator} / {definition.denominator}.")
        out.append(f"- **Period**: {definition.period}")
        if definition.needs:
            out.append(f"- **Needs**: {definition.needs} Without it the measure shows \"no data yet\".")
        if definition.population == "identified":
            out.append("- Its county totals are the identified youth of `flagged`, masked the same way.")
        if definition.overlapping:
            out.append("- A youth (or event) may count in several columns, so no row total is shown.")
        out.append("")
    return "\n".join(out)
