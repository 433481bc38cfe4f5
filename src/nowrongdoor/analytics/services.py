"""Writes of analytics: rebuilding the snapshot (the only thing that reads youth tables
in bulk for analytics, as the system, and is audited with counts only), and
differentially private releases (``analytics.privacy``), which spend a year's budget."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.analytics import snapshot
from nowrongdoor.analytics.models import PrivacyBudget, PrivateRelease
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed


def refresh_snapshot(*, actor: User, full: bool = False, path: Path | None = None,
                     progress: snapshot.Progress | None = None, memory_limit: str = "2GB") -> snapshot.RefreshResult:
    """Rebuild the snapshot (a system administrator, or the command line acting as one)."""
    if not actor.is_active or actor.role != "system_admin":
        record_event(actor=actor, action="analytics.refresh", allowed=False, purpose="analytics",
                     reason="only a system administrator rebuilds the analytics snapshot")
        raise AccessDenied("only a system administrator rebuilds the analytics snapshot")
    result = snapshot.refresh(full=full, path=path, progress=progress, memory_limit=memory_limit, publish=True)
    record_event(actor=actor, action="analytics.refresh", purpose="analytics", object_type="snapshot",
                 detail={"kind": result.kind, "rows": result.rows, "contacts_read": result.contacts_read,
                         "seconds": round(result.seconds, 1)})
    return result


MIN_EPSILON = 0.01  # below it the noise (scale 1 / epsilon) drowns any count; far below, it is infinite


def release_privately(*, actor: User, measure_id: str, year: int, epsilon: float, note: str,
                      path: Path | None = None) -> PrivateRelease:
    """A differentially private release of one measure's table for ``year`` (every
    county), spending ``epsilon`` from the year's budget (see ``analytics.privacy``).

    State analysts only: a release shows every county. A release of the same measure and
    year from the same snapshot already made is returned as it is, spending nothing."""
    from nowrongdoor.analytics import measures, privacy, selectors

    if selectors.scope_of(actor, "analytics.private_release").counties is not None:
        record_event(actor=actor, action="analytics.private_release", allowed=False, purpose="analytics",
                     reason="only a state analyst makes differentially private releases",
                     detail={"measure": measure_id, "year": year})
        raise AccessDenied("only a state analyst makes differentially private releases")
    errors: dict[str, list[str]] = {}
    definition = measures.MEASURES.get(measure_id, (None, None))[0]
    if definition is None:
        errors["measure"] = [f"unknown measure {measure_id!r}"]
    elif not definition.one_cell_per_youth:
        errors["measure"] = ["only counts of distinct youth (one cell each) can be released with "
                             "differential privacy; this measure counts events or lets a youth count twice"]
    if not (MIN_EPSILON <= epsilon <= 10):  # also refuses NaN
        errors["epsilon"] = [f"a privacy loss from {MIN_EPSILON} to 10 (smaller is more private and noisier)"]
    if not note.strip():
        errors["note"] = ["say why and where the release is published"]
    if errors or definition is None:
        raise ValidationFailed(errors)
    try:
        con = snapshot.connect(path)
    except snapshot.SnapshotMissing as exc:
        raise NotFound("no analytics snapshot yet: run nowrongdoor analytics refresh") from exc
    try:
        built_at = str(snapshot.meta(con).get("built_at", ""))
        result = measures.compute(con, measure_id, year)
    finally:
        con.close()
    if not any(any(row) for row in result.grid.cells):
        raise ValidationFailed({"year": [f"the snapshot has no {definition.title.lower()} for {year}"]})
    with transaction.atomic():
        budget, _ = PrivacyBudget.objects.get_or_create(year=year, defaults={"total": settings.DP_EPSILON_PER_YEAR})
        budget = PrivacyBudget.objects.select_for_update().get(pk=budget.pk)
        existing = PrivateRelease.objects.filter(measure=measure_id, year=year, snapshot_built_at=built_at).first()
        if existing is not None:
            return existing
        if epsilon > budget.left + 1e-9:
            raise ValidationFailed({"epsilon": [f"only {budget.left:g} of the {budget.total:g} privacy budget for "
                                                f"{year} is left"]})
        grid = result.grid
        noisy = privacy.noisy_counts([v for row in grid.cells for v in row], epsilon)
        width = len(grid.columns)
        rows = [[county, noisy.values[r * width:(r + 1) * width]] for r, county in enumerate(grid.rows)]
        release = PrivateRelease.objects.create(
            measure=measure_id, year=year, epsilon=epsilon, mechanism=privacy.MECHANISM, scale=noisy.scale,
            snapshot_built_at=built_at, columns=list(grid.columns),
            labels={c: result.labels.get(c, c) for c in grid.columns}, rows=rows, note=note.strip(),
            created_by=actor, created_at=clock.now())
        budget.spent = round(budget.spent + epsilon, 9)
        budget.save(update_fields=["spent"])
        record_event(actor=actor, action="analytics.private_release", purpose="analytics",
                     object_type="private_release", object_id=str(release.pk),
                     detail={"measure": measure_id, "year": year, "epsilon": epsilon, "budget_left": budget.left})
    return release
