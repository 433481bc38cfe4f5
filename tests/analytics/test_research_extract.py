"""The de-identified research extract (``analytics.research``), its API, web view and CLI.

What this file proves, on a synthetic population of two counties (the generator):

- **nothing identifying**: no name, alias, birth date, ZIP code, placement address,
  local id, public id (UUID) or platform youth id of the population is anywhere in the
  zip (each value read from the database and looked for in every file); no sexual
  orientation or gender identity column or value;
- **pseudonyms**: one research id per youth within an extract (youth.csv, events.csv
  and screenings.csv agree), none shared by two extracts, the same under a fixed key;
- **dates shifted per youth**: each youth's dates move by one number of days within
  +-182, so intervals are exact; the number varies across youth; ages are at the real date;
- **access**: a county analyst in child welfare gets their own agency's contacts and
  those the demo agreements share for analytics (probation, court, police of the
  county), nothing else; a consent-requiring category shared for analytics comes only
  for youth with a consent in force for it; screeners, case managers and agency
  administrators are refused (403 / AccessDenied) and audited; an extract is one audit
  event with counts per agency and no youth ids;
- **the year range**: by local date (New Year's Eve in the county's time zone), a
  reversed or out-of-range range is a 422 naming the field in the API and a 400 on the web;
- **CSV safety**: a cell a spreadsheet would run is neutralised;
- **the CLI** writes the zip and prints its counts.

The expected content is worked out here from the database and the demo agreements
(``DEMO_AGREEMENTS``), not with the access rule the product uses. Rows of the extract
are matched to youth with ``Pseudonyms`` under a fixed test key.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.access.services import create_agreement, record_consent, revoke_consent
from nowrongdoor.analytics.disclosure import neutralise
from nowrongdoor.analytics.research import Pseudonyms, _csv, research_extract
from nowrongdoor.cli import main
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.errors import AccessDenied, ValidationFailed
from nowrongdoor.screening.instruments import for_agency_type
from nowrongdoor.screening.models import Screening
from nowrongdoor.screening.services import complete_screening, start_screening
from nowrongdoor.synth.generator import COUNTY_NAMES, DEMO_AGREEMENTS, generate
from nowrongdoor.youth.models import Contact, SourceRecord, Youth
from nowrongdoor.youth.services import create_contact

pytestmark = pytest.mark.django_db

YOUTH = 400
SEED = 2031
YEARS = (2018, 2025)
KEY = b"a synthetic test key, never used for a real extract"
FIRST_YOUTH_ID = 7_000_000  # platform youth ids of seven digits, so they can be looked for in the bytes
API = "/api/analytics/research-extract"
WEB = "/data/research-extract.zip"
FILES = {"youth.csv", "events.csv", "screenings.csv", "README.txt"}
YOUTH_COLUMNS = ["research_id", "sex", "race_ethnicity", "county", "first_day", "age_at_first", "events",
                 "screenings"]
EVENT_COLUMNS = ["research_id", "day", "age", "contact_type", "category", "agency_type", "agency_county",
                 "offence_category", "placement_type", "finding", "component", "service", "event", "hearing_type",
                 "placement_end_reason", "health_visit_reason", "allegations"]
SCREENING_COLUMNS = ["research_id", "day", "age", "setting", "level", "agency_type", "agency_county"]
EVENT_CODE_LISTS = {  # events.csv column -> the dictionary code list its values come from
    "offence_category": "offence_category", "placement_type": "placement_type", "finding": "investigation_finding",
    "placement_end_reason": "placement_end_reason", "component": "cw_service_component",
    "service": "community_service", "event": "school_event", "hearing_type": "hearing_type",
    "health_visit_reason": "health_visit_reason", "allegations": "allegation_type",
}
FORMULA_COUNTY = '=HYPERLINK("http://example.invalid") (synthetic)'


# -- the synthetic county -------------------------------------------------------------


@dataclass
class World:
    home: County
    away: County
    cw: Agency  # the analyst's agency: child welfare of the home county
    analyst: User
    admin: User
    screened: dict[str, int] = field(default_factory=dict)  # which screening went to which youth


def start_youth_ids_at(first: int) -> None:
    """Make the next youth ids ``first + 1``, ``first + 2``, ... (an empty placeholder youth
    holds ``first``), on SQLite and PostgreSQL alike."""
    Youth.objects.create(pk=first, created_at=clock.now())
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Youth]):
            cursor.execute(sql)


def neutral_answer(item: Any) -> Any:
    fixed = {"yes_no_unknown": "no", "rating": "no_concern", "count": 0}
    if item.answer in fixed:
        return fixed[item.answer]
    return next(o for o in item.options if o not in item.positive_options)


def screen(screener: User, youth: Youth, when: dt.datetime | None = None) -> Screening:
    """A completed short screening through the real services (at ``when``, else now)."""
    assert screener.agency is not None
    instrument = for_agency_type(screener.agency.agency_type)[0]
    with clock.frozen(when) if when else contextlib.nullcontext():
        draft = start_screening(actor=screener, youth_public_id=str(youth.public_id), instrument_id=instrument.id)
        answers = {i.id: neutral_answer(i) for i in instrument.form_items("short")}
        return complete_screening(actor=screener, screening_public_id=str(draft.public_id),
                                  expected_version=draft.version, answers=answers)


def probation_youth(county: County) -> tuple[Agency, list[Youth]]:
    agency = Agency.objects.filter(county=county, agency_type="probation").order_by("pk").first()
    assert agency is not None
    ids = sorted(set(SourceRecord.objects.filter(agency=agency).values_list("youth_id", flat=True)))
    return agency, list(Youth.objects.filter(pk__in=ids).order_by("pk"))


@pytest.fixture
def world(db: None, make_user: Any) -> World:
    start_youth_ids_at(FIRST_YOUTH_ID)
    generate(youth=YOUTH, seed=SEED, counties=2)
    home, away = (County.objects.get(name=name) for name in COUNTY_NAMES[:2])
    cw = Agency.objects.get(county=home, agency_type="child_welfare")
    w = World(home, away, cw, make_user("analyst", cw), make_user("system_admin", None))
    # Screenings: the home county's probation shares them for analytics (in the range and
    # before it); the other county's probation does not share with this analyst.
    agency, youth = probation_youth(home)
    assert len(youth) >= 2
    screener = make_user("screener", agency)
    w.screened["home_in_range"] = screen(screener, youth[0], dt.datetime(2023, 6, 15, 18, tzinfo=dt.UTC)).youth_id
    w.screened["home_before_range"] = screen(screener, youth[1], dt.datetime(2017, 3, 1, 18, tzinfo=dt.UTC)).youth_id
    # Contacts of a category the disclosing agency does not share for analytics: an arrest
    # (law enforcement) on a probation record, a removal (child welfare) on a court record.
    court = Agency.objects.get(county=home, agency_type="juvenile_court")
    for discloser, contact_type, details in ((agency, "arrest", {"offence_category": "theft"}),
                                             (court, "removal", {})):
        record = SourceRecord.objects.filter(agency=discloser).order_by("pk").first()
        assert record is not None
        create_contact(actor=make_user("case_manager", discloser), source_record_public_id=str(record.public_id),
                       contact_type=contact_type, occurred_at=dt.datetime(2022, 5, 5, 18, tzinfo=dt.UTC),
                       details=details)
    agency, youth = probation_youth(away)
    w.screened["away_in_range"] = screen(make_user("screener", agency), youth[0],
                                         dt.datetime(2022, 3, 2, 17, tzinfo=dt.UTC)).youth_id
    return w


# -- reading an extract -----------------------------------------------------------------


@dataclass
class Parsed:
    files: dict[str, bytes]
    youth: list[dict[str, str]]
    events: list[dict[str, str]]
    screenings: list[dict[str, str]]

    def headers(self, name: str) -> list[str]:
        return next(csv.reader(io.StringIO(self.files[name].decode("utf-8"))))

    def text(self) -> str:
        return "\n".join(body.decode("utf-8") for body in self.files.values())

    def cells(self) -> list[str]:
        return [v for rows in (self.youth, self.events, self.screenings) for row in rows for v in row.values()]

    def research_ids(self) -> set[str]:
        return {r["research_id"] for r in self.youth}


def parse(body: bytes) -> Parsed:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}

    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))

    return Parsed(files, rows("youth.csv"), rows("events.csv"), rows("screenings.csv"))


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def years_old(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def research_names(key: bytes = KEY) -> dict[str, int]:
    """Research id -> platform youth id under ``key``, for every youth in the database."""
    names = Pseudonyms(key)
    return {names.research_id(y): y for y in Youth.objects.values_list("pk", flat=True)}


Row = tuple[dt.date, str, str, str, str, str]


def extracted(parsed: Parsed, names: dict[str, int]) -> dict[int, list[Row]]:
    """Youth id -> the youth's rows of events.csv and screenings.csv (shifted day first)."""
    rows: dict[int, list[Row]] = defaultdict(list)
    for r in parsed.events:
        rows[names[r["research_id"]]].append((dt.date.fromisoformat(r["day"]), "event", r["contact_type"],
                                              r["category"], r["agency_type"], r["agency_county"]))
    for r in parsed.screenings:
        rows[names[r["research_id"]]].append((dt.date.fromisoformat(r["day"]), "screening", r["setting"],
                                              r["level"], r["agency_type"], r["agency_county"]))
    return {y: sorted(r) for y, r in rows.items()}


# -- what the analyst may use, worked out independently -----------------------------------


def analytics_sharing() -> dict[str, set[str]]:
    """Discloser type -> the categories the demo agreements share with child welfare for analytics."""
    shared: dict[str, set[str]] = defaultdict(set)
    for discloser, recipient, categories, purposes, _ in DEMO_AGREEMENTS:
        if recipient == "child_welfare" and "analytics" in purposes:
            shared[discloser].update(categories)
    return shared


@dataclass
class Truth:
    rows: dict[int, list[Row]]  # youth id -> (real local day, ...) like ``extracted``
    by_agency: Counter[int]
    excluded: Counter[str]  # in-range contacts left out, by why


def truth(w: World, extra: dict[str, set[str]] | None = None,
          consented: dict[str, set[int]] | None = None) -> Truth:
    """The rows the analyst may use: own agency's contacts (analytics categories), those of
    the home county's agencies whose type shares the category for analytics (``extra``
    adds agreements made in a test), consent categories only for ``consented`` youth;
    screenings likewise; all by local date within YEARS."""
    sharing = analytics_sharing()
    for agency_type, categories in (extra or {}).items():
        sharing[agency_type] |= categories
    consented = consented or {}
    v = vocabulary()
    own_categories = set(v.purpose_categories("analytics")) - {"screening", "case", "placement"}
    rows: dict[int, list[Row]] = defaultdict(list)
    by_agency: Counter[int] = Counter()
    excluded: Counter[str] = Counter()

    def may(agency: Agency, category: str, youth_id: int) -> str:
        if agency.pk == w.cw.pk:
            return "" if category in own_categories else "own, not analytics"
        if agency.county_id != w.home.pk:
            return "other county"
        if category not in sharing.get(agency.agency_type, set()):
            return "no analytics agreement"
        if v.requires_consent(category) and youth_id not in consented.get(category, set()):
            return "no consent"
        return ""

    for c in Contact.objects.select_related("agency__county").order_by("pk"):
        day = local_day(c.occurred_at)
        if not YEARS[0] <= day.year <= YEARS[1]:
            excluded["out of range"] += 1
            continue
        why = may(c.agency, c.category, c.youth_id)
        if why:
            excluded[why] += 1
            continue
        rows[c.youth_id].append((day, "event", c.contact_type, c.category, c.agency.agency_type,
                                 c.agency.county.name))
        by_agency[c.agency_id] += 1
    for s in Screening.objects.filter(status="completed").select_related("agency__county"):
        assert s.completed_at is not None
        day = local_day(s.completed_at)
        if YEARS[0] <= day.year <= YEARS[1] and not may(s.agency, "screening", s.youth_id):
            rows[s.youth_id].append((day, "screening", s.setting, s.level, s.agency.agency_type,
                                     s.agency.county.name))
            by_agency[s.agency_id] += 1
    return Truth({y: sorted(r) for y, r in rows.items()}, by_agency, excluded)


def shifts(parsed: Parsed, expected: Truth) -> dict[int, int]:
    """Each youth's shift in days, after checking that the extract holds exactly the
    expected rows, every date of a youth moved by one and the same number of days."""
    got = extracted(parsed, research_names())
    assert set(got) == set(expected.rows), "the youth in the extract are those with a usable event"
    found = {}
    for youth_id, real in expected.rows.items():
        rows = got[youth_id]
        assert [r[1:] for r in rows] == [r[1:] for r in real], youth_id
        moved = {(g[0] - r[0]).days for g, r in zip(rows, real, strict=True)}
        assert len(moved) == 1, (youth_id, moved)
        found[youth_id] = moved.pop()
    return found


# -- 1. nothing identifying -------------------------------------------------------------------


def bounded(values: set[str]) -> re.Pattern[str]:
    """Any of ``values`` as a whole token (not inside a longer word or number)."""
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")


def without_dates(parsed: Parsed) -> str:
    """Every file's text with the shifted-date columns blanked (they are the event dates
    moved per youth, proven by the date tests; they may fall on anyone's birthday)."""
    out = [parsed.files["README.txt"].decode("utf-8")]
    for name, blank in (("youth.csv", "first_day"), ("events.csv", "day"), ("screenings.csv", "day")):
        rows = list(csv.DictReader(io.StringIO(parsed.files[name].decode("utf-8"))))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=parsed.headers(name))
        writer.writeheader()
        writer.writerows({**r, blank: ""} for r in rows)
        out.append(buffer.getvalue())
    return "\n".join(out)


def test_nothing_identifying_is_in_the_extract(world: World) -> None:
    parsed = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=KEY).body)
    text, undated = parsed.text(), without_dates(parsed)
    included = {research_names()[r] for r in parsed.research_ids()}
    assert len(included) >= 40, "a real population to look in"

    names: set[str] = set()
    births: set[dt.date] = set()
    zips, uuids, local_ids = set(), set(), set()
    for first, middle, last, aliases, birth, zip_code, local_id, public_id in SourceRecord.objects.values_list(
            "first_name", "middle_name", "last_name", "aliases", "date_of_birth", "residence_zip", "local_id",
            "public_id"):
        for name in (first, middle, last, *aliases):
            names.update(part for part in re.split(r"[^A-Za-z]+", name) if part)
        births.update([birth] if birth else [])
        zips.update([zip_code] if zip_code else [])
        local_ids.add(local_id)
        uuids.add(public_id)
    addresses = set()
    for public_id, local_id, details in Contact.objects.values_list("public_id", "local_id", "details"):
        uuids.add(public_id)
        local_ids.update([local_id] if local_id else [])
        addresses.update([details["address"]] if details.get("address") else [])
    uuids.update(Youth.objects.values_list("public_id", flat=True))
    uuids.update(Screening.objects.values_list("public_id", flat=True))
    youth_ids = {str(y) for y in Youth.objects.values_list("pk", flat=True)}
    assert min(int(y) for y in youth_ids) >= FIRST_YOUTH_ID
    included_records = SourceRecord.objects.filter(youth_id__in=included)
    assert included_records.exclude(residence_zip="").exists() and addresses and len(names) > 50
    assert Contact.objects.filter(youth_id__in=included, contact_type="placement_start", agency=world.cw).exists()

    assert set(parsed.files) == FILES
    assert bounded(names).findall(text) == [], "no first, middle or last name or alias"
    date_forms = {f(b) for b in births for f in (dt.date.isoformat, lambda d: d.strftime("%m/%d/%Y"),
                                                  lambda d: d.strftime("%Y%m%d"), lambda d: d.strftime("%d/%m/%Y"))}
    assert bounded(date_forms).findall(undated) == [], "no birth date"
    assert bounded(zips).findall(text) == [], "no ZIP code"
    assert [a for a in addresses if a in text] == [], "no placement address"
    assert [i for i in local_ids if i in text] == [], "no local id"
    assert [u for u in uuids if str(u) in text or u.hex in text] == [], "no public id"
    assert re.findall(rf"(?<![0-9])(?:{'|'.join(sorted(youth_ids))})(?![0-9])", text) == [], "no platform youth id"

    headers = {name: parsed.headers(name) for name in ("youth.csv", "events.csv", "screenings.csv")}
    assert headers == {"youth.csv": YOUTH_COLUMNS, "events.csv": EVENT_COLUMNS, "screenings.csv": SCREENING_COLUMNS}
    v = vocabulary()
    sogi = (set(v.codes("gender_identity")) | set(v.codes("sexual_orientation"))) - {"other", "declined"}
    assert included_records.filter(gender_identity__in=sogi - {"girl", "boy"}).exists(), "SOGI is recorded"
    assert [c for c in parsed.cells() for part in c.split(";") if part in sogi] == []
    assert re.findall(r"(?<![a-z_])(?:" + "|".join(sorted(sogi)) + r")(?![a-z_])", text) == []


def test_every_code_column_holds_codes_of_its_dictionary_list(world: World) -> None:
    parsed = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1]).body)
    v = vocabulary()
    wrong = [(column, r["contact_type"], value) for r in parsed.events for column, code_list in EVENT_CODE_LISTS.items()
             for value in filter(None, r[column].split(";")) if value not in v.codes(code_list)]
    assert wrong == []
    assert {r["contact_type"] for r in parsed.events} <= set(v.contact_types)
    assert {r["sex"] for r in parsed.youth} <= set(v.codes("sex")) | {""}
    assert {r["race_ethnicity"] for r in parsed.youth} <= set(v.codes("race_ethnicity")) | {""}
    assert {r["county"] for r in parsed.youth} == {world.home.name}
    assert any(r["allegations"] for r in parsed.events) and any(r["placement_type"] for r in parsed.events)


# -- 2. pseudonyms -----------------------------------------------------------------------------


def test_research_ids_are_one_per_youth_in_an_extract_and_never_shared_by_two(world: World) -> None:
    first = research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1])
    second = research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1])
    a, b = parse(first.body), parse(second.body)

    for p, made in ((a, first), (b, second)):
        ids = [r["research_id"] for r in p.youth]
        assert len(ids) == len(set(ids)) == made.youth > 40
        assert {r["research_id"] for r in p.events} | {r["research_id"] for r in p.screenings} == set(ids)
        events, screened = Counter(r["research_id"] for r in p.events), Counter(r["research_id"] for r in p.screenings)
        assert all(int(r["events"]) == events[r["research_id"]] and int(r["screenings"]) == screened[r["research_id"]]
                   for r in p.youth)
        assert (len(p.events), len(p.screenings)) == (made.events, made.screenings)
    assert a.research_ids().isdisjoint(b.research_ids()), "two extracts cannot be joined on their ids"

    def content(p: Parsed) -> Counter[tuple[str, ...]]:
        return Counter((r["contact_type"], r["agency_type"], r["age"]) for r in p.events)

    assert content(a) == content(b), "the same events, under other names"


def test_a_fixed_key_gives_the_same_extract_and_each_youths_rows_one_id(world: World) -> None:
    one = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=KEY).body)
    two = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=KEY).body)
    other = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=b"x" * 32).body)

    assert {n: one.files[n] for n in FILES - {"README.txt"}} == {n: two.files[n] for n in FILES - {"README.txt"}}
    assert one.research_ids().isdisjoint(other.research_ids())
    names = research_names()
    expected = truth(world)
    owner = {r["research_id"]: names[r["research_id"]] for r in one.youth}
    assert sorted(owner.values()) == sorted(expected.rows), "youth.csv: one id per youth of the extract"
    for youth_id, rows in expected.rows.items():  # all of a youth's rows carry the youth's id
        mine = [r for r in one.events if owner[r["research_id"]] == youth_id]
        mine += [r for r in one.screenings if owner[r["research_id"]] == youth_id]
        assert len(mine) == len(rows)


# -- 3. date shifting --------------------------------------------------------------------------


def test_every_date_of_a_youth_moves_by_one_number_of_days(world: World) -> None:
    parsed = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=KEY).body)
    expected = truth(world)
    moved = shifts(parsed, expected)  # one number per youth, every row matched

    assert all(-182 <= d <= 182 for d in moved.values())
    got = extracted(parsed, research_names())
    for youth_id, real in expected.rows.items():  # intervals are exact
        assert [(b[0] - a[0]).days for a, b in itertools.pairwise(got[youth_id])] == \
            [(b[0] - a[0]).days for a, b in itertools.pairwise(real)]
    values = list(moved.values())
    assert len(set(values)) > len(values) // 2 and min(values) < -30 and max(values) > 30
    assert values.count(0) <= 2, "calendar dates are not real"

    names = research_names()
    dobs: dict[int, set[dt.date | None]] = defaultdict(set)
    for youth_id, birth in SourceRecord.objects.values_list("youth_id", "date_of_birth"):
        dobs[youth_id].add(birth)
    checked = 0
    for r in parsed.youth:
        youth_id = names[r["research_id"]]
        first_real = expected.rows[youth_id][0][0]
        assert r["first_day"] == (first_real + dt.timedelta(days=moved[youth_id])).isoformat()
        known = dobs[youth_id]
        if len(known) == 1 and None not in known:  # one birth date on every record: ages are exact
            birth = next(iter(known))
            assert birth is not None
            assert int(r["age_at_first"]) == years_old(birth, first_real)
            for e in (*parsed.events, *parsed.screenings):
                if e["research_id"] == r["research_id"]:
                    real = dt.date.fromisoformat(e["day"]) - dt.timedelta(days=moved[youth_id])
                    assert int(e["age"]) == years_old(birth, real), "age at the real date"
                    checked += 1
    assert checked > 100


# -- 4. access ---------------------------------------------------------------------------------


def test_a_county_analyst_gets_own_and_analytics_shared_contacts_only(world: World) -> None:
    made = research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=KEY)
    parsed = parse(made.body)
    expected = truth(world)
    shifts(parsed, expected)  # exactly the expected rows, no more, no fewer

    assert {r["agency_type"] for r in parsed.events} == {"child_welfare", "probation", "juvenile_court",
                                                          "law_enforcement"}
    assert {r["agency_county"] for r in (*parsed.events, *parsed.screenings)} == {world.home.name}
    assert made.by_agency == dict(expected.by_agency)
    for why in ("other county", "no analytics agreement", "out of range"):
        assert expected.excluded[why] > 20, f"the population has contacts left out for {why}"
    names = {v: k for k, v in research_names().items()}
    assert names[world.screened["home_in_range"]] in {r["research_id"] for r in parsed.screenings}
    assert len(parsed.screenings) == 1, "not before the range, not another county's"
    assert names[world.screened["away_in_range"]] not in parsed.research_ids()


def test_a_consent_category_shared_for_analytics_comes_only_with_consent_in_force(
        world: World, make_user: Any) -> None:
    create_agreement(actor=world.admin, county=world.home, title="Synthetic health data for research",
                     discloser="health", recipient="child_welfare", categories=["health"], purposes=["analytics"],
                     legal_basis_code="HIPAA", valid_from=dt.date(2024, 1, 1))
    health = Contact.objects.filter(agency__county=world.home, agency__agency_type="health")
    candidates = sorted({c.youth_id for c in health if YEARS[0] <= local_day(c.occurred_at).year <= YEARS[1]})
    assert len(candidates) >= 8
    a, b, c, d, e = candidates[:5]
    given_on = clock.today() - dt.timedelta(days=30)

    def consent(youth_id: int, **terms: Any) -> Any:
        record = SourceRecord.objects.filter(youth_id=youth_id, agency__agency_type="health",
                                             agency__county=world.home).select_related("agency", "youth").first()
        assert record is not None
        return record_consent(actor=make_user("case_manager", record.agency), youth=record.youth,
                              category="health", given_by="youth", given_on=given_on, **terms)

    consent(a, purpose="analytics", recipient_agency=world.cw)
    consent(b)  # any purpose, any agency under an agreement
    consent(c, purpose="case_coordination")  # another purpose
    revoked = consent(d, purpose="analytics")
    revoke_consent(actor=revoked.recorded_by, consent=revoked, on=clock.today(), expected_version=revoked.version)
    consent(e, recipient_agency=Agency.objects.get(county=world.away, agency_type="child_welfare"))

    parsed = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=KEY).body)
    expected = truth(world, extra={"health": {"health"}}, consented={"health": {a, b}})
    shifts(parsed, expected)

    names = research_names()
    with_health = {names[r["research_id"]] for r in parsed.events if r["category"] == "health"}
    assert with_health == {a, b}
    assert expected.excluded["no consent"] > 10
    health_only = [y for y in candidates[2:] if not Contact.objects.filter(youth_id=y).exclude(category="health")
                   .filter(agency__county=world.home).exists()]
    assert health_only, "some youth are known only to the clinic"
    assert not {r for r, y in names.items() if y in health_only} & parsed.research_ids()


def test_a_health_visit_reason_is_not_filed_as_a_placement_end_reason(world: World, make_user: Any) -> None:
    create_agreement(actor=world.admin, county=world.home, title="Synthetic health data for research",
                     discloser="health", recipient="child_welfare", categories=["health"], purposes=["analytics"],
                     legal_basis_code="HIPAA", valid_from=dt.date(2024, 1, 1))
    for record in SourceRecord.objects.filter(agency__county=world.home, agency__agency_type="health").select_related(
            "agency", "youth")[:20]:
        record_consent(actor=make_user("case_manager", record.agency), youth=record.youth, category="health",
                       given_by="youth", given_on=clock.today() - dt.timedelta(days=30), purpose="analytics")
    parsed = parse(research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1]).body)
    visits = [r for r in parsed.events if r["contact_type"] == "health_visit"]
    assert visits, "consented health visits are in the extract"
    ends = vocabulary().codes("placement_end_reason")
    assert [r["placement_end_reason"] for r in visits if r["placement_end_reason"] not in ("", *ends)] == []
    assert {r["health_visit_reason"] for r in visits} <= set(vocabulary().codes("health_visit_reason"))
    assert all(r["placement_end_reason"] == "" for r in visits)


@pytest.mark.parametrize("role", ["screener", "case_manager", "agency_admin"])
def test_staff_who_are_not_analysts_are_refused_and_audited(world: World, make_user: Any, client: Any,
                                                            role: str) -> None:
    user = make_user(role, world.cw)
    with pytest.raises(AccessDenied):
        research_extract(actor=user, year_from=YEARS[0], year_to=YEARS[1])
    client.force_login(user)
    api = client.get(f"{API}?year_from={YEARS[0]}&year_to={YEARS[1]}")
    web = client.get(f"{WEB}?year_from={YEARS[0]}&year_to={YEARS[1]}")

    assert (api.status_code, web.status_code) == (403, 403)
    assert not api["Content-Type"].startswith("application/zip") and not web["Content-Type"].startswith(
        "application/zip")
    refused = AuditEvent.objects.filter(actor=user, action="analytics.research_extract")
    assert refused.filter(allowed=False).count() == 3 and not refused.filter(allowed=True).exists()


def test_anonymous_and_inactive_users_get_nothing(world: World, client: Any) -> None:
    assert client.get(f"{API}?year_from={YEARS[0]}&year_to={YEARS[1]}").status_code == 401
    assert client.get(f"{WEB}?year_from={YEARS[0]}&year_to={YEARS[1]}").status_code == 302
    world.analyst.is_active = False
    world.analyst.save()
    with pytest.raises(AccessDenied):
        research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1])
    assert AuditEvent.objects.filter(actor=world.analyst, action="analytics.research_extract",
                                     allowed=False).count() == 1


def test_an_extract_is_one_audit_event_with_counts_per_agency_and_no_youth(world: World) -> None:
    before = AuditEvent.objects.count()
    made = research_extract(actor=world.analyst, year_from=YEARS[0], year_to=YEARS[1], key=KEY)
    new = list(AuditEvent.objects.order_by("seq")[before:])

    assert [(e.action, e.allowed, e.actor_id, e.purpose, e.youth_id) for e in new] == [
        ("analytics.research_extract", True, world.analyst.pk, "analytics", None)]
    detail = new[0].detail
    expected = truth(world)
    assert detail["by_agency"] == {str(k): n for k, n in expected.by_agency.items()}
    assert (detail["years"], detail["youth"], detail["events"], detail["screenings"]) == (
        list(YEARS), made.youth, made.events, made.screenings)
    written = json.dumps(detail)
    youth = Youth.objects.values_list("pk", "public_id")
    assert bounded({str(pk) for pk, _ in youth}).findall(written) == []
    assert [u for _, u in youth if str(u) in written or u.hex in written] == []


# -- 5. the year range -------------------------------------------------------------------------


def test_years_are_counted_by_local_date(world: World, make_user: Any, make_record: Any) -> None:
    zone = ZoneInfo(settings.TIME_ZONE)
    worker = make_user("case_manager", world.cw)
    record = make_record(worker)
    eve = dt.datetime(2023, 12, 31, 23, 30, tzinfo=zone)  # already 2024 in UTC
    new_year = dt.datetime(2024, 1, 1, 0, 30, tzinfo=zone)
    for moment in (eve, new_year):
        create_contact(actor=worker, source_record_public_id=str(record.public_id), contact_type="hotline_report",
                       occurred_at=moment, details={"allegations": ["general_neglect"]})
    mine = {v: k for k, v in research_names().items()}[record.youth_id]

    def days(year_from: int, year_to: int) -> list[dt.date]:
        p = parse(research_extract(actor=world.analyst, year_from=year_from, year_to=year_to, key=KEY).body)
        assert all(YEARS[0] - 1 <= dt.date.fromisoformat(r["day"]).year <= YEARS[1] + 1 for r in p.events)
        return [dt.date.fromisoformat(r["day"]) for r in p.events if r["research_id"] == mine]

    assert len(days(2019, 2023)) == 1 and len(days(2024, 2024)) == 1
    assert (days(2024, 2024)[0] - days(2019, 2023)[0]).days == 1, "one day apart, one shift"
    assert abs((days(2019, 2023)[0] - dt.date(2023, 12, 31)).days) <= 182


def error_fields(response: Any) -> set[str]:
    return {part for problem in response.json()["detail"] for part in problem["loc"]}


@pytest.mark.parametrize(("query", "field_name"), [
    ("year_from=2024&year_to=2020", "year_from"),  # reversed
    ("year_from=1989&year_to=2020", "year_from"),  # before the data
    ("year_from=1800&year_to=2020", "year_from"),  # outside what the API takes
    ("year_from=abc&year_to=2020", "year_from"),
    ("year_from=2020", "year_to"),
    ("year_from=2020&year_to=99999", "year_to"),
])
def test_a_bad_range_is_a_422_naming_the_field(world: World, client: Any, query: str, field_name: str) -> None:
    client.force_login(world.analyst)
    response = client.get(f"{API}?{query}")
    assert response.status_code == 422, response.content[:300]
    assert field_name in error_fields(response)
    assert not AuditEvent.objects.filter(action="analytics.research_extract", allowed=True).exists()


def test_a_last_year_after_this_year_is_a_422(world: World, client: Any) -> None:
    client.force_login(world.analyst)
    response = client.get(f"{API}?year_from=2020&year_to={clock.today().year + 1}")
    assert response.status_code == 422
    with pytest.raises(ValidationFailed):
        research_extract(actor=world.analyst, year_from=2020, year_to=clock.today().year + 1)


def test_a_last_year_out_of_range_is_blamed_on_year_to(world: World, client: Any) -> None:
    client.force_login(world.analyst)
    response = client.get(f"{API}?year_from=2020&year_to={clock.today().year + 1}")
    assert response.status_code == 422
    assert "year_to" in error_fields(response)


def test_the_api_and_the_web_view_give_the_zip(world: World, client: Any) -> None:
    client.force_login(world.analyst)
    api = client.get(f"{API}?year_from={YEARS[0]}&year_to={YEARS[1]}")
    web = client.get(f"{WEB}?year_from={YEARS[0]}&year_to={YEARS[1]}")
    for response in (api, web):
        assert response.status_code == 200 and response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"].startswith("attachment;")
        parsed = parse(response.content)
        assert set(parsed.files) == FILES and len(parsed.youth) > 40
    assert AuditEvent.objects.filter(actor=world.analyst, action="analytics.research_extract",
                                     allowed=True).count() == 2


@pytest.mark.parametrize("query", ["year_from=abc&year_to=2020", "year_from=&year_to=2020", "year_to=2020",
                                   "year_from=2024&year_to=2020", "year_from=1200&year_to=2020",
                                   "year_from=2020&year_to=2400", "year_from=2020.5&year_to=2021"])
def test_bad_input_on_the_web_view_is_a_400(world: World, client: Any, query: str) -> None:
    client.force_login(world.analyst)
    response = client.get(f"{WEB}?{query}")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/zip")


# -- 6. CSV safety -----------------------------------------------------------------------------


def test_a_county_named_like_a_formula_is_neutralised(make_user: Any, make_record: Any) -> None:
    county = County.objects.create(name=FORMULA_COUNTY)
    agency = Agency.objects.create(county=county, agency_type="child_welfare", name="Formula CWS (synthetic)")
    worker = make_user("case_manager", agency)
    record = make_record(worker)
    create_contact(actor=worker, source_record_public_id=str(record.public_id), contact_type="removal",
                   occurred_at=dt.datetime(2025, 3, 1, 18, tzinfo=dt.UTC))
    parsed = parse(research_extract(actor=make_user("analyst", agency), year_from=2025, year_to=2025).body)

    assert [r["county"] for r in parsed.youth] == ["'" + FORMULA_COUNTY]
    assert [r["agency_county"] for r in parsed.events] == ["'" + FORMULA_COUNTY]
    assert [c for c in parsed.cells() if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_the_csv_writer_neutralises_every_formula_start() -> None:
    cells = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "plain", 7, -7, None]
    rows = list(csv.reader(io.StringIO(_csv(["a"] * len(cells), [cells]).decode("utf-8"))))

    assert rows[1] == ["'=1+2", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", "'\rx", "plain", "7", "-7", ""]
    assert neutralise("=x") == "'=x" and neutralise(-7) == -7


# -- 7. the CLI --------------------------------------------------------------------------------


def test_the_cli_writes_the_zip_and_prints_its_counts(world: World, make_user: Any, tmp_path: Path,
                                                      capsys: Any) -> None:
    out = tmp_path / "extract.zip"
    code = main(["analytics", "extract", "--year-from", str(YEARS[0]), "--year-to", str(YEARS[1]),
                 "--user", world.analyst.username, "--out", str(out)])
    printed = capsys.readouterr()

    assert code == 0, printed.err
    parsed = parse(out.read_bytes())
    assert set(parsed.files) == FILES
    assert f"{len(parsed.youth)} youth, {len(parsed.events)} events, {len(parsed.screenings)} screenings" \
        in printed.out and str(out) in printed.out
    assert len(parsed.youth) > 40

    refused = tmp_path / "refused.zip"
    screener = make_user("screener", world.cw)
    assert main(["analytics", "extract", "--year-from", "2020", "--year-to", "2021", "--user", screener.username,
                 "--out", str(refused)]) == 1
    assert not refused.exists() and capsys.readouterr().err.strip()
    assert main(["analytics", "extract", "--year-from", "2021", "--year-to", "2020", "--user",
                 world.analyst.username, "--out", str(refused)]) == 1
    assert "year_from" in capsys.readouterr().err and not refused.exists()
    assert main(["analytics", "extract", "--year-from", "2020", "--year-to", "2021", "--user", "nobody-synthetic",
                 "--out", str(refused)]) == 2
