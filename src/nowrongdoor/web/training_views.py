"""Training: everyone's own courses; an agency administrator's staff and caregivers
(record, assign, import a file of completions); a county coordinator's agencies. Thin:
``training.selectors`` decides who sees whom and audits; ``training.services`` writes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from nowrongdoor import clock
from nowrongdoor.training import selectors, services
from nowrongdoor.training.catalogue import catalogue
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import language, posted_date, run_action


def _context(**extra: Any) -> dict[str, Any]:
    cat = catalogue()
    lang = language()
    return {"courses": {code: c.title.get(lang, c.title["en"]) for code, c in cat.courses.items()},
            "professions": {code: p.get(lang, p["en"]) for code, p in cat.professions.items()},
            "catalogue": cat, "today": clock.today(), **extra}


@login_required
def training(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors = None
    report = None
    if request.method == "POST" and actor.role == "agency_admin":
        post = request.POST
        if post.get("action") == "import":
            upload = request.FILES.get("file")
            if upload is None:
                errors = {"file": ["choose a CSV file"]}
            else:
                text = upload.read().decode("utf-8-sig", errors="replace")
                report = services.import_completions(actor=actor, text=text)
        else:
            errors = run_action(request, {
                "record": lambda: services.record_completion(
                    actor=actor, person_key=post.get("person", ""), course=post.get("course", ""),
                    completed_on=posted_date(post.get("completed_on"), "completed_on"),
                    certificate=post.get("certificate", "")),
                "assign": lambda: services.assign_course(
                    actor=actor, person_key=post.get("person", ""), course=post.get("course", ""),
                    due_on=posted_date(post.get("due_on"), "due_on")),
            })
            if errors is None:
                return redirect("web:training")
    mine = selectors.my_training(actor=actor)
    agency = selectors.agency_compliance(actor=actor) if actor.role == "agency_admin" else None
    county = selectors.county_compliance(actor=actor) if actor.role == "training_coordinator" else None
    status = 400 if errors or (report is not None and not report.loaded) else 200
    return render(request, "web/training.html", _context(
        mine=mine, agency=agency, county=county, errors=errors, report=report), status=status)


@login_required
def agency_training(request: HttpRequest, agency_id: int) -> HttpResponse:
    """One agency's compliance, for the county's training coordinators."""
    found = selectors.agency_compliance(actor=_actor(request), agency_id=agency_id)
    return render(request, "web/training_agency.html", _context(agency=found))
