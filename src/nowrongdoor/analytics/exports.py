"""Exports of published (protected) tables: CSV and Parquet.

A masked cell is empty in CSV and null in Parquet, and a ``masked`` column lists which
cells were masked, so a reader cannot mistake a masked cell for zero. Text cells that a
spreadsheet would run as a formula are neutralised (``disclosure.neutralise``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from nowrongdoor.analytics.disclosure import neutralise
from nowrongdoor.analytics.release import Row, Table


def rows_of(table: Table, counties: list[str] | None) -> list[Row]:
    """The rows an analyst may take away: their counties (all if None), then the state."""
    chosen = [r for r in table.rows if counties is None or r.county in counties]
    return [*chosen, table.state]


def records(table: Table, counties: list[str] | None) -> tuple[list[str], list[dict[str, Any]]]:
    columns = ["measure", "year", "county", *[c.code for c in table.state.cells]]
    if not table.definition.overlapping:
        columns.append("total")
    rate_groups = list(table.state.rates)
    columns += [f"rate:{g}" for g in rate_groups]
    columns.append("masked")
    out = []
    for row in rows_of(table, counties):
        record: dict[str, Any] = {"measure": table.definition.id, "year": table.year, "county": row.county}
        masked = [c.code for c in row.cells if c.value is None]
        for cell in row.cells:
            record[cell.code] = cell.value
        if not table.definition.overlapping:
            record["total"] = row.total
            if row.total is None:
                masked.append("total")
        for group in rate_groups:
            value = row.rates.get(group)
            record[f"rate:{group}"] = None if value is None else round(value, 4)
        record["masked"] = ";".join(masked)
        out.append(record)
    return columns, out


def to_csv(table: Table, counties: list[str] | None) -> bytes:
    columns, rows = records(table, counties)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow(["" if row[c] is None else neutralise(row[c]) for c in columns])
    return buffer.getvalue().encode("utf-8")


def to_parquet(table: Table, counties: list[str] | None) -> bytes:
    columns, rows = records(table, counties)
    types = {"measure": pa.string(), "year": pa.int32(), "county": pa.string(), "masked": pa.string()}
    fields = [pa.field(c, types.get(c, pa.float64() if c.startswith("rate:") else pa.int64())) for c in columns]
    arrow = pa.Table.from_pylist(rows, schema=pa.schema(fields))
    sink = io.BytesIO()
    pq.write_table(arrow, sink)
    return sink.getvalue()
