"""Cases in the browser: the caseload, opening a case from the youth's page, and the
case page (status, phase, team, stage of change with its guidance, the cross-system
timeline) with its forms. Thin: selectors and services do the work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nowrongdoor import clock
from nowrongdoor.cases import selectors, services
from nowrongdoor.cases.content import STAGES, stages
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import ValidationFailed
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import form_version as _version
from nowrongdoor.web.common import language as _lang
from nowrongdoor.web.common import posted_date, run_action


@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    return render(request, "web/cases.html", {"cases": selectors.caseload(actor=actor)})


@login_required
def case_review(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if request.method == "POST":
        services.mark_review_held(actor=actor)
        messages.success(request, _("Review recorded. The next list shows what changes from now."))
        return redirect("web:case_review")
    last, rows = selectors.case_review(actor=actor)
    return render(request, "web/case_review.html", {"last": last, "rows": rows})


@login_required
@require_POST
def open_case(request: HttpRequest, youth_id: UUID) -> HttpResponse:
    actor = _actor(request)
    try:
        case = services.open_case(actor=actor, youth_public_id=str(youth_id), reason=request.POST.get("reason", ""))
    except ValidationFailed as exc:
        for field, problems in exc.errors.items():
            messages.error(request, f"{field}: {'; '.join(problems)}")
        return redirect("web:youth_detail", youth_id=youth_id)
    messages.success(request, _("Case opened. Your agency leads it; you are the worker."))
    return redirect("web:case_detail", case_id=case.public_id)


@login_required
def case_detail(request: HttpRequest, case_id: UUID) -> HttpResponse:
    actor = _actor(request)
    pid = str(case_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        post = request.POST
        handlers: dict[str, Callable[[], Any]] = {
            "stage": lambda: services.record_stage(actor=actor, case_public_id=pid, stage=post.get("stage", ""),
                                                   on=posted_date(post.get("on", ""), "on"), note=post.get("note", "")),
            "phase": lambda: services.set_phase(actor=actor, case_public_id=pid, expected_version=_version(request),
                                                phase=post.get("phase", ""), on=posted_date(post.get("on", ""), "on")),
            "member": lambda: services.add_member(actor=actor, case_public_id=pid,
                                                  member_username=post.get("member", "").strip(),
                                                  role_in_team=post.get("role_in_team", "")),
            "remove_member": lambda: services.remove_member(actor=actor, case_public_id=pid,
                                                            member_username=post.get("member", "")),
            "status": lambda: services.record_status(
                actor=actor, youth_public_id=post.get("youth_id", ""), status=post.get("status", ""),
                start_date=posted_date(post.get("start_date", ""), "start_date"),
                end_date=posted_date(post["end_date"], "end_date") if post.get("end_date") else None),
            "request_closure": lambda: services.request_closure(
                actor=actor, case_public_id=pid, expected_version=_version(request), reason=post.get("reason", ""),
                note=post.get("note", "")),
            "refer": lambda: services.refer(
                actor=actor, case_public_id=pid, provider_id=int(post.get("provider", "0") or 0)
                if post.get("provider", "").isdigit() else 0, services_=post.getlist("services"),
                consent_override=post.get("consent_override", "")),
            "meeting": lambda: services.record_meeting(
                actor=actor, case_public_id=pid, held_on=posted_date(post.get("held_on", ""), "held_on"),
                attendees=post.getlist("attendees"), agenda=post.get("agenda", ""),
                decisions=post.get("decisions", ""),
                action_items=[{"what": post.get(f"item_{n}_what", ""), "owner": post.get(f"item_{n}_owner", ""),
                               "due_on": post.get(f"item_{n}_due", "")}
                              for n in range(1, 4) if post.get(f"item_{n}_what", "").strip()]),
            "relationship": lambda: services.record_relationship(
                actor=actor, case_public_id=pid, kind=post.get("kind", ""), person=post.get("person", ""),
                since=posted_date(post.get("since", ""), "since")),
            "relationship_end": lambda: messages.warning(request, services.plan_relationship_end(
                actor=actor, case_public_id=pid, relationship_id=int(post.get("relationship", "0") or 0)
                if post.get("relationship", "").isdigit() else 0,
                ends_on=posted_date(post.get("ends_on", ""), "ends_on"))),
            "hearing": lambda: services.add_hearing(
                actor=actor, case_public_id=pid, held_on=posted_date(post.get("held_on", ""), "held_on"),
                court=post.get("court", ""), note=post.get("note", "")),
            "care_plan": lambda: services.save_plan(
                actor=actor, case_public_id=pid, kind="care", expected_version=_version(request),
                content={"goals": [{"goal": post.get(f"goal_{n}", "").strip(),
                                    "services": post.get(f"goal_{n}_services", "").strip(),
                                    "responsible": post.get(f"goal_{n}_responsible", "").strip(),
                                    **({"review_on": post[f"goal_{n}_review"]} if post.get(f"goal_{n}_review")
                                       else {})}
                                   for n in range(1, 6) if post.get(f"goal_{n}", "").strip()]}),
            "safety_plan": lambda: services.save_plan(
                actor=actor, case_public_id=pid, kind="safety", expected_version=_version(request),
                content={**{k: [line.strip() for line in post.get(k, "").splitlines() if line.strip()]
                            for k in services.SAFETY_LISTS},
                         **{k: post.get(k, "").strip() for k in services.SAFETY_TEXTS}}),
            "transfer": lambda: services.transfer_case(
                actor=actor, case_public_id=pid, expected_version=_version(request),
                to_agency_id=int(post["to_agency"]) if post.get("to_agency", "").isdigit() else 0,
                reason=post.get("reason", "")),
            "worker": lambda: services.assign_worker(actor=actor, case_public_id=pid,
                                                     expected_version=_version(request),
                                                     worker_username=post.get("worker", "").strip()),
            "approve_closure": lambda: services.decide_closure(actor=actor, case_public_id=pid,
                                                               expected_version=_version(request), approve=True),
            "refuse_closure": lambda: services.decide_closure(actor=actor, case_public_id=pid,
                                                              expected_version=_version(request), approve=False),
        }
        failed = run_action(request, handlers)
        if failed is not None:
            errors = failed
        else:
            if action == "transfer":  # the case now belongs to the other county's agency
                return redirect("web:caseload")
            return redirect("web:case_detail", case_id=case_id)
    view = selectors.get_case(actor=actor, public_id=pid)
    care, safety = _plan_or_none(actor, pid, "care"), _plan_or_none(actor, pid, "safety")
    v = vocabulary()
    lang = _lang()
    content = stages()
    return render(request, "web/case.html", {
        "case": view, "errors": errors, "lang": lang,
        "stage_options": [(code, content[code].label[lang]) for code in STAGES],
        "current_stage": view.current_stage,
        "stage_goals": view.current_stage.counsellor_goals[lang] if view.current_stage else [],
        "stage_phrases": view.current_stage.supportive_phrases[lang] if view.current_stage else [],
        "stage_avoid": view.current_stage.avoid[lang] if view.current_stage else [],
        "stage_path": [(content[s].label[lang], content[s].order, on) for s, on, _ in view.stages],
        "phase_options": [(c, v.label("case_phase", c)) for c in v.codes("case_phase")],
        "status_options": [(c, v.label("exploitation_status", c)) for c in v.codes("exploitation_status")],
        "closure_options": [(c, v.label("case_closure_reason", c)) for c in v.codes("case_closure_reason")],
        "today": clock.today().isoformat(), "is_supervisor": actor.role == "supervisor",
        "providers": selectors.find_providers() if view.own else [],
        "service_options": [(c, v.label("service_type", c)) for c in v.codes("service_type")],
        "referrals": view.referrals, "relationships": view.relationships,
        "pathways": [(code, pw.title[lang]) for code, pw in selectors.pathways_for(actor).items()],
        "care": care, "safety": safety,
        "safety_items": [(k.replace("_", " "), "; ".join(v) if isinstance(v, list) else v)
                         for k, v in (safety.content.items() if safety else []) if v],
        "goal_rows": range(1, 6),
        "other_counties": [(a.pk, f"{a.name} ({a.county.name})") for a in Agency.objects.select_related("county")
                           .filter(agency_type=actor.agency.agency_type if actor.agency else "")
                           .exclude(county_id=actor.agency.county_id if actor.agency else 0)]
        if actor.role == "supervisor" else [],
        "pathway": request.GET.get("pathway", ""),
        "suggestions": selectors.suggest_pathway(request.GET["pathway"], actor)
        if request.GET.get("pathway") in selectors.pathways_for(actor) else [],
        "relationship_kinds": services.RELATIONSHIP_KINDS,
    })


def _plan_or_none(actor: User, case_id: str, kind: str) -> selectors.PlanView | None:
    """The plan if the reader may see it (the safety plan needs consent beyond the lead)."""
    from nowrongdoor.errors import NotFound

    try:
        return selectors.get_plan(actor=actor, case_public_id=case_id, kind=kind)
    except NotFound:
        return None
