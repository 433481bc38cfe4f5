"""The access matrix: may this role see this category of a youth's data, recorded by this
kind of agency, on this basis, for this purpose?

Every cell of role x owner agency type x data category x basis is checked three ways,
against an expectation worked out *here*, from the rule as the product states it, and
never by asking ``decide``:

(a) ``AccessContext.decide`` gives the expected answer (and names the expected basis);
(b) the queryset filter ``AccessContext.readable([category])`` selects the row exactly
    when it is allowed, and never a row of another category, so a list can never show
    what the object check would refuse;
(c) ``authorize`` writes exactly one audit event describing the decision, and raises
    ``AccessDenied`` on a refusal.

Roles, agency types, categories and purposes are read from the data dictionary file, so
a code added there adds its cells here. The rule, as the product states it:

1. the actor's role must act for the purpose;
2. the purpose must use the category;
3. data recorded by the actor's own agency: allowed;
4. an open break-glass by the actor on the youth: allowed;
5. a sharing agreement in force that names the category and the purpose: allowed when the
   category needs no consent, otherwise only with the youth's consent in force;
6. anything else is refused: no agreement, an expired agreement (even with the youth's
   consent in force), or a revoked consent (for the categories that need consent; the
   agreement alone still shares the others).

Further down: the rule's edges one at a time, and the real read path (``get_youth``,
``search_youth``) on top of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest
import yaml
from django.db.models import Max, Model

from nowrongdoor import clock
from nowrongdoor.access.decisions import AccessContext, authorize
from nowrongdoor.access.models import AuditEvent, BreakGlass, Consent
from nowrongdoor.access.services import (
    create_agreement,
    open_break_glass,
    record_consent,
    revoke_consent,
    terminate_agreement,
)
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.synth.generator import plan_person
from nowrongdoor.youth import selectors
from nowrongdoor.youth.models import Contact, SourceRecord
from nowrongdoor.youth.names import normalise

# -- the vocabulary, read from the dictionary file itself -----------------------------

DICTIONARY = yaml.safe_load(
    resources.files("nowrongdoor.dictionary").joinpath("data_dictionary.yaml").read_text(encoding="utf-8")
)
ROLES: list[str] = list(DICTIONARY["roles"])
AGENCY_TYPES: list[str] = list(DICTIONARY["agency_types"])
CATEGORIES: list[str] = list(DICTIONARY["data_categories"])
PURPOSES: list[str] = list(DICTIONARY["purposes"])
ROLE_PURPOSES = {role: frozenset(spec["purposes"]) for role, spec in DICTIONARY["roles"].items()}
PURPOSE_CATEGORIES = {purpose: frozenset(spec["categories"]) for purpose, spec in DICTIONARY["purposes"].items()}
NEEDS_CONSENT = {category: bool(spec["requires_consent"]) for category, spec in DICTIONARY["data_categories"].items()}
CONTACT_TYPE_OF: dict[str, str] = {}
for _code, _spec in DICTIONARY["contact_types"].items():
    CONTACT_TYPE_OF.setdefault(_spec["category"], _code)

NONE = "none"
AGREEMENT_WITHOUT_CONSENT = "agreement_without_consent"
AGREEMENT_WITH_CONSENT = "agreement_with_consent"
OWN_AGENCY = "own_agency"
BREAK_GLASS = "break_glass"
EXPIRED_AGREEMENT = "expired_agreement"
REVOKED_CONSENT = "revoked_consent"
BASES = [
    NONE,
    AGREEMENT_WITHOUT_CONSENT,
    AGREEMENT_WITH_CONSENT,
    OWN_AGENCY,
    BREAK_GLASS,
    EXPIRED_AGREEMENT,
    REVOKED_CONSENT,
]
# What each basis sets up besides the owner's data. Agreements run from the owner agency to
# the actor's agency; an expired one ended yesterday. Consent is the youth's, to every category.
AGREEMENT_IN_FORCE = {AGREEMENT_WITHOUT_CONSENT, AGREEMENT_WITH_CONSENT, REVOKED_CONSENT}
ANY_AGREEMENT = AGREEMENT_IN_FORCE | {EXPIRED_AGREEMENT}
CONSENT_GIVEN = {AGREEMENT_WITH_CONSENT, REVOKED_CONSENT, EXPIRED_AGREEMENT}
CONSENT_IN_FORCE = {AGREEMENT_WITH_CONSENT, EXPIRED_AGREEMENT}  # revoked consent is not in force

JUSTIFICATION = "Synthetic emergency: the youth was reported missing from placement tonight."
OCCURRED = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)

_names = itertools.count(1)


def purposes_tried(role: str) -> list[str]:
    """Each purpose the role acts for; a role acting for none is tried (and refused) for screening."""
    return sorted(ROLE_PURPOSES[role]) or ["screening"]


def agreement_terms(n: int, purposes_of_interest: list[str]) -> tuple[list[str], list[str]]:
    """What a test agreement names: every category but one and every purpose but one.

    Leaving one of each out (a different one from cell to cell, chosen by ``n``) makes the
    agreement cells also check that an agreement shares only what it names. Where the
    actor acts for several purposes, the purpose left out is one of theirs.
    """
    left_out_category = CATEGORIES[n % len(CATEGORIES)]
    if len(purposes_of_interest) > 1:
        left_out_purpose = purposes_of_interest[n % len(purposes_of_interest)]
    else:
        left_out_purpose = next(p for p in PURPOSES if p not in purposes_of_interest)
    return [c for c in CATEGORIES if c != left_out_category], [p for p in PURPOSES if p != left_out_purpose]


def expected(
    role: str, purpose: str, category: str, basis: str, agreement: tuple[list[str], list[str]]
) -> tuple[bool, str]:
    """The rule, stated independently of ``decisions.py``: (allowed, basis named)."""
    if purpose not in ROLE_PURPOSES[role]:
        return False, ""
    if category not in PURPOSE_CATEGORIES[purpose]:
        return False, ""
    if basis == OWN_AGENCY:
        return True, "own_agency"
    if basis == BREAK_GLASS and "identity" in PURPOSE_CATEGORIES[purpose]:
        return True, "break_glass"  # emergency access opens individual records, never analytics
    agreement_categories, agreement_purposes = agreement
    covered = basis in AGREEMENT_IN_FORCE and category in agreement_categories and purpose in agreement_purposes
    if not covered:
        return False, ""
    if not NEEDS_CONSENT[category]:
        return True, "agreement"
    if basis in CONSENT_IN_FORCE:
        return True, "agreement_and_consent"
    return False, ""


def required_details(contact_type: str) -> dict[str, Any]:
    """The least a contact of this type must carry: the first code of each required field."""
    details: dict[str, Any] = {}
    for name, field in DICTIONARY["contact_types"][contact_type]["fields"].items():
        if not field.get("required"):
            continue
        if field.get("text"):
            details[name] = "synthetic text"
        else:
            code = next(iter(DICTIONARY["code_lists"][field["code_list"]]))
            details[name] = [code] if field.get("many") else code
    return details


def staff(role: str, agency: Agency | None, **extra: Any) -> User:
    """A staff account with no password (nothing here logs in), so nothing is hashed."""
    return User.objects.create(username=f"{role}-m{next(_names)}", role=role, agency=agency, **extra)


def add_contacts(recorder: User, record: SourceRecord, make_contact: Callable[..., Contact] | None) -> dict[str, int]:
    """One row of every category on ``record``: contact ids by category, plus the record for identity.

    With ``make_contact`` the categories that have a contact type are written through the
    real service; categories no contact type records yet (sogi, case notes, ...) are built
    directly, as they are only there for the filter check.
    """
    rows = {"identity": record.pk}
    for category in CATEGORIES:
        if category == "identity":
            continue
        contact_type = CONTACT_TYPE_OF.get(category)
        if contact_type and make_contact is not None:
            contact = make_contact(recorder, record, contact_type, **required_details(contact_type))
        else:
            contact = Contact.objects.create(
                youth_id=record.youth_id,
                source_record=record,
                agency_id=record.agency_id,
                contact_type=contact_type or "",
                category=category,
                occurred_at=OCCURRED,
                recorded_at=clock.now(),
                created_by=recorder,
            )
        assert contact.category == category, f"set-up: a {contact.contact_type} contact is not {category!r} data"
        rows[category] = contact.pk
    return rows


def row_model(category: str) -> type[Model]:
    return SourceRecord if category == "identity" else Contact


def readable_rows(ctx: AccessContext, category: str, pks: list[int] | None = None) -> set[int]:
    """Ids of the rows of ``category`` a list built with ``ctx.readable`` would show."""
    if category == "identity":
        rows = SourceRecord.objects.filter(ctx.readable(["identity"], category_field=None))
    else:
        rows = Contact.objects.filter(ctx.readable([category]))
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    return set(rows.values_list("pk", flat=True))


def give_break_glass(actor: User, youth_public_id: str) -> None:
    if any("identity" in PURPOSE_CATEGORIES[p] for p in ROLE_PURPOSES[actor.role]):
        open_break_glass(actor=actor, youth_public_id=youth_public_id, justification=JUSTIFICATION)
    else:
        # The service refuses roles that do not open individual records; a row made by hand
        # shows the rule still refuses them even if one existed.
        now = clock.now()
        BreakGlass.objects.create(
            actor=actor,
            agency=actor.agency,
            youth_id=SourceRecord.objects.filter(youth__public_id=youth_public_id).values_list("youth_id", flat=True)[
                0
            ],
            justification=JUSTIFICATION,
            opened_at=now,
            expires_at=now + dt.timedelta(hours=4),
        )


def consent_to_everything(recorder: User, record: SourceRecord, recipient: Agency) -> list[Consent]:
    """The youth consents to ``recipient`` seeing every category, recorded by the owner agency."""
    given_on = clock.today() - dt.timedelta(days=30)
    return [
        record_consent(
            actor=recorder,
            youth=record.youth,
            category=category,
            given_by="youth",
            given_on=given_on,
            recipient_agency=recipient,
        )
        for category in CATEGORIES
    ]


# -- the matrix ---------------------------------------------------------------------


@dataclass
class Cell:
    role: str
    owner_type: str
    basis: str
    actor: User
    owner: Agency
    youth_id: int
    rows: dict[str, int]
    agreement: tuple[list[str], list[str]]


@pytest.fixture
def build_cell(
    county: County,
    make_agency: Callable[..., Agency],
    make_record: Callable[..., SourceRecord],
    make_contact: Callable[..., Contact],
) -> Callable[[str, str, str], Cell]:
    def build(role: str, owner_type: str, basis: str) -> Cell:
        owner_index = AGENCY_TYPES.index(owner_type)
        if basis == OWN_AGENCY:
            actor_agency = owner = make_agency(owner_type)
        else:  # the actor works for another kind of agency (each kind in turn)
            actor_agency = make_agency(AGENCY_TYPES[(owner_index + 1) % len(AGENCY_TYPES)])
            owner = make_agency(owner_type)
        actor = staff(role, actor_agency)
        recorder = staff("mdt_coordinator", owner)  # writes the owner's records through the real services
        record = make_record(recorder)
        rows = add_contacts(recorder, record, make_contact)
        agreement = agreement_terms(owner_index + len(AGENCY_TYPES) * ROLES.index(role), purposes_tried(role))
        today = clock.today()
        if basis in ANY_AGREEMENT:
            create_agreement(
                actor=staff("system_admin", None),
                county=county,
                title="Synthetic test MOU",
                discloser=owner,
                recipient=actor_agency,
                categories=agreement[0],
                purposes=agreement[1],
                legal_basis_code="MOU",
                valid_from=today - dt.timedelta(days=400),
                valid_to=today - dt.timedelta(days=1) if basis == EXPIRED_AGREEMENT else None,
            )
        if basis in CONSENT_GIVEN:
            consents = consent_to_everything(recorder, record, actor_agency)
            if basis == REVOKED_CONSENT:
                for consent in consents:
                    revoke_consent(actor=recorder, consent=consent, on=today, expected_version=consent.version)
        if basis == BREAK_GLASS:
            give_break_glass(actor, str(record.youth.public_id))
        return Cell(role, owner_type, basis, actor, owner, record.youth_id, rows, agreement)

    return build


def check_cell(cell: Cell, ctx: AccessContext, category: str, last_seq: int) -> tuple[list[str], int]:
    """Problems with one cell: decide, the list filter and the audit trail against the rule.

    ``last_seq`` is the newest audit event before the cell; the newest after it is returned.
    """
    where = f"{cell.role} / {ctx.purpose} / {category} of a {cell.owner_type} agency / {cell.basis}"
    want, want_basis = expected(cell.role, ctx.purpose, category, cell.basis, cell.agreement)
    problems = []

    decision = ctx.decide(youth_id=cell.youth_id, category=category, owner_agency_id=cell.owner.pk)
    if decision.allowed != want:
        problems.append(f"{where}: decide() allowed={decision.allowed} ({decision.reason}); expected {want}")
    elif want and decision.basis != want_basis:
        problems.append(f"{where}: decide() basis {decision.basis!r}; expected {want_basis!r}")

    pk = cell.rows[category]
    same_table = [p for c, p in cell.rows.items() if (c == "identity") == (category == "identity")]
    listed = readable_rows(ctx, category, same_table)
    if listed != ({pk} if want else set()):
        problems.append(
            f"{where}: readable() lists rows {sorted(listed)} of the cell; expected {[pk] if want else []}"
            f" (the {category} row is {pk})"
        )

    model = row_model(category)
    try:
        authorize(
            ctx,
            youth_id=cell.youth_id,
            category=category,
            owner_agency_id=cell.owner.pk,
            action="read",
            object_type=model._meta.model_name or "",
            object_id=str(pk),
        )
        raised = False
    except AccessDenied:
        raised = True
    if raised == want:
        problems.append(f"{where}: authorize() {'raised' if raised else 'did not raise'} AccessDenied")
    events = list(AuditEvent.objects.filter(seq__gt=last_seq))
    if len(events) != 1:
        problems.append(f"{where}: authorize() wrote {len(events)} audit events, not 1")
    else:
        event = events[0]
        got = (
            event.allowed,
            event.actor_id,
            event.actor_agency_id,
            event.youth_id,
            event.owner_agency_id,
            event.category,
            event.purpose,
            event.action,
            event.basis,
        )
        wanted = (
            want,
            cell.actor.pk,
            cell.actor.agency_id,
            cell.youth_id,
            cell.owner.pk,
            category,
            ctx.purpose,
            "read",
            want_basis,
        )
        if got != wanted:
            problems.append(f"{where}: audit event {got}; expected {wanted}")
    return problems, max([last_seq, *(e.seq for e in events)])


@pytest.mark.parametrize("basis", BASES)
@pytest.mark.parametrize("owner_type", AGENCY_TYPES)
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role: str, owner_type: str, basis: str, build_cell: Callable[[str, str, str], Cell]) -> None:
    """Every purpose of the role x every category, for one (role, owner agency type, basis)."""
    cell = build_cell(role, owner_type, basis)
    problems: list[str] = []
    last_seq = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    for purpose in purposes_tried(role):
        ctx = AccessContext(actor=cell.actor, purpose=purpose)
        for category in CATEGORIES:
            found, last_seq = check_cell(cell, ctx, category, last_seq)
            problems += found
    assert not problems, f"{len(problems)} wrong cells:\n" + "\n".join(problems)


def test_the_matrix_covers_the_whole_dictionary_and_is_not_trivial() -> None:
    """Guards the test itself: every code is in the matrix, and the expectation both allows and refuses."""
    assert set(ROLES) >= {"screener", "supervisor", "agency_admin", "system_admin"}
    assert len(AGENCY_TYPES) >= 8 and len(CATEGORIES) >= 15
    assert set(BASES) == {
        NONE,
        AGREEMENT_WITHOUT_CONSENT,
        AGREEMENT_WITH_CONSENT,
        OWN_AGENCY,
        BREAK_GLASS,
        EXPIRED_AGREEMENT,
        REVOKED_CONSENT,
    }
    outcomes: dict[str, set[bool]] = {basis: set() for basis in BASES}
    for role, owner_type, basis in itertools.product(ROLES, AGENCY_TYPES, BASES):
        terms = agreement_terms(
            AGENCY_TYPES.index(owner_type) + len(AGENCY_TYPES) * ROLES.index(role), purposes_tried(role)
        )
        for purpose, category in itertools.product(purposes_tried(role), CATEGORIES):
            outcomes[basis].add(expected(role, purpose, category, basis, terms)[0])
    assert outcomes[NONE] == outcomes[EXPIRED_AGREEMENT] == {False}
    for basis in (AGREEMENT_WITHOUT_CONSENT, AGREEMENT_WITH_CONSENT, OWN_AGENCY, BREAK_GLASS, REVOKED_CONSENT):
        assert outcomes[basis] == {True, False}, basis
    # Every category that needs consent is refused without it and allowed with it somewhere.
    assert any(NEEDS_CONSENT.values()) and not all(NEEDS_CONSENT.values())


# -- zero leaks: one county holding every basis at once ----------------------------------


def test_zero_leaks_the_list_filter_selects_exactly_the_rows_decide_allows(
    county: County,
    make_agency: Callable[..., Agency],
    make_record: Callable[..., SourceRecord],
    link_records: Callable[..., None],
) -> None:
    """Counts every (actor, purpose, row) where ``readable`` and ``decide`` disagree: there must be none.

    Unlike a matrix cell, everything lives side by side here: many youth, each also known to
    a bystander agency no agreement names, a county-wide protocol between agency types,
    and an agency of the same type in another county the protocol does not reach. So a
    filter clause that leaks across youth, agencies, categories or counties shows up.
    """
    today = clock.today()
    admin = staff("system_admin", None)
    actor_agency = make_agency("probation")
    actors = [staff(role, actor_agency) for role in ROLES]

    def known_at(agency: Agency, youth_of: SourceRecord | None = None) -> tuple[User, SourceRecord]:
        recorder = staff("mdt_coordinator", agency)
        record = make_record(recorder)
        if youth_of is not None:
            link_records(record, youth_of)
        add_contacts(recorder, record, make_contact=None)
        return recorder, record

    known_at(actor_agency)
    n = 0
    for owner_type in AGENCY_TYPES:
        for basis in BASES:
            if basis == OWN_AGENCY:
                continue
            n += 1
            owner = make_agency(owner_type)
            recorder, record = known_at(owner)
            known_at(make_agency(owner_type), youth_of=record)  # a bystander no agreement names
            if basis in ANY_AGREEMENT:
                categories, purposes = agreement_terms(n, PURPOSES)
                create_agreement(
                    actor=admin,
                    county=county,
                    title="Synthetic test MOU",
                    discloser=owner,
                    recipient=actor_agency,
                    categories=categories,
                    purposes=purposes,
                    legal_basis_code="MOU",
                    valid_from=today - dt.timedelta(days=400),
                    valid_to=today - dt.timedelta(days=1) if basis == EXPIRED_AGREEMENT else None,
                )
            if basis in CONSENT_GIVEN:
                Consent.objects.bulk_create(
                    Consent(
                        youth_id=record.youth_id,
                        category=category,
                        recipient_agency=actor_agency,
                        given_by="youth",
                        given_on=today - dt.timedelta(days=30),
                        recorded_by=recorder,
                        recorded_agency=owner,
                        revoked_on=today if basis == REVOKED_CONSENT else None,
                    )
                    for category in CATEGORIES
                )
            if basis == BREAK_GLASS:
                for actor in actors:
                    give_break_glass(actor, str(record.youth.public_id))
    # A county-wide protocol between agency types, and a law enforcement agency elsewhere it does not reach.
    create_agreement(
        actor=admin,
        county=county,
        title="Synthetic county protocol",
        discloser="law_enforcement",
        recipient="probation",
        categories=["identity", "law_enforcement"],
        purposes=["screening", "mdt"],
        legal_basis_code="WIC8279",
        valid_from=today - dt.timedelta(days=10),
    )
    elsewhere = make_agency("law_enforcement", in_county=County.objects.create(name="Elsewhere County (synthetic)"))
    known_at(elsewhere)

    records = list(SourceRecord.objects.values_list("pk", "youth_id", "agency_id"))
    contacts = list(Contact.objects.values_list("pk", "youth_id", "agency_id", "category"))
    assert len(contacts) == len(records) * (len(CATEGORIES) - 1)

    disagreements: list[str] = []
    allowed_rows = denied_rows = 0
    for actor in actors:
        for purpose in purposes_tried(actor.role):
            ctx = AccessContext(actor=actor, purpose=purpose)
            rows = [(pk, youth, agency, "identity") for pk, youth, agency in records] + contacts
            allowed_by_decide: dict[str, set[int]] = {category: set() for category in CATEGORIES}
            for pk, youth, agency, category in rows:
                if ctx.decide(youth_id=youth, category=category, owner_agency_id=agency).allowed:
                    allowed_by_decide[category].add(pk)
            for category in CATEGORIES:
                listed = readable_rows(ctx, category)
                for pk in sorted(listed ^ allowed_by_decide[category]):
                    disagreements.append(
                        f"{actor.role}/{purpose}: {category} row {pk}: decide={pk in allowed_by_decide[category]}"
                        f" filter={pk in listed}"
                    )
                allowed_rows += len(allowed_by_decide[category])
                denied_rows += sum(1 for row in rows if row[3] == category) - len(allowed_by_decide[category])
            # One filter over every category the purpose uses lists exactly the contacts decide allows.
            union = set(Contact.objects.filter(ctx.readable(CATEGORIES)).values_list("pk", flat=True))
            union_expected = set().union(*(allowed_by_decide[c] for c in CATEGORIES if c != "identity"))
            if union != union_expected:
                disagreements.append(
                    f"{actor.role}/{purpose}: the all-category filter differs on {sorted(union ^ union_expected)}"
                )

    assert disagreements == [], f"{len(disagreements)} leaks or over-refusals:\n" + "\n".join(disagreements[:50])
    assert allowed_rows > 0 and denied_rows > 0
    # The protocol reaches law enforcement agencies of this county only.
    screener = next(a for a in actors if a.role == "screener")
    ctx = AccessContext(actor=screener, purpose="screening")
    elsewhere_arrest = Contact.objects.get(agency=elsewhere, category="law_enforcement")
    assert not ctx.decide(
        youth_id=elsewhere_arrest.youth_id, category="law_enforcement", owner_agency_id=elsewhere.pk
    ).allowed
    local_bystander_arrests = Contact.objects.filter(
        category="law_enforcement", agency__county=county, agency__agency_type="law_enforcement"
    )
    assert local_bystander_arrests.count() > 1
    assert set(
        Contact.objects.filter(ctx.readable(["law_enforcement"]))
        .filter(agency__agency_type="law_enforcement")
        .values_list("pk", flat=True)
    ) == set(local_bystander_arrests.values_list("pk", flat=True))


# -- the rule's edges, one at a time --------------------------------------------------


@pytest.fixture
def two_agencies(
    county: County,
    make_agency: Callable[..., Agency],
    make_record: Callable[..., SourceRecord],
    make_contact: Callable[..., Contact],
    link_records: Callable[..., None],
) -> dict[str, Any]:
    """A probation screener, and a youth a child welfare agency and a clinic know."""
    probation, child_welfare, clinic = make_agency("probation"), make_agency("child_welfare"), make_agency("health")
    cw_worker, nurse = staff("case_manager", child_welfare), staff("screener", clinic)
    record = make_record(cw_worker)
    hotline = make_contact(cw_worker, record, "hotline_report", allegations=["sexual_exploitation"])
    clinic_record = make_record(nurse)
    link_records(clinic_record, record)
    visit = make_contact(nurse, clinic_record, "health_visit", reason="sti_testing")
    return {
        "county": county,
        "probation": probation,
        "child_welfare": child_welfare,
        "clinic": clinic,
        "screener": staff("screener", probation),
        "case_manager": staff("case_manager", probation),
        "cw_worker": cw_worker,
        "nurse": nurse,
        "admin": staff("system_admin", None),
        "record": record,
        "hotline": hotline,
        "clinic_record": clinic_record,
        "visit": visit,
        "youth": record.youth,
    }


def sees(actor: User, purpose: str, contact: Contact) -> bool:
    """What ``decide`` says about one contact, after checking the list filter says the same."""
    ctx = AccessContext(actor=actor, purpose=purpose)
    decided = ctx.decide(youth_id=contact.youth_id, category=contact.category, owner_agency_id=contact.agency_id)
    listed = Contact.objects.filter(ctx.readable([contact.category]), pk=contact.pk).exists()
    assert decided.allowed == listed, f"decide ({decided.allowed}) and readable ({listed}) disagree: {decided.reason}"
    return decided.allowed


def agree(w: dict[str, Any], **overrides: Any) -> Any:
    terms: dict[str, Any] = {
        "actor": w["admin"],
        "county": w["county"],
        "title": "Synthetic test MOU",
        "discloser": w["child_welfare"],
        "recipient": w["probation"],
        "categories": ["identity", "child_welfare"],
        "purposes": ["screening"],
        "legal_basis_code": "WIC827",
        "valid_from": clock.today() - dt.timedelta(days=30),
    }
    return create_agreement(**(terms | overrides))


def test_an_agreement_is_in_force_from_its_first_day_through_its_last(two_agencies: dict[str, Any]) -> None:
    w = two_agencies
    today = clock.today()
    agree(w, valid_from=today + dt.timedelta(days=1))
    assert not sees(w["screener"], "screening", w["hotline"]), "an agreement starting tomorrow is not in force yet"
    agree(w, valid_from=today, valid_to=today)
    assert sees(w["screener"], "screening", w["hotline"]), "an agreement is in force on its first and last day"


def test_a_terminated_agreement_stops_sharing_on_the_termination_date(two_agencies: dict[str, Any]) -> None:
    w = two_agencies
    agreement = agree(w)
    assert sees(w["screener"], "screening", w["hotline"])
    terminate_agreement(actor=w["admin"], agreement=agreement, expected_version=agreement.version, on=clock.today())
    assert not sees(w["screener"], "screening", w["hotline"])


def test_an_agreement_shares_only_with_its_recipient_for_its_purposes(
    two_agencies: dict[str, Any], make_agency: Callable[..., Agency]
) -> None:
    w = two_agencies
    other_probation = make_agency("probation")
    agree(w, recipient=other_probation, purposes=["screening", "case_coordination"])
    assert not sees(w["screener"], "screening", w["hotline"]), "another probation department's agreement"
    agree(w, purposes=["case_coordination"])
    assert not sees(w["case_manager"], "screening", w["hotline"]), "the agreement is not for screening"
    assert sees(w["case_manager"], "case_coordination", w["hotline"])


def test_a_county_wide_protocol_binds_agency_types_within_its_county_only(
    two_agencies: dict[str, Any], make_agency: Callable[..., Agency]
) -> None:
    w = two_agencies
    elsewhere = County.objects.create(name="Neighbouring County (synthetic)")
    agree(w, county=elsewhere, discloser="child_welfare", recipient="probation")
    assert not sees(w["screener"], "screening", w["hotline"]), "a protocol of another county"
    agree(w, discloser="child_welfare", recipient="probation")
    assert sees(w["screener"], "screening", w["hotline"])


def test_consent_counts_only_for_its_youth_recipient_purpose_and_dates(
    two_agencies: dict[str, Any], make_agency: Callable[..., Agency], make_record: Callable[..., SourceRecord]
) -> None:
    w = two_agencies
    today = clock.today()
    agree(w, discloser=w["clinic"], categories=["identity", "health"], purposes=["screening", "case_coordination"])
    assert not sees(w["screener"], "screening", w["visit"]), "health needs consent as well as an agreement"

    def consent(**overrides: Any) -> Consent:
        terms: dict[str, Any] = {
            "actor": w["nurse"],
            "youth": w["youth"],
            "category": "health",
            "given_by": "youth",
            "given_on": today - dt.timedelta(days=5),
        }
        return record_consent(**(terms | overrides))

    another_youth = make_record(w["nurse"]).youth
    consent(youth=another_youth)
    consent(category="mental_health")
    consent(recipient_agency=make_agency("probation"))
    consent(purpose="case_coordination")
    consent(given_on=today - dt.timedelta(days=30), expires_on=today - dt.timedelta(days=1))
    consent(given_on=today + dt.timedelta(days=1))
    assert not sees(w["screener"], "screening", w["visit"]), "none of those consents covers this read"
    assert sees(w["case_manager"], "case_coordination", w["visit"]), "consent for case coordination"
    consent(recipient_agency=w["probation"], purpose="screening", expires_on=today)
    assert sees(w["screener"], "screening", w["visit"])


def test_another_agency_of_the_same_type_is_not_the_actors_own(
    two_agencies: dict[str, Any], make_agency: Callable[..., Agency]
) -> None:
    w = two_agencies
    other_child_welfare_worker = staff("screener", make_agency("child_welfare"))
    assert not sees(other_child_welfare_worker, "screening", w["hotline"])
    assert sees(staff("screener", w["child_welfare"]), "screening", w["hotline"])


def test_inactive_accounts_and_accounts_without_an_agency_see_nothing(two_agencies: dict[str, Any]) -> None:
    w = two_agencies
    agree(w, discloser="child_welfare", recipient="probation")
    assert sees(w["screener"], "screening", w["hotline"])
    w["screener"].is_active = False
    assert not sees(w["screener"], "screening", w["hotline"])
    assert not sees(staff("screener", None), "screening", w["hotline"])
    inactive_own = staff("screener", w["child_welfare"], is_active=False)
    assert not sees(inactive_own, "screening", w["hotline"])


def test_break_glass_opens_one_youth_for_one_actor(
    two_agencies: dict[str, Any], make_record: Callable[..., SourceRecord], make_contact: Callable[..., Contact]
) -> None:
    w = two_agencies
    other_record = make_record(w["cw_worker"])
    other_hotline = make_contact(w["cw_worker"], other_record, "hotline_report", allegations=["general_neglect"])
    open_break_glass(actor=w["screener"], youth_public_id=str(w["youth"].public_id), justification=JUSTIFICATION)
    assert sees(w["screener"], "screening", w["hotline"])
    assert sees(w["screener"], "screening", w["visit"]), "break-glass reaches data that needs consent too"
    assert not sees(w["screener"], "screening", other_hotline), "another youth"
    assert not sees(w["case_manager"], "screening", w["hotline"]), "a colleague"
    assert not sees(w["screener"], "case_coordination", w["hotline"]), "still only the role's own purposes"


# -- the real read path: get_youth and search_youth -----------------------------------


@pytest.fixture
def probation_world(
    county: County,
    make_agency: Callable[..., Agency],
    make_record: Callable[..., SourceRecord],
    make_contact: Callable[..., Contact],
    link_records: Callable[..., None],
) -> dict[str, Any]:
    """A youth known to probation, the police, child welfare and a clinic; only the police share with probation."""
    probation, police = make_agency("probation"), make_agency("law_enforcement")
    child_welfare, clinic = make_agency("child_welfare"), make_agency("health")
    screener, officer = staff("screener", probation), staff("screener", police)
    cw_worker, nurse = staff("case_manager", child_welfare), staff("screener", clinic)
    record = make_record(screener)
    intake = make_contact(screener, record, "probation_intake")
    police_record, cw_record, clinic_record = make_record(officer), make_record(cw_worker), make_record(nurse)
    for other in (police_record, cw_record, clinic_record):
        link_records(other, record)
    arrest = make_contact(officer, police_record, "arrest", offence_category="prostitution_related")
    hotline = make_contact(cw_worker, cw_record, "hotline_report", allegations=["sexual_exploitation"])
    visit = make_contact(nurse, clinic_record, "health_visit", reason="sti_testing")
    admin = staff("system_admin", None)
    create_agreement(
        actor=admin,
        county=county,
        title="Synthetic police-probation MOU",
        discloser=police,
        recipient=probation,
        categories=["identity", "law_enforcement"],
        purposes=["screening", "case_coordination"],
        legal_basis_code="WIC8279",
        valid_from=clock.today() - dt.timedelta(days=90),
    )
    return {
        "county": county,
        "probation": probation,
        "police": police,
        "child_welfare": child_welfare,
        "clinic": clinic,
        "screener": screener,
        "cw_worker": cw_worker,
        "nurse": nurse,
        "admin": admin,
        "record": record,
        "police_record": police_record,
        "cw_record": cw_record,
        "clinic_record": clinic_record,
        "intake": intake,
        "arrest": arrest,
        "hotline": hotline,
        "visit": visit,
        "youth_id": str(record.youth.public_id),
    }


def test_a_probation_screener_sees_own_and_shared_contacts_and_only_counts_the_rest(
    probation_world: dict[str, Any],
) -> None:
    w = probation_world
    last_seq = AuditEvent.objects.aggregate(m=Max("seq"))["m"]

    view = selectors.get_youth(actor=w["screener"], public_id=w["youth_id"], purpose="screening")

    assert sorted(c.contact_type for c in view.contacts) == ["arrest", "probation_intake"]
    assert {c.public_id: c.own for c in view.contacts} == {
        str(w["intake"].public_id): True,
        str(w["arrest"].public_id): False,
    }
    assert view.withheld_contacts == 2
    assert sorted(i.agency for i in view.identities) == sorted([w["probation"].name, w["police"].name])
    assert view.withheld_records == 2
    assert view.bases == ["agreement", "own_agency"]
    described = repr(dataclasses.asdict(view))
    for hidden in (w["hotline"], w["visit"], w["cw_record"], w["clinic_record"]):
        assert str(hidden.public_id) not in described
    for word in (
        w["child_welfare"].name,
        w["clinic"].name,
        "hotline_report",
        "health_visit",
        "sti_testing",
        "sexual_exploitation",
    ):
        assert word not in described

    withheld_events = AuditEvent.objects.filter(seq__gt=last_seq, allowed=False, object_type="contact")
    assert sorted((e.owner_agency_id, e.category, e.detail) for e in withheld_events) == sorted(
        [
            (w["child_welfare"].pk, "child_welfare", {"withheld": 1}),
            (w["clinic"].pk, "health", {"withheld": 1}),
        ]
    )
    read_events = AuditEvent.objects.filter(seq__gt=last_seq, allowed=True, object_type="contact")
    assert sorted((e.owner_agency_id, e.category, e.basis) for e in read_events) == sorted(
        [(w["probation"].pk, "probation", "own_agency"), (w["police"].pk, "law_enforcement", "agreement")]
    )


def test_the_placement_address_shows_only_where_placement_address_is_allowed(
    probation_world: dict[str, Any], make_contact: Callable[..., Contact]
) -> None:
    w = probation_world
    placement = make_contact(
        w["cw_worker"],
        w["cw_record"],
        "placement_start",
        placement_type="foster_family",
        address="100 Example Street, Synthetic City",
    )
    case_manager = staff("case_manager", w["probation"])
    create_agreement(
        actor=w["admin"],
        county=w["county"],
        title="Synthetic CW-probation MOU",
        discloser=w["child_welfare"],
        recipient=w["probation"],
        categories=["identity", "child_welfare"],
        purposes=["screening", "case_coordination"],
        legal_basis_code="WIC827",
        valid_from=clock.today() - dt.timedelta(days=90),
    )

    def placement_as(actor: User, purpose: str) -> selectors.ContactView:
        view = selectors.get_youth(actor=actor, public_id=w["youth_id"], purpose=purpose)
        return next(c for c in view.contacts if c.public_id == str(placement.public_id))

    for actor, purpose in ((w["screener"], "screening"), (case_manager, "case_coordination")):
        shown = placement_as(actor, purpose)
        assert shown.details == {"placement_type": "foster_family"}, purpose
        assert shown.withheld_fields == ["address"], purpose

    create_agreement(
        actor=w["admin"],
        county=w["county"],
        title="Synthetic placement address MOU",
        discloser=w["child_welfare"],
        recipient=w["probation"],
        categories=["placement_address"],
        purposes=["case_coordination"],
        legal_basis_code="WIC827",
        valid_from=clock.today() - dt.timedelta(days=1),
    )
    shown = placement_as(case_manager, "case_coordination")
    assert shown.details == {"placement_type": "foster_family", "address": "100 Example Street, Synthetic City"}
    assert shown.withheld_fields == []
    assert placement_as(w["screener"], "screening").withheld_fields == ["address"], "screening never reads addresses"


def test_a_youth_with_no_visible_record_is_not_found_and_the_refusal_is_audited(
    probation_world: dict[str, Any], make_record: Callable[..., SourceRecord]
) -> None:
    w = probation_world
    clinic_only = make_record(w["nurse"]).youth
    last_seq = AuditEvent.objects.aggregate(m=Max("seq"))["m"]

    with pytest.raises(NotFound) as hidden:
        selectors.get_youth(actor=w["screener"], public_id=str(clinic_only.public_id), purpose="screening")

    event = AuditEvent.objects.get(seq__gt=last_seq)
    assert (event.allowed, event.action, event.actor_id, event.youth_id, event.purpose) == (
        False,
        "read",
        w["screener"].pk,
        clinic_only.pk,
        "screening",
    )
    assert event.owner_agency_id == w["clinic"].pk
    with pytest.raises(NotFound) as unknown:
        selectors.get_youth(actor=w["screener"], public_id="00000000-0000-4000-8000-000000000000", purpose="screening")
    assert str(hidden.value) == str(unknown.value), "a hidden youth and no youth look the same"


def unused_surnames(n: int) -> list[str]:
    """``n`` different synthetic surnames that no record's searchable names contain yet."""
    taken = " ".join(SourceRecord.objects.values_list("search_name", flat=True))
    names: list[str] = []
    for index in itertools.count(1):
        name = plan_person(7, index).records[0].last_name
        key = normalise(name)
        if key not in taken and all(key not in normalise(had) and normalise(had) not in key for had in names):
            names.append(name)
        if len(names) == n:
            return names
    raise AssertionError("unreachable")


def test_search_never_returns_a_youth_the_actor_may_not_see(
    probation_world: dict[str, Any],
    make_record: Callable[..., SourceRecord],
    make_agency: Callable[..., Agency],
    link_records: Callable[..., None],
) -> None:
    w = probation_world
    today = clock.today()
    surname, other_name = unused_surnames(2)  # synthetic surnames no record in the world carries yet
    own = make_record(w["screener"], last_name=surname)
    shared = make_record(staff("screener", w["police"]), last_name=surname)
    clinic_only = make_record(w["nurse"], last_name=surname)
    child_welfare_only = make_record(w["cw_worker"], last_name=surname)
    school = make_agency("education")
    create_agreement(
        actor=w["admin"],
        county=w["county"],
        title="Synthetic school MOU (analytics only)",
        discloser=school,
        recipient=w["probation"],
        categories=["identity", "education"],
        purposes=["analytics"],
        legal_basis_code="FERPA",
        valid_from=today - dt.timedelta(days=30),
    )
    school_only = make_record(staff("screener", school), last_name=surname)
    court = make_agency("juvenile_court")
    create_agreement(
        actor=w["admin"],
        county=w["county"],
        title="Synthetic expired court MOU",
        discloser=court,
        recipient=w["probation"],
        categories=["identity"],
        purposes=["screening"],
        legal_basis_code="WIC827",
        valid_from=today - dt.timedelta(days=400),
        valid_to=today - dt.timedelta(days=10),
    )
    court_only = make_record(staff("screener", court), last_name=surname)
    glass = make_record(w["nurse"], last_name=surname)
    open_break_glass(actor=w["screener"], youth_public_id=str(glass.youth.public_id), justification=JUSTIFICATION)
    # The clinic also knows the visible youth under a name probation has never recorded.
    alias_at_clinic = make_record(w["nurse"], last_name=other_name)
    link_records(alias_at_clinic, own)

    found = selectors.search_youth(actor=w["screener"], query=surname, purpose="screening")

    visible = {str(r.youth.public_id) for r in (own, shared, glass)}
    hidden = {str(r.youth.public_id) for r in (clinic_only, child_welfare_only, school_only, court_only)}
    assert {s.public_id for s in found} == visible
    for public_id in visible:
        selectors.get_youth(actor=w["screener"], public_id=public_id, purpose="screening")
    for public_id in hidden:
        with pytest.raises(NotFound):
            selectors.get_youth(actor=w["screener"], public_id=public_id, purpose="screening")
    assert selectors.search_youth(actor=w["screener"], query=other_name, purpose="screening") == [], (
        "a name only the clinic recorded must not find the youth (it would reveal the clinic's record)"
    )
