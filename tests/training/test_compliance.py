"""Compliance numbers for an agency with a known mix of people: who is counted (staff
and caregivers with a requirement), who is compliant (nothing expired or missing; due
and expiring still count), the shares by role and profession, the lapsed and expiring
lists, and the county's totals, the same in the selectors, the API and the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.training import selectors
from nowrongdoor.training.selectors import person_ref
from tests.training.conftest import TrainingWorld, at, caregiver_at, complete

TODAY = at(2028, 6, 1)
RECENT = dt.date(2028, 1, 10)  # current everywhere
CW_SCREENER = ("csec_foundations", "csec_screening", "csec_engagement", "csec_prevention_casework")


@pytest.fixture
def mix(tw: TrainingWorld, staff: Any) -> dict[str, Any]:
    a = staff("screener", tw.cws)  # everything current: compliant
    b = staff("screener", tw.cws)  # never took engagement: not compliant
    c = staff("case_manager", tw.cws)  # screening expired: not compliant
    d = staff("case_manager", tw.cws, date_joined=TODAY - dt.timedelta(days=10))  # new, nothing yet: due, compliant
    e = staff("placement_worker", tw.cws)  # all held, foundations expiring: compliant
    staff("analyst", tw.cws)  # no requirement: not counted
    gone = staff("screener", tw.cws, is_active=False)  # inactive: not counted
    foster = caregiver_at(tw.cws, "foster_family")  # both courses current: compliant
    house = caregiver_at(tw.cws, "group_home")  # nothing: not compliant
    pat = staff("screener", tw.probation)  # another agency: counted there, not here
    with clock.frozen(TODAY):
        for person in (a, b, c, gone):
            for course in CW_SCREENER:
                if (person, course) not in ((b, "csec_engagement"), (c, "csec_screening")):
                    complete(tw.admin, person, course, RECENT, when=TODAY)
        complete(tw.admin, c, "csec_screening", dt.date(2026, 5, 1), when=TODAY)  # expired 2028-05-01
        for course in ("csec_engagement", "csec_prevention_casework"):
            complete(tw.admin, e, course, RECENT, when=TODAY)
        complete(tw.admin, e, "csec_foundations", dt.date(2026, 7, 1), when=TODAY)  # expires 2028-07-01
        for course in ("csec_foundations", "csec_caregiving"):
            complete(tw.admin, foster, course, RECENT, when=TODAY)
        complete(tw.probation_admin, pat, "csec_screening", RECENT, when=TODAY)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "foster": foster, "house": house, "pat": pat}


def test_an_agencys_compliance_counts_its_people_by_role_and_profession(tw: TrainingWorld,
                                                                        mix: dict[str, Any]) -> None:
    with clock.frozen(TODAY):
        found = selectors.agency_compliance(actor=tw.admin)
    assert {p.ref for p in found.people} == {person_ref(mix[k]) for k in ("a", "b", "c", "d", "e", "foster",
                                                                          "house")}
    assert len(found.people) == 7 and found.compliant == 4
    assert {p.ref for p in found.people if p.compliant} == {person_ref(mix[k]) for k in ("a", "d", "e", "foster")}
    shares = [(g.group, g.people, g.compliant, g.share) for g in found.by_role]
    assert shares == [("case_manager", 2, 1, 0.5), ("foster_parent", 1, 1, 1.0), ("group_home_staff", 1, 0, 0.0),
                      ("placement_worker", 1, 1, 1.0), ("screener", 2, 1, 0.5)]
    lapsed = sorted((p.ref, c.course, c.state) for p, c in found.lapsed)
    assert lapsed == sorted([
        (person_ref(mix["b"]), "csec_engagement", "missing"), (person_ref(mix["c"]), "csec_screening", "expired"),
        (person_ref(mix["house"]), "csec_foundations", "missing"),
        (person_ref(mix["house"]), "csec_caregiving", "missing")])
    assert [(p.ref, c.course, c.expires_on) for p, c in found.expiring] == [
        (person_ref(mix["e"]), "csec_foundations", dt.date(2028, 7, 1))]
    newcomer = next(p for p in found.people if p.ref == person_ref(mix["d"]))
    assert {c.state for c in newcomer.courses} == {"due"}
    event = AuditEvent.objects.filter(action="training.compliance", actor=tw.admin).get()
    assert event.allowed and event.detail == {"people": 7, "compliant": 4} and event.object_id == str(tw.cws.pk)


def test_the_county_adds_up_its_agencies(tw: TrainingWorld, mix: dict[str, Any]) -> None:
    with clock.frozen(TODAY):
        county = selectors.county_compliance(actor=tw.coordinator)
    by_agency = {a.agency: (len(a.people), a.compliant) for a in county.agencies}
    assert by_agency[tw.cws] == (7, 4)
    assert by_agency[tw.probation] == (1, 0)  # the probation screener lacks three courses
    assert all(n == 0 for agency, (n, _) in by_agency.items() if agency not in (tw.cws, tw.probation))
    assert (county.people, county.compliant) == (8, 4)
    assert tw.other_agency not in by_agency


def test_time_moves_the_numbers(tw: TrainingWorld, mix: dict[str, Any]) -> None:
    # A month on: e's foundations expired (2028-07-01); d's grace (joined 2028-05-22) still runs.
    with clock.frozen(at(2028, 7, 1)):
        found = selectors.agency_compliance(actor=tw.admin)
    assert found.compliant == 3 and not found.expiring
    assert {p.ref for p in found.people if p.compliant} == {person_ref(mix[k]) for k in ("a", "d", "foster")}
    # d's grace ends 2028-08-20: missing from the next day
    with clock.frozen(at(2028, 8, 21)):
        assert selectors.agency_compliance(actor=tw.admin).compliant == 2


def test_the_api_and_the_page_give_the_same_numbers(client: Any, tw: TrainingWorld, mix: dict[str, Any]) -> None:
    client.force_login(tw.admin)
    with clock.frozen(TODAY):
        body = client.get("/api/training/compliance").json()
        html = client.get("/training/").content.decode()
    assert (body["people"], body["compliant"]) == (7, 4)
    assert body["by_role"] == [{"group": "case_manager", "people": 2, "compliant": 1},
                               {"group": "foster_parent", "people": 1, "compliant": 1},
                               {"group": "group_home_staff", "people": 1, "compliant": 0},
                               {"group": "placement_worker", "people": 1, "compliant": 1},
                               {"group": "screener", "people": 2, "compliant": 1}]
    staff = {p["person"]: p for p in body["staff"]}
    assert staff[person_ref(mix["c"])]["compliant"] is False
    assert {c["course"]: c["state"] for c in staff[person_ref(mix["c"])]["courses"]}["csec_screening"] == "expired"
    assert "4 of 7 staff and caregivers hold every CSEC course their role requires." in html
    assert 'id="lapsed-list"' in html and 'id="expiring-list"' in html and "expires 2028-07-01" in html
    client.force_login(tw.coordinator)
    with clock.frozen(TODAY):
        county = client.get("/api/training/county").json()
        page = client.get("/training/").content.decode()
    assert (county["people"], county["compliant"]) == (8, 4)
    assert "4 of 8 staff and caregivers" in page
