"""The "any door" intake over the JSON API: source records and contacts.

An agency posts youth as it knows them and dated events on its own records. Every input
is checked against the data dictionary and a refusal names each bad field; an agency
never writes to, nor learns of, another agency's records.
"""

import datetime as dt
import uuid
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.services import create_agreement
from nowrongdoor.youth.models import Contact, SourceRecord
from tests.api.http import WHEN, fields_named, patch, post

RECORDS = "/api/source-records"
CONTACTS = "/api/contacts"





def synthetic_person(index: int = 1) -> dict[str, Any]:
    """Names and birth date of a generated (never real) person."""
    from nowrongdoor.synth.generator import plan_person

    plan = plan_person(7, index)
    return {
        "first_name": plan.records[0].first_name,
        "last_name": plan.records[0].last_name,
        "date_of_birth": plan.birth_date.isoformat(),
        "sex": plan.sex,
        "race_ethnicity": plan.race_ethnicity,
    }


@pytest.fixture
def other_screener(make_agency, make_user):
    return make_user("screener", make_agency("probation"))


@pytest.fixture
def signed_in(client, screener):
    client.force_login(screener)
    return client


# -- source records ----------------------------------------------------------------


def test_posting_a_source_record_creates_it_for_the_callers_agency(signed_in, screener):
    person = synthetic_person()

    response = post(signed_in, RECORDS, {"local_id": "CW-0001", **person, "aliases": ["Nickname"]})

    assert response.status_code == 201
    body = response.json()
    assert body["local_id"] == "CW-0001"
    assert body["first_name"] == person["first_name"]
    assert body["last_name"] == person["last_name"]
    assert body["date_of_birth"] == person["date_of_birth"]
    assert body["aliases"] == ["Nickname"]
    assert body["version"] == 1
    uuid.UUID(body["youth_id"])
    stored = SourceRecord.objects.get(public_id=body["id"])
    assert stored.agency_id == screener.agency_id
    assert stored.created_by == screener


def test_a_record_with_only_an_estimated_age_is_accepted(signed_in):
    person = synthetic_person() | {"date_of_birth": None}

    response = post(signed_in, RECORDS, {"local_id": "CW-0002", **person, "estimated_age": 15})

    assert response.status_code == 201
    assert response.json()["estimated_age"] == 15
    assert response.json()["date_of_birth"] is None


def test_a_record_needs_a_date_of_birth_or_an_estimated_age(signed_in):
    person = synthetic_person() | {"date_of_birth": None}

    response = post(signed_in, RECORDS, {"local_id": "CW-0003", **person})

    assert response.status_code == 422
    assert fields_named(response) == {"date_of_birth"}
    assert not SourceRecord.objects.filter(local_id="CW-0003").exists()


def test_posting_the_same_local_id_twice_is_refused_naming_local_id(signed_in, agency):
    first = post(signed_in, RECORDS, {"local_id": "CW-0100", **synthetic_person(1)})
    again = post(signed_in, RECORDS, {"local_id": "CW-0100", **synthetic_person(2)})

    assert first.status_code == 201
    assert again.status_code == 422
    assert fields_named(again) == {"local_id"}
    assert SourceRecord.objects.filter(agency=agency, local_id="CW-0100").count() == 1


def test_two_agencies_may_use_the_same_local_id(signed_in, client, other_screener):
    assert post(signed_in, RECORDS, {"local_id": "SHARED-1", **synthetic_person(1)}).status_code == 201
    client.force_login(other_screener)

    response = post(client, RECORDS, {"local_id": "SHARED-1", **synthetic_person(2)})

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "not_a_code"),
        ("race_ethnicity", "not_a_code"),
        ("language", "xx"),
        ("residence_zip", "9410"),
        ("residence_county", "No Such County"),
        ("date_of_birth", "1989-12-31"),
    ],
)
def test_a_record_field_outside_the_dictionary_is_refused_naming_it(signed_in, field, value):
    response = post(signed_in, RECORDS, {"local_id": "CW-0200", **synthetic_person(), field: value})

    assert response.status_code == 422
    assert fields_named(response) == {field}


def test_a_date_of_birth_in_the_future_is_refused(signed_in):
    tomorrow = clock.today() + dt.timedelta(days=1)

    response = post(signed_in, RECORDS, {"local_id": "CW-0201", **synthetic_person(), "date_of_birth": str(tomorrow)})

    assert response.status_code == 422
    assert fields_named(response) == {"date_of_birth"}


def test_reading_an_own_record_returns_it(signed_in, screener, make_record):
    record = make_record(screener)

    response = signed_in.get(f"{RECORDS}/{record.public_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(record.public_id)
    assert body["youth_id"] == str(record.youth.public_id)
    assert body["first_name"] == record.first_name
    assert body["version"] == 1


def test_another_agencys_record_cannot_be_read_through_intake(signed_in, other_screener, make_record):
    theirs = make_record(other_screener)

    response = signed_in.get(f"{RECORDS}/{theirs.public_id}")
    unknown = signed_in.get(f"{RECORDS}/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.content == unknown.content


def test_patching_a_record_changes_only_the_fields_sent_and_bumps_the_version(signed_in, screener, make_record):
    record = make_record(screener)

    response = patch(signed_in, f"{RECORDS}/{record.public_id}", {"version": 1, "middle_name": "Rae"})

    assert response.status_code == 200
    body = response.json()
    assert body["middle_name"] == "Rae"
    assert body["first_name"] == record.first_name
    assert body["last_name"] == record.last_name
    assert body["version"] == 2
    record.refresh_from_db()
    assert (record.middle_name, record.version) == ("Rae", 2)
    assert "rae" in record.search_name


def test_a_patch_that_breaks_a_rule_is_refused_and_changes_nothing(signed_in, screener, make_record):
    record = make_record(screener)

    response = patch(
        signed_in,
        f"{RECORDS}/{record.public_id}",
        {
            "version": 1,
            "sex": "not_a_code",
            "residence_zip": "9410",
            "middle_name": "Rae",
        },
    )

    assert response.status_code == 422
    assert fields_named(response) == {"sex", "residence_zip"}
    stored = SourceRecord.objects.get(pk=record.pk)
    assert (stored.sex, stored.residence_zip, stored.middle_name, stored.version) == (record.sex, "", "", 1)


def test_another_agencys_record_cannot_be_patched(signed_in, other_screener, make_record):
    theirs = make_record(other_screener)

    response = patch(signed_in, f"{RECORDS}/{theirs.public_id}", {"version": 1, "first_name": "Changed"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.first_name != "Changed"
    assert theirs.version == 1


# -- joining a youth by referral ----------------------------------------------------


@pytest.fixture
def shares_identity_with(county, make_user):
    """A sharing agreement: ``discloser``'s identity data reaches ``recipient`` for screening."""

    def share(discloser, recipient) -> None:
        create_agreement(
            actor=make_user("system_admin", None),
            county=county,
            title="Referral protocol (synthetic)",
            discloser=discloser,
            recipient=recipient,
            categories=["identity"],
            purposes=["screening"],
            legal_basis_code="WIC827",
            valid_from=dt.date(2020, 1, 1),
        )

    return share


def test_a_record_can_join_a_youth_the_caller_can_see(
    signed_in, screener, other_screener, make_record, shares_identity_with
):
    referred = make_record(other_screener)
    shares_identity_with(other_screener.agency, screener.agency)

    response = post(
        signed_in,
        RECORDS,
        {
            "local_id": "CW-REF-1",
            **synthetic_person(),
            "youth_id": str(referred.youth.public_id),
        },
    )

    assert response.status_code == 201
    assert response.json()["youth_id"] == str(referred.youth.public_id)
    assert SourceRecord.objects.filter(youth=referred.youth).count() == 2


def test_a_record_cannot_join_a_youth_the_caller_cannot_see(signed_in, other_screener, make_record):
    hidden = make_record(other_screener)

    response = post(
        signed_in,
        RECORDS,
        {
            "local_id": "CW-REF-2",
            **synthetic_person(),
            "youth_id": str(hidden.youth.public_id),
        },
    )
    nonexistent = post(
        signed_in,
        RECORDS,
        {
            "local_id": "CW-REF-3",
            **synthetic_person(),
            "youth_id": str(uuid.uuid4()),
        },
    )

    assert response.status_code == 404
    assert response.content == nonexistent.content  # the hidden youth looks like no youth
    assert SourceRecord.objects.filter(youth=hidden.youth).count() == 1
    assert not SourceRecord.objects.filter(local_id__startswith="CW-REF").exists()


# -- contacts ----------------------------------------------------------------------


def test_posting_a_contact_on_an_own_record_creates_it(signed_in, screener, make_record):
    record = make_record(screener)

    response = post(
        signed_in,
        CONTACTS,
        {
            "source_record_id": str(record.public_id),
            "contact_type": "hotline_report",
            "occurred_at": WHEN,
            "details": {"allegations": ["sexual_exploitation", "general_neglect"]},
            "local_id": "HL-1",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["source_record_id"] == str(record.public_id)
    assert body["youth_id"] == str(record.youth.public_id)
    assert body["contact_type"] == "hotline_report"
    assert body["category"] == "child_welfare"
    assert body["details"] == {"allegations": ["sexual_exploitation", "general_neglect"]}
    assert dt.datetime.fromisoformat(body["occurred_at"]) == dt.datetime.fromisoformat(WHEN)
    assert body["version"] == 1
    stored = Contact.objects.get(public_id=body["id"])
    assert (stored.agency_id, stored.created_by) == (screener.agency_id, screener)


def test_posting_the_same_contact_local_id_twice_is_refused_naming_local_id(signed_in, screener, make_record):
    record = make_record(screener)
    contact = {
        "source_record_id": str(record.public_id),
        "contact_type": "removal",
        "occurred_at": WHEN,
        "local_id": "RM-1",
    }

    first = post(signed_in, CONTACTS, contact)
    again = post(signed_in, CONTACTS, contact)

    assert first.status_code == 201
    assert again.status_code == 422
    assert fields_named(again) == {"local_id"}
    assert Contact.objects.filter(local_id="RM-1").count() == 1


@pytest.mark.parametrize(
    ("contact_type", "details", "bad_field"),
    [
        ("not_a_contact_type", {}, "contact_type"),
        ("hotline_report", {"allegations": ["not_a_code"]}, "details.allegations"),
        ("hotline_report", {"allegations": "sexual_exploitation"}, "details.allegations"),
        ("hotline_report", {}, "details.allegations"),
        ("arrest", {"offence_category": "theft", "officer_name": "x"}, "details.officer_name"),
        ("placement_start", {"placement_type": "group_home", "address": "x" * 201}, "details.address"),
        ("placement_start", {"placement_type": "group_home", "address": 42}, "details.address"),
    ],
    ids=[
        "unknown type",
        "unknown code",
        "code not in a list",
        "missing required",
        "unknown field",
        "text too long",
        "text not text",
    ],
)
def test_contact_details_are_checked_against_the_data_dictionary(
    signed_in, screener, make_record, contact_type, details, bad_field
):
    record = make_record(screener)

    response = post(
        signed_in,
        CONTACTS,
        {
            "source_record_id": str(record.public_id),
            "contact_type": contact_type,
            "occurred_at": WHEN,
            "details": details,
        },
    )

    assert response.status_code == 422
    assert fields_named(response) == {bad_field}
    assert not Contact.objects.filter(source_record=record).exists()


def test_every_bad_detail_is_named_at_once(signed_in, screener, make_record):
    record = make_record(screener)

    response = post(
        signed_in,
        CONTACTS,
        {
            "source_record_id": str(record.public_id),
            "contact_type": "placement_start",
            "occurred_at": WHEN,
            "details": {"address": "x" * 201, "colour": "blue"},
        },
    )

    assert response.status_code == 422
    assert fields_named(response) == {"details.placement_type", "details.address", "details.colour"}


def test_an_occurred_at_without_a_time_zone_is_refused(signed_in, screener, make_record):
    record = make_record(screener)

    response = post(
        signed_in,
        CONTACTS,
        {
            "source_record_id": str(record.public_id),
            "contact_type": "removal",
            "occurred_at": "2025-03-01T10:00:00",
        },
    )

    assert response.status_code == 422
    assert fields_named(response) == {"occurred_at"}
    assert "time zone" in response.json()["detail"][0]["msg"]


def test_an_occurred_at_in_the_future_is_refused(signed_in, screener, make_record):
    record = make_record(screener)
    tomorrow = (clock.now() + dt.timedelta(days=1)).isoformat()

    response = post(
        signed_in,
        CONTACTS,
        {
            "source_record_id": str(record.public_id),
            "contact_type": "removal",
            "occurred_at": tomorrow,
        },
    )

    assert response.status_code == 422
    assert fields_named(response) == {"occurred_at"}
    assert not Contact.objects.filter(source_record=record).exists()


def test_an_agency_cannot_add_contacts_to_another_agencys_record(signed_in, other_screener, make_record):
    theirs = make_record(other_screener)

    response = post(
        signed_in,
        CONTACTS,
        {
            "source_record_id": str(theirs.public_id),
            "contact_type": "removal",
            "occurred_at": WHEN,
        },
    )
    unknown = post(
        signed_in,
        CONTACTS,
        {
            "source_record_id": str(uuid.uuid4()),
            "contact_type": "removal",
            "occurred_at": WHEN,
        },
    )

    assert response.status_code == 404
    assert response.content == unknown.content
    assert not Contact.objects.filter(source_record=theirs).exists()


def test_patching_a_contact_corrects_it_and_bumps_the_version(signed_in, screener, make_record, make_contact):
    contact = make_contact(screener, make_record(screener), "investigation", finding="inconclusive")

    response = patch(
        signed_in,
        f"{CONTACTS}/{contact.public_id}",
        {
            "version": 1,
            "details": {"finding": "substantiated"},
            "occurred_at": "2025-02-01T09:30:00+00:00",
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["details"] == {"finding": "substantiated"}
    assert dt.datetime.fromisoformat(body["occurred_at"]) == dt.datetime(2025, 2, 1, 9, 30, tzinfo=dt.UTC)
    assert body["version"] == 2
    contact.refresh_from_db()
    assert (contact.details, contact.version) == ({"finding": "substantiated"}, 2)


@pytest.mark.parametrize(
    ("change", "bad_field"),
    [
        ({"details": {"finding": "not_a_code"}}, "details.finding"),
        ({"details": {"finding": "unfounded", "extra": 1}}, "details.extra"),
        ({"occurred_at": "2025-02-01T09:30:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T00:00:00+00:00"}, "occurred_at"),
    ],
    ids=["unknown code", "unknown field", "no time zone", "future"],
)
def test_a_contact_correction_is_checked_like_a_new_contact(
    signed_in, screener, make_record, make_contact, change, bad_field
):
    contact = make_contact(screener, make_record(screener), "investigation", finding="inconclusive")

    response = patch(signed_in, f"{CONTACTS}/{contact.public_id}", {"version": 1, **change})

    assert response.status_code == 422
    assert fields_named(response) == {bad_field}
    contact.refresh_from_db()
    assert (contact.details, contact.version) == ({"finding": "inconclusive"}, 1)


def test_another_agencys_contact_cannot_be_patched(signed_in, other_screener, make_record, make_contact):
    theirs = make_contact(other_screener, make_record(other_screener), "probation_intake")

    response = patch(signed_in, f"{CONTACTS}/{theirs.public_id}", {"version": 1, "occurred_at": WHEN})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.version == 1
