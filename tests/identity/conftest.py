"""A small synthetic county for the identity-resolution tests in the platform.

- Agencies: child welfare (``cws``, where the county's identity steward sits), police
  (``police``), a clinic (``clinic``) and a community provider holding a **background**
  of 200 synthetic youth, one record each (generator names, so name frequencies are
  realistic and a rare invented name weighs as it would in a real county).
- People: an identity steward at child welfare, a system administrator, and one screener
  per agency who "entered" that agency's records.
- ``record(...)`` writes one agency's record of a youth, with its own new youth, straight
  to the database as an extract load would: exactly the fields a case needs and nothing
  else (``test_platform_linkage`` also merges youth made through the services). Every
  name used with it is invented (``Quenby Marlowitz``...) or from the synthetic
  generator's name pools; ``contact(...)`` adds one of that agency's events to it.
- ``share(...)`` records a sharing agreement through the real service (by default:
  identity, for identity resolution, to child welfare).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.services import create_agreement
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.identity import services
from nowrongdoor.identity.models import LinkageRun, PairReview
from nowrongdoor.synth.generator import plan_person
from nowrongdoor.youth.models import Contact, SourceRecord, Youth
from nowrongdoor.youth.names import search_name

BACKGROUND = 200
BACKGROUND_SEED = 4242
_local = itertools.count(1)


@dataclass
class IdentityWorld:
    county: County
    cws: Agency
    police: Agency
    clinic: Agency
    community: Agency
    steward: User
    admin: User
    clerks: dict[int, User] = field(default_factory=dict)

    def record(self, agency: Agency, first: str, last: str, dob: dt.date | None = None, **fields: Any
               ) -> SourceRecord:
        now = clock.now()
        youth = Youth.objects.create(created_at=now)
        fields.setdefault("sex", "female")
        return SourceRecord.objects.create(
            youth=youth, agency=agency, local_id=f"{agency.agency_type[:3].upper()}-{next(_local)}",
            first_name=first, last_name=last, search_name=search_name([first, last, *fields.get("aliases", [])]),
            date_of_birth=dob, recorded_at=now, created_by=self.clerks[agency.pk], **fields)

    def contact(self, record: SourceRecord, contact_type: str, days_ago: int = 30, **details: Any) -> Contact:
        record.refresh_from_db()
        return Contact.objects.create(
            youth_id=record.youth_id, source_record=record, agency_id=record.agency_id, contact_type=contact_type,
            category=vocabulary().contact_type(contact_type).category,
            occurred_at=clock.now() - dt.timedelta(days=days_ago), details=details, recorded_at=clock.now(),
            created_by=self.clerks[record.agency_id])

    def share(self, discloser: Agency | str, recipient: Agency | str | None = None, *,
              purposes: tuple[str, ...] = (services.PURPOSE,), categories: tuple[str, ...] = ("identity",),
              valid_from: dt.date | None = None, valid_to: dt.date | None = None) -> Any:
        return create_agreement(
            actor=self.admin, county=self.county, title=f"Synthetic agreement {next(_local)}", discloser=discloser,
            recipient=recipient or self.cws, categories=list(categories), purposes=list(purposes),
            legal_basis_code="MOU", valid_from=valid_from or clock.today() - dt.timedelta(days=30),
            valid_to=valid_to)

    def run(self, *, full: bool = False, actor: User | None = None) -> LinkageRun:
        return services.run_linkage(actor=actor or self.steward, full=full)

    def review(self, a: SourceRecord, b: SourceRecord) -> PairReview:
        left, right = sorted((a.pk, b.pk))
        return PairReview.objects.get(record_l_id=left, record_r_id=right)


def _background(agency: Agency, clerk: User) -> None:
    now = clock.now()
    youth = Youth.objects.bulk_create([Youth(created_at=now) for _ in range(BACKGROUND)])
    rows = []
    for i, y in enumerate(youth):
        p = plan_person(BACKGROUND_SEED, i).records[0]
        rows.append(SourceRecord(
            youth=y, agency=agency, local_id=f"BG-{i}", first_name=p.first_name, middle_name=p.middle_name,
            last_name=p.last_name, aliases=p.aliases, search_name=search_name([p.first_name, p.last_name]),
            date_of_birth=p.date_of_birth, estimated_age=p.estimated_age, age_recorded_on=p.age_recorded_on,
            sex=p.sex, residence_zip=p.residence_zip, recorded_at=now, created_by=clerk))
    SourceRecord.objects.bulk_create(rows)


@pytest.fixture
def world(county: County, make_agency: Callable[..., Agency], make_user: Callable[..., User]) -> IdentityWorld:
    cws, police = make_agency("child_welfare"), make_agency("law_enforcement")
    clinic, community = make_agency("health"), make_agency("community_provider")
    w = IdentityWorld(county=county, cws=cws, police=police, clinic=clinic, community=community,
                      steward=make_user("identity_steward", cws), admin=make_user("system_admin", None))
    w.clerks = {a.pk: make_user("screener", a) for a in (cws, police, clinic, community)}
    _background(community, w.clerks[community.pk])
    return w
