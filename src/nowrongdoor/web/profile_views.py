"""Jurisdiction profiles: the list with each county's choice (and, for system
administrators, applying one), one profile in full, the compare page and the diversion
check. Thin: ``jurisdiction.selectors`` and ``services``."""

from __future__ import annotations

from typing import Any

import yaml
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from nowrongdoor.errors import ValidationFailed
from nowrongdoor.jurisdiction import selectors, services
from nowrongdoor.jurisdiction.diversion import FACTS as DIVERSION_FACTS
from nowrongdoor.jurisdiction.profiles import in_force
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.web.common import language, posted_number, run_action

MAX_OVERRIDES = 20_000


def _overrides(raw: str) -> dict[str, Any]:
    """The overrides box: YAML in the profile's own sections, or empty."""
    if not raw.strip():
        return {}
    if len(raw) > MAX_OVERRIDES:
        raise ValidationFailed({"overrides": [f"at most {MAX_OVERRIDES} characters"]})
    try:
        found = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValidationFailed({"overrides": [f"not valid YAML: {exc}"]}) from None
    if not isinstance(found, dict):
        raise ValidationFailed({"overrides": ["write the sections to change (screening:, protocols:, mdt: ...)"]})
    return found


@login_required
def profiles(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors = None
    if request.method == "POST":
        post = request.POST

        def apply() -> None:
            services.apply_profile(
                actor=actor, county_name=post.get("county", ""), profile_id=post.get("profile", ""),
                reason=post.get("reason", ""), expected_revision=posted_number(post.get("revision"), "revision"),
                overrides=_overrides(post.get("overrides", "")))

        errors = run_action(request, {"apply": apply})
        if errors is None:
            return redirect("web:profiles")
    return render(request, "web/profiles.html", {
        "profiles": selectors.list_profiles(actor=actor), "counties": selectors.county_profiles(actor=actor),
        "may_apply": actor.role == "system_admin", "errors": errors, "lang": language(),
        "posted": request.POST if errors else {},
    }, status=400 if errors else 200)


@login_required
def profile(request: HttpRequest, profile_id: str) -> HttpResponse:
    actor = _actor(request)
    found = selectors.get_profile(actor=actor, profile_id=profile_id)
    lang = language()
    force = selectors.compiled(found)
    replays = [(code, spec["label"], selectors.replay(force, code, lang)) for code, spec in selectors.EVENTS.items()]
    return render(request, "web/profile.html", {
        "profile": found, "force": force, "replays": [r for r in replays if r[2]], "lang": lang,
        "others": [p.profile for p in selectors.list_profiles(actor=actor) if p.profile.id != found.id],
        "programmes": [p.title.get(lang, p.title["en"]) for p in force.programmes.programmes.values()],
    })


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    left = request.GET.get("left") or "defaults"
    right = request.GET.get("right") or "defaults"
    event = request.GET.get("event") or "prostitution_detention"
    errors = None
    comparison = None
    try:
        comparison = selectors.compare(actor=actor, left=left, right=right, event=event, lang=language())
    except ValidationFailed as exc:
        errors = exc.errors
    return render(request, "web/profile_compare.html", {
        "profiles": [s.profile for s in selectors.list_profiles(actor=actor)], "left": left, "right": right,
        "event": event, "events": [(code, spec["label"]) for code, spec in selectors.EVENTS.items()],
        "comparison": comparison, "errors": errors, "lang": language(),
    }, status=400 if errors else 200)


def _posted_facts(post: Any, needed: list[str]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name in needed:
        raw = post.get(name, "")
        if DIVERSION_FACTS[name] is bool:
            if raw not in ("yes", "no"):
                raise ValidationFailed({name: ["answer yes or no"]})
            facts[name] = raw == "yes"
        else:
            facts[name] = posted_number(raw, name)
    return facts


@login_required
def diversion(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    rules = in_force(actor.agency.county if actor.agency else None).diversion
    needed = ["age", *sorted({c.fact for s in rules.sets for c in s.conditions})] if rules else []
    result, errors = None, None
    if request.method == "POST" and rules is not None:
        try:
            result = selectors.diversion_check(actor=actor, facts=_posted_facts(request.POST, needed))
        except ValidationFailed as exc:
            errors = exc.errors
    return render(request, "web/diversion.html", {
        "rules": rules, "needed": [(n, DIVERSION_FACTS[n] is bool) for n in needed], "result": result,
        "errors": errors, "posted": request.POST,
    }, status=400 if errors else 200)
