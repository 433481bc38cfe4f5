"""Who may write youth data: an agency writes its own records, of any category it keeps."""

from __future__ import annotations

import pytest

from nowrongdoor.access.models import AuditEvent
from nowrongdoor.access.services import open_break_glass, review_break_glass
from nowrongdoor.errors import AccessDenied, NotFound


def test_a_treatment_programme_screener_records_substance_use_treatment(make_agency, make_user, make_record,
                                                                        make_contact):
    programme = make_agency("health")
    screener = make_user("screener", programme)  # screening does not *read* substance-use records
    record = make_record(screener)
    contact = make_contact(screener, record, "substance_use_treatment")
    assert contact.category == "substance_use"
    event = AuditEvent.objects.filter(object_id=str(contact.public_id)).get()
    assert (event.action, event.allowed, event.basis) == ("create", True, "own_agency")


@pytest.mark.parametrize("role", ["agency_admin", "system_admin"])
def test_roles_without_youth_purposes_cannot_record_youth(make_agency, make_user, make_record, role):
    with pytest.raises(AccessDenied):
        make_record(make_user(role, make_agency("probation")))


def test_nobody_records_a_contact_on_another_agencys_record(make_agency, make_user, make_record, make_contact):
    county_cw = make_user("case_manager", make_agency("child_welfare"))
    record = make_record(county_cw)
    with pytest.raises(NotFound):
        make_contact(make_user("screener", make_agency("probation")), record, "probation_intake")


def test_analysts_cannot_break_the_glass(make_agency, make_user, make_record):
    agency = make_agency("child_welfare")
    record = make_record(make_user("case_manager", agency))
    with pytest.raises(AccessDenied):
        open_break_glass(actor=make_user("analyst", agency), youth_public_id=str(record.youth.public_id),
                         justification="I need to see this youth for a report right now")
    assert AuditEvent.objects.filter(action="break_glass_denied").count() == 1


def test_only_the_assigned_supervisor_reviews_an_emergency_access(make_agency, make_user, make_record):
    probation = make_agency("probation")
    assigned = make_user("supervisor", probation)
    other = make_user("supervisor", probation)
    worker = make_user("screener", probation, supervisor=assigned)
    youth_record = make_record(make_user("case_manager", make_agency("child_welfare")))
    grant = open_break_glass(actor=worker, youth_public_id=str(youth_record.youth.public_id),
                             justification="Youth reported missing tonight, in danger now")
    with pytest.raises(AccessDenied):
        review_break_glass(actor=other, grant=grant, outcome="justified")
    review_break_glass(actor=assigned, grant=grant, outcome="justified")
    grant.refresh_from_db()
    assert (grant.reviewed_by, grant.review_outcome) == (assigned, "justified")


def test_a_contact_time_with_an_offset_postgresql_refuses_is_kept_in_utc(make_agency, make_user, make_record):
    """Found by schemathesis on PostgreSQL: ``1722-08-05T00:36:41-16:36`` was a 500."""
    import datetime as dt

    from nowrongdoor.youth.services import create_contact, update_contact

    agency = make_agency("child_welfare")
    worker = make_user("screener", agency)
    record = make_record(worker)
    odd = dt.datetime(2020, 8, 5, 0, 36, 41, tzinfo=dt.timezone(-dt.timedelta(hours=16, minutes=36)))
    contact = create_contact(actor=worker, source_record_public_id=str(record.public_id), contact_type="removal",
                             occurred_at=odd, details={})
    contact.refresh_from_db()
    assert contact.occurred_at == odd
    later = odd + dt.timedelta(days=1)
    update_contact(actor=worker, public_id=str(contact.public_id), expected_version=contact.version,
                   occurred_at=later)
    contact.refresh_from_db()
    assert contact.occurred_at == later
