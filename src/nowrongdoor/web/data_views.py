"""Data: the analysts' dashboards (charts with the table under each, the definition
beside it) and exports. Thin: ``analytics.selectors`` decides scope and audits;
everything shown is a protected table."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from nowrongdoor import clock
from nowrongdoor.analytics import charts, measures, research, selectors, services
from nowrongdoor.analytics.release import Row, Table
from nowrongdoor.errors import ValidationFailed
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import posted_number, run_action

SECTIONS = [
    ("How many", ["flagged", "added_up", "trend", "csec_reports"]),
    ("Who", ["age", "gender", "race", "race_known", "lgbtq", "exploitation_status"]),
    ("Pathways", ["systems", "first_system", "identifying_system", "time_to_identification"]),
    ("Response", ["screening_coverage", "on_time_by_kind", "on_time_by_agency", "cw_components"]),
    ("Gaps", ["referral_gaps", "placement_gaps"]),
    ("Where prevention is most needed", ["prevention_need", "prevention_programmes"]),
]


def _year(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed({"year": ["a year such as 2025"]})
    return int(raw)


def _groups(row: Row) -> dict[str, str]:
    groups: dict[str, str] = {}
    for cell in row.cells:
        group = cell.code.rpartition(":")[0]
        groups.setdefault(group, cell.label.split(":")[0])
    return groups


def _chart(table: Table, row: Row) -> str:
    title = f"{table.definition.title}, {row.county}, {table.year}"
    if table.definition.chart == "line":
        return charts.line(title, row.cells)
    if table.definition.chart == "parts":
        return charts.parts(title, row, _groups(row), table.definition.rate_parts)
    return charts.bars(title, row.cells)


def _panel(table: Table, county: str | None, counties: list[str]) -> dict[str, Any]:
    row = table.row(county)
    panel: dict[str, Any] = {"table": table, "row": row, "chart": _chart(table, row), "groups": _groups(row)
                             if table.definition.chart == "parts" else {}}
    if table.definition.id == "prevention_need" and county is None:
        ranking: list[dict[str, Any]] = []
        for r in table.rows:
            if r.county not in counties:
                continue
            known = next(c.value for c in r.cells if c.code == "known")
            rates = {c.code: (None if c.value is None or not known else round(1000 * c.value / known, 1))
                     for c in r.cells if c.code != "known"}
            ranking.append({"county": r.county, "rates": rates, "known": known,
                            "score": sum(v or 0 for k, v in rates.items() if k != "truancy")})
        ranking.sort(key=lambda x: -float(x["score"]))
        panel["ranking"] = ranking
    if table.definition.id == "placement_gaps":
        panel["nights"] = table.extra.get("nights", {}).get(row.county) if county else None
    return panel


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    county = request.GET.get("county") or None
    try:
        board = selectors.dashboard(actor=actor, year=_year(request.GET.get("year")), county=county)
    except ValidationFailed as exc:
        board = selectors.dashboard(actor=actor)
        return _render(request, board, errors=exc.errors, status=400)
    return _render(request, board)


def _render(request: HttpRequest, board: selectors.Dashboard, errors: dict[str, list[str]] | None = None,
            status: int = 200) -> HttpResponse:
    sections = [(title, [_panel(board.tables[m], board.county, board.counties) for m in ids if m in board.tables])
                for title, ids in SECTIONS]
    return render(request, "web/data.html", {
        "board": board, "sections": sections, "errors": errors, "masked_note": charts.MASKED,
        "measure_count": len(measures.MEASURES)}, status=status)


@login_required
def export(request: HttpRequest, measure_id: str, fmt: str) -> HttpResponse:
    body, content_type = selectors.export(
        actor=_actor(request), measure_id=measure_id, year=_year(request.GET.get("year")),
        county=request.GET.get("county") or None, fmt=fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{measure_id}.{fmt}"'
    return response



@login_required
def releases(request: HttpRequest) -> HttpResponse:
    """Differentially private releases with each year's budget (state analysts make them),
    and the de-identified research extract."""
    actor = _actor(request)
    errors = None
    if request.method == "POST":
        errors = run_action(request, {"release": lambda: services.release_privately(
            actor=actor, measure_id=request.POST.get("measure", ""),
            year=posted_number(request.POST.get("year"), "year"),
            epsilon=posted_number(request.POST.get("epsilon"), "epsilon", float), note=request.POST.get("note", ""))})
        if errors is None:
            return redirect("web:data_releases")
    found = selectors.private_releases(actor=actor)
    this_year = clock.today().year
    return render(request, "web/data_releases.html", {
        "found": found, "errors": errors, "posted": request.POST if errors else {},
        "years": list(range(this_year, this_year - 10, -1)), "this_year": this_year},
        status=400 if errors else 200)


@login_required
@require_GET
def research_extract(request: HttpRequest) -> HttpResponse:
    extract = research.research_extract(
        actor=_actor(request), year_from=posted_number(request.GET.get("year_from"), "year_from"),
        year_to=posted_number(request.GET.get("year_to"), "year_to"))
    response = HttpResponse(extract.body, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="research-extract.zip"'
    return response
