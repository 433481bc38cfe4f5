"""Analytics endpoints of the JSON API (a router mounted on ``nowrongdoor.api.api``):
the measures with their definitions, and each measure's protected table for a year and
a county. The same selectors as the Data pages, so the same scope, suppression and audit."""

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from nowrongdoor.analytics import measures, selectors
from nowrongdoor.analytics.release import Row, Table
from nowrongdoor.api import ERRORS, _actor

router: Router = Router(tags=["analytics"])
Year = Annotated[int, Field(ge=1900, le=2200)]
CountyName = Annotated[str, Field(max_length=100)]


class DefinitionOut(Schema):
    id: str
    title: str
    counts: str
    numerator: str
    denominator: str
    period: str
    needs: str
    chart: str
    overlapping: bool


class CellOut(Schema):
    code: str
    label: str
    value: int | None  # null: masked


class RowOut(Schema):
    county: str
    cells: list[CellOut]
    total: int | None
    rates: dict[str, float | None]


class TableOut(Schema):
    measure: DefinitionOut
    year: int
    has_data: bool
    rows: list[RowOut]
    state: RowOut


def _definition(d: measures.Definition) -> dict[str, Any]:
    return {"id": d.id, "title": d.title, "counts": d.counts, "numerator": d.numerator,
            "denominator": d.denominator, "period": d.period, "needs": d.needs, "chart": d.chart,
            "overlapping": d.overlapping}


def _row(row: Row) -> dict[str, Any]:
    return {"county": row.county, "cells": [vars(c) for c in row.cells], "total": row.total, "rates": row.rates}


def _table(table: Table, counties: list[str]) -> dict[str, Any]:
    return {"measure": _definition(table.definition), "year": table.year, "has_data": table.has_data,
            "rows": [_row(r) for r in table.rows if r.county in counties], "state": _row(table.state)}


@router.get("/analytics/measures", response={200: list[DefinitionOut], **ERRORS})
def measure_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every measure with its written definition (analysts)."""
    selectors.scope_of(_actor(request))
    return [_definition(d) for d, _ in measures.MEASURES.values()]


@router.get("/analytics/measures/{measure_id}", response={200: TableOut, **ERRORS})
def measure_table(request: HttpRequest, measure_id: str, year: Year | None = None,
                  county: CountyName | None = None) -> dict[str, Any]:
    """One measure's protected table: a row per county you may see (or only ``county``)
    and the state row. A masked count is null; so is a rate on a masked count."""
    board = selectors.dashboard(actor=_actor(request), year=year, county=county, measure_ids=[measure_id])
    counties = [county] if county else board.counties
    return _table(board.tables[measure_id], counties)


@router.get("/analytics/measures/{measure_id}/export.{fmt}", response={200: None, **ERRORS})
def measure_export(request: HttpRequest, measure_id: str, fmt: str, year: Year | None = None,
                   county: CountyName | None = None) -> HttpResponse:
    """The same table as CSV or Parquet (masked cells empty or null, listed in ``masked``)."""
    body, content_type = selectors.export(actor=_actor(request), measure_id=measure_id, year=year, county=county,
                                          fmt=fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{measure_id}.{fmt}"'
    return response
