"""Renewal reminders: the tick opens one renewal assignment, due the day the certificate
expires, for every latest certificate of a *required* course expiring within the
reminder window; running it again opens nothing; a new completion closes it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.training import selectors, services
from nowrongdoor.training.models import Assignment
from tests.training.conftest import TrainingWorld, at, caregiver_at, complete

DONE = dt.date(2027, 1, 10)
EXPIRES = dt.date(2029, 1, 10)


@pytest.fixture
def screener(tw: TrainingWorld, staff: Any) -> Any:
    person = staff("screener", tw.cws)
    complete(tw.admin, person, "csec_screening", DONE)  # required: expires 2029-01-10
    complete(tw.admin, person, "csec_health", DONE)  # not required of a child-welfare screener; same expiry
    complete(tw.admin, person, "csec_foundations", dt.date(2028, 6, 1))  # required, expires 2030
    return person


def test_nothing_opens_before_the_reminder_window(tw: TrainingWorld, screener: Any) -> None:
    with clock.frozen(at(2028, 11, 10)):  # 61 days before
        assert services.open_renewals(system=tw.system) == 0
    assert not Assignment.objects.exists()


def test_one_renewal_per_expiring_required_certificate_idempotent_and_closed_by_a_new_completion(
        tw: TrainingWorld, screener: Any) -> None:
    with clock.frozen(at(2028, 11, 11)):  # 60 days before: inside the window
        assert services.open_renewals(system=tw.system) == 1
        assert services.open_renewals(system=tw.system) == 0  # idempotent
        assert services.tick_training(system=tw.system)[0] == 0
        mine = selectors.my_training(actor=screener)
    renewal = Assignment.objects.get()
    assert (renewal.user, renewal.caregiver, renewal.course, renewal.reason, renewal.status, renewal.due_on,
            renewal.assigned_by) == (screener, None, "csec_screening", Assignment.RENEWAL, Assignment.OPEN, EXPIRES,
                                     tw.system)
    assert not Assignment.objects.filter(course="csec_health").exists()  # not required: no reminder
    screening = next(c for c in mine.courses if c.course == "csec_screening")
    assert (screening.state, screening.due_on) == ("expiring", EXPIRES)
    event = AuditEvent.objects.filter(action="training.renewals").get()
    assert event.allowed and event.detail == {"opened": 1, "by_course": {"csec_screening": 1}}

    renewed = complete(tw.admin, screener, "csec_screening", dt.date(2028, 12, 1))
    renewal.refresh_from_db()
    assert (renewal.status, renewal.closed_by, renewal.closed_at) == (Assignment.DONE, renewed,
                                                                      at(2028, 12, 1))
    with clock.frozen(at(2028, 12, 2)):
        assert services.open_renewals(system=tw.system) == 0  # the new certificate lasts to 2030
        assert next(c for c in selectors.my_training(actor=screener).courses
                    if c.course == "csec_screening").state == "current"
    assert Assignment.objects.count() == 1


def test_an_already_expired_certificate_gets_a_renewal_and_so_does_a_caregiver(tw: TrainingWorld,
                                                                             screener: Any) -> None:
    caregiver = caregiver_at(tw.cws, "group_home")
    complete(tw.admin, caregiver, "csec_caregiving", dt.date(2028, 1, 20))  # 12 months: 2029-01-20
    with clock.frozen(at(2029, 1, 15)):
        assert services.open_renewals(system=tw.system) == 2
    opened = {(a.user_id, a.caregiver_id, a.course, a.due_on) for a in Assignment.objects.all()}
    assert opened == {(screener.pk, None, "csec_screening", EXPIRES),
                      (None, caregiver.pk, "csec_caregiving", dt.date(2029, 1, 20))}


def test_the_latest_certificate_decides_not_an_older_one(tw: TrainingWorld, screener: Any) -> None:
    complete(tw.admin, screener, "csec_screening", dt.date(2028, 10, 1))  # renewed early: lasts to 2030
    with clock.frozen(at(2028, 12, 1)):
        assert services.open_renewals(system=tw.system) == 0


def test_an_older_certificate_recorded_late_does_not_close_the_renewal(tw: TrainingWorld, screener: Any) -> None:
    with clock.frozen(at(2028, 12, 1)):
        assert services.open_renewals(system=tw.system) == 1
    complete(tw.admin, screener, "csec_screening", dt.date(2025, 3, 1), when=at(2028, 12, 2))  # expired in 2027
    with clock.frozen(at(2028, 12, 2)):
        still = next(c for c in selectors.my_training(actor=screener).courses if c.course == "csec_screening")
    assert still.state == "expiring"  # the latest certificate is unchanged...
    assert Assignment.objects.get().status == Assignment.OPEN  # ...so the reminder should stay open
