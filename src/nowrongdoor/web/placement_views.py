"""Placements in the browser: the placement desk's board, the resource directory, a
youth's placements (search, absences, returns, holds, the safety facts) and a search's
result with "place here". Thin: selectors and services do the work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from nowrongdoor import clock
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.errors import NotFound, ValidationFailed
from nowrongdoor.placements import selectors, services
from nowrongdoor.protocols.services import county_time_zone
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import form_version as _version
from nowrongdoor.web.common import language as _lang
from nowrongdoor.web.common import posted_date, run_action


def _moment(raw: str, name: str) -> dt.datetime:
    """A ``datetime-local`` field in the county's time zone; empty means now."""
    if not raw:
        return clock.now()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({name: ["must be a date and time (YYYY-MM-DDTHH:MM)"]}) from None
    return value if value.tzinfo else value.replace(tzinfo=county_time_zone())


def _int(raw: str, name: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed({name: ["must be a whole number"]})
    return int(raw)



def _now_local() -> str:
    return clock.now().astimezone(county_time_zone()).strftime("%Y-%m-%dT%H:%M")



def _hold_limits(actor: Any) -> dict[str, int]:
    r = selectors.rules_for(actor)
    return {"hold_default": r.hold_default_days, "hold_max": r.hold_max_days}

@login_required
def board(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    current, expiring = selectors.agency_placements(actor=actor)
    return render(request, "web/placements.html", {"current": current, "expiring": expiring})


@login_required
def resources(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    v = vocabulary()
    rtype = request.GET.get("type", "")
    rows = selectors.resource_directory(actor=actor, resource_type=rtype if rtype in v.codes("placement_type") else "")
    return render(request, "web/placement_resources.html", {
        "resources": rows, "type": rtype, "type_options": v.choices("placement_type"),
        "sees_addresses": selectors.sees_addresses(actor),
        "totals": {"capacity": sum(r.capacity for r in rows), "placed": sum(r.placed for r in rows),
                   "held": sum(r.held for r in rows), "free": sum(max(0, r.free) for r in rows)},
    })


def _needs(post: Any) -> dict[str, Any]:
    return {"types": post.getlist("types"), "language": post.get("language", ""),
            "lgbtq": post.get("lgbtq") == "yes", "school_zone": post.get("school_zone", ""),
            "therapist_zone": post.get("therapist_zone", "")}


@login_required
def youth_placements(request: HttpRequest, youth_id: UUID) -> HttpResponse:
    actor = _actor(request)
    pid = str(youth_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        action = post.get("action", "")
        if action == "search":
            try:
                run = services.search(actor=actor, youth_public_id=pid, needs=_needs(post))
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                return redirect("web:placement_match", run_id=run.public_id)
        else:
            handlers: dict[str, Callable[[], Any]] = {
                "absence": lambda: services.record_absence(
                    actor=actor, placement_public_id=post.get("placement", ""), expected_version=_version(request),
                    started_at=_moment(post.get("at", ""), "at"), note=post.get("note", "")),
                "return": lambda: services.record_return(
                    actor=actor, absence_public_id=post.get("absence", ""), expected_version=_version(request),
                    returned_at=_moment(post.get("at", ""), "at"), whereabouts=post.get("whereabouts", ""),
                    back_in_placement=post.get("back") == "yes"),
                "end": lambda: services.end_placement(
                    actor=actor, placement_public_id=post.get("placement", ""), expected_version=_version(request),
                    ended_at=_moment(post.get("at", ""), "at"), reason=post.get("reason", ""),
                    note=post.get("note", "")),
                "hold": lambda: services.agree_hold(
                    actor=actor, placement_public_id=post.get("placement", ""),
                    days=_int(post.get("days", ""), "days"), agreed_by=post.get("agreed_by", "")),
                "extend_hold": lambda: services.extend_hold(
                    actor=actor, hold_public_id=post.get("hold", ""), expected_version=_version(request),
                    expires_on=posted_date(post.get("expires_on", ""), "expires_on")),
                "release_hold": lambda: services.release_hold(
                    actor=actor, hold_public_id=post.get("hold", ""), expected_version=_version(request),
                    reason=post.get("reason", "")),
                "complicity": lambda: services.record_complicity(
                    actor=actor, youth_public_id=pid, caregiver_id=_int(post.get("caregiver", ""), "caregiver") or 0,
                    note=post.get("note", "")),
                "area": lambda: services.record_exploitation_area(
                    actor=actor, youth_public_id=pid, area_id=_int(post.get("area", ""), "area") or 0),
            }
            failed = run_action(request, handlers)
            if failed is None:
                return redirect("web:youth_placements", youth_id=youth_id)
            errors = failed
    history = selectors.youth_placements(actor=actor, youth_public_id=pid)
    v = vocabulary()
    sees = selectors.sees_addresses(actor)
    return render(request, "web/youth_placements.html", {
        "youth_id": pid, "history": history, "errors": errors, "now": _now_local(),
        "type_options": v.choices("placement_type"), "language_options": v.choices("language"),
        "zones": selectors.zones(), "areas": selectors.exploitation_areas(),
        "caregivers": selectors.caregivers(actor=actor) if sees else [],
        "end_reasons": v.choices("placement_end_reason"),
        **_hold_limits(actor),
        "max_expiry": (clock.today() + dt.timedelta(days=selectors.rules_for(actor).hold_max_days)).isoformat(),
    })


@login_required
def match_result(request: HttpRequest, run_id: UUID) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        hold = post.get("hold") == "yes"
        try:
            view = selectors.get_match(actor=actor, public_id=str(run_id), lang=_lang())
            current = selectors.youth_placements(actor=actor, youth_public_id=view.youth_public_id).current
            days = _int(post.get("hold_days", ""), "hold_days") if hold else None
            if hold and days is None:
                days = selectors.rules_for(actor).hold_default_days
            if current is not None and current.own:
                services.move(actor=actor, placement_public_id=current.public_id, expected_version=current.version,
                              resource_public_id=post.get("resource", ""), moved_at=_moment(post.get("at", ""), "at"),
                              match_run_public_id=str(run_id), hold_days=days,
                              hold_agreed_by=post.get("agreed_by", ""))
            else:
                services.place(actor=actor, youth_public_id=view.youth_public_id,
                               resource_public_id=post.get("resource", ""),
                               started_at=_moment(post.get("at", ""), "at"),
                               match_run_public_id=str(run_id), hold_days=days,
                               hold_agreed_by=post.get("agreed_by", ""))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Placed. The placement's follow-up tasks are on the team's lists."))
            return redirect("web:youth_placements", youth_id=view.youth_public_id)
    view = selectors.get_match(actor=actor, public_id=str(run_id), lang=_lang())
    try:
        current = selectors.youth_placements(actor=actor, youth_public_id=view.youth_public_id).current
    except NotFound:
        current = None
    return render(request, "web/placement_match.html", {
        "match": view, "errors": errors, "now": _now_local(), "current": current,
        **_hold_limits(actor),
    })
