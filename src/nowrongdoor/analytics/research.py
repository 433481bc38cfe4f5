"""The de-identified research extract: one row per youth and per event, for analysts
whose agency may use the data for analytics (its own data, and other agencies' under a
sharing agreement that names the analytics purpose and the category; consent where the
category needs it).

What it holds, and what it never does:

- **No names, no birth dates, no addresses, no ZIP codes, no free text, no agency or
  platform ids.** A youth is a *research id*: a keyed hash of the platform's id under a
  key drawn for this extract and never stored, so two extracts cannot be joined with
  each other or traced back to the platform.
- **Dates are shifted per youth**: every date of one youth moves by the same number of
  days (between -182 and +182, drawn from the same key), so intervals (days from a
  report to a placement, from the first contact to identification) are exact while no
  date is a real one. Ages are in whole years at the real date.
- **Geography is coarsened to the county.** Sex and race/ethnicity are kept (derived,
  de-identified); sexual orientation and gender identity never are: they need the
  youth's consent for each use and the analytics purpose does not include them.
- **Only what the access rule lets the analyst's agency read for analytics** is in it:
  the events are read through ``access`` (``AccessContext.readable``), and a youth is in
  the extract only through an event or screening that may be read.

Every extract is audited with its counts per disclosing agency (never ids of youth).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import secrets
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import context
from nowrongdoor.analytics.disclosure import neutralise
from nowrongdoor.analytics.selectors import PURPOSE, scope_of
from nowrongdoor.analytics.snapshot import DETAIL_FIELDS
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import ValidationFailed
from nowrongdoor.screening.models import Screening
from nowrongdoor.youth.models import Contact, SourceRecord

SHIFT_DAYS = 182
CHUNK = 5000
# A contact's coded details by column. ``reason`` means a placement's end on a placement
# end and the visit's reason on a health visit: each goes to its own column.
DETAIL_COLUMNS: dict[str, tuple[str, str | None]] = {
    **{column: (key, None) for column, key in DETAIL_FIELDS.items() if column != "placement_end_reason"},
    "placement_end_reason": ("reason", "placement_end"), "health_visit_reason": ("reason", "health_visit")}
EVENT_COLUMNS = ["research_id", "day", "age", "contact_type", "category", "agency_type", "agency_county",
                 *DETAIL_COLUMNS, "allegations"]
SCREENING_COLUMNS = ["research_id", "day", "age", "setting", "level", "agency_type", "agency_county"]
YOUTH_COLUMNS = ["research_id", "sex", "race_ethnicity", "county", "first_day", "age_at_first", "events",
                 "screenings"]


class Pseudonyms:
    """Research ids and date shifts under one extract's key (never stored)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _digest(self, purpose: bytes, youth_id: int) -> bytes:
        return hmac.new(self._key, purpose + b":" + str(youth_id).encode(), hashlib.sha256).digest()

    def research_id(self, youth_id: int) -> str:
        return "R" + self._digest(b"id", youth_id).hex()[:15]

    def shift(self, youth_id: int) -> int:
        return int.from_bytes(self._digest(b"shift", youth_id)[:4], "big") % (2 * SHIFT_DAYS + 1) - SHIFT_DAYS


@dataclass
class _Youth:
    sex: Counter[str]
    race: Counter[str]
    county: Counter[str]
    birth: dt.date | None
    first: dt.date | None = None
    events: int = 0
    screenings: int = 0


@dataclass(frozen=True)
class Extract:
    body: bytes  # a zip of youth.csv, events.csv, screenings.csv, README.txt
    youth: int
    events: int
    screenings: int
    by_agency: dict[int, int]


def _age(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _local_day(moment: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def _csv(columns: list[str], rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def research_extract(*, actor: User, year_from: int, year_to: int, key: bytes | None = None) -> Extract:
    """The de-identified extract of events in ``year_from``..``year_to`` (see the module
    docstring). ``key`` is for tests only: by default each extract draws its own."""
    this_year = clock.today().year
    errors: dict[str, list[str]] = {}
    if not 1990 <= year_from <= this_year:
        errors["year_from"] = [f"a year from 1990 to {this_year}"]
    if not 1990 <= year_to <= this_year:
        errors["year_to"] = [f"a year from 1990 to {this_year}"]
    if not errors and year_from > year_to:
        errors["year_from"] = ["the first year may not be after the last"]
    if errors:
        raise ValidationFailed(errors)
    scope_of(actor, "analytics.research_extract")  # refuses (audited) anyone who is not an analyst
    ctx = context(actor, PURPOSE)
    v = vocabulary()
    categories = [c for c in v.purpose_categories(PURPOSE) if c not in ("screening", "case", "placement")]
    start = dt.datetime(year_from, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = dt.datetime(year_to + 1, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=1)
    names = Pseudonyms(key)
    agencies = {a.pk: (a.agency_type, a.county.name) for a in Agency.objects.select_related("county")}
    contacts = (
        Contact.objects.filter(ctx.readable(categories), occurred_at__gte=start, occurred_at__lt=end)
        .order_by("id").values_list("id", "youth_id", "agency_id", "contact_type", "category", "occurred_at",
                                    "details"))
    screenings = (
        Screening.objects.filter(ctx.readable(["screening"], category_field=None), status="completed",
                                 completed_at__gte=start, completed_at__lt=end)
        .order_by("id").values_list("youth_id", "agency_id", "setting", "level", "completed_at"))
    raw_events = [row for row in contacts.iterator(chunk_size=CHUNK)
                  if year_from <= _local_day(row[5]).year <= year_to]
    raw_screenings = [row for row in screenings.iterator(chunk_size=CHUNK)
                      if row[4] is not None and year_from <= _local_day(row[4]).year <= year_to]
    readable_agencies = {actor.agency_id or 0}.union(*(ctx.disclosers(c) for c in [*categories, "screening"]
                                                       if not v.requires_consent(c)))
    people = _people({row[1] for row in raw_events} | {row[0] for row in raw_screenings}, agencies,
                     readable_agencies)
    by_agency: Counter[int] = Counter()

    def shifted(youth_id: int, day: dt.date) -> str:
        return (day + dt.timedelta(days=names.shift(youth_id))).isoformat()

    events = []
    for _, youth_id, agency_id, contact_type, category, occurred_at, details in raw_events:
        person, day = people[youth_id], _local_day(occurred_at)
        person.events += 1
        person.first = min(person.first or day, day)
        by_agency[agency_id] += 1
        agency_type, agency_county = agencies[agency_id]
        coded = [details.get(key) if isinstance(details.get(key), str) and only in (None, contact_type) else None
                 for key, only in DETAIL_COLUMNS.values()]
        allegations = details.get("allegations")
        events.append([names.research_id(youth_id), shifted(youth_id, day), _age(person.birth, day), contact_type,
                       category, agency_type, agency_county, *coded,
                       ";".join(sorted(str(a) for a in allegations)) if isinstance(allegations, list) else None])
    screened = []
    for youth_id, agency_id, setting, level, completed_at in raw_screenings:
        assert completed_at is not None
        person, day = people[youth_id], _local_day(completed_at)
        person.screenings += 1
        person.first = min(person.first or day, day)
        by_agency[agency_id] += 1
        agency_type, agency_county = agencies[agency_id]
        screened.append([names.research_id(youth_id), shifted(youth_id, day), _age(person.birth, day), setting,
                         level, agency_type, agency_county])
    youth_rows = []
    for youth_id, person in sorted(people.items(), key=lambda item: names.research_id(item[0])):
        first = person.first
        youth_rows.append([
            names.research_id(youth_id), _mode(person.sex), _mode(person.race), _mode(person.county),
            shifted(youth_id, first) if first else None, _age(person.birth, first) if first else None,
            person.events, person.screenings])
    events.sort(key=lambda row: (row[0], row[1]))
    screened.sort(key=lambda row: (row[0], row[1]))
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("youth.csv", _csv(YOUTH_COLUMNS, youth_rows))
        archive.writestr("events.csv", _csv(EVENT_COLUMNS, events))
        archive.writestr("screenings.csv", _csv(SCREENING_COLUMNS, screened))
        archive.writestr("README.txt", _readme(year_from, year_to, len(youth_rows), len(events), len(screened)))
    record_event(actor=actor, action="analytics.research_extract", purpose=PURPOSE, object_type="research_extract",
                 detail={"years": [year_from, year_to], "youth": len(youth_rows), "events": len(events),
                         "screenings": len(screened), "by_agency": {str(k): n for k, n in sorted(by_agency.items())}})
    return Extract(body.getvalue(), len(youth_rows), len(events), len(screened), dict(by_agency))


def _mode(counter: Counter[str]) -> str | None:
    if not counter:
        return None
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[0][0]


def _people(youth_ids: set[int], agencies: dict[int, tuple[str, str]], readable: set[int]) -> dict[int, _Youth]:
    """Coarse, de-identified characteristics of each youth in the extract: sex, race and
    ethnicity, county (of residence, else of the recording agency), and the earliest birth
    date recorded, else one worked out from an age stated on a day (used for ages only,
    never written), from the records of the analyst's agency and of agencies that share
    with it for analytics a category that needs no per-youth consent."""
    people = {y: _Youth(Counter(), Counter(), Counter(), None) for y in youth_ids}
    ordered = sorted(youth_ids)
    for lo in range(0, len(ordered), CHUNK):
        rows = SourceRecord.objects.filter(youth_id__in=ordered[lo:lo + CHUNK], agency_id__in=readable).values_list(
            "youth_id", "agency_id", "sex", "race_ethnicity", "residence_county__name", "date_of_birth",
            "estimated_age", "age_recorded_on")
        for youth_id, agency_id, sex, race, county, birth, stated_age, stated_on in rows:
            if birth is None and stated_age is not None and stated_on is not None:  # an age stated on a day
                birth = stated_on.replace(year=stated_on.year - stated_age) if (stated_on.month, stated_on.day) != (
                    2, 29) else dt.date(stated_on.year - stated_age, 3, 1)
            person = people[youth_id]
            if sex in ("female", "male", "intersex"):
                person.sex[sex] += 1
            if race and race not in ("unknown", "declined"):
                person.race[race] += 1
            person.county[county or agencies[agency_id][1]] += 1
            if birth is not None and (person.birth is None or birth < person.birth):
                person.birth = birth
    return people


def _readme(year_from: int, year_to: int, youth: int, events: int, screenings: int) -> str:
    return f"""NoWrongDoor de-identified research extract
Made {clock.now():%Y-%m-%d %H:%M} UTC for events of {year_from} to {year_to}.
{youth} youth, {events} events, {screenings} screenings.

research_id   a pseudonym for this extract only; another extract gives the same youth another id
day           the real date moved by the same number of days (-{SHIFT_DAYS} to +{SHIFT_DAYS}) for every
              date of one youth: intervals are exact, calendar dates are not real
age           whole years on the real date
county        the county only (no ZIP code, no address)
codes         the NoWrongDoor data dictionary's codes (docs/data-dictionary.md)

No names, birth dates, addresses, ZIP codes, free text, sexual orientation or gender
identity. Only data the analyst's agency may use for analytics (its own, and other
agencies' under a sharing agreement naming that purpose, with consent where needed).
Do not try to identify anyone; keep it under the agreement's terms.
"""
