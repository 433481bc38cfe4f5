"""My work lists the signed-in worker's own CSEC courses to take or renew, and only theirs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.training.services import record_completion

pytestmark = pytest.mark.django_db


def test_my_work_shows_my_lapsed_and_expiring_courses(client: Any, make_agency: Any, make_user: Any) -> None:
    probation = make_agency("probation")
    old = clock.now() - dt.timedelta(days=400)
    me = make_user("screener", probation, date_joined=old)
    colleague = make_user("screener", probation, date_joined=old, first_name="Colleague")
    admin = make_user("agency_admin", probation)
    record_completion(actor=admin, person_key=f"staff:{me.username}", course="csec_foundations",
                      completed_on=clock.today() - dt.timedelta(days=700))  # expires within 60 days
    record_completion(actor=admin, person_key=f"staff:{me.username}", course="csec_engagement",
                      completed_on=clock.today() - dt.timedelta(days=10))  # current: not listed
    client.force_login(me)
    page = client.get("/work/").content.decode()
    listed = page.split('id="training-due-list"')[1].split("</ul>")[0]
    assert "CSEC foundations" in listed and "expiring" in listed
    assert "Screening for exploitation in your setting" in listed and "missing" in listed
    assert "Engaging a youth" not in listed
    client.force_login(colleague)
    assert "expiring" not in client.get("/work/").content.decode().split('id="training-due-list"')[1].split("</ul>")[0]
