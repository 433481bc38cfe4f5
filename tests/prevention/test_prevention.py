"""Prevention programmes: the catalogue is content, a group is run by one agency,
enrolment needs a youth the worker may see and the consent to take part, attendance
decides completion, and every youth record goes through access and the audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.errors import AccessDenied, StaleEdit, ValidationFailed
from nowrongdoor.prevention import selectors, services
from nowrongdoor.prevention.catalogue import ProgrammesInvalid, catalogue, parse
from nowrongdoor.prevention.models import Attendance, Enrolment

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(make_agency: Any, make_user: Any, make_record: Any) -> dict[str, Any]:
    cw = make_agency("child_welfare")
    worker = make_user("case_manager", cw)
    records = [make_record(worker, index=i) for i in range(3)]
    cohort = services.create_cohort(actor=worker, programme="tell_your_friends", setting="school",
                                    name="Spring group (synthetic)", starts_on=clock.today() - dt.timedelta(days=30))
    return {"agency": cw, "worker": worker, "records": records, "cohort": cohort}


def _enrol(g: dict[str, Any], record: Any) -> Enrolment:
    return services.enrol(actor=g["worker"], cohort_public_id=str(g["cohort"].public_id),
                          youth_public_id=str(record.youth.public_id), consent_on=clock.today(), consent_by="both")


def test_the_catalogue_validates_and_a_broken_copy_names_the_key() -> None:
    cat = catalogue()
    assert {"my_life_my_choice", "man_up", "tell_your_friends"} <= set(cat.programmes)
    assert cat.programmes["man_up"].genders == ("boys",)
    assert cat.sessions_to_complete("my_life_my_choice") == 8  # 80 % of 10
    assert cat.sessions_to_complete("tell_your_friends") == 4  # ceil(3.2)
    document = {"version": 1, "source": "x", "completion_share": 0.8, "programmes": {
        "p": {"title": {"en": "a", "es": "b"}, "about": {"en": "a", "es": "b"}, "sessions": 4, "ages": [15, 12],
              "genders": ["girls"], "settings": ["school"], "source": "ch. 5"}}}
    with pytest.raises(ProgrammesInvalid, match=r"programmes.p.ages: 15 is above 12"):
        parse(document)
    document["programmes"]["p"]["ages"] = [12, 15]
    document["programmes"]["p"]["settings"] = ["prison"]
    with pytest.raises(ProgrammesInvalid, match=r"programmes.p.settings.0"):
        parse(document)


def test_a_group_runs_only_in_its_programmes_settings(group: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.create_cohort(actor=group["worker"], programme="man_up", setting="school", name="x",
                               starts_on=clock.today())
    assert "setting" in failed.value.errors
    with pytest.raises(ValidationFailed) as failed:
        services.create_cohort(actor=group["worker"], programme="knitting", setting="school", name="x",
                               starts_on=clock.today())
    assert "programme" in failed.value.errors


def test_enrolment_records_consent_and_is_audited_as_the_agencys_own_record(group: dict[str, Any]) -> None:
    enrolment = _enrol(group, group["records"][0])
    assert enrolment.consent_by == "both" and enrolment.agency == group["agency"]
    event = AuditEvent.objects.filter(action="create", object_type="enrolment").get()
    assert event.youth_id == group["records"][0].youth_id and event.category == "child_welfare"
    with pytest.raises(ValidationFailed) as failed:
        _enrol(group, group["records"][0])
    assert "youth" in failed.value.errors
    with pytest.raises(ValidationFailed) as failed:
        services.enrol(actor=group["worker"], cohort_public_id=str(group["cohort"].public_id),
                       youth_public_id=str(group["records"][1].youth.public_id),
                       consent_on=clock.today() + dt.timedelta(days=1), consent_by="nobody")
    assert set(failed.value.errors) == {"consent_on", "consent_by"}


def test_attendance_completes_a_youth_at_the_catalogues_share_of_sessions(group: dict[str, Any]) -> None:
    a, b = _enrol(group, group["records"][0]), _enrol(group, group["records"][1])
    start = group["cohort"].starts_on
    for session in (1, 2, 3):
        done = services.record_attendance(actor=group["worker"], cohort_public_id=str(group["cohort"].public_id),
                                          session=session, held_on=start + dt.timedelta(days=session),
                                          present={str(a.public_id): True, str(b.public_id): session != 2})
        assert done == 0
    done = services.record_attendance(actor=group["worker"], cohort_public_id=str(group["cohort"].public_id),
                                      session=4, held_on=start + dt.timedelta(days=4),
                                      present={str(a.public_id): True, str(b.public_id): True})
    assert done == 1  # a came to all 4; b to 3 of 4, under the 80 % (4 sessions needed)
    a.refresh_from_db(), b.refresh_from_db()
    assert a.status == Enrolment.COMPLETED and b.status == Enrolment.ENROLLED
    assert Attendance.objects.filter(enrolment=b, present=True).count() == 3
    # recording a session again replaces it (b was present at session 2 after all)
    services.record_attendance(actor=group["worker"], cohort_public_id=str(group["cohort"].public_id), session=2,
                               held_on=start + dt.timedelta(days=2), present={str(b.public_id): True})
    b.refresh_from_db()
    assert b.status == Enrolment.COMPLETED
    roster = selectors.cohort(actor=group["worker"], public_id=str(group["cohort"].public_id)).roster
    assert [r.attended for r in roster] == [[1, 2, 3, 4], [1, 2, 3, 4]]


def test_attendance_refuses_a_session_out_of_range_a_future_day_and_strangers(group: dict[str, Any]) -> None:
    a = _enrol(group, group["records"][0])
    with pytest.raises(ValidationFailed) as failed:
        services.record_attendance(actor=group["worker"], cohort_public_id=str(group["cohort"].public_id),
                                   session=5, held_on=clock.today() + dt.timedelta(days=1),
                                   present={str(a.public_id): True, "not-an-enrolment": True})
    assert set(failed.value.errors) == {"session", "held_on", "present"}
    assert not Attendance.objects.exists()


def test_another_agency_cannot_see_or_run_the_group_and_is_audited(group: dict[str, Any], make_agency: Any,
                                                                     make_user: Any) -> None:
    outsider = make_user("case_manager", make_agency("probation"))
    with pytest.raises(AccessDenied):
        selectors.cohort(actor=outsider, public_id=str(group["cohort"].public_id))
    with pytest.raises(AccessDenied):
        _enrol({**group, "worker": outsider}, group["records"][0])
    assert AuditEvent.objects.filter(actor=outsider, allowed=False).count() == 2
    screener = make_user("screener", group["agency"])  # no case coordination
    with pytest.raises(AccessDenied):
        selectors.cohorts(actor=screener)


def test_withdrawal_needs_the_version_read(group: dict[str, Any]) -> None:
    a = _enrol(group, group["records"][0])
    services.withdraw(actor=group["worker"], enrolment_public_id=str(a.public_id), expected_version=a.version)
    with pytest.raises(StaleEdit):
        services.withdraw(actor=group["worker"], enrolment_public_id=str(a.public_id), expected_version=a.version)
    a.refresh_from_db()
    assert a.status == Enrolment.WITHDRAWN


def test_the_pages_and_the_api(client: Any, group: dict[str, Any]) -> None:
    client.force_login(group["worker"])
    assert "Spring group (synthetic)" in client.get("/prevention/").content.decode()
    youth = group["records"][2].youth.public_id
    response = client.post(f"/api/prevention/cohorts/{group['cohort'].public_id}/enrolments",
                           {"youth_id": str(youth), "consent_on": clock.today().isoformat(), "consent_by": "youth"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    page = client.get(f"/prevention/cohorts/{group['cohort'].public_id}/").content.decode()
    assert group["records"][2].first_name in page
    bad = client.post("/api/prevention/cohorts", {"programme": "man_up", "setting": "school", "name": "x",
                                                   "starts_on": "2026-01-01"}, content_type="application/json")
    assert bad.status_code == 422 and "setting" in bad.content.decode()
    response = client.post("/prevention/", {"action": "cohort", "programme": "man_up", "setting": "juvenile_hall",
                                            "name": "Boys' group (synthetic)", "starts_on": "not a date"})
    assert response.status_code == 400 and "starts_on" in response.content.decode()
