"""Reads of the oversight tracker: every recommendation with its progress, milestones
and evidence, and the committee's summary (status by priority area, overdue milestones).
Any active staff member may read it (it holds no personal data); reads are not audited."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from nowrongdoor import clock
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.oversight.content import PRIORITY_AREAS, Recommendation, recommendations
from nowrongdoor.oversight.models import Evidence, Milestone, Progress


@dataclass
class TrackedItem:
    recommendation: Recommendation
    status: str
    owner: str
    lead_agency: str
    lead_agency_id: int | None
    note: str
    version: int
    updated_at: dt.datetime | None
    milestones: list[Milestone] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return dict(Progress.STATUSES).get(self.status, self.status)

    @property
    def overdue(self) -> list[Milestone]:
        today = clock.today()
        return [m for m in self.milestones if m.done_on is None and m.due_on < today]


def _require_reader(actor: User) -> None:
    if not actor.is_active or not actor.role:
        raise AccessDenied("the tracker is for staff")


def _items(codes: list[str]) -> list[TrackedItem]:
    found = Progress.objects.filter(recommendation__in=codes).select_related("lead_agency")
    rows = {p.recommendation: p for p in found}
    milestones: dict[str, list[Milestone]] = {}
    for m in Milestone.objects.filter(recommendation__in=codes):
        milestones.setdefault(m.recommendation, []).append(m)
    evidence: dict[str, list[Evidence]] = {}
    for e in Evidence.objects.filter(recommendation__in=codes):
        evidence.setdefault(e.recommendation, []).append(e)
    out = []
    for code in codes:
        rec, row = recommendations()[code], rows.get(code)
        out.append(TrackedItem(
            rec, row.status if row else Progress.NOT_STARTED, row.owner if row else "",
            (row.lead_agency.name if row and row.lead_agency else rec.lead), row.lead_agency_id if row else None,
            row.note if row else "", row.version if row else 1, row.updated_at if row else None,
            milestones.get(code, []), evidence.get(code, [])))
    return out


def tracker(*, actor: User, priority_area: str | None = None, status: str | None = None) -> list[TrackedItem]:
    _require_reader(actor)
    codes = [c for c, r in recommendations().items() if priority_area in (None, "", r.priority_area)]
    items = _items(codes)
    return [i for i in items if status in (None, "", i.status)]


def item(*, actor: User, code: str) -> TrackedItem:
    _require_reader(actor)
    if code not in recommendations():
        raise NotFound(f"no recommendation {code!r}")
    return _items([code])[0]


@dataclass(frozen=True)
class Summary:
    by_area: list[tuple[str, dict[str, int], int]]  # area, status -> count, total
    totals: dict[str, int]
    overdue: list[tuple[TrackedItem, Milestone]]
    due_soon: list[tuple[TrackedItem, Milestone]]


def summary(*, actor: User, soon_days: int = 60) -> Summary:
    """What the committee looks at first: how many recommendations are in each status,
    by priority area, and the milestones overdue or due within ``soon_days``."""
    items = tracker(actor=actor)
    today = clock.today()
    by_area = []
    for area in PRIORITY_AREAS:
        counts = Counter(i.status for i in items if i.recommendation.priority_area == area)
        by_area.append((area, {s: counts.get(s, 0) for s, _ in Progress.STATUSES}, sum(counts.values())))
    totals = Counter(i.status for i in items)
    pending = [(i, m) for i in items for m in i.milestones if m.done_on is None]
    return Summary(by_area, {s: totals.get(s, 0) for s, _ in Progress.STATUSES},
                   sorted([(i, m) for i, m in pending if m.due_on < today], key=lambda x: x[1].due_on),
                   sorted([(i, m) for i, m in pending if today <= m.due_on <= today + dt.timedelta(days=soon_days)],
                          key=lambda x: x[1].due_on))
