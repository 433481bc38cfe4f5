"""Time travel through each default protocol: the event opens the right steps for the
right agency and role, each due at its legal clock (weekends included), nothing escalates
before the due time, and the escalation chain fires once per level after it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.protocols.models import Notification, Task
from nowrongdoor.protocols.services import tick
from tests.protocols.conftest import LA, T0, County_, contact, run_tick, screen, tasks

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def local(month: int, day: int, hour: int = 22, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LA)


def check(opened: dict[str, Task], expected: dict[str, tuple[dt.datetime, str, str]]) -> None:
    assert sorted(opened) == sorted(expected)
    for step, (due, agency_type, role) in expected.items():
        task = opened[step]
        assert (task.due_at, task.agency.agency_type, task.role) == (due, agency_type, role), step
        assert task.protocol_version.endswith("@1"), task.protocol_version


def test_clear_indicators_at_probation_open_the_csec_response(world: County_) -> None:
    screen(world, "probation", clear=True)
    run_tick()
    opened = tasks(protocol_id="csec_identified")
    expected = {
        "report_hotline": (T0 + 24 * H, "probation", "screener"),
        "report_law_enforcement": (T0 + 24 * H, "probation", "screener"),
        "medical_assessment": (T0 + 48 * H, "child_welfare", "case_manager"),
        "mental_health_assessment": (T0 + 48 * H, "child_welfare", "case_manager"),
        "advocate_meeting": (T0 + 48 * H, "child_welfare", "case_manager"),
        "placement_survey": (T0 + 48 * H, "child_welfare", "case_manager"),
        "convene_mdt": (T0 + 72 * H, "child_welfare", "mdt_coordinator"),
        **{f"liaison_checkin#{n}": (T0 + 7 * n * D, "child_welfare", "case_manager") for n in range(1, 14)},
    }
    check(opened, expected)
    assert opened["report_hotline"].assignee == world.user("probation", "screener")
    assert opened["liaison_checkin#13"].due_at - T0 >= dt.timedelta(days=90)


def test_clear_indicators_found_by_child_welfare_skip_the_hotline_report_to_itself(world: County_) -> None:
    screen(world, "child_welfare", clear=True)
    run_tick()
    opened = tasks(protocol_id="csec_identified")
    assert "report_hotline" not in opened
    assert opened["report_law_enforcement"].agency == world.agencies["child_welfare"]


def test_an_immediate_safety_answer_opens_an_urgent_task_for_the_supervisor(world: County_) -> None:
    screen(world, "probation", safety=True)
    run_tick()
    [task] = Task.objects.filter(protocol_id="immediate_safety")
    assert (task.due_at, task.agency, task.role) == (T0 + H, world.agencies["probation"], "supervisor")


def test_missing_from_placement_opens_the_24_hour_reports(world: County_) -> None:
    contact(world, "child_welfare", "absence_start")
    run_tick()
    check(tasks(protocol_id="missing_from_placement"), {
        "report_missing_to_law_enforcement": (T0 + 24 * H, "child_welfare", "case_manager"),
        "report_missing_to_ncmec": (T0 + 24 * H, "child_welfare", "case_manager"),
    })


def test_return_from_absence_opens_debrief_and_rescreening_and_a_screening_closes_the_latter(
    world: County_,
) -> None:
    contact(world, "child_welfare", "absence_return")
    run_tick()
    opened = tasks(protocol_id="return_from_absence")
    check(opened, {
        "debrief_interview": (T0 + 72 * H, "child_welfare", "case_manager"),
        "rescreen_after_return": (T0 + 72 * H, "child_welfare", "case_manager"),
    })
    screen(world, "child_welfare", at=T0 + 30 * H)
    run_tick(T0 + 31 * H)
    rescreen = Task.objects.get(pk=opened["rescreen_after_return"].pk)
    assert rescreen.status == Task.DONE
    assert rescreen.closed_by_event is not None and rescreen.closed_by_event.event_type == "screening_completed"
    assert Task.objects.get(pk=opened["debrief_interview"].pk).status == Task.OPEN


def test_a_prostitution_related_arrest_treats_the_youth_as_a_victim_at_once(world: County_) -> None:
    contact(world, "law_enforcement", "arrest", offence_category="prostitution_related")
    run_tick()
    opened = tasks(protocol_id="prostitution_related_charge")
    check(opened, {
        "notify_child_welfare": (T0 + H, "law_enforcement", "screener"),
        "notify_advocate": (T0 + H, "law_enforcement", "screener"),
        "screen_youth": (T0 + 24 * H, "child_welfare", "screener"),
    })
    assert not Task.objects.filter(protocol_id="advocate_on_scene").exists()  # optional: off by default


def test_other_arrests_open_no_victim_response(world: County_) -> None:
    contact(world, "law_enforcement", "arrest", offence_category="theft")
    run_tick()
    assert not Task.objects.filter(protocol_id="prostitution_related_charge").exists()


@pytest.mark.parametrize(("agency_type", "contact_type", "details", "step", "due", "owner"), [
    ("school", "school_event", {"event": "truancy"}, "rescreen_chronic_truancy", local(11, 27), "education"),
    ("child_welfare", "placement_start", {"placement_type": "foster_family"}, "rescreen_new_placement",
     local(11, 27), "child_welfare"),
])
def test_rescreening_triggers_count_business_days(
    world: County_, agency_type: str, contact_type: str, details: dict[str, Any], step: str, due: dt.datetime,
    owner: str,
) -> None:
    contact(world, "education" if agency_type == "school" else agency_type, contact_type, **details)
    run_tick()
    task = tasks(protocol_id="rescreening_triggers")[step]
    assert (task.due_at, task.agency.agency_type, task.role) == (due, owner, "screener")


def test_repeated_sti_testing_triggers_rescreening_the_first_test_does_not(world: County_) -> None:
    contact(world, "health", "health_visit", at=T0 - 60 * D, reason="sti_testing")
    run_tick()
    assert "rescreen_repeated_sti_testing" not in tasks(protocol_id="rescreening_triggers")
    contact(world, "health", "health_visit", reason="sti_testing")
    run_tick()
    task = tasks(protocol_id="rescreening_triggers")["rescreen_repeated_sti_testing"]
    assert (task.due_at, task.agency.agency_type) == (T0 + 7 * D, "health")


@pytest.mark.parametrize(("agency_type", "contact_type", "details"), [
    ("child_welfare", "hotline_report", {"allegations": ["sexual_exploitation"]}),
    ("probation", "probation_intake", {}),
])
def test_universal_screening_at_intake_is_due_in_three_business_days(
    world: County_, agency_type: str, contact_type: str, details: dict[str, Any]
) -> None:
    contact(world, agency_type, contact_type, **details)
    run_tick()
    task = tasks(protocol_id="universal_intake_screening")["screen_at_intake"]
    assert (task.due_at, task.agency.agency_type) == (local(11, 25), agency_type)  # Fri -> Wed


def test_a_new_placement_of_an_identified_youth_starts_120_days_of_caregiver_follow_up(world: County_) -> None:
    screen(world, "probation", clear=True, at=T0 - 10 * D)
    contact(world, "child_welfare", "placement_start", placement_type="foster_family")
    run_tick()
    opened = tasks(protocol_id="post_placement_follow_up")
    assert sorted(opened) == [f"caregiver_follow_up#{n}" for n in range(1, 5)]
    assert opened["caregiver_follow_up#4"].due_at == T0 + 120 * D


def test_a_placement_of_a_youth_not_identified_starts_no_follow_up(world: County_) -> None:
    contact(world, "child_welfare", "placement_start", placement_type="foster_family")
    run_tick()
    assert not Task.objects.filter(protocol_id="post_placement_follow_up").exists()


def test_nothing_escalates_before_the_due_time_and_each_level_fires_once_after(world: County_) -> None:
    contact(world, "child_welfare", "absence_start")
    run_tick()
    task = tasks(protocol_id="missing_from_placement")["report_missing_to_law_enforcement"]
    supervisor = world.user("child_welfare", "supervisor")
    admin = world.user("child_welfare", "agency_admin")
    with clock.frozen(task.due_at - dt.timedelta(minutes=1)):
        tick()
    assert not Notification.objects.exists()
    with clock.frozen(task.due_at + dt.timedelta(minutes=1)):
        tick()
        tick()
    assert set(Notification.objects.filter(task=task).values_list("recipient", "level")) == {(supervisor.pk, 1)}
    task.refresh_from_db()
    assert task.overdue_since == task.due_at
    with clock.frozen(task.due_at + 12 * H + dt.timedelta(minutes=1)):
        tick()
    assert set(Notification.objects.filter(task=task).values_list("recipient", "level")) == {
        (supervisor.pk, 1), (admin.pk, 2)}


def test_a_task_done_on_time_never_escalates(world: County_) -> None:
    from nowrongdoor.protocols.services import complete_task

    contact(world, "child_welfare", "absence_start")
    run_tick()
    task = tasks(protocol_id="missing_from_placement")["report_missing_to_ncmec"]
    evidence = {e["id"]: "NCMEC-SYN-0001" for e in task.evidence_spec if e["kind"] in ("reference", "text")}
    with clock.frozen(T0 + 2 * H):
        complete_task(actor=world.user("child_welfare", "case_manager"), task_public_id=str(task.public_id),
                      expected_version=task.version, evidence=evidence)
    with clock.frozen(T0 + 30 * D):
        tick()
    assert not Notification.objects.filter(task=task).exists()


def test_a_later_clear_screening_of_an_identified_youth_does_not_restart_the_first_response(world: County_) -> None:
    screen(world, "probation", clear=True)
    run_tick()
    before = Task.objects.filter(protocol_id="csec_identified").count()
    screen(world, "child_welfare", clear=True, at=T0 + 5 * D)
    run_tick(T0 + 5 * D + H)
    assert Task.objects.filter(protocol_id="csec_identified").count() == before


def test_a_screening_by_any_agency_closes_a_screen_the_youth_task(world: County_) -> None:
    contact(world, "law_enforcement", "arrest", offence_category="prostitution_related")
    run_tick()
    task = tasks(protocol_id="prostitution_related_charge")["screen_youth"]
    assert task.agency == world.agencies["child_welfare"]
    screen(world, "probation", at=T0 + 3 * H)
    run_tick(T0 + 4 * H)
    task.refresh_from_db()
    assert (task.status, task.evidence) == (Task.DONE, {"closed_by": "screening_completed"})
