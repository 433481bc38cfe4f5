"""A synthetic multi-system county: youth, their trajectories, and noisy agency records.

Nothing here is real. The generator plans each synthetic child from ``(seed, index)``
alone (``plan_person``), so output is identical for a seed and generation can resume
where an interrupted run stopped. It then writes what agencies would hold (source
records and contacts) through the product's models, and the ground truth (who is the
same child, who was exploited and when) to ``synth.models``, apart from every access path.

Rates, with the report figures they come from (docs/synthetic-data.md has the table):

- exploitation starts in early adolescence: boys 11-13, girls 12-14 (report ch. 1);
- boys are exploited about as often as girls but identified far less often (ch. 2);
- most identified victims had child-welfare contact: 56 of 72 girls in LA's STAR court,
  50-80% in other studies (ch. 1) -> exploitation risk x3 with child-welfare history;
- LGBTQ youth are 20-40% of homeless youth and more than one in four homeless LGBTQ
  youth has been exploited (ch. 2) -> higher runaway and exploitation risk;
- victims are arrested under false names and adult ages (the thirteen-year-old arrested
  five times before anyone knew she was a minor, ch. 3) -> aliases and false ages in
  law-enforcement records;
- repeated STI testing, chronic truancy and running away are warning signs (app. A).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from tqdm import tqdm

from nowrongdoor.access.audit import record_event
from nowrongdoor.access.models import SharingAgreement
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.synth.models import TruthPerson, TruthRecord
from nowrongdoor.synth.names import BOYS, GIRLS, NICKNAMES, STREET_NAMES, SURNAMES, typo
from nowrongdoor.youth.models import Contact, SourceRecord, Youth
from nowrongdoor.youth.names import search_name

REFERENCE_DATE = dt.date(2026, 6, 30)
BATCH = 500
COUNTY_NAMES = ["Alder County (synthetic)", "Birch County (synthetic)", "Cedar County (synthetic)",
                "Dogwood County (synthetic)", "Elm County (synthetic)"]
AGENCIES: dict[str, list[str]] = {
    "child_welfare": ["Children and Family Services"],
    "probation": ["Probation Department"],
    "juvenile_court": ["Juvenile Court"],
    "law_enforcement": ["Sheriff's Office", "City Police Department"],
    "health": ["County Medical Center", "Teen Health Clinic"],
    "mental_health": ["Behavioral Health Services"],
    "education": ["Unified School District", "County Office of Education"],
    "community_provider": ["Youth Drop-In Center", "Survivor Advocacy Program"],
}
LOCAL_ID_PREFIX = {
    "child_welfare": "CWS", "probation": "PRB", "juvenile_court": "JUV", "law_enforcement": "LE",
    "health": "MRN", "mental_health": "BH", "education": "SID", "community_provider": "CBO",
}
RACE_WEIGHTS = {
    "hispanic_latino": 48, "white": 22, "black": 16, "asian": 7, "multiracial": 4,
    "american_indian_alaska_native": 2, "native_hawaiian_pacific_islander": 1,
}
# What each agency type shares with whom in the demo county, and why (legal basis).
DEMO_AGREEMENTS: list[tuple[str, str, list[str], list[str], str]] = [
    ("child_welfare", "probation", ["identity", "child_welfare", "screening", "case_notes"],
     ["screening", "case_coordination", "mdt"], "WIC827"),
    ("probation", "child_welfare", ["identity", "probation", "juvenile_court", "screening", "case_notes"],
     ["screening", "case_coordination", "mdt"], "WIC827"),
    ("law_enforcement", "child_welfare", ["identity", "law_enforcement"],
     ["screening", "case_coordination"], "WIC8279"),
    ("law_enforcement", "probation", ["identity", "law_enforcement"], ["screening", "case_coordination"], "WIC8279"),
    ("juvenile_court", "probation", ["identity", "juvenile_court"], ["screening", "case_coordination"], "WIC827"),
    ("juvenile_court", "child_welfare", ["identity", "juvenile_court"], ["case_coordination"], "WIC827"),
    ("health", "child_welfare", ["identity", "health"], ["case_coordination", "mdt"], "HIPAA"),
    ("mental_health", "child_welfare", ["identity", "mental_health"], ["case_coordination", "mdt"], "WIC5328"),
    ("education", "child_welfare", ["identity", "education"], ["case_coordination"], "FERPA"),
    ("education", "probation", ["identity", "education"], ["case_coordination"], "FERPA"),
    ("community_provider", "child_welfare", ["identity", "community_services"], ["case_coordination", "mdt"], "MOU"),
] + [
    # Research: the county's analysts sit in child welfare; probation, the court and the
    # police let them use their contacts for de-identified analysis (a research extract).
    ("probation", "child_welfare", ["probation", "screening"], ["analytics"], "WIC827"),
    ("juvenile_court", "child_welfare", ["juvenile_court"], ["analytics"], "WIC827"),
    ("law_enforcement", "child_welfare", ["law_enforcement"], ["analytics"], "WIC8279"),
] + [
    # The county's identity stewards sit in child welfare: every other agency shares
    # identity (names, dates of birth, ZIP) with it to decide possible matches, nothing else.
    (agency_type, "child_welfare", ["identity"], ["identity_resolution"], "MOU")
    for agency_type in ("probation", "juvenile_court", "law_enforcement", "health", "mental_health", "education",
                        "community_provider")
]


@dataclass
class PlannedContact:
    contact_type: str
    occurred_at: dt.datetime
    details: dict[str, Any]
    public_id: uuid.UUID


@dataclass
class PlannedRecord:
    agency_type: str
    agency_slot: int
    local_id: str
    first_name: str
    middle_name: str
    last_name: str
    aliases: list[str]
    date_of_birth: dt.date | None
    estimated_age: int | None
    age_recorded_on: dt.date | None
    sex: str
    gender_identity: str
    sexual_orientation: str
    race_ethnicity: str
    language: str
    residence_zip: str
    linked: bool
    noise: list[str]
    public_id: uuid.UUID
    unlinked_youth_id: uuid.UUID
    contacts: list[PlannedContact] = field(default_factory=list)


@dataclass
class PersonPlan:
    index: int
    county_slot: int
    sex: str
    birth_date: dt.date
    race_ethnicity: str
    lgbtq: bool
    child_welfare_history: bool
    exploited: bool
    exploitation_start: dt.date | None
    identified_on: dt.date | None
    youth_public_id: uuid.UUID
    records: list[PlannedRecord]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _moment(rng: random.Random, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), tzinfo=dt.UTC)


def plan_person(seed: int, index: int, counties: int = 1, routine: float = 0.0) -> PersonPlan:
    """Everything about synthetic child ``index`` of ``seed``: deterministic, no database.

    ``routine`` adds that many everyday contacts per youth on average (see
    ``_with_routine_contacts``); 0 leaves the plan exactly as without it."""
    rng = random.Random(f"nowrongdoor:{seed}:{index}")
    sex = "female" if rng.random() < 0.5 else "male"
    age_now_days = rng.randint(9 * 365, 20 * 365)
    birth = REFERENCE_DATE - dt.timedelta(days=age_now_days)
    race = rng.choices(list(RACE_WEIGHTS), weights=list(RACE_WEIGHTS.values()))[0]
    lgbtq = rng.random() < 0.11
    cw = rng.random() < (0.40 if race in {"black", "american_indian_alaska_native"} else 0.30)
    runaway_prone = rng.random() < (0.15 + 0.25 * lgbtq + 0.15 * cw)
    risk = 0.035 * (3.0 if cw else 1.0) * (2.0 if lgbtq and runaway_prone else 1.0) * (1.5 if runaway_prone else 1.0)
    exploited = rng.random() < min(risk, 0.6)
    onset_age = (rng.uniform(12, 15) if sex == "female" else rng.uniform(11, 14)) if rng.random() < 0.7 \
        else rng.uniform(14, 17.5)
    start = birth + dt.timedelta(days=int(onset_age * 365.25)) if exploited else None
    if start is not None and start >= REFERENCE_DATE:
        exploited, start = False, None
    identified = None
    if start is not None and rng.random() < (0.6 if sex == "female" else 0.25):
        found = start + dt.timedelta(days=rng.randint(120, 4 * 365))
        identified = found if found < REFERENCE_DATE else None

    county_slot = rng.randrange(counties)
    slots = {t: rng.randrange(len(names)) for t, names in AGENCIES.items()}
    first = rng.choice(GIRLS if sex == "female" else BOYS)
    middle = rng.choice(GIRLS if sex == "female" else BOYS) if rng.random() < 0.5 else ""
    last = rng.choice(SURNAMES)
    language = rng.choices(["en", "es", "vi", "zh", "other"], weights=[74, 20, 2, 2, 2])[0]
    zip_code = f"9{county_slot}{rng.randrange(100, 1000)}"
    if lgbtq:
        gender = rng.choice(["transgender_girl", "transgender_boy", "nonbinary", "questioning"]) \
            if rng.random() < 0.3 else ("girl" if sex == "female" else "boy")
        orientation = rng.choice(["lesbian_gay", "bisexual", "questioning"])
    else:
        gender, orientation = ("girl" if sex == "female" else "boy"), "heterosexual"

    events: dict[str, list[PlannedContact]] = {}

    def at_age(lo: float, hi: float) -> dt.date | None:
        day = birth + dt.timedelta(days=int(rng.uniform(lo, hi) * 365.25))
        return day if day < REFERENCE_DATE else None

    def add(agency_type: str, contact_type: str, day: dt.date | None, **details: Any) -> None:
        if day is None or day >= REFERENCE_DATE:
            return
        events.setdefault(agency_type, []).append(PlannedContact(contact_type, _moment(rng, day), details, _uuid(rng)))

    if cw:
        for _ in range(rng.randint(1, 4)):
            day = at_age(2, 15)
            allegations = [rng.choice(["general_neglect", "physical_abuse", "emotional_abuse", "caretaker_absence"])]
            if rng.random() < (0.6 if exploited else 0.25):
                allegations.append("sexual_abuse")
            add("child_welfare", "hotline_report", day, allegations=sorted(set(allegations)))
            if day:
                add("child_welfare", "investigation", day + dt.timedelta(days=rng.randint(1, 20)),
                    finding=rng.choice(["substantiated", "inconclusive", "unfounded"]))
        if rng.random() < 0.6:
            day = at_age(4, 15)
            add("child_welfare", "removal", day)
            moves = rng.randint(2, 8) if exploited else rng.randint(1, 5)
            while day is not None and moves > 0:
                add("child_welfare", "placement_start", day,
                    placement_type=rng.choice(["foster_family", "relative", "group_home", "emergency_shelter"]),
                    address=f"{rng.randint(100, 9999)} {rng.choice(SURNAMES)} St")
                end = day + dt.timedelta(days=rng.randint(30, 700))
                ran = runaway_prone and rng.random() < 0.5
                if ran:
                    add("child_welfare", "absence_start", end)
                    add("child_welfare", "absence_return", end + dt.timedelta(days=rng.randint(1, 30)))
                add("child_welfare", "placement_end", end, reason="ran_away" if ran else "moved")
                day = end + dt.timedelta(days=rng.randint(0, 40) if ran else 0)
                moves -= 1
    if start is not None:
        years_left = max(0.2, (REFERENCE_DATE - start).days / 365.25)
        for _ in range(rng.randint(1, 5)):
            day = start + dt.timedelta(days=int(rng.uniform(0.1, years_left) * 365.25))
            offence = "prostitution_related" if rng.random() < (0.55 if sex == "female" else 0.2) \
                else rng.choice(["theft", "drug", "loitering_intent", "runaway_status", "trespass"])
            add("law_enforcement", rng.choice(["arrest", "arrest", "citation"]), day, offence_category=offence)
            if rng.random() < 0.5:
                add("probation", "detention", day + dt.timedelta(days=1), offence_category=offence)
                add("probation", "probation_intake", day + dt.timedelta(days=2))
                add("juvenile_court", "court_hearing", day + dt.timedelta(days=rng.randint(2, 30)),
                    hearing_type=rng.choice(["detention", "jurisdiction", "disposition"]))
        for _ in range(rng.randint(1, 4)):
            add("health", "health_visit", start + dt.timedelta(days=int(rng.uniform(0.1, years_left) * 365.25)),
                reason="sti_testing")
        for _ in range(rng.randint(0, 5)):
            add("community_provider", "community_service_visit",
                start + dt.timedelta(days=int(rng.uniform(0.1, years_left) * 365.25)),
                service=rng.choice(["drop_in", "outreach", "shelter_night", "mentoring"]))
        if identified is not None:
            add("child_welfare", "hotline_report", identified, allegations=["sexual_exploitation"])
    elif rng.random() < 0.18:
        day = at_age(12, 18)
        offence = rng.choice(["theft", "drug", "assault", "curfew_status", "trespass"])
        add("law_enforcement", "arrest", day, offence_category=offence)
        if day and rng.random() < 0.4:
            add("probation", "probation_intake", day + dt.timedelta(days=3))
            add("juvenile_court", "court_hearing", day + dt.timedelta(days=20), hearing_type="jurisdiction")
    if rng.random() < (0.7 if exploited else 0.2):
        for _ in range(rng.randint(1, 3)):
            add("education", "school_event", at_age(10, 17), event="truancy")
    if rng.random() < 0.15:
        add("education", "school_event", at_age(11, 17), event=rng.choice(["suspension", "enrolment_change"]))
    if rng.random() < 0.45:
        add("health", "health_visit", at_age(5, 18), reason=rng.choice(["routine", "injury", "emergency"]))
    if rng.random() < (0.5 if exploited else 0.15):
        for _ in range(rng.randint(1, 4)):
            add("mental_health", "mental_health_visit", at_age(10, 18))
    if not events:
        add("education", "school_event", at_age(9, 17), event="enrolment_change")
        if not events:
            add("health", "health_visit", birth + dt.timedelta(days=rng.randint(30, 300)), reason="routine")

    records: list[PlannedRecord] = []
    for agency_type in sorted(events):
        contacts = sorted(events[agency_type], key=lambda c: c.occurred_at)
        noise: list[str] = []
        r_first, r_last = first, last
        r_dob: dt.date | None = birth
        aliases: list[str] = []
        if rng.random() < 0.15 and first in NICKNAMES:
            r_first = NICKNAMES[first]
            noise.append("nickname")
        if rng.random() < 0.08:
            r_last = typo(rng, r_last)
            noise.append("typo")
        if rng.random() < 0.05 and birth.day <= 12 and birth.day != birth.month:
            r_dob = dt.date(birth.year, birth.day, birth.month)
            noise.append("dob_day_month_swapped")
        if rng.random() < 0.05:
            r_last = f"{r_last}-{rng.choice(SURNAMES)}"
            noise.append("hyphenated_surname")
        estimated = None
        if agency_type in {"health", "community_provider"} and rng.random() < 0.05:
            estimated, r_dob = (contacts[0].occurred_at.date() - birth).days // 365, None
            noise.append("age_estimated")
        if exploited and agency_type == "community_provider" and rng.random() < 0.4:
            aliases.append(rng.choice(STREET_NAMES))
            noise.append("street_alias")
        sogi = agency_type in {"child_welfare", "health", "community_provider", "mental_health"} and rng.random() < 0.4
        always_linked = agency_type in {"child_welfare", "probation", "juvenile_court"}
        linked = always_linked or (len(noise) <= 1 and rng.random() < 0.8)
        first_day = contacts[0].occurred_at.date()
        records.append(PlannedRecord(
            agency_type=agency_type, agency_slot=slots[agency_type],
            local_id=f"{LOCAL_ID_PREFIX[agency_type]}-{seed}-{index:07d}",
            first_name=r_first, middle_name=middle if rng.random() < 0.6 else "", last_name=r_last,
            aliases=aliases, date_of_birth=r_dob, estimated_age=estimated,
            age_recorded_on=first_day if estimated is not None else None,
            sex=sex, gender_identity=gender if sogi else "", sexual_orientation=orientation if sogi else "",
            race_ethnicity=race if rng.random() < 0.9 else "unknown",
            language=language if rng.random() < 0.8 else "", residence_zip=zip_code if rng.random() < 0.7 else "",
            linked=linked, noise=noise, public_id=_uuid(rng), unlinked_youth_id=_uuid(rng), contacts=contacts,
        ))
    # Arrested under a false name and an adult age: a second, unlinked police record.
    police = sorted(
        (c for c in events.get("law_enforcement", []) if c.details.get("offence_category") == "prostitution_related"),
        key=lambda c: c.occurred_at,
    )
    if police and rng.random() < 0.5:
        false_age = rng.choice([18, 18, 19, 21])
        moved = police[len(police) // 2:]
        for record in records:
            if record.agency_type == "law_enforcement":
                record.contacts = [c for c in record.contacts if c not in moved]
        records = [r for r in records if r.contacts]
        records.append(PlannedRecord(
            agency_type="law_enforcement", agency_slot=(slots["law_enforcement"] + 1) % 2,
            local_id=f"LE-{seed}-{index:07d}-A", first_name=rng.choice(GIRLS if sex == "female" else BOYS),
            middle_name="", last_name=rng.choice(SURNAMES), aliases=[rng.choice(STREET_NAMES)],
            date_of_birth=None, estimated_age=false_age, age_recorded_on=moved[0].occurred_at.date(),
            sex=sex, gender_identity="", sexual_orientation="", race_ethnicity=race, language="",
            residence_zip="", linked=False, noise=["false_name", "false_age"], public_id=_uuid(rng),
            unlinked_youth_id=_uuid(rng), contacts=moved,
        ))
    for record in records:
        if record.agency_type == "child_welfare":
            record.contacts = _with_service_episodes(record.contacts, random.Random(f"nowrongdoor:{seed}:{index}:cw"))
    if routine > 0:
        _with_routine_contacts(records, birth, routine, random.Random(f"nowrongdoor:{seed}:{index}:routine"))
    return PersonPlan(
        index=index, county_slot=county_slot, sex=sex, birth_date=birth, race_ethnicity=race, lgbtq=lgbtq,
        child_welfare_history=cw, exploited=exploited, exploitation_start=start, identified_on=identified,
        youth_public_id=_uuid(rng), records=records,
    )


PERMANENCY_AFTER = dt.timedelta(days=548)  # reunification services run about 18 months


def _with_service_episodes(contacts: list[PlannedContact], rng: random.Random) -> list[PlannedContact]:
    """Child-welfare service episodes by programme component, following the record's
    events: a report opens emergency response; a substantiated investigation without a
    removal, family maintenance; a removal, family reunification; a youth still in care
    18 months after removal, permanent placement. Drawn from their own random stream, so
    every other planned value is the same with or without them."""
    added: list[PlannedContact] = []
    removals = [c for c in contacts if c.contact_type == "removal"]

    def episode(component: str, at: dt.datetime) -> None:
        if at.date() < REFERENCE_DATE:
            added.append(PlannedContact("cw_service", at + dt.timedelta(hours=1), {"component": component},
                                        _uuid(rng)))

    for contact in contacts:
        if contact.contact_type == "hotline_report":
            episode("emergency_response", contact.occurred_at)
        elif contact.contact_type == "investigation" and contact.details.get("finding") == "substantiated" \
                and not removals:
            episode("family_maintenance", contact.occurred_at + dt.timedelta(days=7))
        elif contact.contact_type == "removal":
            episode("family_reunification", contact.occurred_at)
            later = [c for c in contacts if c.contact_type == "placement_start"
                     and c.occurred_at >= contact.occurred_at + PERMANENCY_AFTER]
            if later:
                episode("permanent_placement", contact.occurred_at + PERMANENCY_AFTER)
    return sorted([*contacts, *added], key=lambda c: c.occurred_at)


ROUTINE = {  # everyday contacts that neither identify nor flag a youth, by agency type
    "health": ("health_visit", {"reason": "routine"}),
    "mental_health": ("mental_health_visit", {}),
    "education": ("school_event", {"event": "enrolment_change"}),
    "community_provider": ("community_service_visit", {"service": "drop_in"}),
}


def _with_routine_contacts(records: list[PlannedRecord], birth: dt.date, mean: float, rng: random.Random) -> None:
    """Everyday contacts on the youth's health, mental-health, school and community
    records (a youth with none of those gets none): volume for scale benchmarks that
    changes no measure's count. Drawn from their own random stream."""
    eligible = [r for r in records if r.agency_type in ROUTINE]
    if not eligible:
        return
    for _ in range(rng.randint(0, round(2 * mean))):
        record = rng.choice(eligible)
        day = birth + dt.timedelta(days=int(rng.uniform(6, 18) * 365.25))
        if day >= REFERENCE_DATE:
            continue
        contact_type, details = ROUTINE[record.agency_type]
        record.contacts.append(PlannedContact(contact_type, _moment(rng, day), dict(details), _uuid(rng)))
    for record in eligible:
        record.contacts.sort(key=lambda c: c.occurred_at)


@dataclass(frozen=True)
class SynthResult:
    persons: int
    created: int
    source_records: int
    contacts: int


PURPOSE_TITLES: dict[tuple[str, ...], str] = {
    ("identity_resolution",): " (identity resolution)", ("analytics",): " (research)"}


def ensure_directory(counties: int) -> tuple[list[County], dict[tuple[int, str, int], Agency], User]:
    """Counties, agencies of every type, a loader account and the demo sharing agreements."""
    from nowrongdoor.access.services import create_agreement

    loader, _ = User.objects.get_or_create(
        username="synthetic-loader",
        defaults={"role": "system_admin", "is_service_account": True, "first_name": "Synthetic data loader"},
    )
    result_counties: list[County] = []
    agencies: dict[tuple[int, str, int], Agency] = {}
    for slot in range(counties):
        county, _ = County.objects.get_or_create(name=COUNTY_NAMES[slot % len(COUNTY_NAMES)])
        result_counties.append(county)
        short = county.name.split(" County")[0]
        for agency_type, names in AGENCIES.items():
            for i, name in enumerate(names):
                agency, _ = Agency.objects.get_or_create(
                    county=county, name=f"{short} {name}", defaults={"agency_type": agency_type}
                )
                agencies[(slot, agency_type, i)] = agency
        for discloser, recipient, categories, purposes, basis in DEMO_AGREEMENTS:
            title = f"{short} County CSEC protocol: {discloser} to {recipient}" + PURPOSE_TITLES.get(
                tuple(purposes), "")
            if not SharingAgreement.objects.filter(title=title).exists():
                create_agreement(
                    actor=loader, county=county, title=title, discloser=discloser, recipient=recipient,
                    categories=categories, purposes=purposes, legal_basis_code=basis,
                    legal_basis_text="Synthetic demo agreement", valid_from=dt.date(2024, 1, 1),
                )
    return result_counties, agencies, loader


def _write_batch(plans: list[PersonPlan], seed: int, agencies: dict[tuple[int, str, int], Agency],
                 counties: list[County], loader: User) -> tuple[int, int]:
    youth_rows: list[Youth] = []
    record_rows: list[SourceRecord] = []
    record_youth: list[Youth] = []
    for plan in plans:
        first_seen = min(r.contacts[0].occurred_at for r in plan.records)
        primary = Youth(public_id=plan.youth_public_id, created_at=first_seen)
        youth_rows.append(primary)
        for rec in plan.records:
            youth = primary
            if not rec.linked:
                youth = Youth(public_id=rec.unlinked_youth_id, created_at=rec.contacts[0].occurred_at)
                youth_rows.append(youth)
            record_youth.append(youth)
    Youth.objects.bulk_create(youth_rows, batch_size=1000)
    i = 0
    for plan in plans:
        county = counties[plan.county_slot]
        for rec in plan.records:
            youth = record_youth[i]
            i += 1
            record_rows.append(SourceRecord(
                public_id=rec.public_id, youth_id=youth.pk,
                agency=agencies[(plan.county_slot, rec.agency_type, rec.agency_slot)],
                local_id=rec.local_id, first_name=rec.first_name, middle_name=rec.middle_name,
                last_name=rec.last_name, aliases=rec.aliases,
                search_name=search_name([rec.first_name, rec.middle_name, rec.last_name, *rec.aliases]),
                date_of_birth=rec.date_of_birth, estimated_age=rec.estimated_age,
                age_recorded_on=rec.age_recorded_on, sex=rec.sex, gender_identity=rec.gender_identity,
                sexual_orientation=rec.sexual_orientation, race_ethnicity=rec.race_ethnicity,
                language=rec.language, residence_county=county if rec.residence_zip else None,
                residence_zip=rec.residence_zip, recorded_at=rec.contacts[0].occurred_at, created_by=loader,
            ))
    SourceRecord.objects.bulk_create(record_rows, batch_size=1000)
    contact_rows: list[Contact] = []
    truth_people = [
        TruthPerson(seed=seed, index=p.index, sex=p.sex, birth_date=p.birth_date, race_ethnicity=p.race_ethnicity,
                    lgbtq=p.lgbtq, child_welfare_history=p.child_welfare_history, exploited=p.exploited,
                    exploitation_start=p.exploitation_start, identified_on=p.identified_on)
        for p in plans
    ]
    TruthPerson.objects.bulk_create(truth_people, batch_size=1000)
    truth_records: list[TruthRecord] = []
    i = 0
    from nowrongdoor.dictionary import vocabulary

    category = {code: vocabulary().contact_type(code).category for code in vocabulary().contact_types}
    for plan, person in zip(plans, truth_people, strict=True):
        for rec in plan.records:
            row = record_rows[i]
            i += 1
            truth_records.append(TruthRecord(person=person, source_record_id=row.pk, noise=rec.noise))
            for c in rec.contacts:
                contact_rows.append(Contact(
                    public_id=c.public_id, youth_id=row.youth_id, source_record_id=row.pk, agency_id=row.agency_id,
                    contact_type=c.contact_type, category=category[c.contact_type], occurred_at=c.occurred_at,
                    details=c.details, recorded_at=c.occurred_at + dt.timedelta(hours=2), created_by=loader,
                ))
    Contact.objects.bulk_create(contact_rows, batch_size=2000)
    TruthRecord.objects.bulk_create(truth_records, batch_size=2000)
    return len(record_rows), len(contact_rows)


def _batches(start: int, stop: int) -> Iterator[range]:
    for lo in range(start, stop, BATCH):
        yield range(lo, min(lo + BATCH, stop))


def generate(*, youth: int, seed: int, counties: int = 1, progress: bool = False,
             routine: float = 0.0) -> SynthResult:
    """Generate ``youth`` synthetic children for ``seed``; resumes, never duplicates.
    ``routine``: everyday contacts per youth on average (for scale benchmarks)."""
    if youth < 0 or counties < 1:
        raise ValueError("youth must be >= 0 and counties >= 1")
    county_list, agencies, loader = ensure_directory(counties)
    done = TruthPerson.objects.filter(seed=seed).aggregate(m=Max("index"))["m"]
    start = 0 if done is None else done + 1
    created = 0
    with tqdm(total=youth, initial=min(start, youth), unit="youth", desc="Synthetic county",
              disable=not progress) as bar:
        for batch in _batches(start, youth):
            plans = [plan_person(seed, i, counties, routine) for i in batch]
            with transaction.atomic():
                n_records, n_contacts = _write_batch(plans, seed, agencies, county_list, loader)
                record_event(actor=loader, action="synthetic_generated",
                             detail={"seed": seed, "from": batch.start, "to": batch.stop - 1,
                                     "records": n_records, "contacts": n_contacts})
            created += len(plans)
            bar.update(len(plans))
    return SynthResult(
        persons=TruthPerson.objects.filter(seed=seed).count(), created=created,
        source_records=SourceRecord.objects.count(), contacts=Contact.objects.count(),
    )
