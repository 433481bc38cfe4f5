"""Writes to governance records: agreements, consents, break-glass, integration tokens.

Each service is keyword-only, takes the acting user, checks the actor may do it, runs
in one transaction and writes its audit event in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import forget_contexts
from nowrongdoor.access.models import BreakGlass, Consent, IntegrationToken, SharingAgreement
from nowrongdoor.concurrency import update_if_current
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.youth.models import Youth

BREAK_GLASS_HOURS = 4
MIN_JUSTIFICATION = 20
TOKEN_PREFIX = "nwd_"  # noqa: S105 - a prefix, not a secret


def _require_admin(actor: User, agency: Agency | None) -> None:
    """System administrators may act for any agency; an agency administrator only for
    their own. ``agency=None`` (e.g. a county-wide protocol binding every agency of a
    type) is for system administrators only."""
    if actor.role == "system_admin":
        return
    if actor.role == "agency_admin" and agency is not None and agency.pk == actor.agency_id:
        return
    record_event(actor=actor, action="admin_denied", allowed=False, reason="not an administrator of that agency")
    raise AccessDenied("only an administrator of that agency may do this")


def create_agreement(
    *,
    actor: User,
    county: County,
    title: str,
    discloser: Agency | str,
    recipient: Agency | str,
    categories: list[str],
    purposes: list[str],
    legal_basis_code: str,
    legal_basis_text: str = "",
    valid_from: dt.date,
    valid_to: dt.date | None = None,
) -> SharingAgreement:
    """Record a sharing agreement. A party is an ``Agency`` or an agency-type code."""
    _require_admin(actor, discloser if isinstance(discloser, Agency) else None)
    v = vocabulary()
    errors: dict[str, list[str]] = {}
    bad = [c for c in categories if c not in v.data_categories]
    if bad or not categories:
        errors["categories"] = [f"unknown categories: {bad}" if bad else "name at least one category"]
    bad = [p for p in purposes if p not in v.purposes]
    if bad or not purposes:
        errors["purposes"] = [f"unknown purposes: {bad}" if bad else "name at least one purpose"]
    if legal_basis_code not in v.legal_bases:
        errors["legal_basis_code"] = [f"unknown legal basis {legal_basis_code!r}"]
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = ["must be on or after valid_from"]
    for name, party in (("discloser", discloser), ("recipient", recipient)):
        if isinstance(party, str) and party not in v.agency_types:
            errors[name] = [f"unknown agency type {party!r}"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        agreement = SharingAgreement.objects.create(
            county=county,
            title=title,
            discloser_agency=discloser if isinstance(discloser, Agency) else None,
            discloser_type="" if isinstance(discloser, Agency) else discloser,
            recipient_agency=recipient if isinstance(recipient, Agency) else None,
            recipient_type="" if isinstance(recipient, Agency) else recipient,
            categories=sorted(set(categories)),
            purposes=sorted(set(purposes)),
            legal_basis_code=legal_basis_code,
            legal_basis_text=legal_basis_text,
            valid_from=valid_from,
            valid_to=valid_to,
            created_by=actor,
            created_at=clock.now(),
        )
        record_event(actor=actor, action="agreement_created", object_type="agreement", object_id=str(agreement.pk))
    forget_contexts()
    return agreement


def terminate_agreement(*, actor: User, agreement: SharingAgreement, expected_version: int, on: dt.date) -> None:
    _require_admin(actor, agreement.discloser_agency)
    with transaction.atomic():
        update_if_current(SharingAgreement, agreement.pk, expected_version, terminated_on=on)
        record_event(actor=actor, action="agreement_terminated", object_type="agreement", object_id=str(agreement.pk))
    forget_contexts()


def record_consent(
    *,
    actor: User,
    youth: Youth,
    category: str,
    given_by: str,
    given_on: dt.date,
    recipient_agency: Agency | None = None,
    purpose: str = "",
    expires_on: dt.date | None = None,
) -> Consent:
    """Record a consent to share. The recording agency must itself know the youth."""
    v = vocabulary()
    errors: dict[str, list[str]] = {}
    if category not in v.data_categories:
        errors["category"] = [f"unknown category {category!r}"]
    if purpose and purpose not in v.purposes:
        errors["purpose"] = [f"unknown purpose {purpose!r}"]
    if given_by not in dict(Consent.GIVEN_BY):
        errors["given_by"] = [f"unknown value {given_by!r}"]
    if expires_on is not None and expires_on < given_on:
        errors["expires_on"] = ["must be on or after given_on"]
    if errors:
        raise ValidationFailed(errors)
    if actor.agency is None or not youth.source_records.filter(agency=actor.agency).exists():
        record_event(
            actor=actor, action="consent_denied", allowed=False, youth_id=youth.pk,
            reason="the actor's agency holds no record of this youth",
        )
        raise AccessDenied("only an agency that serves the youth may record their consent")
    with transaction.atomic():
        consent = Consent.objects.create(
            youth=youth, category=category, recipient_agency=recipient_agency, purpose=purpose,
            given_by=given_by, given_on=given_on, expires_on=expires_on,
            recorded_by=actor, recorded_agency=actor.agency,
        )
        record_event(
            actor=actor, action="consent_recorded", youth_id=youth.pk, category=category,
            owner_agency_id=actor.agency_id, object_type="consent", object_id=str(consent.pk),
        )
    forget_contexts()
    return consent


def revoke_consent(*, actor: User, consent: Consent, on: dt.date, expected_version: int) -> None:
    if actor.agency_id is None or not consent.youth.source_records.filter(agency_id=actor.agency_id).exists():
        record_event(actor=actor, action="consent_denied", allowed=False, youth_id=consent.youth_id)
        raise AccessDenied("only an agency that serves the youth may revoke their consent")
    with transaction.atomic():
        update_if_current(Consent, consent.pk, expected_version, revoked_on=on)
        record_event(
            actor=actor, action="consent_revoked", youth_id=consent.youth_id, category=consent.category,
            object_type="consent", object_id=str(consent.pk),
        )
    forget_contexts()


def open_break_glass(*, actor: User, youth_public_id: str, justification: str) -> BreakGlass:
    """Open emergency access to one youth for a few hours, for the supervisor to review."""
    youth = Youth.objects.filter(public_id=youth_public_id).first()
    if youth is None:
        raise NotFound("no such youth")
    justification = justification.strip()
    if len(justification) < MIN_JUSTIFICATION:
        raise ValidationFailed({"justification": [f"write at least {MIN_JUSTIFICATION} characters: why, now"]})
    v = vocabulary()
    if actor.agency is None or not any("identity" in v.purpose_categories(p) for p in v.role_purposes(actor.role)):
        record_event(actor=actor, action="break_glass_denied", allowed=False, youth_id=youth.pk)
        raise AccessDenied("this role does not open individual youth records")
    now = clock.now()
    with transaction.atomic():
        grant = BreakGlass.objects.create(
            actor=actor, agency=actor.agency, youth=youth, justification=justification,
            opened_at=now, expires_at=now + dt.timedelta(hours=BREAK_GLASS_HOURS),
            reviewer=actor.supervisor,
        )
        record_event(
            actor=actor, action="break_glass_opened", youth_id=youth.pk, basis="break_glass",
            object_type="break_glass", object_id=str(grant.pk), reason="emergency access opened",
        )
    forget_contexts()
    return grant


def review_break_glass(*, actor: User, grant: BreakGlass, outcome: str, note: str = "") -> None:
    if not vocabulary().role_reviews_break_glass(actor.role) or actor.agency_id != grant.agency_id:
        record_event(actor=actor, action="break_glass_review_denied", allowed=False, youth_id=grant.youth_id)
        raise AccessDenied("only a supervisor of the same agency may review emergency access")
    if actor.pk == grant.actor_id:
        raise ValidationFailed({"reviewer": ["nobody reviews their own emergency access"]})
    if grant.reviewer_id is not None and grant.reviewer_id != actor.pk:
        record_event(actor=actor, action="break_glass_review_denied", allowed=False, youth_id=grant.youth_id)
        raise AccessDenied("this emergency access is assigned to another supervisor")
    if outcome not in dict(BreakGlass.OUTCOMES):
        raise ValidationFailed({"outcome": [f"unknown outcome {outcome!r}"]})
    with transaction.atomic():
        updated = BreakGlass.objects.filter(pk=grant.pk, reviewed_at__isnull=True).update(
            reviewed_by=actor, reviewed_at=clock.now(), review_outcome=outcome, review_note=note
        )
        if not updated:
            raise StaleEdit(1)
        record_event(
            actor=actor, action="break_glass_reviewed", youth_id=grant.youth_id,
            object_type="break_glass", object_id=str(grant.pk), detail={"outcome": outcome},
        )


@dataclass(frozen=True)
class IssuedToken:
    token: IntegrationToken
    secret: str  # shown once, never stored


LAST_USED_PRECISION = dt.timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(*, actor: User, agency: Agency, name: str, role: str = "screener") -> IssuedToken:
    """Issue an integration token acting as a new service account of ``agency``."""
    _require_admin(actor, agency)
    if role not in vocabulary().roles or not vocabulary().role_purposes(role):
        raise ValidationFailed({"role": [f"{role!r} cannot post youth data"]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        account = User.objects.create(
            username=f"svc-{agency.pk}-{secrets.token_hex(4)}", agency=agency, role=role,
            is_service_account=True, first_name=name[:150],
        )
        account.set_unusable_password()
        account.save()
        token = IntegrationToken.objects.create(
            agency=agency, service_account=account, name=name, digest=_digest(secret),
            prefix=secret[:12], created_by=actor, created_at=clock.now(),
        )
        record_event(actor=actor, action="token_issued", object_type="token", object_id=str(token.pk))
    return IssuedToken(token=token, secret=secret)


def revoke_token(*, actor: User, token: IntegrationToken) -> None:
    _require_admin(actor, token.agency)
    with transaction.atomic():
        IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
        User.objects.filter(pk=token.service_account_id).update(is_active=False)
        record_event(actor=actor, action="token_revoked", object_type="token", object_id=str(token.pk))


def authenticate_token(secret: str) -> User | None:
    """The service account behind a live token, or ``None``."""
    token = (
        IntegrationToken.objects.select_related("service_account__agency")
        .filter(digest=_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.service_account.is_active:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # "Last used" is for spotting idle tokens, not an audit trail (the audit log is
        # that), so it is written at most once a minute rather than on every call.
        IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.service_account


def get_break_glass(*, actor: User, grant_id: int) -> BreakGlass:
    grant = BreakGlass.objects.filter(pk=grant_id, agency_id=actor.agency_id or 0).first()
    if grant is None:
        raise NotFound("no such emergency access")
    return grant
