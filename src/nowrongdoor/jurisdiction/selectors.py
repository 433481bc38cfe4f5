"""Reads of jurisdiction profiles: the catalogue, a county's history, what a profile does
with one event, two profiles side by side, and a diversion check.

Profiles are content, not youth data: any active staff member may read them. Applying
one is a write (``services``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from nowrongdoor.directory.models import County, User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed
from nowrongdoor.jurisdiction.diversion import FACTS as DIVERSION_FACTS
from nowrongdoor.jurisdiction.diversion import Result, evaluate
from nowrongdoor.jurisdiction.models import ProfileAssignment
from nowrongdoor.jurisdiction.profiles import InForce, Profile, in_force, profile_settings, profiles
from nowrongdoor.protocols.engine import SOURCE_AGENCY, plan

# Events the compare page can replay: what happened, and the facts the protocols see.
EVENTS: dict[str, dict[str, Any]] = {
    "prostitution_detention": {
        "label": "A youth of 15 detained by police on a prostitution-related charge",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "detention", "offence_category": "prostitution_related",
                  "source_agency_type": "law_enforcement", "age": 15, "prior_count": 0,
                  "identified": False, "previously_identified": False},
    },
    "prostitution_arrest_17": {
        "label": "A youth of 17 arrested by police on a prostitution-related charge",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "arrest", "offence_category": "prostitution_related",
                  "source_agency_type": "law_enforcement", "age": 17, "prior_count": 0,
                  "identified": False, "previously_identified": False},
    },
    "clear_indicators": {
        "label": "A child welfare screening finds clear indicators (first identification)",
        "event_type": "screening_completed",
        "facts": {"level": "clear_indicators", "immediate_safety": False, "setting": "child_welfare",
                  "source_agency_type": "child_welfare", "age": 15, "identified": True,
                  "previously_identified": False},
    },
    "possible_exploitation": {
        "label": "A clinic screening finds possible exploitation",
        "event_type": "screening_completed",
        "facts": {"level": "possible_exploitation", "immediate_safety": False, "setting": "health",
                  "source_agency_type": "health", "age": 15, "identified": False, "previously_identified": False},
    },
    "hotline_exploitation_report": {
        "label": "A hotline report alleging commercial sexual exploitation",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "hotline_report", "allegations": ["sexual_exploitation"],
                  "source_agency_type": "child_welfare", "age": 14, "prior_count": 0,
                  "identified": False, "previously_identified": False},
    },
    "removal": {
        "label": "A child removed from home",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "removal", "source_agency_type": "child_welfare", "age": 13, "prior_count": 0,
                  "identified": False, "previously_identified": False},
    },
    "placement_of_identified_youth": {
        "label": "An identified youth placed in a foster family",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "placement_start", "placement_type": "foster_family",
                  "source_agency_type": "child_welfare", "age": 15, "prior_count": 0,
                  "identified": True, "previously_identified": True},
    },
    "court_hearing_identified": {
        "label": "The juvenile court hears an identified youth's case",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "court_hearing", "hearing_type": "detention", "source_agency_type": "juvenile_court",
                  "age": 16, "prior_count": 0, "identified": True, "previously_identified": True},
    },
    "school_recruitment_concern": {
        "label": "School staff suspect a student is recruiting other students",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "school_event", "event": "recruitment_concern", "source_agency_type": "education",
                  "age": 15, "prior_count": 0, "identified": False, "previously_identified": False},
    },
    "school_suspected_victim": {
        "label": "School staff suspect a student is being exploited",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "school_event", "event": "exploitation_concern", "source_agency_type": "education",
                  "age": 15, "prior_count": 0, "identified": False, "previously_identified": False},
    },
    "school_confirmed_victim": {
        "label": "A student is a confirmed victim",
        "event_type": "contact_recorded",
        "facts": {"contact_type": "school_event", "event": "exploitation_confirmed",
                  "source_agency_type": "education", "age": 15, "prior_count": 0, "identified": True,
                  "previously_identified": True},
    },
}
# The replayed event happens on a Monday morning, so business-day clocks read plainly.
REPLAY_DAY, REPLAY_TIME = dt.date(2027, 3, 1), dt.time(9, 0)


def _active(actor: User) -> None:
    if not actor.is_active:
        raise AccessDenied("inactive account")


@dataclass(frozen=True)
class ProfileSummary:
    profile: Profile
    counts: dict[str, int]
    counties: list[str]  # where it is in force now


def list_profiles(*, actor: User) -> list[ProfileSummary]:
    """Every profile, what it sets, and the counties that follow it."""
    _active(actor)
    current = _current_assignments()
    out = []
    for p in sorted(profiles().values(), key=lambda p: p.title["en"]):
        out.append(ProfileSummary(p, compiled(p).counts,
                                  sorted(name for name, a in current.items() if a.profile_id == p.id)))
    return out


def compiled(p: Profile) -> InForce:
    return profile_settings(p.id)


def _current_assignments() -> dict[str, ProfileAssignment]:
    current: dict[str, ProfileAssignment] = {}
    for row in ProfileAssignment.objects.select_related("county").order_by("county_id", "-revision"):
        current.setdefault(row.county.name, row)
    return current


def get_profile(*, actor: User, profile_id: str) -> Profile:
    _active(actor)
    found = profiles().get(profile_id)
    if found is None:
        raise NotFound(f"no profile {profile_id!r}")
    return found


@dataclass(frozen=True)
class CountyProfile:
    county: County
    current: ProfileAssignment | None
    history: list[ProfileAssignment]
    force: InForce
    stale: bool  # the profile file moved to a newer version since it was applied


def county_profiles(*, actor: User) -> list[CountyProfile]:
    """Each county, its profile in force and the history of its choices."""
    _active(actor)
    rows: dict[int, list[ProfileAssignment]] = {}
    for row in ProfileAssignment.objects.select_related("applied_by").order_by("county_id", "-revision"):
        rows.setdefault(row.county_id, []).append(row)
    out = []
    for county in County.objects.order_by("name"):
        history = rows.get(county.pk, [])
        current = history[0] if history else None
        loaded = profiles().get(current.profile_id) if current and current.profile_id else None
        out.append(CountyProfile(county, current, history, in_force(county),
                                 bool(loaded and current and loaded.version != current.profile_version)))
    return out


# -- what a profile does with one event -------------------------------------------
@dataclass(frozen=True)
class PlannedStep:
    protocol: str
    step: str
    title: str
    owner: str  # "the agency that saw the youth" or an agency type, with the role
    due: str  # the clock in words
    due_hours: float  # from the event
    occurrences: int

    @property
    def key(self) -> str:
        return f"{self.protocol}:{self.step}"


def replay(force: InForce, event: str, lang: str = "en") -> list[PlannedStep]:
    """The tasks an event would open under these settings, in due order."""
    spec = EVENTS.get(event)
    if spec is None:
        raise ValidationFailed({"event": [f"choose one of {', '.join(EVENTS)}"]})
    tz = ZoneInfo(settings.TIME_ZONE)
    at = dt.datetime.combine(REPLAY_DAY, REPLAY_TIME, tzinfo=tz)
    planned = plan(list(force.protocols.protocols), event_key="replay", event_type=spec["event_type"],
                   facts=spec["facts"], occurred_at=at, tz=tz, holidays=frozenset())
    steps: dict[str, PlannedStep] = {}
    for p in planned:
        key = f"{p.protocol.id}:{p.step.id}"
        if key in steps:
            continue
        owner = ("the agency that saw the youth" if p.step.agency == SOURCE_AGENCY
                 else p.step.agency.replace("_", " "))
        steps[key] = PlannedStep(
            protocol=p.protocol.id, step=p.step.id, title=p.step.title.get(lang, p.step.title["en"]),
            owner=f"{owner}, {p.step.role.replace('_', ' ')}",
            due=p.step.due.describe() + (f", then every {p.step.repeat_every.describe()}, {p.step.repeat_count} times"
                                         if p.step.repeat_every else ""),
            due_hours=round((p.due_at - at).total_seconds() / 3600, 2), occurrences=p.step.repeat_count,
        )
    return sorted(steps.values(), key=lambda s: (s.due_hours, s.key))


@dataclass(frozen=True)
class CompareRow:
    key: str
    left: PlannedStep | None
    right: PlannedStep | None

    @property
    def verdict(self) -> str:
        if self.left is None:
            return "only_right"
        if self.right is None:
            return "only_left"
        same = (self.left.due, self.left.owner) == (self.right.due, self.right.owner)
        return "same" if same else "different"


@dataclass(frozen=True)
class Comparison:
    left: Profile | None
    right: Profile | None
    event: str
    rows: list[CompareRow]
    left_diversion: str
    right_diversion: str


def _settings_of(profile_id: str) -> tuple[Profile | None, InForce]:
    """A profile's settings, or the plain defaults for ``defaults``."""
    if profile_id in ("", "defaults"):
        from nowrongdoor.jurisdiction.profiles import default_in_force

        return None, default_in_force("")
    found = profiles().get(profile_id)
    if found is None:
        raise ValidationFailed({"profile": [f"no profile {profile_id!r}"]})
    return found, compiled(found)


def compare(*, actor: User, left: str, right: str, event: str, lang: str = "en") -> Comparison:
    """Step by step, how two profiles (or ``defaults``) answer the same event."""
    _active(actor)
    left_profile, left_force = _settings_of(left)
    right_profile, right_force = _settings_of(right)
    a = {s.key: s for s in replay(left_force, event, lang)}
    b = {s.key: s for s in replay(right_force, event, lang)}
    order = sorted(set(a) | set(b), key=lambda k: (min(x.due_hours for x in (a.get(k), b.get(k)) if x), k))
    rows = [CompareRow(k, a.get(k), b.get(k)) for k in order]
    return Comparison(left_profile, right_profile, event, rows,
                      left_force.diversion.title if left_force.diversion else "",
                      right_force.diversion.title if right_force.diversion else "")


def diversion_check(*, actor: User, facts: dict[str, Any]) -> Result:
    """The county's diversion / safe-harbour answer for these facts (a youth's age,
    earlier adjudications, ...); refused where the county's profile sets no rule set."""
    _active(actor)
    force = in_force(actor.agency.county if actor.agency else None)
    if force.diversion is None:
        raise ValidationFailed({"profile": ["your county's jurisdiction profile sets no diversion rules"]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, int | bool] = {}
    for name, value in facts.items():
        kind = DIVERSION_FACTS.get(name)
        if kind is None:
            errors[name] = [f"unknown fact (known: {', '.join(sorted(DIVERSION_FACTS))})"]
        elif kind is bool and not isinstance(value, bool):
            errors[name] = ["true or false"]
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 30):
            errors[name] = ["a whole number from 0 to 30"]
        else:
            clean[name] = value
    needed = {"age"} | {c.fact for s in force.diversion.sets for c in s.conditions}
    for name in sorted(needed - set(facts)):
        errors[name] = ["required by your county's rules"]
    if errors:
        raise ValidationFailed(errors)
    return evaluate(force.diversion, clean)
