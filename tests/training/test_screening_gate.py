"""The county's rule on screening without training: *block* refuses to start a
screening (ValidationFailed naming ``training``, an audited refusal, 422 in the API, the
form says so); *warn* (the default) lets it start and the start page shows the notice;
*off* shows nothing. Recording the screening course lifts the block; an expired
certificate brings it back; new staff in their grace are not blocked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.directory.models import County
from nowrongdoor.errors import ValidationFailed
from nowrongdoor.screening import services as screening_services
from nowrongdoor.screening.instruments import for_agency_type
from nowrongdoor.screening.models import Screening
from nowrongdoor.training.selectors import screening_notice
from tests.training.conftest import TrainingWorld, at, complete

NOW = at(2027, 3, 15)


@pytest.fixture
def desk(tw: TrainingWorld, staff: Any, make_record: Any) -> dict[str, Any]:
    """A probation screener joined long ago with no training, and a youth they can see."""
    screener = staff("screener", tw.probation)
    with clock.frozen(NOW - dt.timedelta(days=3)):
        record = make_record(screener)
    return {"screener": screener, "youth": str(record.youth.public_id),
            "instrument": for_agency_type("probation")[0].id}


def rule(tw: TrainingWorld, value: str) -> None:
    tw.county.screening_training_rule = value  # the same County object the agencies' users hold
    tw.county.save()
    assert County.objects.get(pk=tw.county.pk).screening_training_rule == value


def start(desk: dict[str, Any], when: dt.datetime = NOW) -> Screening:
    with clock.frozen(when):
        return screening_services.start_screening(actor=desk["screener"], youth_public_id=desk["youth"],
                                                  instrument_id=desk["instrument"])


def start_page(client: Any, desk: dict[str, Any], when: dt.datetime = NOW) -> str:
    client.force_login(desk["screener"])
    with clock.frozen(when):
        response = client.get(f"/youth/{desk['youth']}/screen/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_default_rule_is_warn(tw: TrainingWorld) -> None:
    assert County.objects.create(name="Fresh County (synthetic)").screening_training_rule == County.WARN


def test_block_refuses_a_screener_without_the_screening_course_until_it_is_recorded(
        tw: TrainingWorld, desk: dict[str, Any], client: Any) -> None:
    rule(tw, County.BLOCK)
    with pytest.raises(ValidationFailed) as refused:
        start(desk)
    assert list(refused.value.errors) == ["training"]
    assert "Screening for exploitation in your setting" in refused.value.errors["training"][0]
    event = AuditEvent.objects.filter(action="screening.start", allowed=False, actor=desk["screener"]).get()
    assert event.detail == {"courses": ["csec_screening"]} and "training" in event.reason
    assert not Screening.objects.exists()

    html = start_page(client, desk)
    assert 'id="training-notice"' in html and "usa-alert--error" in html
    assert "Your county requires CSEC training before you screen" in html and "not taken" in html
    with clock.frozen(NOW):
        posted = client.post(f"/youth/{desk['youth']}/screen/", {"instrument": desk["instrument"], "form": "short"})
        api = client.post("/api/screenings", data=json.dumps({"youth_id": desk["youth"],
                                                              "instrument": desk["instrument"]}),
                          content_type="application/json")
    assert posted.status_code == 400
    assert api.status_code == 422
    assert [p["loc"] for p in api.json()["detail"]] == [["body", "training"]]
    assert not Screening.objects.exists()
    assert AuditEvent.objects.filter(action="screening.start", allowed=False, actor=desk["screener"]).count() == 3

    # Other courses still missing do not block: only the course the screening gate names.
    complete(tw.probation_admin, desk["screener"], "csec_screening", NOW.date() - dt.timedelta(days=1))
    with clock.frozen(NOW):
        assert screening_notice(desk["screener"]) is None
    assert start(desk).status == Screening.DRAFT
    assert 'id="training-notice"' not in start_page(client, desk)
    with clock.frozen(NOW):
        api = client.post("/api/screenings", data=json.dumps({"youth_id": desk["youth"],
                                                              "instrument": desk["instrument"]}),
                          content_type="application/json")
    assert api.status_code == 201, api.content


def test_block_returns_when_the_certificate_expires(tw: TrainingWorld, desk: dict[str, Any], client: Any) -> None:
    rule(tw, County.BLOCK)
    complete(tw.probation_admin, desk["screener"], "csec_screening", dt.date(2025, 3, 1))  # expires 2027-03-01
    with pytest.raises(ValidationFailed) as refused:
        start(desk)
    assert "training" in refused.value.errors
    html = start_page(client, desk)
    assert 'id="training-notice"' in html and "expired 2027-03-01" in html
    assert start(desk, at(2027, 2, 28)).status == Screening.DRAFT  # the day before it expired


def test_warn_lets_the_screening_start_and_the_start_page_shows_the_notice(
        tw: TrainingWorld, desk: dict[str, Any], client: Any) -> None:
    rule(tw, County.WARN)
    html = start_page(client, desk)
    assert 'id="training-notice"' in html and "usa-alert--warning" in html
    assert "Your CSEC training for screening is not up to date" in html
    with clock.frozen(NOW):
        notice = screening_notice(desk["screener"])
    assert notice is not None and notice.rule == County.WARN
    assert [(c.course, c.state) for c in notice.lapsed] == [("csec_screening", "missing")]
    assert start(desk).status == Screening.DRAFT
    assert not AuditEvent.objects.filter(action="screening.start", allowed=False).exists()
    complete(tw.probation_admin, desk["screener"], "csec_screening", NOW.date())
    assert 'id="training-notice"' not in start_page(client, desk)


def test_off_shows_no_notice_and_refuses_nothing(tw: TrainingWorld, desk: dict[str, Any], client: Any) -> None:
    rule(tw, County.OFF)
    assert 'id="training-notice"' not in start_page(client, desk)
    with clock.frozen(NOW):
        assert screening_notice(desk["screener"]) is None
    assert start(desk).status == Screening.DRAFT


def test_new_staff_in_their_grace_are_not_blocked(tw: TrainingWorld, staff: Any, make_record: Any) -> None:
    rule(tw, County.BLOCK)
    newcomer = staff("screener", tw.probation, date_joined=NOW - dt.timedelta(days=10))
    with clock.frozen(NOW):
        record = make_record(newcomer)
        assert screening_notice(newcomer) is None
        screening = screening_services.start_screening(actor=newcomer, youth_public_id=str(record.youth.public_id),
                                                       instrument_id=for_agency_type("probation")[0].id)
    assert screening.status == Screening.DRAFT
    with clock.frozen(NOW + dt.timedelta(days=90)), pytest.raises(ValidationFailed):  # the grace is over
        screening_services.start_screening(actor=newcomer, youth_public_id=str(record.youth.public_id),
                                           instrument_id=for_agency_type("probation")[0].id)
