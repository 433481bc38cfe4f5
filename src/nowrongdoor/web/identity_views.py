"""Identity stewards: the queue of possible matches, one pair side by side with the
evidence, the decision (same youth / not the same / unsure), and the merges and splits
made, each of which can be undone. Thin: ``identity.selectors`` and ``identity.services``
do the work and the access decisions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from nowrongdoor.errors import ValidationFailed
from nowrongdoor.identity import selectors, services
from nowrongdoor.identity.models import IdentityChange, PairReview
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import form_version, run_action


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if request.method == "POST":
        services.require_steward(actor, "identity.read")
        run = services.request_linkage(actor=actor)
        return redirect("web:identity_run", run_id=run.pk)
    status = request.GET.get("status", PairReview.OPEN)
    if status not in (PairReview.OPEN, PairReview.UNSURE):
        status = PairReview.OPEN
    view = selectors.review_queue(actor=actor, status=status)
    return render(request, "web/identity_queue.html", {"queue": view, "status": status})


@login_required
def linkage_run(request: HttpRequest, run_id: int) -> HttpResponse:
    """A linkage run's progress; while it is under way the page asks again every second
    (HTMX swaps only the progress section) and shows the outcome when it ends."""
    run = selectors.linkage_run(actor=_actor(request), run_id=run_id)
    template = "web/identity_run.html" + ("#progress" if request.htmx else "")  # type: ignore[attr-defined]
    return render(request, template, {"run": run})


@login_required
def pair(request: HttpRequest, review_id: int) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, list[str]] | None = None
    if request.method == "POST":
        errors = run_action(request, {"decide": lambda: services.decide_pair(
            actor=actor, review_id=review_id, decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""), version=form_version(request))})
        if errors is None:
            return redirect("web:identity_queue")
    view = selectors.pair_detail(actor=actor, review_id=review_id)
    low, high = view.bounds
    span = (high - low) or 1.0
    rows = [{"e": e, "x": 200 * (min(e.before, e.after) - low) / span,
             "w": max(1.0, 200 * abs(e.weight) / span) if e.weight else 0.0,
             "for": e.weight > 0} for e in view.evidence]
    zero = 200 * (0 - low) / span
    return render(request, "web/identity_pair.html", {"pair": view, "rows": rows, "zero": zero, "errors": errors,
                                                      "prior_x": 200 * (view.prior - low) / span})


@login_required
def changes(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, list[str]] | None = None
    if request.method == "POST":
        def undo() -> None:
            raw = request.POST.get("change", "")
            change = IdentityChange.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
            if change is None:
                raise ValidationFailed({"change": ["no such change"]})
            services.undo_change(actor=actor, change=change, reason=request.POST.get("reason", ""))

        errors = run_action(request, {"undo": undo})
        if errors is None:
            return redirect("web:identity_changes")
    return render(request, "web/identity_changes.html",
                  {"changes": selectors.recent_changes(actor=actor), "errors": errors})
