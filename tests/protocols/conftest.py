"""A small synthetic county for the protocol tests: one agency of each type, staff in
each role, and one youth known to probation and child welfare."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.protocols import library
from nowrongdoor.protocols.models import Task
from nowrongdoor.screening import services as screening_services
from nowrongdoor.screening.instruments import for_agency_type
from nowrongdoor.youth.services import create_contact

LA = ZoneInfo("America/Los_Angeles")
# A Friday night: the clocks run across a weekend.
T0 = dt.datetime(2026, 11, 20, 22, 0, tzinfo=LA)
AGENCY_TYPES = ["child_welfare", "probation", "law_enforcement", "education", "health", "community_provider",
                "juvenile_court", "mental_health"]
ROLES = ["screener", "case_manager", "mdt_coordinator", "supervisor", "agency_admin"]


@dataclass
class County_:
    county: County
    agencies: dict[str, Agency]
    staff: dict[tuple[str, str], User]
    records: dict[str, Any] = field(default_factory=dict)

    def user(self, agency_type: str, role: str) -> User:
        return self.staff[(agency_type, role)]

    @property
    def youth(self) -> Any:
        return self.records["probation"].youth

    def record(self, agency_type: str) -> Any:
        return self.records[agency_type]


@pytest.fixture(autouse=True)
def _fresh_rules() -> Iterator[None]:
    library.all_rules.cache_clear()
    yield
    library.all_rules.cache_clear()


@pytest.fixture
def world(county: County, make_agency: Callable[..., Agency], make_user: Callable[..., User],
          make_record: Callable[..., Any], link_records: Callable[..., None]) -> County_:
    agencies = {t: make_agency(t) for t in AGENCY_TYPES}
    staff: dict[tuple[str, str], User] = {}
    for agency_type, agency in agencies.items():
        supervisor = make_user("supervisor", agency)
        staff[(agency_type, "supervisor")] = supervisor
        for role in ROLES:
            if role != "supervisor":
                staff[(agency_type, role)] = make_user(role, agency, supervisor=supervisor)
    w = County_(county, agencies, staff)
    with clock.frozen(T0 - dt.timedelta(days=30)):
        first = make_record(w.user("probation", "screener"))
        w.records["probation"] = first
        for agency_type in ("child_welfare", "law_enforcement", "education", "health"):
            record = make_record(w.user(agency_type, "screener"))
            link_records(record, first)
            w.records[agency_type] = record
    return w


def contact(w: County_, agency_type: str, contact_type: str, at: dt.datetime = T0, **details: Any) -> Any:
    """Record a contact through the real service, at ``at`` (the clock is frozen there)."""
    with clock.frozen(at):
        return create_contact(actor=w.user(agency_type, "screener"),
                              source_record_public_id=str(w.record(agency_type).public_id),
                              contact_type=contact_type, occurred_at=at, details=details)


def screen(w: County_, agency_type: str, *, clear: bool = False, safety: bool = False, at: dt.datetime = T0) -> Any:
    """Complete a short screening through the real services: a clear indicator and/or
    an immediate-safety item answered yes, everything else unknown."""
    instrument = for_agency_type(agency_type)[0]
    answers: dict[str, Any] = {}
    for item in instrument.form_items("short"):
        if item.answer == "count":
            answers[item.id] = 0
        elif item.answer == "rating":
            answers[item.id] = "no_information"
        elif item.answer == "choice":
            answers[item.id] = "unknown"
        else:
            answers[item.id] = "unknown"
    if clear:
        item = next(i for i in instrument.form_items("short") if i.kind == "clear_indicator" and i.answer != "count")
        answers[item.id] = "clear_concern" if item.answer == "rating" else "yes"
    if safety:
        item = next(i for i in instrument.form_items("short") if i.kind == "immediate_safety" and i.answer != "count")
        answers[item.id] = "clear_concern" if item.answer == "rating" else "yes"
    actor = w.user(agency_type, "screener")
    with clock.frozen(at):
        draft = screening_services.start_screening(actor=actor, youth_public_id=str(w.youth.public_id),
                                                   instrument_id=instrument.id, form="short")
        return screening_services.complete_screening(actor=actor, screening_public_id=str(draft.public_id),
                                                     expected_version=draft.version, answers=answers)


def tasks(**filters: Any) -> dict[str, Task]:
    """Tasks by step (``step`` or ``step#n`` for repeated steps)."""
    return {t.key.rsplit("|", 1)[1]: t for t in Task.objects.filter(**filters).order_by("pk")}


def in_transaction(fn: Callable[[], Any]) -> Any:
    with transaction.atomic():
        return fn()


def run_tick(at: dt.datetime | None = None, **kwargs: Any) -> Any:
    """Run the tick with the clock at ``at`` (default: a minute after T0)."""
    from nowrongdoor.protocols.services import tick

    with clock.frozen(at or T0 + dt.timedelta(minutes=1)):
        return tick(**kwargs)
