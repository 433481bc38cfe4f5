"""Synthetic training records for the demo: a few synthetic staff in every agency of
the demo county, certificates for them and the demo accounts (most current, some
expiring within the reminder window, some expired or never taken), and certificates
for the caregivers of the placement resources marked CSEC-trained, so that the
resources' flag follows their caregivers' training from then on. Recorded through the
training services; every name is invented."""

from __future__ import annotations

import datetime as dt
import random

from nowrongdoor import clock
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.placements.models import Caregiver
from nowrongdoor.synth.names import BOYS, GIRLS, SURNAMES
from nowrongdoor.training.catalogue import catalogue
from nowrongdoor.training.models import Completion
from nowrongdoor.training.selectors import required_of
from nowrongdoor.training.services import _create_completion, open_renewals, sync_resource_training

ROLES_BY_AGENCY_TYPE = {
    "child_welfare": ["case_manager", "case_manager", "screener", "supervisor", "placement_worker"],
    "probation": ["screener", "screener", "case_manager", "supervisor"],
    "law_enforcement": ["screener", "screener", "supervisor"],
    "health": ["screener", "screener", "case_manager"],
    "mental_health": ["case_manager", "screener"],
    "education": ["screener", "screener", "case_manager"],
    "community_provider": ["case_manager", "screener", "mdt_coordinator"],
    "juvenile_court": ["case_manager", "supervisor"],
}


def _completed_on(rng: random.Random, course: str, today: dt.date) -> dt.date | None:
    """A completion date: mostly well inside the renewal period, some close to its end
    (expiring soon), some past it (expired), some never taken (None)."""
    months = catalogue().courses[course].renewal_months or 36
    roll = rng.random()
    if roll < 0.10:
        return None
    if roll < 0.20:
        return today - dt.timedelta(days=int(months * 30.44) + rng.randint(10, 200))  # expired
    if roll < 0.32:
        return today - dt.timedelta(days=int(months * 30.44) - rng.randint(5, 50))  # expiring
    return today - dt.timedelta(days=rng.randint(20, int(months * 30.44) - 80))


def seed_training(seed: int = 2013) -> int:
    """Once per installation (nothing happens when completions exist). Returns the
    number of completions recorded."""
    if Completion.objects.exists():
        return 0
    system = User.objects.filter(role="system_admin", is_active=True).order_by("pk").first()
    if system is None:
        return 0
    rng = random.Random(f"nowrongdoor-training-{seed}")
    today = clock.today()
    joined = clock.now() - dt.timedelta(days=400)
    for agency in Agency.objects.order_by("pk"):
        for i, role in enumerate(ROLES_BY_AGENCY_TYPE.get(agency.agency_type, [])):
            first = rng.choice(GIRLS if rng.random() < 0.6 else BOYS)
            User.objects.get_or_create(
                username=f"staff.{agency.pk}.{i + 1}",
                defaults={"agency": agency, "role": role, "first_name": first,
                          "last_name": f"{rng.choice(SURNAMES)} (synthetic)", "date_joined": joined})
    User.objects.filter(is_service_account=False, date_joined__gt=joined).update(date_joined=joined)
    recorded = 0
    people: list[User | Caregiver] = list(User.objects.filter(is_active=True, is_service_account=False,
                                                              agency__isnull=False).select_related("agency")
                                          .order_by("username"))
    for person in people:
        for course in required_of(person):
            day = _completed_on(rng, course, today)
            if day is not None:
                _create_completion(actor=system, person=person, course=course, completed_on=day,
                                   certificate=f"SYN-{rng.randrange(10**6):06d}", source=Completion.RECORDED)
                recorded += 1
    for caregiver in Caregiver.objects.filter(resource__csec_trained=True).select_related("resource").order_by("pk"):
        for course in required_of(caregiver):
            day = today - dt.timedelta(days=rng.randint(20, 300))
            _create_completion(actor=system, person=caregiver, course=course, completed_on=day,
                               certificate=f"SYN-{rng.randrange(10**6):06d}", source=Completion.RECORDED)
            recorded += 1
    open_renewals(system=system)
    sync_resource_training()
    return recorded
