"""Integration tokens: an agency's system posts through ``Authorization: Bearer nwd_...``.

A token acts as a service account of the agency it was issued for, for that agency only,
and stops working the moment it is revoked.
"""

import json
from typing import Any

import pytest
from django.test import Client

from nowrongdoor.access.models import IntegrationToken
from nowrongdoor.access.services import issue_token, revoke_token
from nowrongdoor.youth.models import Contact, SourceRecord
from tests.api.http import WHEN

RECORDS = "/api/source-records"
CONTACTS = "/api/contacts"


def new_record(local_id: str, index: int = 1) -> dict[str, Any]:
    from nowrongdoor.synth.generator import plan_person

    plan = plan_person(13, index)
    return {
        "local_id": local_id,
        "first_name": plan.records[0].first_name,
        "last_name": plan.records[0].last_name,
        "date_of_birth": plan.birth_date.isoformat(),
    }


class System:
    """An agency's case-management system, calling the API with its token (and no cookies)."""

    def __init__(self, secret: str) -> None:
        # CSRF checks on: a token needs none, and must not fall back to a session.
        self.client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str, **params: Any):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any]):
        return self.client.post(path, data=json.dumps(body), content_type="application/json", headers=self.headers)

    def patch(self, path: str, body: dict[str, Any]):
        return self.client.patch(path, data=json.dumps(body), content_type="application/json", headers=self.headers)


@pytest.fixture
def agency(make_agency):
    return make_agency("probation")


@pytest.fixture
def admin(make_user, agency):
    return make_user("agency_admin", agency)


@pytest.fixture
def issued(admin, agency):
    return issue_token(actor=admin, agency=agency, name="Probation CMS (synthetic)")


@pytest.fixture
def system(issued) -> System:
    return System(issued.secret)


@pytest.fixture
def other_agency_record(make_agency, make_user, make_record):
    return make_record(make_user("screener", make_agency("child_welfare")))


def test_a_token_posts_records_and_contacts_for_its_agency(system, issued, agency):
    created = system.post(RECORDS, new_record("PR-1"))

    assert created.status_code == 201
    record = SourceRecord.objects.get(public_id=created.json()["id"])
    assert record.agency == agency
    assert record.created_by == issued.token.service_account

    contact = system.post(
        CONTACTS, {"source_record_id": str(record.public_id), "contact_type": "probation_intake", "occurred_at": WHEN}
    )

    assert contact.status_code == 201
    assert Contact.objects.get(public_id=contact.json()["id"]).agency == agency


def test_a_token_reads_and_corrects_its_own_records(system, issued, make_record):
    record = make_record(issued.token.service_account)

    read = system.get(f"{RECORDS}/{record.public_id}")
    corrected = system.patch(f"{RECORDS}/{record.public_id}", {"version": 1, "middle_name": "Lee"})

    assert read.status_code == 200
    assert read.json()["local_id"] == record.local_id
    assert corrected.status_code == 200
    assert corrected.json()["version"] == 2


def test_using_a_token_records_when_it_was_last_used(system, issued):
    assert issued.token.last_used_at is None

    system.get("/api/youth", q="ana")

    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


def test_a_revoked_token_is_a_401(system, issued, admin):
    assert system.get("/api/youth", q="ana").status_code == 200
    revoke_token(actor=admin, token=issued.token)

    response = system.get("/api/youth", q="ana")

    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in, or send a valid integration token."}


def test_a_write_with_a_revoked_token_is_a_401_not_a_csrf_failure(system, issued, admin):
    """An integration sends no cookies and no CSRF token; what is wrong is its token."""
    assert system.post(RECORDS, new_record("PR-2")).status_code == 201
    revoke_token(actor=admin, token=issued.token)

    response = system.post(RECORDS, new_record("PR-3", index=2))

    assert not SourceRecord.objects.filter(local_id="PR-3").exists()
    assert response.status_code == 401, response.json()
    assert response.json() == {"detail": "Sign in, or send a valid integration token."}


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_token_with_a_wrong_secret_is_a_401(issued, method):
    tampered = System(issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B"))

    response = tampered.get("/api/youth", q="ana") if method == "get" else tampered.post(RECORDS, new_record("PR-4"))

    assert not SourceRecord.objects.exists()
    assert response.status_code == 401, response.json()


def test_the_token_secret_is_not_stored(issued):
    stored = IntegrationToken.objects.get(pk=issued.token.pk)

    assert issued.secret.startswith("nwd_")
    assert issued.secret not in (stored.digest, stored.prefix, stored.name)


def test_a_token_cannot_read_another_agencys_record(system, other_agency_record):
    response = system.get(f"{RECORDS}/{other_agency_record.public_id}")

    assert response.status_code == 404


def test_a_token_cannot_correct_another_agencys_record(system, other_agency_record):
    response = system.patch(f"{RECORDS}/{other_agency_record.public_id}", {"version": 1, "first_name": "Changed"})

    assert response.status_code == 404
    stored = SourceRecord.objects.get(pk=other_agency_record.pk)
    assert (stored.first_name, stored.version) == (other_agency_record.first_name, 1)


def test_a_token_cannot_add_contacts_to_another_agencys_record(system, other_agency_record):
    response = system.post(
        CONTACTS,
        {
            "source_record_id": str(other_agency_record.public_id),
            "contact_type": "probation_intake",
            "occurred_at": WHEN,
        },
    )

    assert response.status_code == 404
    assert not Contact.objects.filter(source_record=other_agency_record).exists()


def test_a_token_cannot_see_another_agencys_youth(system, other_agency_record):
    by_id = system.get(f"/api/youth/{other_agency_record.youth.public_id}")
    by_name = system.get("/api/youth", q=f"{other_agency_record.first_name} {other_agency_record.last_name}")

    assert by_id.status_code == 404
    assert by_name.status_code == 200
    assert by_name.json() == []


def test_a_tokens_service_account_cannot_read_the_audit_log(system):
    assert system.get("/api/audit").status_code == 403


def test_two_agencies_tokens_keep_their_records_apart(system, make_agency, make_user):
    clinic = make_agency("health")
    clinic_system = System(issue_token(actor=make_user("agency_admin", clinic), agency=clinic, name="EHR").secret)
    ours = system.post(RECORDS, new_record("SAME-ID")).json()

    theirs = clinic_system.post(RECORDS, new_record("SAME-ID", index=2))

    assert theirs.status_code == 201
    assert clinic_system.get(f"{RECORDS}/{ours['id']}").status_code == 404
    assert system.get(f"{RECORDS}/{theirs.json()['id']}").status_code == 404
