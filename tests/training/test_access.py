"""Who sees whose training: staff their own; an agency administrator their agency's
staff and the caregivers of the resources it licenses; a county training coordinator
every agency of their county. Everyone else is refused (AccessDenied, 403 in the API and
on the pages) and every refusal is audited. Only the person's agency administrators
record and assign."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.training import selectors, services
from nowrongdoor.training.models import Assignment, Completion
from nowrongdoor.training.selectors import person_ref
from tests.training.conftest import TrainingWorld, at, caregiver_at

TODAY = at(2027, 3, 15)


@pytest.fixture
def people(tw: TrainingWorld, staff: Any) -> dict[str, Any]:
    return {"ana": staff("screener", tw.cws), "ben": staff("case_manager", tw.cws),
            "carer": caregiver_at(tw.cws), "pat": staff("screener", tw.probation),
            "far": staff("screener", tw.other_agency), "far_carer": caregiver_at(tw.other_agency),
            "analyst": staff("analyst", tw.cws), "supervisor": staff("supervisor", tw.cws)}


def refusals(actor: Any, action: str) -> int:
    return AuditEvent.objects.filter(actor=actor, action=action, allowed=False).count()


def view(actor: Any, person: Any) -> selectors.PersonTraining:
    with clock.frozen(TODAY):
        return selectors.person_training(actor=actor, ref=person_ref(person))


def test_staff_see_their_own_training_and_no_one_elses(tw: TrainingWorld, people: dict[str, Any]) -> None:
    ana = people["ana"]
    with clock.frozen(TODAY):
        mine = selectors.my_training(actor=ana)
    assert (mine.ref, mine.kind, mine.role, mine.profession) == (f"staff:{ana.username}", "staff", "screener",
                                                                 "child_welfare_worker")
    assert view(ana, ana).ref == mine.ref
    for other in ("ben", "carer", "pat", "supervisor"):
        with pytest.raises(AccessDenied):
            view(ana, people[other])
    assert refusals(ana, "training.view") == 4
    assert AuditEvent.objects.filter(actor=ana, action="training.view", allowed=True).count() == 2
    # a supervisor is not an administrator either
    with pytest.raises(AccessDenied):
        view(people["supervisor"], ana)


def test_an_administrator_sees_their_agency_only(tw: TrainingWorld, people: dict[str, Any]) -> None:
    for mine in ("ana", "ben", "carer", "analyst"):
        assert view(tw.admin, people[mine]).ref == person_ref(people[mine])
    for theirs in ("pat", "far", "far_carer"):
        with pytest.raises(AccessDenied):
            view(tw.admin, people[theirs])
    assert refusals(tw.admin, "training.view") == 3
    refusal = AuditEvent.objects.filter(actor=tw.admin, allowed=False).order_by("seq").first()
    assert refusal is not None and refusal.object_type == "training" and refusal.detail == {
        "person": person_ref(people["pat"])}
    with clock.frozen(TODAY):
        assert selectors.agency_compliance(actor=tw.admin).agency == tw.cws
        with pytest.raises(AccessDenied):
            selectors.agency_compliance(actor=tw.admin, agency_id=tw.probation.pk)
        with pytest.raises(AccessDenied):
            selectors.county_compliance(actor=tw.admin)
    assert refusals(tw.admin, "training.compliance") == 2


def test_a_coordinator_sees_every_agency_of_their_county_and_no_other(tw: TrainingWorld,
                                                                     people: dict[str, Any]) -> None:
    for ours in ("ana", "carer", "pat"):
        assert view(tw.coordinator, people[ours]).ref == person_ref(people[ours])
    for theirs in ("far", "far_carer"):
        with pytest.raises(AccessDenied):
            view(tw.coordinator, people[theirs])
    with clock.frozen(TODAY):
        assert selectors.agency_compliance(actor=tw.coordinator, agency_id=tw.probation.pk).agency == tw.probation
        with pytest.raises(AccessDenied):
            selectors.agency_compliance(actor=tw.coordinator, agency_id=tw.other_agency.pk)
        county = selectors.county_compliance(actor=tw.coordinator)
        far = selectors.county_compliance(actor=tw.other_coordinator)
    assert county.county == tw.county
    assert {a.agency for a in county.agencies} == set(tw.county.agencies.all())
    assert tw.other_agency not in {a.agency for a in county.agencies}
    assert [a.agency for a in far.agencies] == [tw.other_agency]
    assert refusals(tw.coordinator, "training.view") == 2 and refusals(tw.coordinator, "training.compliance") == 1
    with pytest.raises(AccessDenied):
        view(tw.other_coordinator, people["ana"])


@pytest.mark.parametrize("role", ["screener", "case_manager", "supervisor", "analyst", "system_admin",
                                  "identity_steward", "oversight_member"])
def test_other_roles_see_no_compliance(tw: TrainingWorld, staff: Any, role: str) -> None:
    actor = staff(role, tw.cws)
    with clock.frozen(TODAY):
        with pytest.raises(AccessDenied):
            selectors.agency_compliance(actor=actor)
        with pytest.raises(AccessDenied):
            selectors.county_compliance(actor=actor)
    assert refusals(actor, "training.compliance") == 2


def test_an_inactive_administrator_or_coordinator_sees_nothing(tw: TrainingWorld, people: dict[str, Any]) -> None:
    for actor in (tw.admin, tw.coordinator):
        actor.is_active = False
        actor.save()
        with pytest.raises(AccessDenied):
            view(actor, people["ana"])
        with clock.frozen(TODAY), pytest.raises(AccessDenied):
            selectors.agency_compliance(actor=actor, agency_id=tw.cws.pk)
        assert refusals(actor, "training.view") == 1


def test_an_unknown_person_is_refused_like_one_not_visible_and_an_unknown_agency_is_not_found(
        tw: TrainingWorld) -> None:
    """Whether a username exists is not told: an unknown person gets the same refusal."""
    for ref in ("staff:nobody", "caregiver:0", "caregiver:x", "robot:1", ""):
        with pytest.raises(AccessDenied):
            selectors.person_training(actor=tw.admin, ref=ref)
    with pytest.raises(NotFound):
        selectors.agency_compliance(actor=tw.coordinator, agency_id=987654)


@pytest.mark.parametrize("who", ["screener", "supervisor", "coordinator", "probation_admin"])
def test_only_the_persons_agency_administrators_record_and_assign(tw: TrainingWorld, people: dict[str, Any],
                                                                  who: str) -> None:
    actor = {"screener": people["ana"], "supervisor": people["supervisor"], "coordinator": tw.coordinator,
             "probation_admin": tw.probation_admin}[who]
    with clock.frozen(TODAY):
        for person in (people["ben"], people["carer"]):
            with pytest.raises(AccessDenied):
                services.record_completion(actor=actor, person_key=person_ref(person), course="csec_foundations",
                                           completed_on=TODAY.date())
            with pytest.raises(AccessDenied):
                services.assign_course(actor=actor, person_key=person_ref(person), course="csec_foundations",
                                       due_on=TODAY.date() + dt.timedelta(days=30))
    assert not Completion.objects.exists() and not Assignment.objects.exists()
    assert refusals(actor, "training.completion") == 2 and refusals(actor, "training.assign") == 2


# -- the API ----------------------------------------------------------------------------


def api_get(client: Any, path: str, **params: Any) -> Any:
    with clock.frozen(TODAY):
        return client.get(path, params)


def api_post(client: Any, path: str, body: dict[str, Any]) -> Any:
    with clock.frozen(TODAY):
        return client.post(path, data=json.dumps(body), content_type="application/json")


def test_the_api_gives_each_their_own_and_refuses_the_rest(client: Any, tw: TrainingWorld,
                                                           people: dict[str, Any]) -> None:
    assert client.get("/api/training/me").status_code == 401
    client.force_login(people["ana"])
    me = api_get(client, "/api/training/me")
    assert me.status_code == 200
    body = me.json()
    assert body["person"] == person_ref(people["ana"]) and body["compliant"] is False
    assert {c["course"] for c in body["courses"]} == {"csec_foundations", "csec_screening", "csec_engagement",
                                                      "csec_prevention_casework"}
    assert {c["state"] for c in body["courses"]} == {"missing"}
    assert api_get(client, "/api/training/compliance").status_code == 403
    assert api_get(client, "/api/training/county").status_code == 403
    assert api_post(client, "/api/training/completions", {"person": person_ref(people["ana"]),
                                                          "course": "csec_screening",
                                                          "completed_on": "2027-03-01"}).status_code == 403
    assert refusals(people["ana"], "training.compliance") == 2 and refusals(people["ana"], "training.completion") == 1

    client.force_login(tw.admin)
    own = api_get(client, "/api/training/compliance")
    assert own.status_code == 200 and own.json()["agency_id"] == tw.cws.pk
    assert person_ref(people["pat"]) not in {p["person"] for p in own.json()["staff"]}
    assert {person_ref(people[k]) for k in ("ana", "ben", "carer")} <= {p["person"] for p in own.json()["staff"]}
    assert api_get(client, "/api/training/compliance", agency_id=tw.probation.pk).status_code == 403
    assert api_get(client, "/api/training/county").status_code == 403

    client.force_login(tw.coordinator)
    assert api_get(client, "/api/training/compliance", agency_id=tw.probation.pk).status_code == 200
    assert api_get(client, "/api/training/compliance", agency_id=tw.other_agency.pk).status_code == 403
    county = api_get(client, "/api/training/county")
    assert county.status_code == 200 and county.json()["county"] == tw.county.name
    assert tw.other_agency.pk not in {a["agency_id"] for a in county.json()["agencies"]}
    assert refusals(tw.coordinator, "training.compliance") == 1


def test_the_api_records_and_assigns_for_the_administrator_with_errors_by_field(
        client: Any, tw: TrainingWorld, people: dict[str, Any]) -> None:
    client.force_login(tw.admin)
    ana = person_ref(people["ana"])
    assigned = api_post(client, "/api/training/assignments", {"person": ana, "course": "csec_screening",
                                                              "due_on": "2027-04-01"})
    assert assigned.status_code == 201 and assigned.json()["status"] == "open"
    done = api_post(client, "/api/training/completions", {"person": ana, "course": "csec_screening",
                                                          "completed_on": "2027-03-14", "certificate": "SYN-9"})
    assert done.status_code == 201, done.content
    assert (done.json()["course"], done.json()["expires_on"]) == ("csec_screening", "2029-03-14")
    assert Assignment.objects.get().status == Assignment.DONE
    bad = api_post(client, "/api/training/completions", {"person": ana, "course": "csec_juggling",
                                                         "completed_on": "2027-03-16"})
    assert bad.status_code == 422
    assert {tuple(p["loc"]) for p in bad.json()["detail"]} == {("body", "course"), ("body", "completed_on")}
    assert api_post(client, "/api/training/completions", {"person": "staff:nobody", "course": "csec_screening",
                                                          "completed_on": "2027-03-14"}).status_code == 404
    assert api_post(client, "/api/training/completions", {"person": person_ref(people["pat"]),
                                                          "course": "csec_screening",
                                                          "completed_on": "2027-03-14"}).status_code == 403
    assert Completion.objects.count() == 1


# -- the pages --------------------------------------------------------------------------


def page(client: Any, path: str) -> Any:
    with clock.frozen(TODAY):
        return client.get(path)


def test_the_training_page_shows_each_what_they_may_see(client: Any, tw: TrainingWorld,
                                                        people: dict[str, Any]) -> None:
    client.force_login(people["ana"])
    mine = page(client, "/training/")
    html = mine.content.decode()
    assert mine.status_code == 200 and 'id="my-courses"' in html
    assert 'id="people"' not in html and 'id="training-form"' not in html and 'id="county-agencies"' not in html
    assert people["ben"].last_name not in html
    with clock.frozen(TODAY):  # a screener posting the administrator's form records nothing
        client.post("/training/", {"action": "record", "person": person_ref(people["ana"]),
                                   "course": "csec_screening", "completed_on": "2027-03-01"})
    assert not Completion.objects.exists()

    client.force_login(tw.admin)
    html = page(client, "/training/").content.decode()
    assert 'id="people"' in html and 'id="training-form"' in html
    assert people["ben"].last_name in html and people["carer"].name in html
    assert people["pat"].last_name not in html and people["far"].last_name not in html

    client.force_login(tw.coordinator)
    html = page(client, "/training/").content.decode()
    assert 'id="county-agencies"' in html and tw.probation.name in html and tw.other_agency.name not in html
    agency = page(client, f"/training/agencies/{tw.probation.pk}/")
    assert agency.status_code == 200 and people["pat"].last_name in agency.content.decode()


@pytest.mark.parametrize("who", ["screener", "probation_admin", "other_coordinator"])
def test_another_agencys_page_is_refused_and_audited(client: Any, tw: TrainingWorld, people: dict[str, Any],
                                                     who: str) -> None:
    actor = {"screener": people["ana"], "probation_admin": tw.probation_admin,
             "other_coordinator": tw.other_coordinator}[who]
    client.force_login(actor)
    refused = page(client, f"/training/agencies/{tw.cws.pk}/")
    assert refused.status_code == 403 and people["ben"].last_name not in refused.content.decode()
    assert refusals(actor, "training.compliance") == 1


def test_a_signed_out_visitor_is_sent_to_sign_in(client: Any, tw: TrainingWorld) -> None:
    for path in ("/training/", f"/training/agencies/{tw.cws.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and "login" in response["Location"]
