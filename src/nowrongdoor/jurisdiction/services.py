"""Writes of jurisdiction profiles: apply one to a county (with the county's own
overrides), change it, remove it. Only a system administrator may; every attempt is
audited, refusals too.

Each change adds the county's next revision (``ProfileAssignment``); nothing is
rewritten. Open tasks keep the protocol version and profile label they were opened
under, because a task is a snapshot of its step: the new profile applies to events
from now on. The form sends the revision it read, so two administrators changing the
same county at once cannot overwrite each other (the second is told to reload).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.directory.models import County, User
from nowrongdoor.errors import AccessDenied, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.jurisdiction.models import ProfileAssignment
from nowrongdoor.jurisdiction.profiles import ProfileInvalid, check_overrides, in_force, label_of, profiles
from nowrongdoor.protocols.models import Task

MIN_REASON = 10


def _authorize(actor: User, action: str, county_name: str) -> None:
    if not actor.is_active or actor.role != "system_admin":
        record_event(actor=actor, action=action, allowed=False, object_type="county", object_id=county_name[:64],
                     reason="only a system administrator changes a county's jurisdiction profile")
        raise AccessDenied("only a system administrator changes a county's jurisdiction profile")


def _county(name: str) -> County:
    county = County.objects.filter(name=name).first()
    if county is None:
        raise NotFound(f"no county {name!r}")
    return county


def current_revision(county: County) -> int:
    latest = ProfileAssignment.objects.filter(county=county).order_by("-revision").values_list(
        "revision", flat=True).first()
    return latest or 0


def apply_profile(*, actor: User, county_name: str, profile_id: str, reason: str, expected_revision: int,
                  overrides: Mapping[str, Any] | None = None) -> ProfileAssignment:
    """Make ``profile_id`` (with ``overrides``, in the profile's own format) the county's
    profile from now on. Blank ``profile_id`` removes the profile: the deployment's
    defaults hold again."""
    action = "jurisdiction.profile_applied" if profile_id else "jurisdiction.profile_removed"
    _authorize(actor, action, county_name)
    county = _county(county_name)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        errors["reason"] = [f"say why (at least {MIN_REASON} characters)"]
    chosen = profiles().get(profile_id) if profile_id else None
    if profile_id and chosen is None:
        errors["profile"] = [f"no profile {profile_id!r} (have: {', '.join(sorted(profiles()))})"]
    overrides = dict(overrides or {})
    if overrides and not profile_id:
        errors["overrides"] = ["overrides need a profile to apply over"]
    if chosen is not None and overrides:
        try:
            check_overrides(chosen.id, overrides, county=county.name)
        except ProfileInvalid as exc:
            errors["overrides"] = exc.problems
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = County.objects.filter(pk=county.pk)
        if connection.vendor == "postgresql":
            locked = locked.select_for_update()
        locked.get()
        revision = current_revision(county)
        if revision != expected_revision:
            raise StaleEdit(revision)
        label = label_of(chosen, revision + 1, bool(overrides))
        row = ProfileAssignment.objects.create(
            county=county, revision=revision + 1, profile_id=profile_id,
            profile_version=chosen.version if chosen else None, overrides=overrides, label=label,
            reason=reason, applied_by=actor, applied_at=clock.now(),
        )
        open_tasks = Task.objects.filter(county=county, status=Task.OPEN).count()
        record_event(actor=actor, action=action, object_type="county", object_id=str(county.pk),
                     reason=reason, detail={"county": county.name, "revision": row.revision, "profile": profile_id,
                                            "version": row.profile_version, "label": label,
                                            "overrides": sorted(overrides), "open_tasks_kept": open_tasks})
    in_force(county)  # compile now (validated above), so the next event does not pay for it
    return row


def remove_profile(*, actor: User, county_name: str, reason: str, expected_revision: int) -> ProfileAssignment:
    return apply_profile(actor=actor, county_name=county_name, profile_id="", reason=reason,
                         expected_revision=expected_revision)
