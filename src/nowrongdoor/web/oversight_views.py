"""The oversight committee's tracker: the summary and list, and one recommendation with
its progress, milestones and evidence. Thin: ``oversight.selectors`` and ``services``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from nowrongdoor.directory.models import Agency
from nowrongdoor.oversight import selectors, services
from nowrongdoor.oversight.content import PRIORITY_AREAS
from nowrongdoor.oversight.models import Progress
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import form_version, posted_date, run_action


def _int_or_none(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@login_required
def tracker(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    area, status = request.GET.get("area") or None, request.GET.get("status") or None
    return render(request, "web/oversight.html", {
        "summary": selectors.summary(actor=actor), "items": selectors.tracker(actor=actor, priority_area=area,
                                                                               status=status),
        "areas": PRIORITY_AREAS, "statuses": Progress.STATUSES, "area": area, "status": status,
        "may_edit": actor.role in services.EDITORS})


@login_required
def recommendation(request: HttpRequest, code: str) -> HttpResponse:
    actor = _actor(request)
    errors = None
    if request.method == "POST":
        post = request.POST
        errors = run_action(request, {
            "progress": lambda: services.update_progress(
                actor=actor, code=code, expected_version=form_version(request), status=post.get("status", ""),
                owner=post.get("owner", ""), lead_agency_id=_int_or_none(post.get("lead_agency")),
                note=post.get("note", "")),
            "milestone": lambda: services.add_milestone(actor=actor, code=code, title=post.get("title", ""),
                                                        due_on=posted_date(post.get("due_on"), "due_on")),
            "milestone_done": lambda: services.complete_milestone(
                actor=actor, milestone_id=_int_or_none(post.get("milestone")) or 0,
                done_on=posted_date(post.get("done_on"), "done_on")),
            "evidence": lambda: services.add_evidence(actor=actor, code=code, title=post.get("title", ""),
                                                      url=post.get("url", "")),
        })
        if errors is None:
            return redirect("web:oversight_item", code=code)
    return render(request, "web/oversight_item.html", {
        "item": selectors.item(actor=actor, code=code), "statuses": Progress.STATUSES, "errors": errors,
        "agencies": Agency.objects.select_related("county").order_by("county__name", "name"),
        "may_edit": actor.role in services.EDITORS}, status=400 if errors else 200)
