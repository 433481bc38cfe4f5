"""The training catalogue: the shipped file validates and names every profession the
report asks to train; broken documents are refused naming the key; requirements resolve
by profession, role and agency type (with the default profession for roles meeting
youth, none for analysts and stewards); caregivers by the kind of resource; and a
certificate's expiry is month arithmetic (month ends, leap days)."""

from __future__ import annotations

import copy
import datetime as dt
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nowrongdoor.dictionary import vocabulary
from nowrongdoor.placements.models import Caregiver
from nowrongdoor.training.catalogue import CatalogueInvalid, Course, catalogue, parse
from nowrongdoor.training.selectors import profession_of, required_of
from tests.training.conftest import caregiver_at

ALL_STAFF = {"csec_foundations"}
SCREENING, ENGAGEMENT, PREVENTION = "csec_screening", "csec_engagement", "csec_prevention_casework"
COURT, HEALTH, FIRST, SCHOOLS, CARE = "csec_court", "csec_health", "csec_first_response", "csec_schools", \
    "csec_caregiving"


def shipped() -> dict[str, Any]:
    text = resources.files("nowrongdoor.training").joinpath("content/catalogue.yaml").read_text()
    return yaml.safe_load(text)


def problems_of(document: dict[str, Any], name: str = "catalogue.yaml") -> list[str]:
    with pytest.raises(CatalogueInvalid) as raised:
        parse(document, name)
    assert raised.value.problems and str(raised.value) == "; ".join(raised.value.problems)
    return raised.value.problems


# -- the shipped file ---------------------------------------------------------------------


def test_the_shipped_catalogue_validates_and_every_reference_resolves() -> None:
    cat = catalogue()
    assert cat == parse(shipped())
    assert cat.version >= 1 and cat.reminder_days == 60 and cat.new_staff_days == 90
    v = vocabulary()
    for requirement in cat.requirements:
        assert set(requirement.courses) <= set(cat.courses)
        assert requirement.professions is None or requirement.professions <= set(cat.professions)
        assert requirement.roles is None or requirement.roles <= set(v.roles)
    assert set(cat.default_profession) <= set(v.agency_types)
    assert set(cat.caregiver_profession) == set(v.codes("placement_type"))  # every kind of resource has one
    for course in cat.courses.values():
        assert course.title["en"] and course.title["es"] and course.hours > 0


REPORT_PROFESSIONS = {
    "child-welfare worker": "child_welfare_worker", "probation officer": "probation_officer",
    "prosecutor": "prosecutor", "public defender": "public_defender", "county counsel": "county_counsel",
    "judge": "judge", "dependency attorney": "dependency_attorney", "first responder": "first_responder",
    "health provider": "health_provider", "mental-health clinician": "mental_health_clinician",
    "teacher": "teacher", "school administrator": "school_administrator",
    "foster parent/caregiver": "foster_parent",
}


@pytest.mark.parametrize(("named", "code"), REPORT_PROFESSIONS.items())
def test_every_profession_the_report_names_is_present_and_must_take_training(named: str, code: str) -> None:
    cat = catalogue()
    assert code in cat.professions, named
    required = cat.required(profession=code)
    assert "csec_foundations" in required, f"{named} has no mandatory foundations course"
    assert len(required) >= 2, f"{named} has only the general course"  # and one for their setting


def test_caregivers_and_child_welfare_social_workers_have_their_own_courses() -> None:
    cat = catalogue()
    assert cat.required(profession="foster_parent", gate="placement") == {CARE: ["caregivers"]}
    assert cat.required(profession="group_home_staff", gate="placement") == {CARE: ["caregivers"]}
    assert PREVENTION in cat.required(profession="child_welfare_worker")
    assert cat.required(profession="teacher", role="screener", gate="screening") == {SCREENING: ["screeners"]}


# -- broken documents -------------------------------------------------------------------


def _requirement(doc: dict[str, Any], rid: str) -> tuple[int, dict[str, Any]]:
    return next((i, r) for i, r in enumerate(doc["requirements"]) if r["id"] == rid)


def test_an_unknown_course_in_a_requirement_is_named() -> None:
    doc = shipped()
    i, courts = _requirement(doc, "courts")
    courts["courses"].append("csec_astrology")
    assert problems_of(doc) == [f"catalogue.yaml: requirements.{i}.courses: unknown course 'csec_astrology'"]


def test_an_unknown_role_is_named_in_a_requirement_and_in_the_roles_meeting_youth() -> None:
    doc = shipped()
    i, screeners = _requirement(doc, "screeners")
    screeners["roles"].append("janitor")
    doc["roles_meeting_youth"].append("lifeguard")
    problems = problems_of(doc, "alder-training.yaml")
    assert "alder-training.yaml: roles_meeting_youth: unknown role 'lifeguard'" in problems
    assert f"alder-training.yaml: requirements.{i}.roles: unknown role 'janitor'" in problems
    assert len(problems) == 2


def test_a_requirement_with_no_selector_is_refused_naming_it() -> None:
    doc = shipped()
    i, schools = _requirement(doc, "schools")
    del schools["professions"]
    problems = problems_of(doc)
    assert len(problems) == 1 and problems[0].startswith(f"catalogue.yaml: requirements.{i}: ")


@pytest.mark.parametrize("renewal", [0, -12, 121, 1.5, "two years"])
def test_a_bad_renewal_period_is_refused_naming_the_course(renewal: Any) -> None:
    doc = shipped()
    doc["courses"]["csec_health"]["renewal_months"] = renewal
    problems = problems_of(doc)
    assert problems and all(p.startswith("catalogue.yaml: courses.csec_health.renewal_months: ") for p in problems)


@pytest.mark.parametrize(("break_it", "expected"), [
    (lambda d: d["default_profession"].update(bakery="teacher"),
     "catalogue.yaml: default_profession: unknown agency type 'bakery'"),
    (lambda d: d["default_profession"].update(health="barber"),
     "catalogue.yaml: default_profession: unknown profession 'barber'"),
    (lambda d: d["caregiver_profession"].update(castle="foster_parent"),
     "catalogue.yaml: caregiver_profession: unknown placement type 'castle'"),
    (lambda d: d["requirements"][0]["professions"].append("astronaut"),
     "catalogue.yaml: requirements.0.professions: unknown profession 'astronaut'"),
    (lambda d: d["requirements"].append({**copy.deepcopy(d["requirements"][0])}),
     "catalogue.yaml: requirements.9.id: 'everyone_who_meets_youth' is used twice"),
    (lambda d: d["requirements"][2].update(agency_types=["bakery"]),
     "catalogue.yaml: requirements.2.agency_types: unknown agency type 'bakery'"),
])
def test_every_other_unknown_reference_is_named(break_it: Any, expected: str) -> None:
    doc = shipped()
    assert len(doc["requirements"]) == 9  # the indexes below
    break_it(doc)
    assert problems_of(doc) == [expected]


def test_schema_problems_name_their_keys() -> None:
    doc = shipped()
    del doc["reminder_days"]
    doc["courses"]["csec_schools"]["delivery"] = "carrier pigeon"
    doc["requirements"][1]["gates"] = ["bowling"]
    problems = problems_of(doc)
    assert any(p.startswith("catalogue.yaml: (top): ") and "reminder_days" in p for p in problems)
    assert any(p.startswith("catalogue.yaml: courses.csec_schools.delivery: ") for p in problems)
    assert any(p.startswith("catalogue.yaml: requirements.1.gates.0: ") for p in problems)


# -- requirement resolution -------------------------------------------------------------

EVERYONE = "everyone_who_meets_youth"
RESOLUTION = [
    # (recorded profession, role, agency type) -> the resolved profession and required courses
    ("", "screener", "child_welfare", "child_welfare_worker", {"csec_foundations", SCREENING, ENGAGEMENT, PREVENTION}),
    ("", "placement_worker", "child_welfare", "child_welfare_worker", {"csec_foundations", ENGAGEMENT, PREVENTION}),
    ("", "case_manager", "probation", "probation_officer", {"csec_foundations", SCREENING, ENGAGEMENT}),
    ("", "supervisor", "juvenile_court", "judge", {"csec_foundations", SCREENING, COURT}),
    ("", "screener", "law_enforcement", "first_responder", {"csec_foundations", SCREENING, FIRST}),
    ("", "mdt_coordinator", "health", "health_provider", {"csec_foundations", HEALTH}),
    ("", "case_manager", "mental_health", "mental_health_clinician", {"csec_foundations", SCREENING, HEALTH}),
    ("", "screener", "education", "teacher", {"csec_foundations", SCREENING, SCHOOLS}),
    ("", "screener", "community_provider", "community_advocate", {"csec_foundations", SCREENING, ENGAGEMENT}),
    # a recorded profession wins over the agency type's usual one
    ("hotline_worker", "screener", "child_welfare", "hotline_worker", {"csec_foundations", SCREENING, PREVENTION}),
    ("school_administrator", "placement_worker", "education", "school_administrator", {"csec_foundations", SCHOOLS}),
    ("prosecutor", "case_manager", "juvenile_court", "prosecutor", {"csec_foundations", SCREENING, COURT}),
    ("public_defender", "placement_worker", "probation", "public_defender", {"csec_foundations", COURT}),
    ("county_counsel", "mdt_coordinator", "child_welfare", "county_counsel", {"csec_foundations", COURT}),
    ("dependency_attorney", "supervisor", "juvenile_court", "dependency_attorney",
     {"csec_foundations", SCREENING, COURT}),
    # roles that do not meet youth have no default profession, so no requirement
    ("", "analyst", "child_welfare", None, set()),
    ("", "identity_steward", "probation", None, set()),
    ("", "agency_admin", "health", None, set()),
    ("", "training_coordinator", "education", None, set()),
    ("", "state_analyst", "law_enforcement", None, set()),
    # a screener of no agency: the role's requirement only
    ("", "screener", None, None, {SCREENING}),
]


@pytest.mark.parametrize(("profession", "role", "agency_type", "resolved", "courses"), RESOLUTION)
def test_requirements_resolve_by_profession_role_and_agency_type(
        profession: str, role: str, agency_type: str | None, resolved: str | None, courses: set[str]) -> None:
    cat = catalogue()
    assert cat.staff_profession(profession, role, agency_type) == resolved
    required = cat.required(profession=resolved, role=role, agency_type=agency_type)
    assert set(required) == courses
    if "csec_foundations" in courses:
        assert required["csec_foundations"] == [EVERYONE]
    if SCREENING in courses:
        assert required[SCREENING] == ["screeners"]
        assert cat.required(profession=resolved, role=role, agency_type=agency_type, gate="screening") == {
            SCREENING: ["screeners"]}
    else:
        assert cat.required(profession=resolved, role=role, agency_type=agency_type, gate="screening") == {}


@pytest.mark.parametrize(("profession", "role", "agency_type", "resolved", "courses"),
                         [row for row in RESOLUTION if row[2] is not None])
def test_a_staff_member_in_the_database_resolves_the_same(
        make_agency: Any, make_user: Any, profession: str, role: str, agency_type: str, resolved: str | None,
        courses: set[str]) -> None:
    person = make_user(role, make_agency(agency_type), profession=profession)
    assert profession_of(person) == resolved
    assert set(required_of(person)) == courses


def test_an_agency_type_selector_narrows_a_requirement() -> None:
    doc = shipped()
    doc["requirements"].append({"id": "probation_screeners", "title": {"en": "Probation screeners", "es": "x"},
                                "roles": ["screener"], "agency_types": ["probation"], "courses": [COURT]})
    cat = parse(doc)
    probation = cat.required(profession="probation_officer", role="screener", agency_type="probation")
    assert probation[COURT] == ["probation_screeners"]
    assert COURT not in cat.required(profession="probation_officer", role="case_manager", agency_type="probation")
    assert COURT not in cat.required(profession="probation_officer", role="screener", agency_type="health")
    assert COURT not in cat.required(profession="probation_officer", role="screener", agency_type=None)


def test_a_course_asked_for_by_two_requirements_names_both_in_catalogue_order() -> None:
    doc = shipped()
    doc["requirements"].append({"id": "judges_again", "title": {"en": "Judges", "es": "Jueces"},
                                "professions": ["judge"], "courses": [COURT, "csec_foundations"]})
    cat = parse(doc)
    required = cat.required(profession="judge")
    assert required == {"csec_foundations": [EVERYONE, "judges_again"], COURT: ["courts", "judges_again"]}


@pytest.mark.parametrize(("resource_type", "profession"), [
    ("foster_family", "foster_parent"), ("relative", "foster_parent"), ("emergency_shelter", "group_home_staff"),
    ("group_home", "group_home_staff"), ("transitional_housing", "group_home_staff"),
    ("safe_home", "group_home_staff"), ("secure_setting", "group_home_staff"),
])
def test_a_caregivers_requirements_follow_the_kind_of_resource(make_agency: Any, resource_type: str,
                                                               profession: str) -> None:
    caregiver = caregiver_at(make_agency("child_welfare"), resource_type)
    assert isinstance(caregiver, Caregiver)
    assert profession_of(caregiver) == profession
    assert required_of(caregiver) == {"csec_foundations": [EVERYONE], CARE: ["caregivers"]}
    assert required_of(caregiver, gate="placement") == {CARE: ["caregivers"]}
    assert required_of(caregiver, gate="screening") == {}  # caregivers have no role


# -- expiry -----------------------------------------------------------------------------


def course(months: int | None) -> Course:
    return Course("c", {"en": "c", "es": "c"}, {"en": "t", "es": "t"}, 1.0, "online", months)


@pytest.mark.parametrize(("completed", "months", "expires"), [
    (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28)),
    (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),  # a leap year's February
    (dt.date(2025, 3, 31), 1, dt.date(2025, 4, 30)),
    (dt.date(2025, 12, 15), 1, dt.date(2026, 1, 15)),  # over the year's end
    (dt.date(2025, 11, 30), 3, dt.date(2026, 2, 28)),
    (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),  # a leap day, a year on
    (dt.date(2024, 2, 29), 48, dt.date(2028, 2, 29)),  # and four years on
    (dt.date(2024, 2, 29), 24, dt.date(2026, 2, 28)),
    (dt.date(2025, 8, 31), 24, dt.date(2027, 8, 31)),
    (dt.date(2025, 1, 1), 12, dt.date(2026, 1, 1)),
    (dt.date(2025, 12, 31), 12, dt.date(2026, 12, 31)),
    (dt.date(2025, 1, 15), 120, dt.date(2035, 1, 15)),
])
def test_a_certificate_lasts_to_the_same_day_of_the_month_or_the_months_last_day(
        completed: dt.date, months: int, expires: dt.date) -> None:
    assert course(months).expires_on(completed) == expires


def test_a_course_without_a_renewal_period_never_expires() -> None:
    doc = shipped()
    doc["courses"]["csec_court"]["renewal_months"] = None
    cat = parse(doc)
    assert cat.courses["csec_court"].expires_on(dt.date(2025, 1, 1)) is None
    assert cat.courses["csec_health"].expires_on(dt.date(2025, 1, 1)) == dt.date(2027, 1, 1)


@settings(max_examples=300, deadline=None)
@given(completed=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)), months=st.integers(1, 120))
def test_expiry_is_after_completion_and_within_the_renewal_period(completed: dt.date, months: int) -> None:
    expires = course(months).expires_on(completed)
    assert expires is not None
    assert completed < expires
    assert (expires - completed).days <= months * 31
    assert (expires - completed).days >= months * 28
    assert (expires.year - completed.year) * 12 + expires.month - completed.month == months
    assert expires.day == completed.day or (expires.day < completed.day
                                            and (expires + dt.timedelta(days=1)).day == 1)  # the month's last day


def test_the_shipped_renewal_periods_are_used_for_expiry() -> None:
    cat = catalogue()
    assert cat.courses["csec_caregiving"].expires_on(dt.date(2026, 3, 31)) == dt.date(2027, 3, 31)
    assert cat.courses["csec_prevention_casework"].expires_on(dt.date(2026, 2, 28)) == dt.date(2029, 2, 28)
    assert cat.courses["csec_screening"].expires_on(dt.date(2024, 2, 29)) == dt.date(2026, 2, 28)
