"""Who sees which published figures, and the audit of every look.

- A **county analyst** (role ``analyst``) sees their own county and the state figures.
- A **state analyst** (role ``state_analyst``) sees every county and the state.
- Both act under the ``analytics`` purpose; nobody else reads analytics.

What they see is always the protected tables (``release``): counts of 1 to 10 masked,
with complementary masking. No one reads rows of youth data here, so the access rules
are about scope (which counties), and every view, export and API answer is audited
with its measure, year and county.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.analytics import release, snapshot
from nowrongdoor.analytics.models import PrivacyBudget, PrivateRelease
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.youth.selectors import context_for

PURPOSE = "analytics"
ANALYST_ROLES = ("analyst", "state_analyst")


@dataclass(frozen=True)
class Scope:
    """The counties an analyst may look at (None: every county) and their own."""

    counties: frozenset[str] | None
    home: str | None

    def allows(self, county: str | None) -> bool:
        return county is None or self.counties is None or county in self.counties


def scope_of(actor: User, action: str = "analytics.view") -> Scope:
    """The actor's scope, or AccessDenied (audited) for anyone who is not an analyst."""
    if not actor.is_active or actor.role not in ANALYST_ROLES:
        record_event(actor=actor, action=action, allowed=False, purpose=PURPOSE,
                     reason=f"role {actor.role or 'none'!r} does not read analytics")
        raise AccessDenied("analytics are for county and state analysts")
    context_for(actor, PURPOSE)
    home = actor.agency.county.name if actor.agency_id and actor.agency else None
    if actor.role == "state_analyst":
        return Scope(None, home)
    return Scope(frozenset({home}) if home else frozenset(), home)


@dataclass(frozen=True)
class Dashboard:
    year: int
    years: list[int]
    county: str | None  # None: all counties (the state)
    counties: list[str]  # those the analyst may choose
    tables: dict[str, release.Table]
    meta: dict[str, Any]


def dashboard(*, actor: User, year: int | None = None, county: str | None = None,
              measure_ids: list[str] | None = None) -> Dashboard:
    """The protected tables for a year and a county (or the state), audited."""
    scope = scope_of(actor)
    if not scope.allows(county):
        record_event(actor=actor, action="analytics.view", allowed=False, purpose=PURPOSE,
                     reason="county outside the analyst's scope", detail={"county": county})
        raise AccessDenied("you may see your own county's figures and the state's")
    try:
        years = release.years()
    except snapshot.SnapshotMissing as exc:
        raise NotFound("no analytics snapshot yet: run nowrongdoor analytics refresh") from exc
    if year is None:  # the last full year with data, else the latest
        full = [y for y in years if y < clock.today().year]
        year = full[0] if full else (years[0] if years else clock.today().year)
    if years and year not in years:
        raise ValidationFailed({"year": [f"choose one of {', '.join(str(y) for y in years)}"]})
    tables, meta = release.tables(year)
    names = [row.county for row in next(iter(tables.values())).rows] if tables else []
    if county is not None and county not in names:
        raise ValidationFailed({"county": [f"no county {county!r} in the snapshot"]})
    if measure_ids is not None:
        unknown = [m for m in measure_ids if m not in tables]
        if unknown:
            raise ValidationFailed({"measure": [f"unknown measure {', '.join(unknown)}"]})
        tables = {m: tables[m] for m in measure_ids}
    record_event(actor=actor, action="analytics.view", purpose=PURPOSE, object_type="measure",
                 detail={"year": year, "county": county, "measures": sorted(tables)})
    allowed = [n for n in names if scope.allows(n)]
    return Dashboard(year, years, county, allowed, tables, meta)


EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def export(*, actor: User, measure_id: str, year: int | None, county: str | None, fmt: str) -> tuple[bytes, str]:
    """One protected table as CSV or Parquet: the analyst's counties (or the one asked
    for) and the state row. Audited as an export."""
    from nowrongdoor.analytics import exports

    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed({"format": ["choose csv or parquet"]})
    board = dashboard(actor=actor, year=year, county=county, measure_ids=[measure_id])
    scope = scope_of(actor, "analytics.export")
    counties = [county] if county else (None if scope.counties is None else sorted(scope.counties))
    table = board.tables[measure_id]
    body = exports.to_csv(table, counties) if fmt == "csv" else exports.to_parquet(table, counties)
    record_event(actor=actor, action="analytics.export", purpose=PURPOSE, object_type="measure",
                 object_id=measure_id, detail={"year": board.year, "county": county, "format": fmt,
                                               "bytes": len(body)})
    return body, EXPORT_FORMATS[fmt]


@dataclass(frozen=True)
class PrivateTable:
    """A differentially private release as an analyst may see it: the rows of their
    counties (every county for a state analyst) and the state totals, all from noisy
    cells, so everything adds up."""

    release: PrivateRelease
    title: str
    columns: list[tuple[str, str]]  # code, label
    rows: list[tuple[str, list[int], int]]  # county, cells, row total
    state: tuple[list[int], int]


@dataclass(frozen=True)
class PrivateReleases:
    tables: list[PrivateTable]
    budgets: list[PrivacyBudget]
    may_release: bool
    releasable: list[tuple[str, str]]  # measure id, title


def private_releases(*, actor: User, year: int | None = None) -> PrivateReleases:
    """Differentially private releases (newest first) and each year's budget, audited."""
    from nowrongdoor.analytics import measures

    scope = scope_of(actor)
    releases = PrivateRelease.objects.all()
    if year is not None:
        releases = releases.filter(year=year)
    tables = []
    for r in releases:
        rows = [(county, list(cells), sum(cells)) for county, cells in r.rows if scope.allows(county)]
        columns_total = [sum(cells[k] for _, cells in r.rows) for k in range(len(r.columns))]
        definition = measures.MEASURES.get(r.measure, (None, None))[0]
        tables.append(PrivateTable(r, definition.title if definition else r.measure,
                                   [(c, str(r.labels.get(c, c))) for c in r.columns], rows,
                                   (columns_total, sum(columns_total))))
    record_event(actor=actor, action="analytics.view", purpose=PURPOSE, object_type="private_release",
                 detail={"year": year, "releases": [t.release.pk for t in tables]})
    releasable = [(d.id, d.title) for d, _ in measures.MEASURES.values() if d.one_cell_per_youth]
    return PrivateReleases(tables, list(PrivacyBudget.objects.order_by("-year")), scope.counties is None, releasable)
