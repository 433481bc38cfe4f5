"""The audit log tells an agency who looked, without telling it what another agency holds."""

from __future__ import annotations

import pytest

from nowrongdoor.errors import NotFound
from nowrongdoor.youth import selectors


@pytest.fixture
def refused_look_at_clinic_data(make_agency, make_user, make_record, make_contact, link_records):
    probation = make_agency("probation")
    clinic = make_agency("health", name="Teen Health Clinic (synthetic)")
    screener = make_user("screener", probation)
    nurse = make_user("screener", clinic)
    own = make_record(screener)
    clinic_record = make_record(nurse, first_name=own.first_name, last_name=own.last_name)
    make_contact(nurse, clinic_record, "health_visit", reason="sti_testing")
    link_records(clinic_record, own)
    selectors.get_youth(actor=screener, public_id=str(own.youth.public_id), purpose="screening")
    return probation, clinic, screener, own


def test_agency_admin_sees_the_refusal_but_not_whose_data_or_which(client, make_user, refused_look_at_clinic_data):
    probation, _clinic, screener, own = refused_look_at_clinic_data
    client.force_login(make_user("agency_admin", probation))
    events = client.get("/api/audit", {"actor": screener.username, "denied_only": True}).json()["items"]
    assert events, "the screener's refused reads must be in the probation log"
    assert all(e["owner_agency"] == "" and e["category"] == "" for e in events)
    assert all("health" not in e["reason"] for e in events)
    assert {e["youth_id"] for e in events} == {str(own.youth.public_id)}


def test_the_clinic_admin_sees_who_tried_to_read_its_records(client, make_user, refused_look_at_clinic_data):
    _probation, clinic, screener, _ = refused_look_at_clinic_data
    client.force_login(make_user("agency_admin", clinic))
    events = client.get("/api/audit", {"actor": screener.username, "denied_only": True}).json()["items"]
    assert {(e["owner_agency"], e["category"]) for e in events} >= {(clinic.name, "health")}


def test_system_admin_sees_everything(client, make_user, refused_look_at_clinic_data):
    _, _clinic, screener, _ = refused_look_at_clinic_data
    client.force_login(make_user("system_admin", None))
    events = client.get("/api/audit", {"actor": screener.username, "denied_only": True}).json()["items"]
    assert {e["category"] for e in events} == {"identity", "health"}


def test_unknown_youth_read_is_refused_and_logged(make_agency, make_user):
    screener = make_user("screener", make_agency("probation"))
    with pytest.raises(NotFound):
        selectors.get_youth(actor=screener, public_id="00000000-0000-4000-8000-000000000000", purpose="screening")
