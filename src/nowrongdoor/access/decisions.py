"""The access decision: may this actor see this category of this youth's data, for this purpose?

One rule, used two ways (the Kolibri pattern): ``AccessContext.decide`` answers for one
piece of data, and ``AccessContext.readable`` returns a ``Q`` that selects exactly the rows
``decide`` would allow, so a list can never show what the object check would refuse. The
access-matrix tests hold the two to each other.

The rule, in order:

1. The actor's role must act for the purpose (a screener screens; an analyst analyses).
2. The purpose must use the category (screening does not read case notes).
3. Data the actor's own agency recorded: allowed.
4. An open break-glass on this youth by this actor, for a purpose that opens individual
   records: allowed, and audited as such. Likewise membership of the youth's MDT while
   its sharing window is open, for the categories and purposes the county's MDT rules
   list (consent categories still need consent): basis ``mdt_team``.
5. Another agency's data: allowed only under a sharing agreement in force that names
   the category and the purpose, and, where the category needs it (health, mental
   health, substance use, education, ...), a consent in force for this youth.
6. Otherwise refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q

from nowrongdoor import clock
from nowrongdoor.access.audit import batched, record_event
from nowrongdoor.access.models import BreakGlass, Consent, SharingAgreement, TeamShare
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import AccessDenied

OWN_AGENCY = "own_agency"
AGREEMENT = "agreement"
AGREEMENT_AND_CONSENT = "agreement_and_consent"
BREAK_GLASS = "break_glass"
MDT_TEAM = "mdt_team"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str
    reason: str
    category: str
    purpose: str
    owner_agency_id: int | None


def agreements_in_force(recipient: Agency, on: dt.date) -> list[SharingAgreement]:
    """Agreements under which ``recipient`` may receive data on date ``on``."""
    return list(
        SharingAgreement.objects.filter(
            Q(recipient_agency=recipient) | Q(recipient_type=recipient.agency_type, county_id=recipient.county_id),
            valid_from__lte=on,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .filter(Q(terminated_on__isnull=True) | Q(terminated_on__gt=on))
    )


def _consents_in_force(on: dt.date, recipient_id: int, purpose: str) -> Q:
    return (
        Q(given_on__lte=on, revoked_on__isnull=True)
        & (Q(expires_on__isnull=True) | Q(expires_on__gte=on))
        & (Q(recipient_agency__isnull=True) | Q(recipient_agency_id=recipient_id))
        & (Q(purpose="") | Q(purpose=purpose))
    )


@dataclass
class AccessContext:
    """Everything one actor's decisions for one purpose rest on, loaded once."""

    actor: User
    purpose: str
    on: dt.date = field(default_factory=clock.today)
    _disclosers: dict[str, set[int]] | None = None
    _consents: dict[int, set[str]] = field(default_factory=dict)
    _glass: set[int] | None = None
    _team: dict[int, set[str]] | None = None

    # -- facts, loaded lazily -------------------------------------------------
    def disclosers(self, category: str) -> set[int]:
        """Ids of agencies whose ``category`` data reaches the actor's agency for the purpose."""
        if self._disclosers is None:
            self._disclosers = {}
            agency = self.actor.agency
            if agency is not None:
                type_parties: dict[tuple[str, int], list[str]] = {}
                for agreement in agreements_in_force(agency, self.on):
                    if self.purpose not in agreement.purposes:
                        continue
                    for cat in agreement.categories:
                        bucket = self._disclosers.setdefault(cat, set())
                        if agreement.discloser_agency_id is not None:
                            bucket.add(agreement.discloser_agency_id)
                        else:
                            type_parties.setdefault((agreement.discloser_type, agreement.county_id), []).append(cat)
                if type_parties:
                    parties = Q(pk__in=[])
                    for agency_type, county_id in type_parties:
                        parties |= Q(agency_type=agency_type, county_id=county_id)
                    rows = Agency.objects.filter(parties).order_by().values_list("id", "agency_type", "county_id")
                    for agency_id, agency_type, county_id in rows:
                        for cat in type_parties[(agency_type, county_id)]:
                            self._disclosers[cat].add(agency_id)
        return self._disclosers.get(category, set())

    def consented(self, youth_id: int) -> set[str]:
        if youth_id not in self._consents:
            agency_id = self.actor.agency_id or 0
            self._consents[youth_id] = set(
                Consent.objects.filter(_consents_in_force(self.on, agency_id, self.purpose), youth_id=youth_id)
                .values_list("category", flat=True)
            )
        return self._consents[youth_id]

    def glass(self) -> set[int]:
        """Youth ids the actor holds an open break-glass on."""
        if self._glass is None:
            self._glass = set(
                BreakGlass.objects.filter(actor=self.actor, expires_at__gt=clock.now()).values_list(
                    "youth_id", flat=True
                )
            )
        return self._glass

    def team(self) -> dict[int, set[str]]:
        """Youth id -> the categories the actor reads for this purpose as a member of the
        youth's MDT, while the sharing window is open."""
        if self._team is None:
            self._team = {}
            shares = TeamShare.objects.filter(
                user=self.actor, valid_from__lte=self.on, valid_until__gte=self.on
            ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=self.on))
            for youth_id, categories, purposes in shares.values_list("youth_id", "categories", "purposes"):
                if self.purpose in purposes:
                    self._team.setdefault(youth_id, set()).update(categories)
        return self._team

    def team_youth(self, category: str) -> set[int]:
        return {youth_id for youth_id, categories in self.team().items() if category in categories}

    # -- the rule ----------------------------------------------------------------
    def opens_individual_records(self) -> bool:
        """Whether the purpose works with individual youth (it uses identity). Analytics
        does not: it never opens one youth's record, and break-glass never applies to it."""
        return "identity" in vocabulary().purpose_categories(self.purpose)

    def _gate(self, category: str) -> str | None:
        v = vocabulary()
        if self.actor.agency_id is None or not self.actor.is_active:
            return "the account belongs to no agency or is inactive"
        if self.purpose not in v.role_purposes(self.actor.role):
            return f"role {self.actor.role or 'none'!r} does not act for purpose {self.purpose!r}"
        if category not in v.purpose_categories(self.purpose):
            return f"purpose {self.purpose!r} does not use category {category!r}"
        return None

    def decide(self, *, youth_id: int, category: str, owner_agency_id: int) -> Decision:
        def result(allowed: bool, basis: str, reason: str) -> Decision:
            return Decision(allowed, basis, reason, category, self.purpose, owner_agency_id)

        refused = self._gate(category)
        if refused:
            return result(False, "", refused)
        if owner_agency_id == self.actor.agency_id:
            return result(True, OWN_AGENCY, "recorded by the actor's own agency")
        if self.opens_individual_records() and youth_id in self.glass():
            return result(True, BREAK_GLASS, "emergency access (break-glass) in force")
        if self.opens_individual_records() and category in self.team().get(youth_id, set()) and (
            not vocabulary().requires_consent(category) or category in self.consented(youth_id)
        ):
            return result(True, MDT_TEAM, "member of the youth's multidisciplinary team; sharing window open")
        if owner_agency_id not in self.disclosers(category):
            return result(False, "", f"no sharing agreement in force covers {category!r} for {self.purpose!r}")
        if not vocabulary().requires_consent(category):
            return result(True, AGREEMENT, "sharing agreement in force")
        if category in self.consented(youth_id):
            return result(True, AGREEMENT_AND_CONSENT, "sharing agreement and consent in force")
        return result(False, "", f"{category!r} needs the youth's consent and none is in force")

    def readable(
        self,
        categories: Iterable[str],
        *,
        category_field: str | None = "category",
        owner_field: str = "agency_id",
        youth_field: str = "youth_id",
    ) -> Q:
        """A filter selecting the rows ``decide`` allows. ``category_field=None`` means
        every row is of the single category given."""
        nothing = Q(pk__in=[])
        clauses = nothing
        for category in categories:
            if self._gate(category):
                continue
            allowed = Q(**{owner_field: self.actor.agency_id})
            if self.opens_individual_records():
                allowed |= Q(**{f"{youth_field}__in": sorted(self.glass())})
            team = sorted(self.team_youth(category)) if self.opens_individual_records() else []
            if team:
                via_team = Q(**{f"{youth_field}__in": team})
                if vocabulary().requires_consent(category):
                    via_team &= Q(Exists(Consent.objects.filter(
                        _consents_in_force(self.on, self.actor.agency_id or 0, self.purpose),
                        youth_id=OuterRef(youth_field), category=category)))
                allowed |= via_team
            disclosers = sorted(self.disclosers(category))
            if disclosers:
                shared = Q(**{f"{owner_field}__in": disclosers})
                if vocabulary().requires_consent(category):
                    consent = Consent.objects.filter(
                        _consents_in_force(self.on, self.actor.agency_id or 0, self.purpose),
                        youth_id=OuterRef(youth_field),
                        category=category,
                    )
                    shared &= Q(Exists(consent))
                allowed |= shared
            if category_field is not None:
                allowed &= Q(**{category_field: category})
            clauses |= allowed
        return clauses


_scope: ContextVar[dict[tuple[int | None, str, dt.date], AccessContext] | None] = ContextVar(
    "access_scope", default=None
)


@contextmanager
def request_scope() -> Iterator[None]:
    """One web request: its access contexts are built once per (actor, purpose) and
    shared, and its audit events are appended together (``audit.batched``)."""
    token = _scope.set({})
    try:
        with batched():
            yield
    finally:
        _scope.reset(token)


def context(actor: User, purpose: str) -> AccessContext:
    """The actor's access context for ``purpose``: shared within a request scope, fresh
    outside one (a command, a test calling a service)."""
    contexts = _scope.get()
    if contexts is None:
        return AccessContext(actor=actor, purpose=purpose)
    key = (actor.pk, purpose, clock.today())
    if key not in contexts:
        contexts[key] = AccessContext(actor=actor, purpose=purpose)
    return contexts[key]


def forget_contexts() -> None:
    """Drop the request's contexts after a change to what they rest on (an agreement,
    a consent, a break-glass), so the rest of the request decides on the new facts."""
    contexts = _scope.get()
    if contexts is not None:
        contexts.clear()


def authorize_write(
    ctx: AccessContext,
    *,
    youth_id: int,
    category: str,
    owner_agency_id: int,
    action: str,
) -> Decision:
    """May the actor write this record? An agency writes only its own records, any
    category of them (a treatment programme records treatment even if its intake staff
    only screen), only staff whose role acts for the purpose of the write, and only for
    a purpose that works with individual youth (never analytics). A refusal
    is audited and raised; the caller audits an allowed write in its transaction."""
    actor = ctx.actor
    if actor.agency_id is None or not actor.is_active:
        reason = "the account belongs to no agency or is inactive"
    elif not vocabulary().role_purposes(actor.role):
        reason = f"role {actor.role or 'none'!r} does not record youth data"
    elif ctx.purpose not in vocabulary().role_purposes(actor.role):
        reason = f"role {actor.role!r} does not act for purpose {ctx.purpose!r}"
    elif not ctx.opens_individual_records():
        reason = f"purpose {ctx.purpose!r} does not work with individual youth records"
    elif owner_agency_id != actor.agency_id:
        reason = "an agency writes only its own records"
    else:
        return Decision(True, OWN_AGENCY, "the actor's own agency's record", category, ctx.purpose, owner_agency_id)
    decision = Decision(False, "", reason, category, ctx.purpose, owner_agency_id)
    audit_decision(ctx, decision, youth_id=youth_id or None, action=action)
    raise AccessDenied(reason)


def authorize(
    ctx: AccessContext,
    *,
    youth_id: int,
    category: str,
    owner_agency_id: int,
    action: str,
    object_type: str = "",
    object_id: str = "",
    audit_allowed: bool = True,
) -> Decision:
    """Decide, audit, and raise ``AccessDenied`` on refusal.

    Call it *before* opening the transaction that writes, so a refusal's audit row is
    committed even though the operation stops. With ``audit_allowed=False`` the caller
    records the allowed event itself inside its write transaction.
    """
    decision = ctx.decide(youth_id=youth_id, category=category, owner_agency_id=owner_agency_id)
    if not decision.allowed or audit_allowed:
        audit_decision(ctx, decision, youth_id=youth_id, action=action, object_type=object_type, object_id=object_id)
    if not decision.allowed:
        raise AccessDenied(decision.reason)
    return decision


def audit_decision(
    ctx: AccessContext,
    decision: Decision,
    *,
    youth_id: int | None,
    action: str,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    record_event(
        actor=ctx.actor,
        action=action,
        allowed=decision.allowed,
        youth_id=youth_id,
        owner_agency_id=decision.owner_agency_id,
        category=decision.category,
        purpose=decision.purpose,
        basis=decision.basis,
        reason=decision.reason,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
