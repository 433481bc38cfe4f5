"""Analytics endpoints of the JSON API (a router mounted on ``nowrongdoor.api.api``):
the measures with their definitions, and each measure's protected table for a year and
a county. The same selectors as the Data pages, so the same scope, suppression and audit."""

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from nowrongdoor.analytics import measures, research, selectors, services
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


class PrivateReleaseIn(Schema):
    measure: str = Field(max_length=64)
    year: Year
    epsilon: float = Field(ge=0.01, le=10, description="privacy loss to spend (smaller: more private, noisier)")
    note: str = Field(min_length=1, max_length=2000, description="why and where the release is published")


class PrivateRowOut(Schema):
    county: str
    cells: list[int]
    total: int


class PrivateReleaseOut(Schema):
    id: int
    measure: str
    title: str
    year: int
    epsilon: float
    mechanism: str
    scale: float
    columns: list[CellOut]
    rows: list[PrivateRowOut]
    state: PrivateRowOut
    note: str
    created_at: str


class BudgetOut(Schema):
    year: int
    total: float
    spent: float
    left: float


class PrivateReleasesOut(Schema):
    releases: list[PrivateReleaseOut]
    budgets: list[BudgetOut]


def _private(table: selectors.PrivateTable) -> dict[str, Any]:
    r = table.release
    return {"id": r.pk, "measure": r.measure, "title": table.title, "year": r.year, "epsilon": r.epsilon,
            "mechanism": r.mechanism, "scale": r.scale,
            "columns": [{"code": c, "label": label, "value": None} for c, label in table.columns],
            "rows": [{"county": c, "cells": cells, "total": total} for c, cells, total in table.rows],
            "state": {"county": "All counties", "cells": table.state[0], "total": table.state[1]},
            "note": r.note, "created_at": r.created_at.isoformat()}


@router.get("/analytics/private-releases", response={200: PrivateReleasesOut, **ERRORS})
def private_release_list(request: HttpRequest, year: Year | None = None) -> dict[str, Any]:
    """Differentially private releases (their random error drawn once, then kept) and each year's privacy budget."""
    found = selectors.private_releases(actor=_actor(request), year=year)
    return {"releases": [_private(t) for t in found.tables],
            "budgets": [{"year": b.year, "total": b.total, "spent": b.spent, "left": b.left} for b in found.budgets]}


@router.post("/analytics/private-releases", response={201: PrivateReleaseOut, **ERRORS})
def private_release_create(request: HttpRequest, payload: PrivateReleaseIn) -> Status[dict[str, Any]]:
    """Release one measure's table for a year with differential privacy (state analysts),
    spending ``epsilon`` from the year's budget. The same measure, year and snapshot
    again returns the release already made and spends nothing."""
    actor = _actor(request)
    made = services.release_privately(actor=actor, measure_id=payload.measure, year=payload.year,
                                      epsilon=payload.epsilon, note=payload.note)
    table = next(t for t in selectors.private_releases(actor=actor, year=made.year).tables if t.release.pk == made.pk)
    return Status(201, _private(table))


@router.get("/analytics/research-extract", response={200: None, **ERRORS})
def research_extract(request: HttpRequest, year_from: Year, year_to: Year) -> HttpResponse:
    """The de-identified record-level extract (a zip of CSV files): pseudonymous ids,
    dates shifted per youth, counties only; only data your agency may use for analytics."""
    extract = research.research_extract(actor=_actor(request), year_from=year_from, year_to=year_to)
    response = HttpResponse(extract.body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="research-extract-{year_from}-{year_to}.zip"'
    return response
