"""Who sees the published figures, what they see, and that nothing masked can be worked out.

What this file proves:

- a screener gets 403 on the Data page, the API and exports (audited as refused); only
  a system administrator rebuilds the snapshot;
- a county analyst sees their own county and the state, and gets 403 for another
  county; a state analyst sees every county;
- every table the API answers, for every year, shows no count from 1 to 10;
- **no masked cell of any table can be recovered from all of the API's tables together**
  (an audit by linear programming over every table of the year at once: each table's
  shown cells and totals, the state row, and that every breakdown of the identified
  youth adds up to the same per-county count);
- CSV exports neutralise a cell that a spreadsheet would run (a county named "=...");
  Parquet exports mask with nulls; every view and export is audited.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.optimize import linprog

from nowrongdoor.access.models import AuditEvent
from nowrongdoor.analytics import measures
from nowrongdoor.analytics.services import refresh_snapshot
from nowrongdoor.directory.models import Agency, County
from nowrongdoor.errors import AccessDenied
from tests.analytics.conftest import link_perfectly

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(county_data: Any, snapshot_path: Path, make_user: Any) -> dict[str, Any]:
    """The county, analysts of both kinds, a screener, and a fresh snapshot."""
    link_perfectly()
    formula = County.objects.create(name='=HYPERLINK("http://example.invalid") (synthetic)')
    Agency.objects.create(county=formula, agency_type="child_welfare", name="Formula agency (synthetic)")
    counties = list(County.objects.exclude(pk=formula.pk).order_by("name"))
    home = Agency.objects.filter(county=counties[0]).first()
    admin = make_user("system_admin", home)
    refresh_snapshot(actor=admin)
    return {"counties": counties, "county_analyst": make_user("analyst", home),
            "state_analyst": make_user("state_analyst", home), "screener": make_user("screener", home),
            "admin": admin, "formula": formula}


def api(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.content[:300]
    return response.json() if status == 200 else response


def test_screeners_get_no_figures_and_only_an_administrator_refreshes(client: Any, published: dict[str, Any]) -> None:
    client.force_login(published["screener"])
    assert client.get("/data/").status_code == 403
    assert client.get("/api/analytics/measures").status_code == 403
    assert client.get("/api/analytics/measures/flagged").status_code == 403
    assert client.get("/data/export/flagged.csv").status_code == 403
    assert AuditEvent.objects.filter(actor=published["screener"], action="analytics.view", allowed=False).exists()
    with pytest.raises(AccessDenied):
        refresh_snapshot(actor=published["state_analyst"])


def test_a_county_analyst_sees_their_county_and_the_state_only(client: Any, published: dict[str, Any]) -> None:
    home, other = published["counties"][0], published["counties"][1]
    client.force_login(published["county_analyst"])

    table = api(client, "/api/analytics/measures/gender?year=2025")
    page = client.get("/data/?year=2025").content.decode()

    assert [r["county"] for r in table["rows"]] == [home.name] and table["state"]["county"] == "All counties"
    assert f'<option value="{home.name}"' in page and f'<option value="{other.name}"' not in page
    assert client.get(f"/data/?county={other.name}").status_code == 403
    api(client, f"/api/analytics/measures/gender?county={other.name}", 403)
    assert client.get(f"/data/export/gender.csv?county={other.name}").status_code == 403
    assert AuditEvent.objects.filter(actor=published["county_analyst"], action="analytics.view",
                                     allowed=True).count() >= 2


def test_a_state_analyst_sees_every_county(client: Any, published: dict[str, Any]) -> None:
    client.force_login(published["state_analyst"])
    table = api(client, "/api/analytics/measures/prevention_need?year=2025")
    names = {r["county"] for r in table["rows"]}
    assert {c.name for c in published["counties"]} <= names
    page = client.get("/data/?year=2025").content.decode()
    assert 'id="prevention-ranking"' in page and '<svg class="nwd-chart"' in page


def published_tables(client: Any, year: int) -> dict[str, Any]:
    return {m: api(client, f"/api/analytics/measures/{m}?year={year}") for m in measures.MEASURES}


def test_no_table_shows_a_small_count(client: Any, published: dict[str, Any]) -> None:
    client.force_login(published["state_analyst"])
    years = [2021, 2023, 2025]
    for year in years:
        for measure_id, table in published_tables(client, year).items():
            for row in [*table["rows"], table["state"]]:
                values = [c["value"] for c in row["cells"]] + [row["total"]]
                assert not [v for v in values if v is not None and 1 <= v <= 10], (year, measure_id, row)


def recoverable(tables: dict[str, Any]) -> list[str]:
    """Masked cells whose value is fixed by everything published, across all tables."""
    order = [r["county"] for r in tables["flagged"]["rows"]]
    unknown: dict[tuple[str, int, int], int] = {}
    value: dict[tuple[str, int, int], float] = {}
    for m, table in tables.items():
        rows = {r["county"]: r for r in table["rows"]}
        for i, county in enumerate(order):
            for j, cell in enumerate(rows[county]["cells"]):
                if cell["value"] is None:
                    unknown[(m, i, j)] = len(unknown)
                else:
                    value[(m, i, j)] = cell["value"]
    equations: list[tuple[dict[int, float], float]] = []

    def equation(cells: list[tuple[str, int, int]], minus: list[tuple[str, int, int]], total: float) -> None:
        coefficients: dict[int, float] = {}
        rhs = total
        for sign, group in ((1.0, cells), (-1.0, minus)):
            for key in group:
                if key in unknown:
                    coefficients[unknown[key]] = coefficients.get(unknown[key], 0.0) + sign
                else:
                    rhs -= sign * value[key]
        if coefficients:
            equations.append((coefficients, rhs))

    for m, table in tables.items():
        rows = {r["county"]: r for r in table["rows"]}
        width = len(table["state"]["cells"])
        for i, county in enumerate(order):
            if rows[county]["total"] is not None:
                equation([(m, i, j) for j in range(width)], [], rows[county]["total"])
        for j, cell in enumerate(table["state"]["cells"]):
            if cell["value"] is not None:
                equation([(m, i, j) for i in range(len(order))], [], cell["value"])
        if table["state"]["total"] is not None:
            equation([(m, i, j) for i in range(len(order)) for j in range(width)], [], table["state"]["total"])
        if measures.MEASURES[m][0].population == "identified":
            for i in range(len(order)):  # every breakdown adds up to the county's identified youth
                equation([(m, i, j) for j in range(width)], [("flagged", i, 0)], 0.0)
    if not unknown:
        return []
    a_eq = np.zeros((max(1, len(equations)), len(unknown)))
    b_eq = np.zeros(max(1, len(equations)))
    for k, (coefficients, rhs) in enumerate(equations):
        for index, coefficient in coefficients.items():
            a_eq[k, index] = coefficient
        b_eq[k] = rhs
    bounds = [(1, None)] * len(unknown)
    exposed = []
    for key, index in unknown.items():
        objective = np.zeros(len(unknown))
        objective[index] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status in (0, 3), "the true values satisfy what is published"
        if low.status == 0 and high.status == 0 and (-high.fun) - low.fun < 0.5:
            exposed.append(f"{key}: {low.fun}")
    return exposed


def test_no_masked_cell_can_be_recovered_from_all_the_apis_tables_together(
        client: Any, published: dict[str, Any]) -> None:
    client.force_login(published["state_analyst"])
    masked_somewhere = 0
    for year in (2022, 2025):
        tables = published_tables(client, year)
        masked_somewhere += sum(c["value"] is None for t in tables.values() for r in t["rows"] for c in r["cells"])
        assert recoverable(tables) == [], year
    assert masked_somewhere > 20, "the test county has small cells to protect"


def test_exports_neutralise_formulas_mask_with_nulls_and_are_audited(client: Any, published: dict[str, Any]) -> None:
    client.force_login(published["state_analyst"])

    response = client.get("/data/export/flagged.csv?year=2025")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    parquet = pq.read_table(io.BytesIO(client.get("/api/analytics/measures/gender/export.parquet?year=2025").content))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    counties = [r[2] for r in rows[1:]]
    assert f"'{published['formula'].name}" in counties and published["formula"].name not in counties
    gender = parquet.to_pylist()
    masked = [(r["county"], code) for r in gender for code in r["masked"].split(";") if code and code != "total"]
    assert masked and all(next(x for x in gender if x["county"] == c)[code] is None for c, code in masked)
    assert AuditEvent.objects.filter(actor=published["state_analyst"], action="analytics.export").count() == 2
