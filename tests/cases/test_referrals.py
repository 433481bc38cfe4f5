"""Referrals: a provider with the service and openings, consent checked before anything
is shared (a supervisor's override is audited), and the referral followed to acceptance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.access.services import record_consent
from nowrongdoor.cases import selectors, services
from nowrongdoor.cases.models import Referral
from nowrongdoor.directory.models import Agency, ProviderProfile, User
from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed


@pytest.fixture
def w(make_agency: Callable[..., Agency], make_user: Callable[..., User], make_record: Callable[..., Any]
      ) -> dict[str, Any]:
    cws = make_agency("child_welfare")
    shelter = make_agency("community_provider", name="Safe Harbor Youth Shelter (synthetic)")
    ProviderProfile.objects.create(agency=shelter, services=["emergency_shelter", "mentoring", "survivor_led"],
                                   populations=["girls", "lgbtq"], languages=["en", "es"], csec_specialised=True,
                                   capacity=8, openings=2)
    full = make_agency("community_provider", name="Full House (synthetic)")
    ProviderProfile.objects.create(agency=full, services=["emergency_shelter"], capacity=4, openings=0)
    supervisor = make_user("supervisor", cws)
    worker = make_user("case_manager", cws, supervisor=supervisor)
    record = make_record(worker)
    case = services.open_case(actor=worker, youth_public_id=str(record.youth.public_id), reason="Synthetic case.")
    return {"cws": cws, "shelter": shelter, "full": full, "worker": worker, "supervisor": supervisor,
            "advocate": make_user("case_manager", shelter), "record": record, "case": str(case.public_id),
            "youth": record.youth}


def test_the_provider_search_finds_services_with_openings_specialised_first(w: dict[str, Any]) -> None:
    found = selectors.find_providers(service="emergency_shelter")
    assert [m.name for m in found] == ["Safe Harbor Youth Shelter (synthetic)"]
    assert [m.name for m in selectors.find_providers(service="emergency_shelter", with_openings=False)] == [
        "Safe Harbor Youth Shelter (synthetic)", "Full House (synthetic)"]
    assert selectors.find_providers(service="emergency_shelter", language="vi") == []


def test_a_referral_without_the_consent_it_needs_is_refused_and_the_refusal_audited(w: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.refer(actor=w["worker"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                       services_=["emergency_shelter"])
    assert "community_services" in failed.value.errors["consent"][0]
    assert not Referral.objects.exists()
    refusal = AuditEvent.objects.filter(action="refer", allowed=False).get()
    assert refusal.detail["missing_consent"] == ["community_services"]


def test_with_consent_in_force_the_referral_is_sent(w: dict[str, Any]) -> None:
    record_consent(actor=w["worker"], youth=w["youth"], category="community_services", given_by="youth",
                   given_on=clock.today(), recipient_agency=w["shelter"])
    referral = services.refer(actor=w["worker"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                              services_=["emergency_shelter", "mentoring"])
    assert (referral.status, referral.consent_override, referral.shared_categories) == (
        "sent", "", ["case", "community_services", "identity"])


def test_only_a_supervisor_overrides_missing_consent_and_the_override_is_audited(w: dict[str, Any]) -> None:
    reason = "Youth recovered tonight, no guardian reachable; shelter bed needed now (synthetic)."
    with pytest.raises(AccessDenied):
        services.refer(actor=w["worker"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                       services_=["emergency_shelter"], consent_override=reason)
    with pytest.raises(ValidationFailed) as failed:
        services.refer(actor=w["supervisor"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                       services_=["emergency_shelter"], consent_override="urgent")
    assert set(failed.value.errors) == {"consent_override"}
    referral = services.refer(actor=w["supervisor"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                              services_=["emergency_shelter"], consent_override=reason)
    assert (referral.consent_override, referral.override_by) == (reason, w["supervisor"])
    event = AuditEvent.objects.get(action="refer", allowed=True)
    assert event.detail["consent_override"] == ["community_services"]


def test_a_service_the_provider_does_not_offer_is_named(w: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        services.refer(actor=w["worker"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                       services_=["legal"])
    assert set(failed.value.errors) == {"services"}


def test_the_provider_accepts_starts_and_completes_and_the_referrer_sees_it(w: dict[str, Any]) -> None:
    record_consent(actor=w["worker"], youth=w["youth"], category="community_services", given_by="youth",
                   given_on=clock.today())
    referral = services.refer(actor=w["worker"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                              services_=["emergency_shelter"])
    pid = str(referral.public_id)
    assert [r["id"] for r in selectors.referrals_received(actor=w["advocate"])] == [pid]
    with pytest.raises(AccessDenied):  # the referrer does not accept on the provider's behalf
        services.move_referral(actor=w["worker"], referral_public_id=pid, expected_version=1, status="accepted")
    with pytest.raises(ValidationFailed):
        services.move_referral(actor=w["advocate"], referral_public_id=pid, expected_version=1, status="completed")
    moved = services.move_referral(actor=w["advocate"], referral_public_id=pid, expected_version=1,
                                   status="accepted")
    moved = services.move_referral(actor=w["advocate"], referral_public_id=pid, expected_version=moved.version,
                                   status="started")
    with pytest.raises(ValidationFailed) as failed:
        services.move_referral(actor=w["worker"], referral_public_id=pid, expected_version=moved.version,
                               status="dropped")
    assert set(failed.value.errors) == {"reason"}
    [seen] = selectors.referrals_of_case(actor=w["worker"], case_public_id=w["case"])
    assert seen["status"] == "started"
    assert [h[0] for h in seen["history"]] == ["sent", "accepted", "started"]


def test_an_agency_that_is_neither_side_cannot_touch_a_referral(w: dict[str, Any], make_agency: Any,
                                                                 make_user: Any) -> None:
    record_consent(actor=w["worker"], youth=w["youth"], category="community_services", given_by="youth",
                   given_on=clock.today() - dt.timedelta(days=1))
    referral = services.refer(actor=w["worker"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                              services_=["mentoring"])
    stranger = make_user("case_manager", make_agency("community_provider"))
    with pytest.raises(NotFound):
        services.move_referral(actor=stranger, referral_public_id=str(referral.public_id), expected_version=1,
                               status="accepted")
    assert selectors.referrals_received(actor=stranger) == []


def test_a_decline_names_a_coded_reason_which_analysts_count(w: dict[str, Any]) -> None:
    record_consent(actor=w["worker"], youth=w["youth"], category="community_services", given_by="youth",
                   given_on=clock.today())
    referral = services.refer(actor=w["worker"], case_public_id=w["case"], provider_id=w["shelter"].pk,
                              services_=["emergency_shelter"])
    pid = str(referral.public_id)
    with pytest.raises(ValidationFailed) as missing:
        services.move_referral(actor=w["advocate"], referral_public_id=pid, expected_version=1, status="declined",
                               reason="Every bed is taken tonight (synthetic).")
    with pytest.raises(ValidationFailed) as unknown:
        services.move_referral(actor=w["advocate"], referral_public_id=pid, expected_version=1, status="declined",
                               reason="Full (synthetic).", decline_reason="busy")
    with pytest.raises(ValidationFailed) as misplaced:
        services.move_referral(actor=w["advocate"], referral_public_id=pid, expected_version=1, status="accepted",
                               decline_reason="no_capacity")

    declined = services.move_referral(actor=w["advocate"], referral_public_id=pid, expected_version=1,
                                      status="declined", reason="Every bed is taken tonight (synthetic).",
                                      decline_reason="no_capacity")

    assert set(missing.value.errors) == set(unknown.value.errors) == set(misplaced.value.errors) == {"decline_reason"}
    assert "no_capacity" in unknown.value.errors["decline_reason"][0]
    assert (declined.status, declined.decline_reason) == ("declined", "no_capacity")
