"""Each shipped profile, replayed on a synthetic youth's events through the real services,
opens exactly the tasks and clocks its description says: one table per profile.

The county's clocks start on a Friday at 22:00 (``T0``), so business days run across a
weekend: 2 business days end on Tuesday (96 h), 3 on Wednesday (120 h), 5 on the next
Friday (168 h). The expected hours are written out by hand from each profile's summary
(and, for what a profile does not change, the default library), not computed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.directory.models import User
from nowrongdoor.jurisdiction import services
from nowrongdoor.jurisdiction.profiles import profiles
from nowrongdoor.protocols.models import Task
from nowrongdoor.youth.models import SourceRecord
from tests.protocols.conftest import T0, County_, contact, run_tick, screen

# What the default library opens for the events below (profiles add to or change these).
DETENTION_DEFAULTS = {
    "notify_child_welfare": (1, "law_enforcement", "screener"),
    "notify_advocate": (1, "law_enforcement", "screener"),
    "screen_youth": (24, "child_welfare", "screener"),
    "screen_at_intake": (120, "law_enforcement", "screener"),  # detention is an intake: 3 business days
}
ARREST_DEFAULTS = {k: v for k, v in DETENTION_DEFAULTS.items() if k != "screen_at_intake"}


def liaison(agency_type: str = "child_welfare") -> dict[str, tuple[int, str, str]]:
    return {f"liaison_checkin#{n}": (24 * 7 * n, agency_type, "case_manager") for n in range(1, 14)}


def identified(changes: dict[str, tuple[int, str, str]] | None = None) -> dict[str, tuple[int, str, str]]:
    """The first response to clear indicators found by child welfare (no hotline report to
    itself), with a profile's changes."""
    base = {
        "report_law_enforcement": (24, "child_welfare", "screener"),
        "medical_assessment": (48, "child_welfare", "case_manager"),
        "mental_health_assessment": (48, "child_welfare", "case_manager"),
        "advocate_meeting": (48, "child_welfare", "case_manager"),
        "placement_survey": (48, "child_welfare", "case_manager"),
        "convene_mdt": (72, "child_welfare", "mdt_coordinator"),
        **liaison(),
    }
    return {**base, **(changes or {})}


def weekly(step: str, count: int, agency_type: str, role: str, first_hours: int = 168
           ) -> dict[str, tuple[int, str, str]]:
    return {f"{step}#{n}": (first_hours + 168 * (n - 1), agency_type, role) for n in range(1, count + 1)}


# 30, 60, 90, 120 days at the same local time: the clocks go forward on 14 March 2027, so
# the fourth is an hour shorter.
DAYS_30 = {1: 720, 2: 1440, 3: 2160, 4: 2879}

# (event, details) -> expected {step: (hours after T0, owning agency type, role)}
CT_CLEAR = identified({"medical_assessment": (72, "child_welfare", "case_manager"),
                       "mental_health_assessment": (72, "child_welfare", "case_manager"),
                       "placement_survey": (72, "child_welfare", "case_manager")})
TABLES: dict[str, list[tuple[str, dict[str, Any], dict[str, tuple[int, str, str]]]]] = {
    "connecticut": [
        ("removal", {}, {"screen_at_intake": (120, "child_welfare", "screener")}),
        ("hotline_report", {"allegations": ["sexual_exploitation"]},
         {"screen_at_intake": (120, "child_welfare", "screener"),
          "assess_exploitation_report": (72, "child_welfare", "case_manager")}),
        ("hotline_report", {"allegations": ["general_neglect"]},
         {"screen_at_intake": (120, "child_welfare", "screener")}),
        ("clear_cw", {}, CT_CLEAR),
        ("detention", {"offence_category": "prostitution_related"}, DETENTION_DEFAULTS),
    ],
    "alameda": [
        ("removal", {}, {"screen_at_assessment_center": (24, "child_welfare", "screener"),
                         "stat_mental_health_assessment": (24, "child_welfare", "case_manager"),
                         "nurse_medical_screen": (24, "child_welfare", "case_manager"),
                         "on_site_advocate_talk": (24, "community_provider", "case_manager")}),
        ("detention", {"offence_category": "prostitution_related"},
         {**DETENTION_DEFAULTS, "advocate_on_scene": (0, "community_provider", "case_manager"),
          "advocate_victim_assessment": (48, "community_provider", "case_manager")}),
        ("clear_cw", {}, {**identified(), **weekly("safety_net_review", 13, "child_welfare", "mdt_coordinator")}),
        ("placement_identified", {"placement_type": "foster_family"},
         {**{f"caregiver_follow_up#{n}": (DAYS_30[n], "child_welfare", "case_manager") for n in range(1, 5)},
          **{f"advocate_follow_up#{n}": (DAYS_30[n], "community_provider", "case_manager") for n in range(1, 5)},
          "rescreen_new_placement": (168, "child_welfare", "screener")}),
    ],
    "los_angeles_first_48": [
        ("arrest", {"offence_category": "prostitution_related"},
         {**ARREST_DEFAULTS, "first48_medical_assessment": (48, "probation", "case_manager"),
          "first48_mental_health_assessment": (48, "probation", "case_manager"),
          "first48_advocate_meeting": (48, "probation", "case_manager"),
          "first48_placement_survey": (48, "probation", "case_manager"),
          "offer_first_step_diversion": (168, "probation", "case_manager")}),
        ("arrest", {"offence_category": "theft"}, {}),
        ("court_hearing_identified", {"hearing_type": "detention"},
         weekly("pre_hearing_team_meeting", 13, "juvenile_court", "mdt_coordinator", first_hours=144)),
    ],
    "florida": [
        ("hotline_report", {"allegations": ["sexual_exploitation", "physical_abuse"]},
         {"screen_at_intake": (120, "child_welfare", "screener"),
          "trafficking_staffing": (24, "child_welfare", "mdt_coordinator"),
          "trafficking_indicator_tool": (24, "child_welfare", "screener"),
          "complicit_caregiver_check": (24, "child_welfare", "placement_worker")}),
        ("clear_cw", {}, identified({"convene_mdt": (24, "child_welfare", "mdt_coordinator")})),
    ],
    "illinois": [
        ("arrest", {"offence_category": "prostitution_related"},
         {**ARREST_DEFAULTS, "temporary_protective_custody": (1, "law_enforcement", "screener")}),
        ("clear_cw", {}, identified()),
    ],
    "multnomah": [
        ("clear_cw", {}, identified({"advocate_meeting": (48, "community_provider", "case_manager"),
                                     **liaison("community_provider"),
                                     "initial_assessment": (24, "community_provider", "case_manager")})),
    ],
    "georgia": [
        ("clear_cw", {}, identified({"comprehensive_care_plan": (24 * 14, "child_welfare", "mdt_coordinator"),
                                     "refer_to_single_point_of_entry": (24, "child_welfare", "screener"),
                                     "comprehensive_screening": (72, "community_provider", "screener")})),
    ],
    "minnesota_no_wrong_door": [
        ("clear_cw", {}, identified({"navigator_safety_needs_assessment": (72, "health", "case_manager")})),
        ("arrest_age_15", {"offence_category": "prostitution_related"},
         {**ARREST_DEFAULTS, "no_charge_under_16": (24, "law_enforcement", "screener")}),
        ("arrest_age_17", {"offence_category": "prostitution_related"},
         {**ARREST_DEFAULTS, "check_diversion_eligibility": (168, "probation", "case_manager")}),
    ],
    "new_york_safe_harbor": [
        ("arrest", {"offence_category": "prostitution_related"},
         {**ARREST_DEFAULTS, "safe_harbour_services": (72, "child_welfare", "case_manager"),
          "consider_pins_certification": (168, "juvenile_court", "case_manager")}),
    ],
    "washington_safe_harbor": [
        ("arrest", {"offence_category": "prostitution_related"},
         {**ARREST_DEFAULTS, "diversion_referral": (168, "probation", "case_manager"),
          "sexual_assault_services": (72, "community_provider", "case_manager")}),
    ],
    "school_district": [
        ("school", {"event": "recruitment_concern"},
         {"tell_administrator": (1, "education", "screener"),
          "report_recruitment_to_law_enforcement": (24, "education", "supervisor"),
          "protect_students": (24, "education", "supervisor"),
          "screen_recruiting_student": (168, "education", "screener")}),
        ("school", {"event": "exploitation_concern"},
         {"school_report_hotline": (24, "education", "screener"),
          "counsellor_screening": (96, "education", "screener"),
          "engage_family": (72, "education", "supervisor")}),
        ("school", {"event": "exploitation_confirmed"},
         {"school_safety_plan": (24, "education", "supervisor"),
          "refer_to_local_programme": (168, "education", "screener"),
          **weekly("weekly_school_check_in", 12, "education", "screener")}),
        ("school", {"event": "truancy"}, {"rescreen_chronic_truancy": (168, "education", "screener")}),
    ],
}
# advocate_on_scene is due in 90 minutes, not whole hours.
MINUTES = {"advocate_on_scene": 90}


def test_every_shipped_profile_has_a_table() -> None:
    assert set(TABLES) == set(profiles())


def _set_age(w: County_, years: int) -> None:
    born = dt.date(T0.year - years, 1, 15)
    SourceRecord.objects.filter(youth=w.youth).update(date_of_birth=born, estimated_age=None, age_recorded_on=None)


def _juvenile_court_record(w: County_, make_record: Callable[..., Any], link_records: Callable[..., None]) -> None:
    if "juvenile_court" not in w.records:
        with clock.frozen(T0 - dt.timedelta(days=30)):
            record = make_record(w.user("juvenile_court", "screener"))
        link_records(record, w.records["probation"])
        w.records["juvenile_court"] = record


def _event(w: County_, kind: str, details: dict[str, Any], make_record: Callable[..., Any],
           link_records: Callable[..., None]) -> str:
    """Record the event through the real services; return its trigger-event key prefix."""
    at = T0
    if kind in ("placement_identified", "court_hearing_identified"):
        screen(w, "child_welfare", clear=True, at=T0 - dt.timedelta(days=2))  # identified earlier
        run_tick(T0 - dt.timedelta(days=2) + dt.timedelta(minutes=1))
    if kind == "clear_cw":
        return f"screening:{screen(w, 'child_welfare', clear=True, at=at).public_id}"
    if kind.startswith("arrest_age_"):
        _set_age(w, int(kind.rsplit("_", 1)[1]))
        kind = "arrest"
    agency_type, contact_type = {
        "removal": ("child_welfare", "removal"), "hotline_report": ("child_welfare", "hotline_report"),
        "detention": ("law_enforcement", "detention"), "arrest": ("law_enforcement", "arrest"),
        "placement_identified": ("child_welfare", "placement_start"),
        "court_hearing_identified": ("juvenile_court", "court_hearing"), "school": ("education", "school_event"),
    }[kind]
    if agency_type == "juvenile_court":
        _juvenile_court_record(w, make_record, link_records)
    return f"contact:{contact(w, agency_type, contact_type, at=at, **details).public_id}"


@pytest.mark.parametrize(("profile_id", "row"), [(p, n) for p, rows in TABLES.items() for n in range(len(rows))])
def test_a_profile_opens_exactly_the_tasks_and_clocks_it_describes(
    world: County_, make_user: Callable[..., User], make_record: Callable[..., Any],
    link_records: Callable[..., None], profile_id: str, row: int,
) -> None:
    kind, details, expected = TABLES[profile_id][row]
    admin = make_user("system_admin", None)
    services.apply_profile(actor=admin, county_name=world.county.name, profile_id=profile_id,
                           reason="replaying the profile's events", expected_revision=0)
    key = _event(world, kind, details, make_record, link_records)
    run_tick()
    opened = {t.key.rsplit("|", 1)[1]: t for t in Task.objects.filter(event__key=key)}
    assert sorted(opened) == sorted(expected)
    for step, (hours, agency_type, role) in expected.items():
        task = opened[step]
        due = dt.timedelta(minutes=MINUTES[step]) if step in MINUTES else dt.timedelta(hours=hours)
        assert (task.due_at - T0, task.agency.agency_type, task.role) == (due, agency_type, role), step
        assert task.profile_version == f"{profile_id}@1", step
