"""Published tables: every measure for a year, protected together, as anyone without
row-level rights sees them (dashboards, exports, the API).

The order matters: ``flagged`` (youth identified or at risk, per county) is protected
first; every breakdown of the identified youth (by month, age, gender...) then takes
its county totals' masks from it and may not mask them differently, so a county total
is shown, or masked, the same way in every table.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from nowrongdoor.analytics import measures, snapshot
from nowrongdoor.analytics.disclosure import Grid, protect_grid, rate


@dataclass(frozen=True)
class Cell:
    code: str
    label: str
    value: int | None  # None: masked


@dataclass(frozen=True)
class Row:
    county: str
    cells: list[Cell]
    total: int | None
    rates: dict[str, float | None]  # for parts measures: group -> share of the numerator part


@dataclass(frozen=True)
class Table:
    """One protected measure: a row per county, and the state row (column totals)."""

    definition: measures.Definition
    year: int
    rows: list[Row]
    state: Row
    has_data: bool
    extra: dict[str, Any]

    def row(self, county: str | None) -> Row:
        if county is None:
            return self.state
        return next(r for r in self.rows if r.county == county)


def _rates(definition: measures.Definition, columns: list[str], values: list[int | None]) -> dict[str, float | None]:
    if definition.chart != "parts":
        return {}
    groups: dict[str, dict[str, int | None]] = {}
    for column, value in zip(columns, values, strict=True):
        group, _, part = column.rpartition(":")
        groups.setdefault(group, {})[part or column] = value
    numerator = definition.rate_parts[0]
    out: dict[str, float | None] = {}
    for group, parts in groups.items():
        shown = None if any(v is None for v in parts.values()) else sum(v for v in parts.values() if v is not None)
        out[group] = rate(parts.get(numerator), shown)
    return out


def _table(result: measures.Result, year: int, extra: dict[str, Any]) -> Table:
    grid, definition = result.grid, result.definition
    rows = []
    for r, county in enumerate(grid.rows):
        values = [grid.shown(r, c) for c in range(len(grid.columns))]
        rows.append(Row(county, [Cell(code, result.labels.get(code, code), v)
                                 for code, v in zip(grid.columns, values, strict=True)],
                        None if definition.overlapping else grid.shown_row_total(r),
                        _rates(definition, grid.columns, values)))
    state_values = [grid.shown_column_total(c) for c in range(len(grid.columns))]
    state = Row("All counties", [Cell(code, result.labels.get(code, code), v)
                                 for code, v in zip(grid.columns, state_values, strict=True)],
                None if definition.overlapping else grid.shown_total(), _rates(definition, grid.columns, state_values))
    return Table(definition, year, rows, state, result.has_data, extra)


def protect_all(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Table]:
    """Every measure for ``year``, protected (see the module docstring)."""
    results = {measure_id: measures.compute(con, measure_id, year) for measure_id in measures.MEASURES}
    flagged = protect_grid(results["flagged"].grid)
    identified = [row[0] for row in flagged.cells]
    identified_masked = [row[0] for row in flagged.mask]
    tables: dict[str, Table] = {}
    for measure_id, result in results.items():
        extra: dict[str, Any] = {}
        if measure_id != "flagged":
            if result.definition.population == "identified":
                if result.grid.row_totals != identified:  # a definition drifted from "identified"
                    raise AssertionError(f"{measure_id}: county totals {result.grid.row_totals} "
                                         f"differ from the identified youth {identified}")
                protect_grid(result.grid, row_totals_masked=identified_masked,
                             total_masked=flagged.column_mask[0])
            else:
                protect_grid(result.grid)
        if measure_id == "placement_gaps":
            nights = measures.nights_without_placement(con, year)
            grid: Grid = result.grid
            youth_col = grid.columns.index("youth")
            extra["nights"] = {county: (nights.get(county, 0) if grid.shown(r, youth_col) is not None else None)
                               for r, county in enumerate(grid.rows)}
        tables[measure_id] = _table(result, year, extra)
    return tables


# -- published with the snapshot ---------------------------------------------------------
# Protecting every table takes many small linear programmes, more with more counties.
# ``publish`` does it for every year when the snapshot is built (``refresh(publish=True)``,
# which the command and the nightly job use), so a dashboard only reads the results.


def _row_json(row: Row) -> dict[str, Any]:
    return {"county": row.county, "cells": [[c.code, c.label, c.value] for c in row.cells], "total": row.total,
            "rates": row.rates}


def _row_of(data: dict[str, Any]) -> Row:
    return Row(data["county"], [Cell(code, label, value) for code, label, value in data["cells"]], data["total"],
               data["rates"])


def to_json(tables: dict[str, Table]) -> str:
    return json.dumps({m: {"year": t.year, "rows": [_row_json(r) for r in t.rows], "state": _row_json(t.state),
                           "has_data": t.has_data, "extra": t.extra} for m, t in tables.items()})


def from_json(text: str) -> dict[str, Table] | None:
    """Tables published with the snapshot, or None when a measure changed since."""
    data = json.loads(text)
    if set(data) != set(measures.MEASURES):
        return None
    return {m: Table(measures.MEASURES[m][0], t["year"], [_row_of(r) for r in t["rows"]], _row_of(t["state"]),
                     t["has_data"], t["extra"]) for m, t in data.items()}


def publish(con: duckdb.DuckDBPyConnection, progress: snapshot.Progress | None = None) -> int:
    """Protect every measure of every year in the snapshot being built and keep the
    results in it (table ``published``); returns the number of years."""
    found = _years(con)
    report = progress or (lambda *_: None)
    con.execute("CREATE OR REPLACE TABLE published (year INTEGER PRIMARY KEY, tables VARCHAR)")
    report("published tables", 0, len(found))
    for done, year in enumerate(found, start=1):
        con.execute("INSERT INTO published VALUES (?, ?)", [year, to_json(protect_all(con, year))])
        report("published tables", done, len(found))
    return len(found)


def _published(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Table] | None:
    try:
        found = con.execute("SELECT tables FROM published WHERE year = ?", [year]).fetchall()
    except duckdb.CatalogException:  # built without publishing
        return None
    return from_json(found[0][0]) if found else None


_cache: dict[tuple[str, float, int], dict[str, Table]] = {}
_lock = threading.Lock()


def tables(year: int, path: Path | None = None) -> tuple[dict[str, Table], dict[str, Any]]:
    """The protected tables of ``year`` from the current snapshot (as published with it,
    else computed now), once per snapshot file (a refresh replaces the file and so the
    cache key), and its metadata."""
    target = path or snapshot.default_path()
    con = snapshot.connect(target)
    try:
        meta = snapshot.meta(con)
        key = (str(target), target.stat().st_mtime, year)
        with _lock:
            if key not in _cache:
                if len(_cache) > 16:
                    _cache.clear()
                _cache[key] = _published(con, year) or protect_all(con, year)
            return _cache[key], meta
    finally:
        con.close()


def _years(con: duckdb.DuckDBPyConnection, published: bool = False) -> list[int]:
    if published:  # the years published with the snapshot: one small table, not every contact
        try:
            return [int(y) for (y,) in con.execute("SELECT year FROM published ORDER BY year DESC").fetchall()]
        except duckdb.CatalogException:
            pass
    found = con.execute("SELECT DISTINCT year(occurred_on) FROM contacts_y WHERE occurred_on IS NOT NULL "
                        "UNION SELECT DISTINCT year(flagged_on) FROM youth_facts WHERE flagged_on IS NOT NULL "
                        "ORDER BY 1 DESC").fetchall()
    return [int(y) for (y,) in found if y is not None]


def years(path: Path | None = None) -> list[int]:
    """Years with any contact or flag in the snapshot, newest first."""
    con = snapshot.connect(path)
    try:
        return _years(con, published=True)
    finally:
        con.close()
