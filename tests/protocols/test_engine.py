"""The pure protocol engine: legal clocks (calendar and business days), trigger
conditions and the plan of tasks an event calls for."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nowrongdoor.protocols.engine import Condition, Escalation, Offset, Protocol, Step, add_offset, plan

LA = ZoneInfo("America/Los_Angeles")


def local(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=LA)


# 2026-11-20 is a Friday; 2026-11-26 is Thanksgiving (a Thursday).
@pytest.mark.parametrize(("start", "offset", "holidays", "due"), [
    (local(2026, 11, 20), Offset(hours=24), (), local(2026, 11, 21)),  # calendar: Saturday
    (local(2026, 11, 20), Offset(days=1, business=True), (), local(2026, 11, 23)),  # Friday -> Monday
    (local(2026, 11, 20), Offset(days=3, business=True), (), local(2026, 11, 25)),
    (local(2026, 11, 21, 15), Offset(days=1, business=True), (), local(2026, 11, 24, 15)),  # Saturday: Monday+1
    (local(2026, 11, 25), Offset(days=1, business=True), (dt.date(2026, 11, 26),), local(2026, 11, 27)),
    (local(2026, 11, 25), Offset(days=2, business=True), (dt.date(2026, 11, 26), dt.date(2026, 11, 27)),
     local(2026, 12, 1)),
    (local(2026, 11, 20, 23, 30), Offset(minutes=90), (), local(2026, 11, 21, 1, 0)),
    (local(2026, 11, 20), Offset(days=0, business=True), (), local(2026, 11, 20)),
])
def test_clocks(start: dt.datetime, offset: Offset, holidays: tuple[dt.date, ...], due: dt.datetime) -> None:
    assert add_offset(start, offset, tz=LA, holidays=frozenset(holidays)) == due


def test_a_calendar_clock_across_the_daylight_saving_change_is_24_real_hours() -> None:
    start = local(2026, 10, 31, 12)  # clocks go back on 2026-11-01
    due = add_offset(start, Offset(hours=24), tz=LA)
    assert due.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=24)
    assert due.astimezone(LA).hour == 11


def test_a_business_day_clock_keeps_the_local_time_across_the_change() -> None:
    due = add_offset(local(2026, 10, 30, 9), Offset(days=1, business=True), tz=LA)
    assert due.astimezone(LA) == local(2026, 11, 2, 9)


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)),
       st.integers(min_value=1, max_value=30))
def test_business_days_never_end_on_a_weekend_and_never_come_early(naive: dt.datetime, days: int) -> None:
    start = naive.replace(tzinfo=dt.UTC)
    due = add_offset(start, Offset(days=days, business=True), tz=LA)
    assert due.astimezone(LA).weekday() < 5
    assert due - start >= dt.timedelta(days=days) - dt.timedelta(hours=1)  # DST may take an hour


@pytest.mark.parametrize(("when", "facts", "expected"), [
    ({}, {}, True),
    ({"level": ["clear_indicators"]}, {"level": "clear_indicators"}, True),
    ({"level": ["clear_indicators"]}, {"level": "possible_exploitation"}, False),
    ({"level": ["clear_indicators"]}, {}, False),
    ({"immediate_safety": True}, {"immediate_safety": True}, True),
    ({"immediate_safety": True}, {"immediate_safety": False}, False),
    ({"prior_count_at_least": 1}, {"prior_count": 0}, False),
    ({"prior_count_at_least": 1}, {"prior_count": 2}, True),
    ({"age_under": 18}, {"age": 17}, True),
    ({"age_under": 18}, {"age": 18}, False),
    ({"age_under": 18}, {"age": None}, False),
])
def test_conditions(when: dict[str, object], facts: dict[str, object], expected: bool) -> None:
    assert Condition("contact_recorded", when).matches("contact_recorded", facts) is expected
    assert not Condition("screening_completed", when).matches("contact_recorded", facts)


def _protocol(*steps: Step) -> Protocol:
    return Protocol(id="p", version=3, title={"en": "P", "es": "P"},
                    trigger=Condition("contact_recorded", {"contact_type": ["absence_start"]}), steps=steps,
                    source="test")


def _step(step_id: str, **extra: object) -> Step:
    fields: dict[str, object] = {
        "id": step_id, "kind": step_id, "title": {"en": step_id, "es": step_id}, "instructions": {},
        "agency": "source", "role": "case_manager", "due": Offset(hours=24), "category": "", "evidence": (),
        "escalate": (Escalation(Offset(), "supervisor"), Escalation(Offset(hours=12), "agency_admin")),
        "source": "test",
    }
    fields.update(extra)
    return Step(**fields)  # type: ignore[arg-type]


def test_plan_opens_each_step_with_its_clock_and_escalation_times() -> None:
    start = local(2026, 11, 20, 22)
    [task] = plan([_protocol(_step("report"))], event_key="contact:x", event_type="contact_recorded",
                  facts={"contact_type": "absence_start"}, occurred_at=start, tz=LA)
    assert task.key == "contact:x|p|report"
    assert task.due_at == start + dt.timedelta(hours=24)
    assert task.escalations == ((task.due_at, "supervisor"), (task.due_at + dt.timedelta(hours=12), "agency_admin"))


def test_plan_repeats_a_step_with_one_key_per_occurrence() -> None:
    start = local(2026, 11, 2)
    tasks = plan([_protocol(_step("checkin", due=Offset(days=7), repeat_every=Offset(days=7), repeat_count=13))],
                 event_key="e", event_type="contact_recorded", facts={"contact_type": "absence_start"},
                 occurred_at=start, tz=LA)
    assert [t.key for t in tasks] == [f"e|p|checkin#{n}" for n in range(1, 14)]
    assert [t.due_at - start for t in tasks] == [dt.timedelta(days=7 * n) for n in range(1, 14)]


def test_a_step_condition_leaves_the_step_out() -> None:
    tasks = plan([_protocol(_step("a"), _step("b", when={"source_agency_type": ["school"]}))], event_key="e",
                 event_type="contact_recorded", facts={"contact_type": "absence_start", "source_agency_type": "x"},
                 occurred_at=local(2026, 1, 5), tz=LA)
    assert [t.step.id for t in tasks] == ["a"]


def test_an_event_that_matches_no_trigger_plans_nothing() -> None:
    assert plan([_protocol(_step("a"))], event_key="e", event_type="contact_recorded",
                facts={"contact_type": "absence_return"}, occurred_at=local(2026, 1, 5), tz=LA) == []
