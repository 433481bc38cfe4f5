"""Server-rendered pages. Thin: each view calls selectors/services and renders.

No view queries youth models (ARCHITECTURE.md rule 1); domain errors are turned into
pages by ``DomainErrorMiddleware``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from nowrongdoor.access import selectors as access_selectors
from nowrongdoor.access import services as access_services
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import ValidationFailed
from nowrongdoor.identity.selectors import current_public_id
from nowrongdoor.protocols import selectors as protocol_selectors
from nowrongdoor.screening import selectors as screening_selectors
from nowrongdoor.screening import services as screening_services
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.youth import selectors, services


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def _purposes(actor: User) -> list[tuple[str, str]]:
    allowed = vocabulary().role_purposes(actor.role)
    return [(code, label) for code, label in vocabulary().purposes.items() if code in allowed]


def _purpose(request: HttpRequest, actor: User) -> str:
    requested = request.GET.get("purpose", "")
    return requested or services.writing_purpose(actor)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    v = vocabulary()
    context = {
        "role_label": v.roles.get(actor.role, actor.role),
        "works_with_youth": bool(v.role_purposes(actor.role)),
        "reads_audit": v.role_reads_audit(actor.role) is not None,
        "reviews": v.role_reviews_break_glass(actor.role),
        "pending_reviews": access_selectors.break_glass_queue(actor=actor).count()
        if v.role_reviews_break_glass(actor.role) else 0,
    }
    return render(request, "web/home.html", context)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name or alias"), max_length=100)
    date_of_birth = forms.DateField(label=_("Date of birth (optional)"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))


class EmergencyForm(forms.Form):
    q = forms.CharField(label=_("Full name"), max_length=100)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"}))
    justification = forms.CharField(
        label=_("Why you need this now"), min_length=20, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


@login_required
def youth_search(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    purpose = _purpose(request, actor)
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid():
        try:
            results = selectors.search_youth(
                actor=actor, query=form.cleaned_data["q"], purpose=purpose,
                date_of_birth=form.cleaned_data["date_of_birth"],
            )
        except ValidationFailed as exc:
            for field, problems in exc.errors.items():
                form.add_error(field if field in form.fields else None, problems)
    context: dict[str, Any] = {
        "form": form, "results": results, "purpose": purpose, "purposes": _purposes(actor),
        "emergency_form": EmergencyForm(),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/youth_search.html#results", context)
    return render(request, "web/youth_search.html", context)


@login_required
@require_POST
def emergency_access(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = EmergencyForm(request.POST)
    if form.is_valid():
        try:
            ids = services.emergency_lookup(
                actor=actor, query=form.cleaned_data["q"], date_of_birth=form.cleaned_data["date_of_birth"],
                justification=form.cleaned_data["justification"],
            )
        except ValidationFailed as exc:
            for field, problems in exc.errors.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            if len(ids) == 1:
                messages.warning(request, _("Emergency access is open for 4 hours. Your supervisor will review it."))
                return redirect("web:youth_detail", youth_id=ids[0])
            if not ids:
                form.add_error(None, _("No youth matches that name and date of birth."))
            else:
                messages.warning(request, _("Emergency access is open for 4 hours on each match."))
                return render(request, "web/emergency_matches.html", {"ids": ids})
    context = {"form": SearchForm(), "results": None, "purpose": _purpose(request, actor),
               "purposes": _purposes(actor), "emergency_form": form}
    return render(request, "web/youth_search.html", context, status=400)


@login_required
def youth_detail(request: HttpRequest, youth_id: Any) -> HttpResponse:
    actor = _actor(request)
    moved = current_public_id(str(youth_id))
    if moved:  # merged by identity resolution: the youth's records now live here
        return redirect("web:youth_detail", youth_id=moved)
    purpose = _purpose(request, actor)
    view = selectors.get_youth(actor=actor, public_id=str(youth_id), purpose=purpose)
    v = vocabulary()
    screenings = screening_selectors.screenings_of_youth(actor=actor, youth_public_id=str(youth_id), purpose=purpose)
    tasks = protocol_selectors.tasks_of_youth(actor=actor, youth_public_id=str(youth_id), purpose=purpose)
    can_screen = "screening" in v.role_purposes(actor.role) and bool(screening_services.instruments_offered(actor))
    return render(request, "web/youth_detail.html", {
        "youth": view, "purpose": purpose, "purposes": _purposes(actor),
        "categories": v.data_categories, "agency_types": v.agency_types,
        "break_glass": "break_glass" in view.bases, "screenings": screenings, "can_screen": can_screen,
        "can_open_case": "case_coordination" in v.role_purposes(actor.role),
        "tasks": tasks, "lang": "es" if (request.LANGUAGE_CODE or "en").startswith("es") else "en",
    })


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    events = access_selectors.audit_log(
        actor=actor, action=request.GET.get("action", "")[:40], actor_username=request.GET.get("actor", "")[:150],
        denied_only=request.GET.get("denied") == "1",
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "web/audit_log.html", {"page": page, "filters": request.GET})


@login_required
def break_glass_reviews(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    return render(request, "web/reviews.html", {"grants": access_selectors.break_glass_queue(actor=actor)})


@login_required
@require_POST
def review_break_glass(request: HttpRequest, grant_id: int) -> HttpResponse:
    actor = _actor(request)
    outcome = request.POST.get("outcome", "")
    grant = access_services.get_break_glass(actor=actor, grant_id=grant_id)
    access_services.review_break_glass(actor=actor, grant=grant, outcome=outcome,
                                       note=request.POST.get("note", "")[:2000])
    messages.success(request, _("Review recorded."))
    return redirect("web:break_glass_reviews")
