"""How the API refuses: the right status, a body naming what is wrong, never a 500, and
never a hint that a youth the caller may not see exists.

The client here does not re-raise server errors, so a bug shows up as the 500 a real
caller would get.
"""

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client

from nowrongdoor.youth.models import Contact, SourceRecord
from tests.api.http import WHEN, fields_named, patch, post

RECORDS = "/api/source-records"
CONTACTS = "/api/contacts"





@pytest.fixture
def api(client, db):
    client.raise_request_exception = False
    return client


@pytest.fixture
def signed_in(api, screener):
    api.force_login(screener)
    return api


@pytest.fixture
def record(screener, make_record):
    return make_record(screener)


def new_record(local_id: str = "CW-1", **fields: Any) -> dict[str, Any]:
    from nowrongdoor.synth.generator import plan_person

    plan = plan_person(11, 1)
    return {
        "local_id": local_id,
        "first_name": plan.records[0].first_name,
        "last_name": plan.records[0].last_name,
        "date_of_birth": plan.birth_date.isoformat(),
        **fields,
    }


# -- malformed and wrong input -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", RECORDS),
        ("post", CONTACTS),
        ("patch", f"{RECORDS}/{uuid.UUID(int=1)}"),
        ("patch", f"{CONTACTS}/{uuid.UUID(int=1)}"),
    ],
)
def test_malformed_json_is_a_400(signed_in, method, path):
    response = getattr(signed_in, method)(path, data='{"local_id": "CW-1", ', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}


@pytest.mark.parametrize("body", [[], "a string", None, 42])
def test_a_body_that_is_not_an_object_is_refused(signed_in, body):
    response = post(signed_in, RECORDS, body)

    assert response.status_code == 422
    assert {"local_id", "first_name", "last_name"} <= fields_named(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", 123),
        ("local_id", ["CW-1"]),
        ("aliases", "one alias"),
        ("aliases", [1, 2]),
        ("date_of_birth", "2010-13-45"),
        ("date_of_birth", "last spring"),
        ("estimated_age", "fifteen"),
        ("estimated_age", 26),
        ("estimated_age", -1),
        ("youth_id", "not-a-uuid"),
    ],
)
def test_a_wrongly_typed_record_field_is_a_422_naming_it(signed_in, field, value):
    response = post(signed_in, RECORDS, new_record(**{field: value}))

    assert response.status_code == 422
    assert {name.split(".")[0] for name in fields_named(response)} == {field}
    assert not SourceRecord.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source_record_id", "CW-1"),
        ("occurred_at", "yesterday"),
        ("details", ["not", "an", "object"]),
        ("contact_type", None),
    ],
)
def test_a_wrongly_typed_contact_field_is_a_422_naming_it(signed_in, record, field, value):
    body = {"source_record_id": str(record.public_id), "contact_type": "removal", "occurred_at": WHEN}

    response = post(signed_in, CONTACTS, body | {field: value})

    assert response.status_code == 422
    assert fields_named(response) == {field}


@pytest.mark.parametrize("version", ["one", 0, None, 1.5])
def test_a_patch_needs_a_whole_positive_version(signed_in, record, version):
    response = patch(signed_in, f"{RECORDS}/{record.public_id}", {"version": version, "middle_name": "Rae"})

    assert response.status_code == 422
    assert fields_named(response) == {"version"}


def test_oversized_strings_and_lists_are_each_named(signed_in):
    response = post(
        signed_in,
        RECORDS,
        new_record(
            local_id="L" * 65,
            first_name="F" * 101,
            aliases=[f"Alias {n}" for n in range(21)],
            middle_name="M" * 101,
        ),
    )

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert fields_named(response) == {"local_id", "first_name", "aliases", "middle_name"}
    assert not SourceRecord.objects.exists()


def test_the_longest_allowed_strings_are_accepted(signed_in):
    response = post(
        signed_in,
        RECORDS,
        new_record(
            local_id="L" * 64,
            first_name="F" * 100,
            aliases=["A" * 100] * 20,
        ),
    )

    assert response.status_code == 201


def test_an_oversized_alias_is_named_by_its_position(signed_in):
    response = post(signed_in, RECORDS, new_record(aliases=["Ok", "A" * 101]))

    assert response.status_code == 422
    assert fields_named(response) == {"aliases.1"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("local_id", "C" * 65), ("contact_type", "t" * 41)],
)
def test_oversized_contact_strings_are_named(signed_in, record, field, value):
    body = {"source_record_id": str(record.public_id), "contact_type": "removal", "occurred_at": WHEN}

    response = post(signed_in, CONTACTS, body | {field: value})

    assert response.status_code == 422
    assert fields_named(response) == {field}


@pytest.mark.parametrize("field", ["first_name", "local_id"])
def test_text_with_a_nul_character_is_refused_not_stored_or_crashed_on(signed_in, field):
    """A NUL is never part of a name or id: PostgreSQL cannot store it, SQLite would."""
    response = post(signed_in, RECORDS, new_record(**{field: "Ana\x00Maria"}))

    assert response.status_code == 422
    assert fields_named(response) == {field}
    assert not SourceRecord.objects.exists()


@pytest.mark.parametrize("field", ["sex", "race_ethnicity", "language", "middle_name", "residence_zip"])
def test_patching_a_field_to_null_is_a_422_not_a_server_error(signed_in, record, field):
    response = patch(signed_in, f"{RECORDS}/{record.public_id}", {"version": 1, field: None})

    assert response.status_code == 422
    assert fields_named(response) == {field}
    stored = SourceRecord.objects.get(pk=record.pk)
    assert getattr(stored, field) == getattr(record, field)
    assert stored.version == 1


def test_an_audit_offset_beyond_any_database_integer_is_a_422(api, agency, make_user):
    api.force_login(make_user("agency_admin", agency))

    response = api.get("/api/audit", {"offset": 2**63})

    assert response.status_code == 422
    assert fields_named(response) == {"offset"}


# -- unknown ids ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", f"{RECORDS}/{{id}}", None),
        ("patch", f"{RECORDS}/{{id}}", {"version": 1, "middle_name": "Rae"}),
        ("patch", f"{CONTACTS}/{{id}}", {"version": 1, "occurred_at": WHEN}),
        ("get", "/api/youth/{id}", None),
        ("post", "/api/youth/{id}/break-glass", {"justification": "A synthetic emergency, explained at length."}),
    ],
)
def test_an_unknown_id_is_a_404_and_a_malformed_one_a_422(signed_in, method, path, body):
    def call(object_id: str):
        kwargs = {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(signed_in, method)(path.format(id=object_id), **kwargs)

    unknown = call(str(uuid.uuid4()))
    malformed = call("not-a-uuid")
    overlong = call("9" * 300)

    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not found."}
    assert malformed.status_code == 422
    assert overlong.status_code == 422


def test_a_contact_on_an_unknown_or_malformed_record_id(signed_in):
    unknown = post(
        signed_in, CONTACTS, {"source_record_id": str(uuid.uuid4()), "contact_type": "removal", "occurred_at": WHEN}
    )
    malformed = post(signed_in, CONTACTS, {"source_record_id": "CW-1", "contact_type": "removal", "occurred_at": WHEN})

    assert unknown.status_code == 404
    assert malformed.status_code == 422
    assert not Contact.objects.exists()


def test_a_hidden_youth_gets_exactly_the_answer_of_a_youth_that_does_not_exist(
    signed_in, make_agency, make_user, make_record
):
    elsewhere = make_user("screener", make_agency("health"))
    hidden = make_record(elsewhere)  # exists, but no agreement lets the caller see it

    seen = signed_in.get(f"/api/youth/{hidden.youth.public_id}")
    never_existed = signed_in.get(f"/api/youth/{uuid.uuid4()}")

    assert seen.status_code == never_existed.status_code == 404
    assert seen.content == never_existed.content
    assert seen.headers["Content-Type"] == never_existed.headers["Content-Type"]
    assert seen.headers.get("Content-Length") == never_existed.headers.get("Content-Length")


def test_a_hidden_youth_is_not_found_by_name_either(signed_in, screener, make_agency, make_user, make_record):
    elsewhere = make_user("screener", make_agency("health"))
    hidden = make_record(elsewhere)
    own = make_record(screener, first_name=hidden.first_name, last_name=hidden.last_name)  # same name, own agency

    response = signed_in.get("/api/youth", {"q": f"{hidden.first_name} {hidden.last_name}"})

    assert response.status_code == 200
    assert [youth["id"] for youth in response.json()] == [str(own.youth.public_id)]


# -- who may ask -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", RECORDS),
        ("get", f"{RECORDS}/{uuid.UUID(int=1)}"),
        ("patch", f"{RECORDS}/{uuid.UUID(int=1)}"),
        ("post", CONTACTS),
        ("patch", f"{CONTACTS}/{uuid.UUID(int=1)}"),
        ("get", "/api/youth?q=ana"),
        ("get", f"/api/youth/{uuid.UUID(int=1)}"),
        ("post", f"/api/youth/{uuid.UUID(int=1)}/break-glass"),
        ("get", "/api/audit"),
    ],
)
def test_an_unauthenticated_request_is_a_401(api, method, path):
    kwargs = {"data": "{}", "content_type": "application/json"} if method != "get" else {}

    response = getattr(api, method)(path, **kwargs)

    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in, or send a valid integration token."}


def test_an_unauthenticated_write_from_a_cookieless_client_is_a_401_not_a_csrf_failure(db):
    integration = Client(enforce_csrf_checks=True, raise_request_exception=False)

    response = post(integration, RECORDS, new_record())

    assert response.status_code == 401, response.json()


def test_an_unknown_bearer_token_is_a_401(api):
    response = api.get("/api/youth", {"q": "ana"}, headers={"Authorization": "Bearer nwd_not-a-real-token"})

    assert response.status_code == 401


def test_a_session_post_without_a_csrf_token_is_refused(screener):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(screener)

    response = post(browser, RECORDS, new_record())

    assert response.status_code == 403
    assert not SourceRecord.objects.exists()


def test_a_session_post_with_the_csrf_token_is_accepted(screener):
    browser = Client(enforce_csrf_checks=True)
    browser.get("/login/")  # the sign-in page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    browser.force_login(screener)

    response = browser.post(
        RECORDS, data=json.dumps(new_record()), content_type="application/json", headers={"X-CSRFToken": token}
    )

    assert response.status_code == 201


@pytest.mark.parametrize("role", ["agency_admin", "analyst"])
def test_a_role_without_a_purpose_for_identity_cannot_search_youth(api, agency, make_user, role):
    api.force_login(make_user(role, agency))

    response = api.get("/api/youth", {"q": "ana"})

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have access to this for that purpose."}


def test_a_purpose_the_role_does_not_act_for_is_a_403(signed_in, record):
    response = signed_in.get(f"/api/youth/{record.youth.public_id}", {"purpose": "mdt"})

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["screener", "case_manager", "supervisor", "mdt_coordinator", "analyst"])
def test_only_administrators_read_the_audit_log(api, agency, make_user, role):
    api.force_login(make_user(role, agency))

    response = api.get("/api/audit")

    assert response.status_code == 403


def test_an_agency_administrator_reads_the_audit_log(api, agency, make_user, record):
    api.force_login(make_user("agency_admin", agency))

    response = api.get("/api/audit")

    assert response.status_code == 200
    actions = [event["action"] for event in response.json()["items"]]
    assert "create" in actions


# -- stale edits ---------------------------------------------------------------------


def test_a_stale_record_patch_is_a_409_and_keeps_the_newer_data(signed_in, record):
    path = f"{RECORDS}/{record.public_id}"
    assert patch(signed_in, path, {"version": 1, "middle_name": "First"}).status_code == 200

    stale = patch(signed_in, path, {"version": 1, "middle_name": "Second"})

    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert "changed by someone else" in stale.json()["detail"]
    now = signed_in.get(path).json()
    assert (now["middle_name"], now["version"]) == ("First", 2)


def test_a_stale_contact_patch_is_a_409_and_keeps_the_newer_data(signed_in, screener, record, make_contact):
    contact = make_contact(screener, record, "investigation", finding="inconclusive")
    path = f"{CONTACTS}/{contact.public_id}"
    assert patch(signed_in, path, {"version": 1, "details": {"finding": "substantiated"}}).status_code == 200

    stale = patch(
        signed_in, path, {"version": 1, "details": {"finding": "unfounded"}, "occurred_at": "2024-01-01T00:00:00+00:00"}
    )

    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    youth = signed_in.get(f"/api/youth/{record.youth.public_id}").json()
    [now] = [c for c in youth["contacts"] if c["id"] == str(contact.public_id)]
    assert now["details"] == {"finding": "substantiated"}
    assert now["version"] == 2
    assert dt.datetime.fromisoformat(now["occurred_at"]) == dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)
