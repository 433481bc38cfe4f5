"""Cases: exploitation status history, opening and closing (never on relapse), the
stage-of-change path, and MDT membership as a sharing window that opens and closes on
the right days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.cases import selectors, services
from nowrongdoor.cases.content import STAGES, mdt_rules, stages
from nowrongdoor.cases.models import Case
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import AccessDenied, Immutable, NotFound, ValidationFailed
from nowrongdoor.youth import selectors as youth_selectors

LA = ZoneInfo("America/Los_Angeles")
DAY0 = dt.datetime(2026, 9, 1, 10, 0, tzinfo=LA)


@pytest.fixture
def w(make_agency: Callable[..., Agency], make_user: Callable[..., User], make_record: Callable[..., Any],
      make_contact: Callable[..., Any]) -> dict[str, Any]:
    cws, police, clinic = make_agency("child_welfare"), make_agency("law_enforcement"), make_agency("health")
    supervisor = make_user("supervisor", cws)
    worker = make_user("case_manager", cws, supervisor=supervisor)
    with clock.frozen(DAY0 - dt.timedelta(days=10)):
        record = make_record(worker)
    return {"cws": cws, "police": police, "clinic": clinic, "supervisor": supervisor, "worker": worker,
            "detective": make_user("case_manager", police), "nurse": make_user("case_manager", clinic),
            "record": record, "youth": str(record.youth.public_id)}


def open_case(w: dict[str, Any]) -> Case:
    with clock.frozen(DAY0):
        return services.open_case(actor=w["worker"], youth_public_id=w["youth"],
                                  reason="Clear indicators at intake; synthetic case.")


def test_the_stages_content_is_complete_in_both_languages() -> None:
    content = stages()
    assert list(content) == STAGES
    for stage in content.values():
        assert stage.counsellor_goals["en"] and len(stage.counsellor_goals["en"]) == len(stage.counsellor_goals["es"])
        assert stage.label["es"] and stage.description["es"]


def test_exploitation_status_is_a_dated_history_with_its_rules(w: dict[str, Any]) -> None:
    with clock.frozen(DAY0):
        with pytest.raises(ValidationFailed) as failed:
            services.record_status(actor=w["worker"], youth_public_id=w["youth"], status="victim_while_absent",
                                   start_date=dt.date(2026, 8, 1))
        assert set(failed.value.errors) == {"end_date"}
        with pytest.raises(ValidationFailed) as failed:
            services.record_status(actor=w["worker"], youth_public_id=w["youth"], status="at_risk",
                                   start_date=dt.date(2026, 8, 10), end_date=dt.date(2026, 8, 1))
        assert set(failed.value.errors) == {"end_date"}
        with pytest.raises(ValidationFailed) as failed:
            services.record_status(actor=w["worker"], youth_public_id=w["youth"], status="victim",
                                   start_date=dt.date(2026, 8, 10))
        assert set(failed.value.errors) == {"status"}
        services.record_status(actor=w["worker"], youth_public_id=w["youth"], status="at_risk",
                               start_date=dt.date(2026, 6, 1), end_date=dt.date(2026, 7, 31))
        services.record_status(actor=w["worker"], youth_public_id=w["youth"], status="victim_while_absent",
                               start_date=dt.date(2026, 8, 1), end_date=dt.date(2026, 8, 20))
        history = selectors.status_history(actor=w["worker"], youth_public_id=w["youth"])
    assert [(h["status"], h["start_date"], h["end_date"]) for h in history] == [
        ("at_risk", dt.date(2026, 6, 1), dt.date(2026, 7, 31)),
        ("victim_while_absent", dt.date(2026, 8, 1), dt.date(2026, 8, 20))]


def test_one_open_case_per_youth_and_lead_agency(w: dict[str, Any]) -> None:
    open_case(w)
    with pytest.raises(ValidationFailed) as failed:
        open_case(w)
    assert set(failed.value.errors) == {"youth"}


def test_closure_on_relapse_is_refused_and_the_youth_stays_on_the_caseload(w: dict[str, Any]) -> None:
    case = open_case(w)
    pid = str(case.public_id)
    with pytest.raises(ValidationFailed) as failed:
        services.request_closure(actor=w["worker"], case_public_id=pid, expected_version=case.version,
                                 reason="relapse")
    assert "relapse" in failed.value.errors["reason"][0]
    with clock.frozen(DAY0 + dt.timedelta(days=20)):
        services.record_stage(actor=w["worker"], case_public_id=pid, stage="action", on=dt.date(2026, 9, 10))
        services.record_stage(actor=w["worker"], case_public_id=pid, stage="relapse", on=dt.date(2026, 9, 18))
    with pytest.raises(ValidationFailed) as failed:
        services.request_closure(actor=w["worker"], case_public_id=pid, expected_version=case.version,
                                 reason="goals_met")
    assert "relapse" in failed.value.errors["reason"][0]
    assert Case.objects.get(pk=case.pk).status == Case.OPEN
    with clock.frozen(DAY0 + dt.timedelta(days=20)):
        assert [c.pk for c in selectors.caseload(actor=w["worker"])] == [case.pk]


def test_closing_needs_a_supervisors_approval(w: dict[str, Any]) -> None:
    case = open_case(w)
    pid = str(case.public_id)
    case = services.request_closure(actor=w["worker"], case_public_id=pid, expected_version=case.version,
                                    reason="goals_met")
    assert case.status == Case.CLOSING
    with pytest.raises(AccessDenied):
        services.decide_closure(actor=w["worker"], case_public_id=pid, expected_version=case.version, approve=True)
    case = services.decide_closure(actor=w["supervisor"], case_public_id=pid, expected_version=case.version,
                                   approve=True)
    assert (case.status, case.closed_approved_by) == (Case.CLOSED, w["supervisor"])
    with pytest.raises(Immutable):
        services.record_stage(actor=w["worker"], case_public_id=pid, stage="maintenance", on=clock.today())


def test_the_stage_history_round_trips_with_the_goals_for_the_current_stage(w: dict[str, Any]) -> None:
    case = open_case(w)
    path = [("precontemplation", 2), ("contemplation", 9), ("preparation", 20), ("action", 30), ("relapse", 41),
            ("contemplation", 45)]
    with clock.frozen(DAY0 + dt.timedelta(days=60)):
        for stage, day in path:
            services.record_stage(actor=w["worker"], case_public_id=str(case.public_id), stage=stage,
                                  on=DAY0.date() + dt.timedelta(days=day))
        view = selectors.get_case(actor=w["worker"], public_id=str(case.public_id))
    assert [(s, on) for s, on, _ in view.stages] == [(s, DAY0.date() + dt.timedelta(days=d)) for s, d in path]
    assert view.current_stage is not None and view.current_stage.code == "contemplation"
    assert view.current_stage.counsellor_goals["en"] == stages()["contemplation"].counsellor_goals["en"]


def test_mdt_membership_opens_sharing_for_the_window_and_closes_it(w: dict[str, Any]) -> None:
    case = open_case(w)
    detective, pid = w["detective"], str(case.public_id)
    window = mdt_rules().window_days

    def reads(day: int) -> bool:
        with clock.frozen(DAY0 + dt.timedelta(days=day)):
            try:
                youth_selectors.get_youth(actor=detective, public_id=w["youth"], purpose="case_coordination")
                selectors.get_case(actor=detective, public_id=pid, purpose="case_coordination")
            except NotFound:
                return False
            return True

    assert not reads(0)
    with clock.frozen(DAY0):
        services.add_member(actor=w["worker"], case_public_id=pid, member_username=detective.username,
                            role_in_team="Detective, human trafficking unit")
    assert [reads(d) for d in (0, window - 1, window)] == [True, True, False]
    basis = AuditEvent.objects.filter(actor=detective, allowed=True, object_type="case").values_list("basis",
                                                                                                     flat=True)
    assert set(basis) == {"mdt_team"}
    with clock.frozen(DAY0 + dt.timedelta(days=window - 2)), pytest.raises(ValidationFailed):
        services.extend_sharing(actor=w["worker"], case_public_id=pid, member_username=detective.username,
                                days=30, good_cause="short")
    with clock.frozen(DAY0 + dt.timedelta(days=window - 2)):
        services.extend_sharing(actor=w["worker"], case_public_id=pid, member_username=detective.username,
                                days=30, good_cause="Trial of the exploiter is set; the detective coordinates "
                                                    "the youth's safety (synthetic).")
    assert [reads(d) for d in (window, window + 29, window + 30)] == [True, True, False]
    with clock.frozen(DAY0 + dt.timedelta(days=window + 5)):
        services.remove_member(actor=w["worker"], case_public_id=pid, member_username=detective.username)
    assert not reads(window + 5)


def test_mdt_membership_never_opens_consent_categories_without_consent(
    w: dict[str, Any], make_record: Callable[..., Any], make_contact: Callable[..., Any],
    link_records: Callable[..., None],
) -> None:
    nurse_record = make_record(w["nurse"])
    link_records(nurse_record, w["record"])
    make_contact(w["nurse"], nurse_record, "health_visit", reason="sti_testing")
    case = open_case(w)
    with clock.frozen(DAY0):
        services.add_member(actor=w["worker"], case_public_id=str(case.public_id),
                            member_username=w["detective"].username, role_in_team="Detective")
        view = youth_selectors.get_youth(actor=w["detective"], public_id=w["youth"], purpose="case_coordination")
    assert "health" not in {c.category for c in view.contacts}


def test_an_agency_with_no_basis_never_sees_the_case(w: dict[str, Any], make_agency: Callable[..., Agency],
                                                     make_user: Callable[..., User]) -> None:
    case = open_case(w)
    outsider = make_user("case_manager", make_agency("education"))
    with pytest.raises(NotFound):
        selectors.get_case(actor=outsider, public_id=str(case.public_id))
    assert AuditEvent.objects.filter(actor=outsider, allowed=False, object_type="case").exists()
    with pytest.raises(AccessDenied):
        selectors.get_case(actor=make_user("analyst", w["cws"]), public_id=str(case.public_id), purpose="analytics")


def test_only_mdt_roles_join_a_team(w: dict[str, Any], make_user: Callable[..., User]) -> None:
    case = open_case(w)
    for role in ("analyst", "agency_admin", "screener"):
        with pytest.raises(ValidationFailed) as failed:
            services.add_member(actor=w["worker"], case_public_id=str(case.public_id),
                                member_username=make_user(role, w["police"]).username, role_in_team="x")
        assert set(failed.value.errors) == {"member"}


GOALS = {"goals": [{"goal": "I want to finish school and live with my aunt.", "services": "tutoring",
                    "responsible": "case manager", "review_on": "2026-10-01"}]}


def test_concurrent_plan_edits_are_refused_with_409_and_both_versions_kept(w: dict[str, Any]) -> None:
    from nowrongdoor.errors import StaleEdit

    case = open_case(w)
    pid = str(case.public_id)
    colleague = w["supervisor"]
    services.save_plan(actor=w["worker"], case_public_id=pid, kind="care", expected_version=0, content=GOALS)
    mine = {"goals": [*GOALS["goals"], {"goal": "I want to see my little brother every week."}]}
    theirs = {"goals": [*GOALS["goals"], {"goal": "I want a job at the bakery.", "responsible": "mentor"}]}
    services.save_plan(actor=w["worker"], case_public_id=pid, kind="care", expected_version=1, content=mine)
    with pytest.raises(StaleEdit) as stale:
        services.save_plan(actor=colleague, case_public_id=pid, kind="care", expected_version=1, content=theirs)
    assert stale.value.current_version == 2
    plan = selectors.get_plan(actor=w["worker"], case_public_id=pid, kind="care")
    assert (plan.version, plan.content) == (2, mine)
    assert [c["content"] for c in plan.conflicts] == [theirs]
    assert plan.conflicts[0]["based_on"] == 1 and plan.conflicts[0]["author"] == colleague.username
    assert [n for n, _, _ in plan.history] == [2, 1]


@pytest.mark.parametrize(("kind", "content", "field"), [
    ("care", {"goals": []}, "content.goals"),
    ("care", {"goals": [{"goal": " "}]}, "content.goals.0.goal"),
    ("care", {"goals": [{"goal": "x", "review_on": "soon"}]}, "content.goals.0.review_on"),
    ("care", {"goals": [{"goal": "x"}], "secret": 1}, "content.secret"),
    ("safety", {}, "content.content"),
    ("safety", {"triggers": "not a list"}, "content.triggers"),
    ("diet", {}, "kind"),
])
def test_a_malformed_plan_names_the_field(w: dict[str, Any], kind: str, content: dict[str, Any], field: str) -> None:
    case = open_case(w)
    with pytest.raises(ValidationFailed) as failed:
        services.save_plan(actor=w["worker"], case_public_id=str(case.public_id), kind=kind, expected_version=0,
                           content=content)
    assert field in failed.value.errors


def test_the_safety_plan_needs_consent_beyond_the_lead_agency_even_for_team_members(w: dict[str, Any]) -> None:
    case = open_case(w)
    pid = str(case.public_id)
    services.save_plan(actor=w["worker"], case_public_id=pid, kind="safety", expected_version=0,
                       content={"triggers": ["calls from an older 'boyfriend'"], "safe_people": ["aunt"],
                                "how_to_reach_help": "text the advocate", "if_relapse": "call, no judgement"})
    services.save_plan(actor=w["worker"], case_public_id=pid, kind="care", expected_version=0, content=GOALS)
    with clock.frozen(DAY0):
        services.add_member(actor=w["worker"], case_public_id=pid, member_username=w["detective"].username,
                            role_in_team="Detective")
        assert selectors.get_plan(actor=w["detective"], case_public_id=pid, kind="care").version == 1
        with pytest.raises(NotFound):
            selectors.get_plan(actor=w["detective"], case_public_id=pid, kind="safety")
    assert selectors.get_plan(actor=w["worker"], case_public_id=pid, kind="safety").content["safe_people"] == ["aunt"]


def test_a_cross_county_transfer_hands_over_the_lead_and_keeps_the_audit_trail(
    w: dict[str, Any], make_agency: Callable[..., Agency], make_user: Callable[..., User], county: Any,
) -> None:
    from nowrongdoor.cases.models import CaseTransfer
    from nowrongdoor.directory.models import County

    other_county = County.objects.create(name="Elsewhere County (synthetic)")
    receiving = make_agency("child_welfare", in_county=other_county)
    receiving_supervisor = make_user("supervisor", receiving)
    case = open_case(w)
    pid = str(case.public_id)
    before = list(AuditEvent.objects.filter(object_id=pid).values_list("seq", flat=True))
    with pytest.raises(AccessDenied):
        services.transfer_case(actor=w["worker"], case_public_id=pid, expected_version=case.version,
                               to_agency_id=receiving.pk, reason="The youth moved to live with an aunt.")
    with pytest.raises(ValidationFailed) as failed:
        services.transfer_case(actor=w["supervisor"], case_public_id=pid, expected_version=case.version,
                               to_agency_id=w["police"].pk, reason="Same county.")
    assert set(failed.value.errors) == {"to_agency"}
    moved = services.transfer_case(actor=w["supervisor"], case_public_id=pid, expected_version=case.version,
                                   to_agency_id=receiving.pk, reason="The youth moved to live with an aunt.")
    assert (moved.agency, moved.county_of_residence, moved.worker) == (receiving, other_county, None)
    [transfer] = CaseTransfer.objects.filter(case=case)
    assert (transfer.from_agency, transfer.to_agency, transfer.by) == (w["cws"], receiving, w["supervisor"])
    after = list(AuditEvent.objects.filter(object_id=pid).order_by("seq"))
    assert [e.seq for e in after][: len(before)] == before  # nothing of the history is lost
    assert {e.action for e in after} >= {"create", "transfer", "transfer_received"}
    from nowrongdoor.access.audit import verify_chain

    assert verify_chain().ok
    with pytest.raises(NotFound):  # the sending agency no longer reads it (no agreement between the counties)
        selectors.get_case(actor=w["worker"], public_id=pid)
    moved = services.assign_worker(actor=receiving_supervisor, case_public_id=pid, expected_version=moved.version,
                                   worker_username=receiving_supervisor.username)
    assert selectors.get_case(actor=receiving_supervisor, public_id=pid).worker == receiving_supervisor.username


def test_meeting_action_items_become_tasks_for_their_owners(w: dict[str, Any]) -> None:
    from nowrongdoor.protocols import selectors as task_selectors

    case = open_case(w)
    pid = str(case.public_id)
    with clock.frozen(DAY0):
        services.add_member(actor=w["worker"], case_public_id=pid, member_username=w["detective"].username,
                            role_in_team="Detective")
        with pytest.raises(ValidationFailed) as failed:
            services.record_meeting(actor=w["worker"], case_public_id=pid, held_on=DAY0.date(),
                                    attendees=[w["worker"].username, "somebody.else"], agenda="", decisions="",
                                    action_items=[{"what": "x", "owner": "nobody", "due_on": "2026-09-05"}])
        assert set(failed.value.errors) == {"attendees", "action_items.0.owner"}
        services.record_meeting(
            actor=w["worker"], case_public_id=pid, held_on=DAY0.date(),
            attendees=[w["worker"].username, w["detective"].username], agenda="First MDT (synthetic)",
            decisions="Shelter placement; forensic interview next week.",
            action_items=[{"what": "Arrange the forensic interview", "owner": w["detective"].username,
                           "due_on": "2026-09-08"},
                          {"what": "Confirm the shelter bed", "owner": w["worker"].username, "due_on": "2026-09-02"}])
        work = task_selectors.my_work(actor=w["detective"], purpose="case_coordination")
    titles = [t.title["en"] for t in work.due_soon + work.later + work.overdue]
    assert titles == ["Arrange the forensic interview"]
    view = selectors.get_case(actor=w["worker"], public_id=pid)
    assert "Confirm the shelter bed" in [i.title for i in view.timeline if i.kind == "task"]


def test_the_weekly_case_review_lists_open_cases_with_what_changed_since_the_last_review(w: dict[str, Any]) -> None:
    case = open_case(w)
    pid = str(case.public_id)
    with clock.frozen(DAY0 + dt.timedelta(days=1)):
        services.record_stage(actor=w["worker"], case_public_id=pid, stage="contemplation",
                              on=DAY0.date() + dt.timedelta(days=1))
        last, rows = selectors.case_review(actor=w["supervisor"])
    assert last is None
    [row] = rows
    assert (row.case_id, row.stage, row.changes) == (pid, "contemplation", ["stage of change recorded"])
    with clock.frozen(DAY0 + dt.timedelta(days=2)):
        services.mark_review_held(actor=w["supervisor"])
    with clock.frozen(DAY0 + dt.timedelta(days=9)):
        last, rows = selectors.case_review(actor=w["supervisor"])
    assert last == DAY0 + dt.timedelta(days=2)
    assert rows[0].changes == []  # nothing new since the review; the case is still listed


def test_a_planned_change_to_a_key_relationship_warns_and_opens_a_hand_over_task(w: dict[str, Any]) -> None:
    from nowrongdoor.protocols.models import Task

    case = open_case(w)
    pid = str(case.public_id)
    with clock.frozen(DAY0):
        rel = services.record_relationship(actor=w["worker"], case_public_id=pid, kind="therapist",
                                           person="Dr. Synthetic Rivera", since=DAY0.date())
        warning = services.plan_relationship_end(actor=w["worker"], case_public_id=pid, relationship_id=rel.pk,
                                                 ends_on=DAY0.date() + dt.timedelta(days=30))
        services.plan_relationship_end(actor=w["worker"], case_public_id=pid, relationship_id=rel.pk,
                                       ends_on=DAY0.date() + dt.timedelta(days=30))  # said twice: one task
    assert "therapist" in warning and "Dr. Synthetic Rivera" in warning
    [task] = Task.objects.filter(kind="continuity_handover")
    assert task.assignee == w["worker"]
    assert task.due_at.astimezone(LA).date() == DAY0.date() + dt.timedelta(days=16)


def test_a_witness_hearing_opens_the_protection_checklist_before_and_after(w: dict[str, Any]) -> None:
    from nowrongdoor.cases.services import WITNESS_STEPS
    from nowrongdoor.protocols.models import Task

    case = open_case(w)
    hearing_on = DAY0.date() + dt.timedelta(days=20)
    with clock.frozen(DAY0), pytest.raises(ValidationFailed):
        services.add_hearing(actor=w["worker"], case_public_id=str(case.public_id),
                             held_on=DAY0.date() - dt.timedelta(days=1), court="Superior Court (synthetic)")
    with clock.frozen(DAY0):
        services.add_hearing(actor=w["worker"], case_public_id=str(case.public_id), held_on=hearing_on,
                             court="Superior Court, Dept. 12 (synthetic)")
    tasks = {t.step_id: t for t in Task.objects.filter(kind="witness_protection")}
    assert set(tasks) == {step for step, *_ in WITNESS_STEPS}
    assert tasks["transport"].due_at.astimezone(LA).date() == hearing_on - dt.timedelta(days=2)
    assert tasks["safety_check"].due_at.astimezone(LA).date() == hearing_on + dt.timedelta(days=1)
    assert {t.assignee for t in tasks.values()} == {w["worker"]}


def test_a_pathway_suggests_a_provider_with_openings_for_each_service(
    w: dict[str, Any], make_agency: Callable[..., Agency]
) -> None:
    from nowrongdoor.cases.content import pathways
    from nowrongdoor.directory.models import ProviderProfile

    shelter = make_agency("community_provider", name="Shelter (synthetic)")
    ProviderProfile.objects.create(agency=shelter, services=["emergency_shelter", "survivor_led"], openings=1)
    suggested = dict(selectors.suggest_pathway("recovered_by_police", w["worker"]))
    assert list(suggested) == list(pathways()["recovered_by_police"].services)
    assert suggested["emergency_shelter"] is not None and suggested["emergency_shelter"].name == shelter.name
    assert suggested["legal"] is None  # nobody offers it: the page says so
