"""A course's state over time, with the clock moved: current, then expiring within the
reminder window, then expired on the day it expires; and a new staff member's grace:
due until ``new_staff_days`` after joining, missing the day after. One person, one
course: a record belongs to exactly one person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from nowrongdoor import clock
from nowrongdoor.errors import ValidationFailed
from nowrongdoor.training import selectors, services
from nowrongdoor.training.catalogue import catalogue
from nowrongdoor.training.models import Completion
from nowrongdoor.training.selectors import Held, course_states, person_ref
from tests.training.conftest import TrainingWorld, at, caregiver_at, complete

DONE = dt.date(2027, 1, 10)
EXPIRES = dt.date(2029, 1, 10)  # csec_screening lasts 24 months


def state_on(actor: Any, day: dt.date, course: str = "csec_screening") -> selectors.CourseState:
    with clock.frozen(at(day.year, day.month, day.day)):
        mine = selectors.my_training(actor=actor)
    return next(c for c in mine.courses if c.course == course)


def noon(day: dt.date) -> dt.datetime:
    return at(day.year, day.month, day.day)


def test_a_certificate_is_current_then_expiring_in_the_reminder_window_then_expired(
        tw: TrainingWorld, staff: Any) -> None:
    screener = staff("screener", tw.cws)
    done = complete(tw.admin, screener, "csec_screening", DONE)
    assert done.expires_on == EXPIRES and done.catalogue_version == catalogue().version
    window = catalogue().reminder_days
    assert state_on(screener, DONE).state == "current"
    assert state_on(screener, EXPIRES - dt.timedelta(days=window + 1)).state == "current"
    assert state_on(screener, EXPIRES - dt.timedelta(days=window)).state == "expiring"
    last = state_on(screener, EXPIRES - dt.timedelta(days=1))
    assert (last.state, last.completed_on, last.expires_on) == ("expiring", DONE, EXPIRES)
    assert state_on(screener, EXPIRES).state == "expired"
    assert state_on(screener, EXPIRES + dt.timedelta(days=400)).state == "expired"


def test_compliance_follows_the_states(tw: TrainingWorld, staff: Any) -> None:
    worker = staff("placement_worker", tw.cws)  # foundations, engagement, prevention
    for course in ("csec_foundations", "csec_engagement"):
        complete(tw.admin, worker, course, DONE)  # 24 months
    complete(tw.admin, worker, "csec_prevention_casework", DONE)  # 36 months
    for day, compliant, lapsed in [(DONE, True, []), (EXPIRES - dt.timedelta(days=1), True, []),
                                   (EXPIRES, False, ["csec_foundations", "csec_engagement"])]:
        with clock.frozen(noon(day)):
            mine = selectors.my_training(actor=worker)
        assert mine.compliant is compliant, day
        assert [c.course for c in mine.lapsed] == lapsed


def test_the_latest_certificate_counts_and_a_renewal_restarts_the_period(tw: TrainingWorld, staff: Any) -> None:
    screener = staff("screener", tw.cws)
    complete(tw.admin, screener, "csec_screening", DONE)
    later = dt.date(2028, 12, 20)
    complete(tw.admin, screener, "csec_screening", later)
    again = state_on(screener, EXPIRES + dt.timedelta(days=1))
    assert (again.state, again.completed_on, again.expires_on) == ("current", later, dt.date(2030, 12, 20))
    # an older certificate recorded afterwards does not replace the newer one
    complete(tw.admin, screener, "csec_screening", dt.date(2026, 6, 1), when=noon(later))
    assert state_on(screener, EXPIRES + dt.timedelta(days=1)).completed_on == later


def test_new_staff_are_due_within_the_grace_and_missing_after_it(tw: TrainingWorld, staff: Any) -> None:
    joined = noon(dt.date(2027, 3, 1))
    newcomer = staff("screener", tw.cws, date_joined=joined)
    grace_ends = joined.date() + dt.timedelta(days=catalogue().new_staff_days)
    first = state_on(newcomer, joined.date())
    assert (first.state, first.due_on, first.completed_on) == ("due", grace_ends, None)
    assert state_on(newcomer, grace_ends).state == "due"
    assert state_on(newcomer, grace_ends + dt.timedelta(days=1)).state == "missing"
    with clock.frozen(noon(joined.date())):
        assert selectors.my_training(actor=newcomer).compliant  # due is not lapsed
    with clock.frozen(noon(grace_ends + dt.timedelta(days=1))):
        late = selectors.my_training(actor=newcomer)
    assert not late.compliant and {c.course for c in late.lapsed} == set(late_required(newcomer))


def late_required(person: Any) -> list[str]:
    return list(selectors.required_of(person))


def test_staff_joined_long_ago_miss_what_they_never_took(tw: TrainingWorld, staff: Any) -> None:
    veteran = staff("case_manager", tw.probation)
    got = state_on(veteran, dt.date(2027, 1, 1), "csec_engagement")
    assert (got.state, got.due_on) == ("missing", None)


def test_an_assignment_makes_a_missing_course_due_until_its_date(tw: TrainingWorld, staff: Any) -> None:
    veteran = staff("screener", tw.cws)
    due_on = dt.date(2027, 2, 1)
    with clock.frozen(at(2027, 1, 5)):
        services.assign_course(actor=tw.admin, person_key=person_ref(veteran), course="csec_screening", due_on=due_on)
        with pytest.raises(ValidationFailed) as twice:
            services.assign_course(actor=tw.admin, person_key=person_ref(veteran), course="csec_screening",
                                   due_on=due_on)
        with pytest.raises(ValidationFailed) as past:
            services.assign_course(actor=tw.admin, person_key=person_ref(veteran), course="csec_engagement",
                                   due_on=dt.date(2027, 1, 4))
    assert "course" in twice.value.errors and "due_on" in past.value.errors
    assigned = state_on(veteran, dt.date(2027, 1, 5))
    assert (assigned.state, assigned.due_on) == ("due", due_on)
    assert state_on(veteran, due_on).state == "due"
    overdue = state_on(veteran, due_on + dt.timedelta(days=1))
    assert (overdue.state, overdue.due_on) == ("missing", due_on)
    assert state_on(veteran, due_on, "csec_engagement").state == "missing"  # not assigned


def test_course_states_is_pure_and_takes_the_earlier_deadline() -> None:
    cat = catalogue()
    today = dt.date(2027, 6, 1)
    states = course_states(
        {"a": ["r"], "b": ["r"], "c": ["r"], "d": ["r"]},
        {"a": Held(dt.date(2026, 1, 1), None), "b": Held(dt.date(2025, 1, 1), today)},
        {"c": dt.date(2027, 6, 10)}, dt.date(2027, 5, 1), today, cat)
    by = {s.course: s for s in states}
    assert by["a"].state == "current"  # no expiry: it lasts
    assert by["b"].state == "expired"  # expires today
    assert (by["c"].state, by["c"].due_on) == ("due", dt.date(2027, 6, 10))  # assignment before the grace ends
    assert (by["d"].state, by["d"].due_on) == ("due", dt.date(2027, 7, 30))  # the grace: 90 days from 1 May


def test_a_completion_cannot_be_in_the_future_nor_before_1990_nor_recorded_twice(
        tw: TrainingWorld, staff: Any) -> None:
    screener = staff("screener", tw.cws)
    with clock.frozen(at(2027, 1, 10)):
        for day in (dt.date(2027, 1, 11), dt.date(1989, 12, 31)):
            with pytest.raises(ValidationFailed) as bad:
                services.record_completion(actor=tw.admin, person_key=person_ref(screener),
                                           course="csec_screening", completed_on=day)
            assert "completed_on" in bad.value.errors
        with pytest.raises(ValidationFailed) as unknown:
            services.record_completion(actor=tw.admin, person_key=person_ref(screener), course="csec_knitting",
                                       completed_on=dt.date(2027, 1, 10))
        assert "course" in unknown.value.errors
        services.record_completion(actor=tw.admin, person_key=person_ref(screener), course="csec_screening",
                                   completed_on=dt.date(2027, 1, 10))
        with pytest.raises(ValidationFailed) as twice:
            services.record_completion(actor=tw.admin, person_key=person_ref(screener), course="csec_screening",
                                       completed_on=dt.date(2027, 1, 10))
    assert "completed_on" in twice.value.errors
    assert Completion.objects.filter(user=screener).count() == 1


def test_a_record_belongs_to_exactly_one_person(tw: TrainingWorld, staff: Any) -> None:
    screener = staff("screener", tw.cws)
    caregiver = caregiver_at(tw.cws)
    common = {"course": "csec_screening", "completed_on": DONE, "catalogue_version": 1, "recorded_by": tw.admin,
              "recorded_at": at(2027, 1, 10)}
    for owners in ({"user": screener, "caregiver": caregiver}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Completion.objects.create(**owners, **common)
    Completion.objects.create(caregiver=caregiver, **common)
    Completion.objects.create(user=screener, **common)
    assert Completion.objects.count() == 2
