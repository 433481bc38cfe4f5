"""Governance services: sharing agreements, consent, break-glass, the audit log and tokens.

Each service checks who may use it, validates naming the bad field, writes in one
transaction and leaves an audit event (refusals included).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Max

from nowrongdoor import clock
from nowrongdoor.access import selectors as access_selectors
from nowrongdoor.access.decisions import AccessContext
from nowrongdoor.access.models import AuditEvent, BreakGlass, Consent, IntegrationToken, SharingAgreement
from nowrongdoor.access.services import (
    authenticate_token,
    create_agreement,
    issue_token,
    open_break_glass,
    record_consent,
    review_break_glass,
    revoke_consent,
    revoke_token,
    terminate_agreement,
)
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.youth import selectors
from nowrongdoor.youth.models import Contact, SourceRecord

JUSTIFICATION = "Synthetic emergency: youth reported missing, seen with an adult."
_names = itertools.count(1)


def staff(role: str, agency: Agency | None, **extra: Any) -> User:
    """A staff account with no password (nothing here logs in)."""
    return User.objects.create(username=f"{role}-g{next(_names)}", role=role, agency=agency, **extra)


def last_seq() -> int:
    return AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


@pytest.fixture
def w(
    county: County,
    make_agency: Callable[..., Agency],
    make_record: Callable[..., SourceRecord],
    make_contact: Callable[..., Contact],
    link_records: Callable[..., None],
) -> dict[str, Any]:
    """A youth known to probation and a clinic; the clinic's health visit is what probation wants to see."""
    probation, clinic, police = make_agency("probation"), make_agency("health"), make_agency("law_enforcement")
    screener, nurse = staff("screener", probation), staff("screener", clinic)
    record = make_record(screener)
    clinic_record = make_record(nurse)
    link_records(clinic_record, record)
    visit = make_contact(nurse, clinic_record, "health_visit", reason="routine")
    return {
        "county": county,
        "probation": probation,
        "clinic": clinic,
        "police": police,
        "screener": screener,
        "nurse": nurse,
        "record": record,
        "clinic_record": clinic_record,
        "visit": visit,
        "youth": record.youth,
        "system_admin": staff("system_admin", None),
    }


def agreement_terms(w: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "actor": w["system_admin"],
        "county": w["county"],
        "title": "Synthetic clinic-probation MOU",
        "discloser": w["clinic"],
        "recipient": w["probation"],
        "categories": ["identity", "health"],
        "purposes": ["screening"],
        "legal_basis_code": "HIPAA",
        "valid_from": dt.date(2025, 1, 1),
    }
    return terms | overrides


def screener_sees_visit(w: dict[str, Any]) -> bool:
    ctx = AccessContext(actor=w["screener"], purpose="screening")
    decided = ctx.decide(youth_id=w["visit"].youth_id, category="health", owner_agency_id=w["clinic"].pk).allowed
    listed = Contact.objects.filter(ctx.readable(["health"]), pk=w["visit"].pk).exists()
    assert decided == listed
    return decided


# -- sharing agreements -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"categories": ["identity", "horoscope"]}, "categories"),
        ({"categories": []}, "categories"),
        ({"purposes": ["marketing"]}, "purposes"),
        ({"purposes": []}, "purposes"),
        ({"legal_basis_code": "HANDSHAKE"}, "legal_basis_code"),
        ({"valid_to": dt.date(2024, 12, 31)}, "valid_to"),
        ({"discloser": "spaceport"}, "discloser"),
        ({"recipient": "spaceport"}, "recipient"),
    ],
)
def test_create_agreement_names_the_field_that_is_wrong(
    w: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        create_agreement(**agreement_terms(w, **overrides))

    assert set(failed.value.errors) == {field}
    assert failed.value.errors[field] and all(failed.value.errors[field])
    assert not SharingAgreement.objects.exists()


def test_create_agreement_names_every_wrong_field_at_once(w: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        create_agreement(
            **agreement_terms(
                w,
                categories=[],
                purposes=["marketing"],
                legal_basis_code="",
                valid_to=dt.date(2024, 1, 1),
                discloser="spaceport",
                recipient="moonbase",
            )
        )
    assert set(failed.value.errors) == {
        "categories",
        "purposes",
        "legal_basis_code",
        "valid_to",
        "discloser",
        "recipient",
    }


def test_a_valid_agreement_is_recorded_and_audited(w: dict[str, Any]) -> None:
    seq = last_seq()

    agreement = create_agreement(**agreement_terms(w, categories=["health", "identity", "health"]))

    assert (agreement.discloser_agency, agreement.discloser_type) == (w["clinic"], "")
    assert (agreement.recipient_agency, agreement.recipient_type) == (w["probation"], "")
    assert agreement.categories == ["health", "identity"]
    assert agreement.version == 1
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id, event.object_id) == (
        "agreement_created",
        True,
        w["system_admin"].pk,
        str(agreement.pk),
    )


@pytest.mark.parametrize("role", ["screener", "case_manager", "mdt_coordinator", "supervisor", "analyst"])
def test_only_administrators_create_agreements(w: dict[str, Any], role: str) -> None:
    actor = staff(role, w["clinic"])
    seq = last_seq()

    with pytest.raises(AccessDenied):
        create_agreement(**agreement_terms(w, actor=actor))

    assert not SharingAgreement.objects.exists()
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id) == ("admin_denied", False, actor.pk)


def test_an_agency_administrator_shares_their_own_agencys_data_and_no_one_elses(w: dict[str, Any]) -> None:
    clinic_admin, probation_admin = staff("agency_admin", w["clinic"]), staff("agency_admin", w["probation"])
    create_agreement(**agreement_terms(w, actor=clinic_admin))
    seq = last_seq()

    with pytest.raises(AccessDenied):
        create_agreement(**agreement_terms(w, actor=probation_admin))

    assert SharingAgreement.objects.count() == 1
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id) == ("admin_denied", False, probation_admin.pk)


def test_an_agency_administrator_cannot_commit_every_agency_of_a_type_to_share(w: dict[str, Any]) -> None:
    """A county-wide protocol binds agencies the administrator does not run; only a system
    administrator may record one. Otherwise a probation administrator could grant their own
    agency every clinic's health data (with consent) or every police department's arrests."""
    probation_admin = staff("agency_admin", w["probation"])

    with pytest.raises(AccessDenied):
        create_agreement(
            **agreement_terms(
                w, actor=probation_admin, discloser="law_enforcement", categories=["identity", "law_enforcement"]
            )
        )

    assert not SharingAgreement.objects.exists()


def test_terminating_an_agreement_with_a_stale_version_changes_nothing(w: dict[str, Any]) -> None:
    agreement = create_agreement(**agreement_terms(w))
    first_admin, second_admin = w["system_admin"], staff("system_admin", None)
    read_by_both = agreement.version

    terminate_agreement(actor=first_admin, agreement=agreement, expected_version=read_by_both, on=dt.date(2025, 6, 1))
    with pytest.raises(StaleEdit) as stale:
        terminate_agreement(
            actor=second_admin, agreement=agreement, expected_version=read_by_both, on=dt.date(2025, 9, 1)
        )

    assert stale.value.current_version == read_by_both + 1
    agreement.refresh_from_db()
    assert (agreement.terminated_on, agreement.version) == (dt.date(2025, 6, 1), read_by_both + 1)


def test_only_an_administrator_of_the_disclosing_agency_terminates_its_agreement(w: dict[str, Any]) -> None:
    agreement = create_agreement(**agreement_terms(w))
    for outsider in (staff("supervisor", w["clinic"]), staff("agency_admin", w["police"])):
        with pytest.raises(AccessDenied):
            terminate_agreement(actor=outsider, agreement=agreement, expected_version=1, on=clock.today())
    terminate_agreement(
        actor=staff("agency_admin", w["clinic"]), agreement=agreement, expected_version=1, on=clock.today()
    )
    agreement.refresh_from_db()
    assert agreement.terminated_on == clock.today()


def test_an_unrelated_agency_administrator_cannot_terminate_a_county_wide_protocol(w: dict[str, Any]) -> None:
    protocol = create_agreement(**agreement_terms(w, discloser="health", recipient="probation"))

    with pytest.raises(AccessDenied):
        terminate_agreement(
            actor=staff("agency_admin", w["police"]), agreement=protocol, expected_version=1, on=clock.today()
        )

    protocol.refresh_from_db()
    assert protocol.terminated_on is None


# -- consent --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "horoscope"}, "category"),
        ({"purpose": "marketing"}, "purpose"),
        ({"given_by": "neighbour"}, "given_by"),
        ({"expires_on": dt.date(2024, 12, 31)}, "expires_on"),
    ],
)
def test_record_consent_names_the_field_that_is_wrong(w: dict[str, Any], overrides: dict[str, Any], field: str) -> None:
    terms = {
        "actor": w["nurse"],
        "youth": w["youth"],
        "category": "health",
        "given_by": "youth",
        "given_on": dt.date(2025, 1, 1),
    }
    with pytest.raises(ValidationFailed) as failed:
        record_consent(**(terms | overrides))
    assert set(failed.value.errors) == {field}
    assert not Consent.objects.exists()


def test_consent_is_recorded_by_an_agency_serving_the_youth_and_then_counts(w: dict[str, Any]) -> None:
    create_agreement(**agreement_terms(w))
    assert not screener_sees_visit(w), "an agreement alone does not share health data"
    seq = last_seq()

    consent = record_consent(
        actor=w["nurse"],
        youth=w["youth"],
        category="health",
        given_by="parent_guardian",
        given_on=clock.today(),
        recipient_agency=w["probation"],
    )

    assert (consent.recorded_by, consent.recorded_agency, consent.revoked_on) == (w["nurse"], w["clinic"], None)
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.youth_id, event.category) == (
        "consent_recorded",
        True,
        w["youth"].pk,
        "health",
    )
    assert screener_sees_visit(w)


def test_an_agency_that_does_not_serve_the_youth_cannot_record_their_consent(w: dict[str, Any]) -> None:
    officer = staff("screener", w["police"])
    seq = last_seq()

    with pytest.raises(AccessDenied):
        record_consent(actor=officer, youth=w["youth"], category="health", given_by="youth", given_on=clock.today())

    assert not Consent.objects.exists()
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id, event.youth_id) == (
        "consent_denied",
        False,
        officer.pk,
        w["youth"].pk,
    )


def test_revoking_consent_stops_sharing_and_keeps_the_row(w: dict[str, Any]) -> None:
    create_agreement(**agreement_terms(w))
    consent = record_consent(
        actor=w["nurse"], youth=w["youth"], category="health", given_by="youth", given_on=clock.today()
    )
    assert screener_sees_visit(w)
    seq = last_seq()

    revoke_consent(actor=w["screener"], consent=consent, on=clock.today(), expected_version=consent.version)

    consent.refresh_from_db()
    assert (consent.revoked_on, consent.version) == (clock.today(), 2)
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.category) == ("consent_revoked", True, "health")
    assert not screener_sees_visit(w)


def test_revoking_consent_with_a_stale_version_or_from_outside_is_refused(w: dict[str, Any]) -> None:
    consent = record_consent(
        actor=w["nurse"], youth=w["youth"], category="health", given_by="youth", given_on=clock.today()
    )
    revoke_consent(actor=w["nurse"], consent=consent, on=clock.today(), expected_version=1)

    with pytest.raises(StaleEdit):
        revoke_consent(
            actor=w["screener"], consent=consent, on=clock.today() + dt.timedelta(days=1), expected_version=1
        )
    with pytest.raises(AccessDenied):
        revoke_consent(actor=staff("screener", w["police"]), consent=consent, on=clock.today(), expected_version=2)

    consent.refresh_from_db()
    assert (consent.revoked_on, consent.version) == (clock.today(), 2)


# -- break-glass ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("justification", "accepted"),
    [("too short", False), ("  " + "x" * 19 + "   ", False), ("y" * 20, True), (JUSTIFICATION, True)],
)
def test_break_glass_needs_a_written_reason_of_at_least_20_characters(
    w: dict[str, Any], justification: str, accepted: bool
) -> None:
    officer = staff("screener", w["police"])
    if accepted:
        grant = open_break_glass(actor=officer, youth_public_id=str(w["youth"].public_id), justification=justification)
        assert grant.justification == justification.strip()
    else:
        with pytest.raises(ValidationFailed) as failed:
            open_break_glass(actor=officer, youth_public_id=str(w["youth"].public_id), justification=justification)
        assert set(failed.value.errors) == {"justification"}
        assert not BreakGlass.objects.exists()


def test_break_glass_on_an_unknown_youth_is_not_found(w: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        open_break_glass(
            actor=w["screener"], youth_public_id="00000000-0000-4000-8000-000000000000", justification=JUSTIFICATION
        )


@pytest.mark.parametrize("role", ["agency_admin", "system_admin"])
def test_roles_that_do_not_work_with_youth_records_cannot_break_the_glass(w: dict[str, Any], role: str) -> None:
    actor = staff(role, w["police"])
    seq = last_seq()
    with pytest.raises(AccessDenied):
        open_break_glass(actor=actor, youth_public_id=str(w["youth"].public_id), justification=JUSTIFICATION)
    assert not BreakGlass.objects.exists()
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.youth_id) == ("break_glass_denied", False, w["youth"].pk)


def test_break_glass_opens_the_youth_for_four_hours_then_closes(w: dict[str, Any]) -> None:
    officer = staff("screener", w["police"])
    public_id = str(w["youth"].public_id)
    opened = clock.now().replace(microsecond=0)

    def officer_can_read(at: dt.datetime) -> bool:
        with clock.frozen(at):
            ctx = AccessContext(actor=officer, purpose="screening")
            return ctx.decide(youth_id=w["youth"].pk, category="health", owner_agency_id=w["clinic"].pk).allowed

    assert not officer_can_read(opened)
    with clock.frozen(opened):
        with pytest.raises(NotFound):
            selectors.get_youth(actor=officer, public_id=public_id, purpose="screening")
        seq = last_seq()
        grant = open_break_glass(actor=officer, youth_public_id=public_id, justification=JUSTIFICATION)
        view = selectors.get_youth(actor=officer, public_id=public_id, purpose="screening")

    assert grant.expires_at - grant.opened_at == dt.timedelta(hours=4)
    opened_event = events_since(seq)[0]
    assert (opened_event.action, opened_event.basis, opened_event.youth_id) == (
        "break_glass_opened",
        "break_glass",
        w["youth"].pk,
    )
    assert [c.contact_type for c in view.contacts] == ["health_visit"]
    assert view.bases == ["break_glass"]
    assert officer_can_read(opened + dt.timedelta(hours=3, minutes=59))
    assert not officer_can_read(opened + dt.timedelta(hours=4))
    assert not officer_can_read(opened + dt.timedelta(days=1))
    with clock.frozen(opened + dt.timedelta(hours=4, seconds=1)), pytest.raises(NotFound):
        selectors.get_youth(actor=officer, public_id=public_id, purpose="screening")


def test_break_glass_waits_in_the_queue_of_a_supervisor_of_the_same_agency(
    w: dict[str, Any], make_agency: Callable[..., Agency]
) -> None:
    police = w["police"]
    sergeant, other_sergeant = staff("supervisor", police), staff("supervisor", police)
    elsewhere_supervisor = staff("supervisor", make_agency("law_enforcement"))
    officer = staff("screener", police)  # no supervisor named: any supervisor of the agency reviews
    grant = open_break_glass(actor=officer, youth_public_id=str(w["youth"].public_id), justification=JUSTIFICATION)

    assert list(access_selectors.break_glass_queue(actor=sergeant)) == [grant]
    assert list(access_selectors.break_glass_queue(actor=other_sergeant)) == [grant]
    assert list(access_selectors.break_glass_queue(actor=elsewhere_supervisor)) == []
    with pytest.raises(AccessDenied):
        access_selectors.break_glass_queue(actor=staff("screener", police))

    # A supervisor's own emergency access goes to a colleague, never to themself.
    own = open_break_glass(actor=sergeant, youth_public_id=str(w["youth"].public_id), justification=JUSTIFICATION)
    assert list(access_selectors.break_glass_queue(actor=sergeant)) == [grant]
    assert list(access_selectors.break_glass_queue(actor=other_sergeant)) == [grant, own]


def test_break_glass_of_a_supervised_worker_goes_to_their_supervisor(w: dict[str, Any]) -> None:
    police = w["police"]
    sergeant, other_sergeant = staff("supervisor", police), staff("supervisor", police)
    officer = staff("screener", police, supervisor=sergeant)

    grant = open_break_glass(actor=officer, youth_public_id=str(w["youth"].public_id), justification=JUSTIFICATION)

    assert grant.reviewer == sergeant
    assert list(access_selectors.break_glass_queue(actor=sergeant)) == [grant]
    assert list(access_selectors.break_glass_queue(actor=other_sergeant)) == []


def test_a_break_glass_review_is_recorded_once(w: dict[str, Any], make_agency: Callable[..., Agency]) -> None:
    police = w["police"]
    sergeant, other_sergeant = staff("supervisor", police), staff("supervisor", police)
    officer = staff("screener", police)
    grant = open_break_glass(actor=officer, youth_public_id=str(w["youth"].public_id), justification=JUSTIFICATION)

    with pytest.raises(ValidationFailed) as bad_outcome:
        review_break_glass(actor=sergeant, grant=grant, outcome="fine I guess")
    assert set(bad_outcome.value.errors) == {"outcome"}
    outsider = staff("supervisor", make_agency("law_enforcement"))
    seq = last_seq()
    with pytest.raises(AccessDenied):
        review_break_glass(actor=outsider, grant=grant, outcome="justified")
    [denied] = events_since(seq)
    assert (denied.action, denied.allowed, denied.actor_id) == ("break_glass_review_denied", False, outsider.pk)
    with pytest.raises(AccessDenied):
        review_break_glass(actor=officer, grant=grant, outcome="justified")

    seq = last_seq()
    review_break_glass(actor=sergeant, grant=grant, outcome="not_justified", note="Synthetic review note.")
    [reviewed] = events_since(seq)
    assert (reviewed.action, reviewed.detail) == ("break_glass_reviewed", {"outcome": "not_justified"})
    with pytest.raises(StaleEdit):
        review_break_glass(actor=other_sergeant, grant=grant, outcome="justified")

    grant.refresh_from_db()
    assert (grant.reviewed_by, grant.review_outcome, grant.review_note) == (
        sergeant,
        "not_justified",
        "Synthetic review note.",
    )
    assert grant.reviewed_at is not None
    assert list(access_selectors.break_glass_queue(actor=other_sergeant)) == []


def test_nobody_reviews_their_own_break_glass(w: dict[str, Any]) -> None:
    sergeant = staff("supervisor", w["police"])
    grant = open_break_glass(actor=sergeant, youth_public_id=str(w["youth"].public_id), justification=JUSTIFICATION)

    with pytest.raises(ValidationFailed) as failed:
        review_break_glass(actor=sergeant, grant=grant, outcome="justified")

    assert set(failed.value.errors) == {"reviewer"}
    grant.refresh_from_db()
    assert grant.reviewed_at is None


# -- the audit log ------------------------------------------------------------------------


@pytest.fixture
def logged(w: dict[str, Any], make_contact: Callable[..., Contact]) -> dict[str, Any]:
    """Probation reads its own youth; the clinic reads its own; probation reads the clinic's data under
    agreement and consent; police are refused."""
    create_agreement(**agreement_terms(w))
    record_consent(actor=w["nurse"], youth=w["youth"], category="health", given_by="youth", given_on=clock.today())
    public_id = str(w["youth"].public_id)
    selectors.get_youth(actor=w["screener"], public_id=public_id, purpose="screening")
    selectors.get_youth(actor=w["nurse"], public_id=public_id, purpose="screening")
    with pytest.raises(NotFound):
        selectors.get_youth(actor=staff("screener", w["police"]), public_id=public_id, purpose="screening")
    return w


def test_an_agency_administrator_reads_only_their_agencys_staff_and_records(logged: dict[str, Any]) -> None:
    w = logged
    clinic_admin = staff("agency_admin", w["clinic"])
    clinic = w["clinic"].pk

    shown = list(access_selectors.audit_log(actor=clinic_admin))

    concerning_the_clinic = [
        e for e in AuditEvent.objects.order_by("-seq") if clinic in (e.actor_agency_id, e.owner_agency_id)
    ]
    assert [e.seq for e in shown] == [e.seq for e in concerning_the_clinic]
    assert {e.actor_agency_id for e in shown} >= {clinic, w["probation"].pk}, (
        "the clinic's own staff, and probation reading the clinic's data"
    )
    assert any(e.actor_agency_id == w["probation"].pk and e.owner_agency_id == clinic for e in shown)
    probation_about_probation = AuditEvent.objects.filter(actor_agency=w["probation"], owner_agency=w["probation"])
    assert probation_about_probation.exists()
    assert not set(probation_about_probation.values_list("seq", flat=True)) & {e.seq for e in shown}
    assert shown[0].action == "audit_read" and shown[0].actor_id == clinic_admin.pk, "reading the log is logged"
    assert shown[0].detail == {"scope": "agency"}


def test_a_system_administrator_reads_the_whole_log(logged: dict[str, Any]) -> None:
    shown = list(access_selectors.audit_log(actor=logged["system_admin"]))
    assert [e.seq for e in shown] == sorted(AuditEvent.objects.values_list("seq", flat=True), reverse=True)
    assert {e.actor_agency_id for e in shown} >= {logged["clinic"].pk, logged["probation"].pk, logged["police"].pk}


def test_the_audit_log_filters_refusals(logged: dict[str, Any]) -> None:
    refused = list(access_selectors.audit_log(actor=logged["system_admin"], denied_only=True))
    assert refused and all(not e.allowed for e in refused)
    assert len(refused) == AuditEvent.objects.filter(allowed=False).count()


@pytest.mark.parametrize("role", ["screener", "case_manager", "mdt_coordinator", "supervisor", "analyst"])
def test_other_roles_may_not_read_the_audit_log(logged: dict[str, Any], role: str) -> None:
    actor = staff(role, logged["clinic"])
    seq = last_seq()
    with pytest.raises(AccessDenied):
        access_selectors.audit_log(actor=actor)
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id) == ("audit_read_denied", False, actor.pk)


def test_an_agency_administrator_without_an_agency_reads_nothing(db: None) -> None:
    with pytest.raises(AccessDenied):
        access_selectors.audit_log(actor=staff("agency_admin", None))


# -- integration tokens ---------------------------------------------------------------------


def test_an_issued_token_authenticates_as_its_service_account_until_revoked(w: dict[str, Any]) -> None:
    admin = staff("agency_admin", w["clinic"])

    issued = issue_token(actor=admin, agency=w["clinic"], name="Synthetic clinic EHR feed")

    assert issued.secret.startswith("nwd_")
    stored = IntegrationToken.objects.get(pk=issued.token.pk)
    assert issued.secret not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    account = authenticate_token(issued.secret)
    assert account is not None
    assert (account.agency, account.role, account.is_service_account) == (w["clinic"], "screener", True)
    assert not account.has_usable_password()
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert authenticate_token(issued.secret + "x") is None
    assert authenticate_token("") is None

    revoke_token(actor=admin, token=issued.token)

    assert authenticate_token(issued.secret) is None
    account.refresh_from_db()
    assert not account.is_active
    actions = list(AuditEvent.objects.filter(object_type="token").values_list("action", flat=True))
    assert actions == ["token_issued", "token_revoked"]


def test_tokens_are_issued_and_revoked_only_by_administrators_of_their_agency(w: dict[str, Any]) -> None:
    issued = issue_token(actor=w["system_admin"], agency=w["clinic"], name="Synthetic feed")
    for outsider in (staff("agency_admin", w["probation"]), staff("supervisor", w["clinic"])):
        with pytest.raises(AccessDenied):
            issue_token(actor=outsider, agency=w["clinic"], name="Synthetic feed 2")
        with pytest.raises(AccessDenied):
            revoke_token(actor=outsider, token=issued.token)
    assert IntegrationToken.objects.count() == 1
    assert authenticate_token(issued.secret) is not None


@pytest.mark.parametrize("role", ["agency_admin", "system_admin", "no_such_role"])
def test_a_token_cannot_act_in_a_role_that_does_not_post_youth_data(w: dict[str, Any], role: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        issue_token(actor=w["system_admin"], agency=w["clinic"], name="Synthetic feed", role=role)
    assert set(failed.value.errors) == {"role"}
    assert not IntegrationToken.objects.exists()
