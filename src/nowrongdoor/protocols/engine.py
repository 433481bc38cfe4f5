"""The protocol engine, pure: which protocols an event triggers, which tasks they open,
when each is due and when it escalates. No database access in here.

Vocabulary (report ch. 4, app. C):

- **trigger**: an event (a completed screening, a recorded contact) and conditions on its
  facts: contact type, screening level, the immediate-safety flag, offence category, the
  youth's age, how often the same kind of contact happened before.
- **step**: a piece of the response that becomes a **task**: what to do, which agency
  (the one that saw the youth, or one of a type in the county) and which role owns it,
  the legal clock (hours or days, calendar or business days), the **evidence** that
  closes it (a hotline referral id, a law-enforcement report number, the MDT meeting
  date), and the **escalation chain** when it is overdue.
- **effective protocol**: the library protocol with the county's overrides applied; its
  version (``csec_identified@1+alder@2``) is recorded on every task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

SOURCE_AGENCY = "source"  # owner: the agency whose event triggered the protocol


@dataclass(frozen=True)
class Offset:
    """A legal clock: minutes, hours or days, calendar or business days."""

    minutes: int = 0
    hours: int = 0
    days: int = 0
    business: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Offset:
        return cls(minutes=int(raw.get("minutes", 0)), hours=int(raw.get("hours", 0)),
                   days=int(raw.get("days", 0)), business=bool(raw.get("business", False)))

    def describe(self) -> str:
        parts = [f"{n} {unit}" for n, unit in ((self.days, "business days" if self.business else "days"),
                                               (self.hours, "h"), (self.minutes, "min")) if n]
        return " ".join(parts) or "at once"


@dataclass(frozen=True)
class Escalation:
    after: Offset  # counted from the due time
    role: str


@dataclass(frozen=True)
class Evidence:
    id: str
    kind: str  # text | date | datetime | reference
    label: dict[str, str]
    required: bool = True


@dataclass(frozen=True)
class Condition:
    """``event`` plus conditions on facts; every named fact must match one listed value
    (lists), reach a minimum (``*_at_least``) or stay under a maximum (``*_under``)."""

    event: str
    when: dict[str, Any] = field(default_factory=dict)

    def matches(self, event_type: str, facts: Mapping[str, Any]) -> bool:
        if event_type != self.event:
            return False
        for name, wanted in self.when.items():
            if name.endswith("_at_least"):
                got = facts.get(name.removesuffix("_at_least"))
                if got is None or got < wanted:
                    return False
            elif name.endswith("_under"):
                got = facts.get(name.removesuffix("_under"))
                if got is None or got >= wanted:
                    return False
            elif isinstance(wanted, list):
                got = facts.get(name)
                if isinstance(got, list):  # a many-valued fact (a report's allegations): any one
                    if not set(got) & set(wanted):
                        return False
                elif got not in wanted:
                    return False
            elif facts.get(name) != wanted:
                return False
        return True


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    title: dict[str, str]
    instructions: dict[str, str]
    agency: str  # SOURCE_AGENCY or an agency type
    role: str
    due: Offset
    category: str
    evidence: tuple[Evidence, ...]
    escalate: tuple[Escalation, ...]
    source: str
    when: dict[str, Any] = field(default_factory=dict)  # extra conditions on the facts
    repeat_every: Offset | None = None
    repeat_count: int = 1
    completed_by: Condition | None = None
    cancelled_by: Condition | None = None
    assign_to_actor: bool = False


@dataclass(frozen=True)
class Protocol:
    id: str
    version: int
    title: dict[str, str]
    trigger: Condition
    steps: tuple[Step, ...]
    source: str
    effective_version: str = ""

    @property
    def version_label(self) -> str:
        return self.effective_version or f"{self.id}@{self.version}"


@dataclass(frozen=True)
class PlannedTask:
    """A task the engine says should exist; ``key`` makes creating it idempotent."""

    key: str
    protocol: Protocol
    step: Step
    occurrence: int
    due_at: dt.datetime
    escalations: tuple[tuple[dt.datetime, str], ...]  # (when, role to notify), in order


def add_offset(start: dt.datetime, offset: Offset, *, tz: ZoneInfo, holidays: frozenset[dt.date] = frozenset()
               ) -> dt.datetime:
    """``start`` plus ``offset``. Calendar clocks run through nights, weekends and holidays
    (a 24-hour report is due 24 hours later, Saturday or not; a 30-day follow-up is due on
    the 30th day at the same local time). Business days skip Saturdays,
    Sundays and the county's holidays and keep the local time of day; a business-day clock
    that starts on a day off starts from the next working day's same time."""
    if not offset.business:
        # Days move the local date and keep the local time ("within 30 days"); hours and
        # minutes are real elapsed time ("within 24 hours"), also across a daylight-saving change.
        local = start.astimezone(tz) + dt.timedelta(days=offset.days)
        return local.astimezone(dt.UTC) + dt.timedelta(hours=offset.hours, minutes=offset.minutes)
    local = start.astimezone(tz)
    day = local.date()

    def working(d: dt.date) -> bool:
        return d.weekday() < 5 and d not in holidays

    while not working(day):
        day += dt.timedelta(days=1)
    remaining = offset.days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if working(day):
            remaining -= 1
    wall = dt.datetime.combine(day, local.time().replace(tzinfo=None))
    due = wall.replace(tzinfo=tz)
    return due.astimezone(dt.UTC) + dt.timedelta(hours=offset.hours, minutes=offset.minutes)


def plan(protocols: list[Protocol], *, event_key: str, event_type: str, facts: Mapping[str, Any],
         occurred_at: dt.datetime, tz: ZoneInfo, holidays: frozenset[dt.date] = frozenset()) -> list[PlannedTask]:
    """Every task the event calls for, with due and first escalation times. Same input,
    same output: the keys (event, protocol, step, occurrence) never depend on the clock."""
    planned: list[PlannedTask] = []
    for protocol in protocols:
        if not protocol.trigger.matches(event_type, facts):
            continue
        for step in protocol.steps:
            if step.when and not Condition(event_type, step.when).matches(event_type, facts):
                continue
            for n in range(step.repeat_count):
                start = occurred_at
                for _ in range(n):
                    assert step.repeat_every is not None
                    start = add_offset(start, step.repeat_every, tz=tz, holidays=holidays)
                due = add_offset(start, step.due, tz=tz, holidays=holidays)
                chain = tuple(sorted((add_offset(due, e.after, tz=tz, holidays=holidays), e.role)
                                     for e in step.escalate))
                suffix = f"#{n + 1}" if step.repeat_count > 1 else ""
                planned.append(PlannedTask(
                    key=f"{event_key}|{protocol.id}|{step.id}{suffix}", protocol=protocol, step=step,
                    occurrence=n + 1, due_at=due, escalations=chain,
                ))
    return planned
