"""Prevention programmes: the catalogue and the agency's cohorts, one cohort's roster
and attendance, and enrolling a youth from their page. Thin: ``prevention.selectors``
and ``prevention.services``; every youth goes through ``access``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from nowrongdoor import clock
from nowrongdoor.prevention import selectors, services
from nowrongdoor.prevention.catalogue import SETTINGS
from nowrongdoor.prevention.models import Enrolment
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import language, posted_date, posted_number, run_action


def _common(actor: Any) -> dict[str, Any]:
    lang = language()
    cat = selectors.offered(actor)
    return {"programmes": [(p, p.title.get(lang, p.title["en"]), p.about.get(lang, p.about["en"]))
                           for p in cat.programmes.values()],
            "titles": {code: p.title.get(lang, p.title["en"]) for code, p in selectors.known(actor).programmes.items()},
            "settings_list": SETTINGS, "today": clock.today(), "completion_share": cat.completion_share,
            "setting_labels": {"school": _("School"), "group_home": _("Group home"),
                               "juvenile_hall": _("Juvenile hall"), "community": _("Community")},
            "status_labels": {"enrolled": _("enrolled"), "completed": _("completed"), "withdrawn": _("withdrawn")}}


@login_required
def programmes(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors = None
    if request.method == "POST":
        post = request.POST
        errors = run_action(request, {"cohort": lambda: services.create_cohort(
            actor=actor, programme=post.get("programme", ""), setting=post.get("setting", ""),
            name=post.get("name", ""), starts_on=posted_date(post.get("starts_on"), "starts_on"),
            facilitator=post.get("facilitator", ""))})
        if errors is None:
            return redirect("web:prevention")
    return render(request, "web/prevention.html", {**_common(actor), "cohorts": selectors.cohorts(actor=actor),
                                                   "errors": errors}, status=400 if errors else 200)


@login_required
def cohort(request: HttpRequest, cohort_id: UUID) -> HttpResponse:
    actor = _actor(request)
    errors = None
    if request.method == "POST":
        post = request.POST
        errors = run_action(request, {
            "attendance": lambda: services.record_attendance(
                actor=actor, cohort_public_id=str(cohort_id), session=posted_number(post.get("session"), "session"),
                held_on=posted_date(post.get("held_on"), "held_on"),
                present=dict.fromkeys(post.getlist("present"), True)),
            "withdraw": lambda: services.withdraw(
                actor=actor, enrolment_public_id=post.get("enrolment", ""),
                expected_version=posted_number(post.get("version"), "version")),
        })
        if errors is None:
            return redirect("web:prevention_cohort", cohort_id=cohort_id)
    view = selectors.cohort(actor=actor, public_id=str(cohort_id))
    return render(request, "web/prevention_cohort.html", {**_common(actor), "view": view, "errors": errors,
                                                          "session_numbers": range(1, view.sessions + 1),
                                                          "enrolled": Enrolment.ENROLLED},
                  status=400 if errors else 200)


@login_required
def enrol(request: HttpRequest, youth_id: UUID) -> HttpResponse:
    """Enrol this youth in one of the agency's open cohorts."""
    actor = _actor(request)
    errors = None
    if request.method == "POST":
        post = request.POST
        errors = run_action(request, {"enrol": lambda: services.enrol(
            actor=actor, cohort_public_id=post.get("cohort", ""), youth_public_id=str(youth_id),
            consent_on=posted_date(post.get("consent_on"), "consent_on"), consent_by=post.get("consent_by", ""))})
        if errors is None:
            return redirect("web:prevention_cohort", cohort_id=post.get("cohort", ""))
    open_cohorts = [c for c in selectors.cohorts(actor=actor) if c.cohort.status == "open"]
    return render(request, "web/prevention_enrol.html", {**_common(actor), "youth_id": youth_id,
                                                         "cohorts": open_cohorts, "errors": errors,
                                                         "consent_by": Enrolment.CONSENT_BY},
                  status=400 if errors else 200)
