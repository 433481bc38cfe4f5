"""Demo accounts: one per role, in the synthetic county, with passwords kept on disk.

Passwords are random per installation, written to ``<data dir>/demo-accounts.json``
(mode 0600) and printed by ``nowrongdoor demo``. Never used outside the demo.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from nowrongdoor.directory.models import Agency, User

# username, role, agency type, agency name fragment, description
DEMO_ACCOUNTS = [
    ("probation.screener", "screener", "probation", "Probation", "Probation intake screener"),
    ("cws.casemanager", "case_manager", "child_welfare", "Children and Family", "Child-welfare case manager"),
    ("cws.placement", "placement_worker", "child_welfare", "Children and Family", "Placement worker (child welfare)"),
    ("cws.mdt", "mdt_coordinator", "child_welfare", "Children and Family", "MDT coordinator (child welfare)"),
    ("probation.supervisor", "supervisor", "probation", "Probation", "Probation supervisor"),
    ("probation.admin", "agency_admin", "probation", "Probation", "Agency administrator (probation)"),
    ("clinic.screener", "screener", "health", "Teen Health", "Teen-clinic nurse screener"),
    ("county.steward", "identity_steward", "child_welfare", "Children and Family",
     "Identity steward (decides possible matches)"),
    ("county.analyst", "analyst", "child_welfare", "Children and Family", "County analyst (Data: this county)"),
    ("state.analyst", "state_analyst", "child_welfare", "Children and Family",
     "State analyst (Data: every county and where prevention is most needed)"),
    ("county.training", "training_coordinator", "child_welfare", "Children and Family",
     "County training coordinator (staff training compliance across the county)"),
    ("committee.member", "oversight_member", "child_welfare", "Children and Family",
     "Oversight committee member (the report's recommendations)"),
    ("system.admin", "system_admin", "child_welfare", "Children and Family", "System administrator"),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    description: str


def ensure_demo_accounts() -> list[DemoAccount]:
    path = settings.DATA_DIR / "demo-accounts.json"
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    accounts = []
    supervisor = None
    for username, role, agency_type, fragment, description in DEMO_ACCOUNTS:
        agency = Agency.objects.filter(agency_type=agency_type, name__contains=fragment).order_by("pk").first()
        password = passwords.get(username) or f"demo-{secrets.token_hex(6)}"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "agency": agency, "first_name": description, "is_staff": role == "system_admin",
                      "is_superuser": role == "system_admin"},
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        passwords[username] = password
        if role == "supervisor":
            supervisor = user
        accounts.append(DemoAccount(username, password, description))
    if supervisor is not None:
        User.objects.filter(username="probation.screener", supervisor__isnull=True).update(supervisor=supervisor)
    path.touch(mode=0o600)
    path.write_text(json.dumps(passwords, indent=2))
    return accounts


# (demo account, contact type, details, hours ago): a few fresh synthetic events so that
# "My work" and the supervisor's board have live tasks, some already overdue.
RECENT_ACTIVITY: list[tuple[str, str, dict[str, Any], int]] = [
    ("cws.casemanager", "absence_start", {}, 30),
    ("cws.casemanager", "absence_return", {}, 20),
    ("probation.screener", "detention", {"offence_category": "prostitution_related"}, 2),
    ("cws.casemanager", "hotline_report", {"allegations": ["sexual_exploitation"]}, 1),
]


def seed_recent_activity() -> int:
    """Record the recent events above through the real services (so the response
    protocols open their tasks), once per installation, then run the tick. Returns the
    number of events recorded."""
    from nowrongdoor import clock
    from nowrongdoor.protocols.services import tick
    from nowrongdoor.youth.models import Contact, SourceRecord
    from nowrongdoor.youth.services import create_contact

    if Contact.objects.filter(local_id__startswith="DEMO-").exists():
        return 0
    recorded = 0
    used: set[int] = set()
    for n, (username, contact_type, details, hours_ago) in enumerate(RECENT_ACTIVITY):
        actor = User.objects.filter(username=username).first()
        if actor is None or actor.agency_id is None:
            continue
        record = (SourceRecord.objects.filter(agency_id=actor.agency_id).exclude(youth_id__in=used)
                  .order_by("-pk").first())
        if record is None:
            continue
        used.add(record.youth_id)
        create_contact(actor=actor, source_record_public_id=str(record.public_id), contact_type=contact_type,
                       occurred_at=clock.now() - dt.timedelta(hours=hours_ago), details=details,
                       local_id=f"DEMO-{n + 1}")
        recorded += 1
    tick()
    return recorded


def ensure_provider_profiles() -> int:
    """Synthetic provider profiles for the county's community programmes and clinics, so
    the demo's referral form has providers with openings. Returns how many were made."""
    from nowrongdoor.directory.models import ProviderProfile

    offers = {
        "community_provider": {"services": ["emergency_shelter", "mentoring", "survivor_led", "housing"],
                                   "populations": ["girls", "boys", "lgbtq"], "languages": ["en", "es"],
                                   "csec_specialised": True, "capacity": 8, "openings": 3},
        "health": {"services": ["medical", "mental_health"], "populations": ["girls", "boys", "lgbtq"],
                       "languages": ["en", "es"], "csec_specialised": False, "capacity": 20, "openings": 5},
        "mental_health": {"services": ["mental_health", "substance_use"], "populations": ["girls", "boys"],
                              "languages": ["en"], "csec_specialised": True, "capacity": 10, "openings": 1},
    }
    made = 0
    for agency in Agency.objects.filter(agency_type__in=list(offers), provider__isnull=True):
        ProviderProfile.objects.create(agency=agency, **offers[agency.agency_type])  # type: ignore[arg-type]
        made += 1
    return made


# What each kind of demo agency tells the public it can be called for, on the public
# resource pages. The numbers are in the 555-01xx range, which is reserved for fiction.
PUBLIC_HELP = {
    "child_welfare": "Child abuse hotline: report a worry about a child, day or night",
    "law_enforcement": "Non-emergency line (call 911 in an emergency)",
    "health": "Teen health: private care and tests, and someone to talk to",
    "mental_health": "Crisis and counseling line",
    "community_provider": "Drop-in help for young people: food, a safe place, an advocate",
}


def ensure_public_contacts() -> int:
    """Give each demo agency of a kind in ``PUBLIC_HELP`` a synthetic public number (once)."""
    changed = 0
    for i, agency in enumerate(Agency.objects.filter(agency_type__in=PUBLIC_HELP, public_phone="").order_by("pk")):
        agency.public_phone = f"(555) 01{i % 100:02d}-{1000 + agency.pk % 9000:04d}"[:40]
        agency.public_help = PUBLIC_HELP[agency.agency_type]
        agency.save(update_fields=["public_phone", "public_help"])
        changed += 1
    return changed


def seed_oversight() -> bool:
    """Once: a little synthetic progress on the tracker, recorded through the services
    (the four priority initiatives under way, one data recommendation done)."""
    from nowrongdoor import clock
    from nowrongdoor.oversight import services
    from nowrongdoor.oversight.models import Progress

    member = User.objects.filter(username="committee.member").first()
    if member is None or Progress.objects.exists():
        return False
    today = clock.today()
    lead = Agency.objects.filter(agency_type="child_welfare").order_by("pk").first()
    for code, status, owner in [("PI-1", "in_progress", "Placement work group (synthetic)"),
                                ("PI-2", "in_progress", "Screening work group (synthetic)"),
                                ("PI-3", "in_progress", "Training work group (synthetic)"),
                                ("PI-4", "in_progress", "Data work group (synthetic)"),
                                ("D4", "done", "County child-welfare data team (synthetic)")]:
        services.update_progress(actor=member, code=code, expected_version=1, status=status, owner=owner,
                                 lead_agency_id=lead.pk if lead else None)
    services.add_milestone(actor=member, code="PI-3", title="Every screener trained (synthetic milestone)",
                           due_on=today + dt.timedelta(days=45))
    services.add_milestone(actor=member, code="PI-1", title="Ten emergency beds for victims (synthetic milestone)",
                           due_on=today - dt.timedelta(days=10))
    services.add_evidence(actor=member, code="D4", title="Report counting CSEC allegations (synthetic)",
                          url="https://example.org/synthetic/csec-allegation-counts")
    return True


def seed_prevention() -> bool:
    """Once: a synthetic group of My Life My Choice run by child welfare in a group home,
    with four girls of 12 to 16 enrolled and three sessions held, through the services."""
    from nowrongdoor import clock
    from nowrongdoor.prevention import services
    from nowrongdoor.prevention.models import Cohort
    from nowrongdoor.youth.models import SourceRecord

    worker = User.objects.filter(username="cws.casemanager").first()
    if worker is None or worker.agency_id is None or Cohort.objects.exists():
        return False
    today = clock.today()
    start = today - dt.timedelta(days=21)
    cohort = services.create_cohort(actor=worker, programme="my_life_my_choice", setting="group_home",
                                    name="Autumn group, Willow group home (synthetic)", starts_on=start,
                                    facilitator="A clinician and a survivor mentor (synthetic)")
    girls = (SourceRecord.objects.filter(agency_id=worker.agency_id, sex="female",
                                         date_of_birth__gt=today.replace(year=today.year - 17),
                                         date_of_birth__lte=today.replace(year=today.year - 12))
             .order_by("pk")[:4])
    enrolments = [services.enrol(actor=worker, cohort_public_id=str(cohort.public_id),
                                 youth_public_id=str(r.youth.public_id), consent_on=start, consent_by="both")
                  for r in girls]
    for session in (1, 2, 3):
        came = {str(e.public_id): True for i, e in enumerate(enrolments) if (i + session) % 4}
        services.record_attendance(actor=worker, cohort_public_id=str(cohort.public_id), session=session,
                                   held_on=start + dt.timedelta(days=7 * (session - 1)), present=came)
    return True


# One synthetic girl known to two agencies: the same common name, the day and month of
# her birth swapped on the clinic's record, a ZIP code in another county there (she
# moved). The shipped model scores such a pair in the review band (0.895 in the demo: two girls
# of that name born in one year are not rare), so a steward has a possible match to
# decide (tests/synth/test_demo_identity.py checks that it does).
IDENTITY_STORY = (
    ("probation.screener", "DEMO-ID-1", dt.date(2011, 2, 5), "96123"),
    ("clinic.screener", "DEMO-ID-2", dt.date(2011, 5, 2), "95010"),
)


def seed_identity_story() -> bool:
    """Record the two records above through the real service, once per installation."""
    from nowrongdoor.youth.models import SourceRecord
    from nowrongdoor.youth.services import create_source_record

    if SourceRecord.objects.filter(local_id__startswith="DEMO-ID-").exists():
        return False
    for username, local_id, born, postcode in IDENTITY_STORY:
        actor = User.objects.filter(username=username).first()
        if actor is None:
            return False
        create_source_record(actor=actor, local_id=local_id, first_name="Maria", last_name="Garcia",
                             date_of_birth=born, sex="female", residence_zip=postcode)
    return True
