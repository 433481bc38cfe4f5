"""Property-based run of the whole API from its own OpenAPI document: no request, however
odd, gets a server error.

Schemathesis reads /api/openapi.json from the Django WSGI application and generates
requests for every operation (valid ones, and ones that break the schema on purpose),
sent as a screener's integration token in an agency that holds some synthetic records.
The only check is ``not_a_server_error``: a 4xx is the API doing its job; a 5xx is a bug.
"""

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from nowrongdoor.access.services import issue_token

OPENAPI = "/api/openapi.json"


# The schema is loaded from the running application at collection time (serving the
# OpenAPI document needs no database). ``schemathesis.pytest.from_fixture`` would load it
# per test instead, but schemathesis 4.32 sets ``node._nodeid``, which pytest 9 removed.
APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi(OPENAPI, APP)


@pytest.fixture
def keep_test_connection(db: None) -> Iterator[None]:
    """Let WSGI requests run inside the test's transaction.

    Django closes "old" connections at the start and end of every request; inside a test
    transaction that would drop the connection and the test data with it. Django's own
    test client switches this off for the same reason; so does this fixture.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass(frozen=True)
class Caller:
    headers: dict[str, str]
    ids: dict[str, str]  # a real id of the caller's own agency for each id the API takes


@pytest.fixture
def caller(make_agency, make_user, make_record, make_contact) -> Caller:
    """A screener's token in an agency that already holds records and contacts."""
    agency = make_agency("child_welfare")
    admin = make_user("agency_admin", agency)
    screener = make_user("screener", agency)
    records = [make_record(screener, index=900 + index) for index in range(3)]
    contacts = [make_contact(screener, r, "hotline_report", allegations=["sexual_exploitation"]) for r in records]
    issued = issue_token(actor=admin, agency=agency, name="schemathesis", role="screener")
    return Caller(
        headers={"Authorization": f"Bearer {issued.secret}"},
        ids={
            "record_id": str(records[0].public_id),
            "source_record_id": str(records[0].public_id),
            "contact_id": str(contacts[0].public_id),
            "youth_id": str(records[0].youth.public_id),
        },
    )


def aim_at_real_objects(case: Any, ids: dict[str, str]) -> None:
    """Point the ids of about half the requests at the caller's own objects.

    Generated ids are almost never ids of anything, so without this nearly every request
    that takes one would stop at the 404 and the code behind it would go untested. Which
    half is chosen by a stable hash of the generated request (Hypothesis needs each
    example to behave the same when replayed); malformed ids are left alone.
    """
    digest = hashlib.sha256(repr((case.path_parameters, case.query, case.body)).encode()).digest()
    if digest[0] % 2:
        return
    for params in (case.path_parameters, case.body):
        if not isinstance(params, dict):
            continue
        for name, value in params.items():
            if name in ids and isinstance(value, str) and _is_uuid(value):
                params[name] = ids[name]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def test_openapi_document_lists_intake_youth_and_audit_paths(client) -> None:
    response = client.get(OPENAPI)

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/source-records",
        "/api/source-records/{record_id}",
        "/api/contacts",
        "/api/contacts/{contact_id}",
        "/api/youth",
        "/api/youth/{youth_id}",
        "/api/youth/{youth_id}/break-glass",
        "/api/audit",
    } <= set(paths)
    assert set(paths["/api/source-records"]) == {"post"}
    assert set(paths["/api/source-records/{record_id}"]) == {"get", "patch"}
    assert set(response.json()["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,  # keep no example database on disk
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_answers_with_a_server_error(case, caller: Caller, keep_test_connection) -> None:
    aim_at_real_objects(case, caller.ids)
    # Each example runs in a savepoint that is rolled back, so one example's writes (or a
    # database error it provoked) cannot change what the next example meets.
    with transaction.atomic():
        response = case.call(headers=caller.headers)
        transaction.set_rollback(True)
    case.validate_response(response, checks=[not_a_server_error], headers=caller.headers)
