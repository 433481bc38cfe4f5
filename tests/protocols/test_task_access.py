"""Access-matrix cases for protocol tasks, through the real selectors, services and API.

A task is data of the category its owning agency keeps (probation task: ``probation``;
clinic task: ``health``, which needs consent). The owning agency always sees its own
tasks; another agency sees one, evidence included, only under a sharing agreement in
force naming that category for the reader's purpose (plus consent where the category
needs it). Analytics never opens an individual task. Only the owning agency works a
task, and only its owning role, the assignee or a supervisor.

The world is the synthetic county of ``tests/protocols/conftest.py``: one agency of each
type, staff in each role, one youth known to probation, child welfare, law enforcement,
the school and the clinic.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Max

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent, SharingAgreement
from nowrongdoor.access.services import create_agreement, record_consent, terminate_agreement
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, NotFound
from nowrongdoor.protocols import selectors, services
from nowrongdoor.protocols.models import Task
from tests.api.http import fields_named, post
from tests.protocols.conftest import T0, County_, contact, run_tick, screen, tasks

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
READ_AT = T0 + 2 * H  # reads happen with the clock here unless a test says otherwise
HOTLINE_REF = "HL-SYN-2026-0007"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


# -- helpers -----------------------------------------------------------------------


def last_seq() -> int:
    return AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def admin(w: County_) -> User:
    if "admin" not in w.records:
        w.records["admin"] = User.objects.create(username=f"sysadmin-{w.county.pk}", role="system_admin")
    return w.records["admin"]


def agree(w: County_, discloser: str, recipient: str, categories: list[str], purposes: list[str], *,
          valid_from: dt.date | None = None, valid_to: dt.date | None = None) -> SharingAgreement:
    return create_agreement(
        actor=admin(w), county=w.county, title="Synthetic task-sharing MOU", discloser=w.agencies[discloser],
        recipient=w.agencies[recipient], categories=categories, purposes=purposes, legal_basis_code="MOU",
        valid_from=valid_from or dt.date(2026, 1, 1), valid_to=valid_to,
    )


def consent(w: County_, category: str, recipient: str) -> Any:
    """The youth's consent, recorded by the clinic (which serves the youth)."""
    return record_consent(actor=w.user("health", "screener"), youth=w.youth, category=category, given_by="youth",
                          given_on=dt.date(2026, 11, 1), recipient_agency=w.agencies[recipient])


def probation_task(w: County_) -> Task:
    """Probation's "report to the hotline" task (category probation), completed with evidence."""
    screen(w, "probation", clear=True)
    run_tick()
    task = tasks(protocol_id="csec_identified")["report_hotline"]
    assert (task.agency, task.category, task.role) == (w.agencies["probation"], "probation", "screener")
    with clock.frozen(T0 + H):
        done = services.complete_task(actor=w.user("probation", "screener"), task_public_id=str(task.public_id),
                                      expected_version=task.version, evidence={"hotline_referral_id": HOTLINE_REF})
    assert done.status == Task.DONE
    return done


def clinic_task(w: County_) -> Task:
    """The clinic's re-screening task after repeated STI testing (category health)."""
    contact(w, "health", "health_visit", at=T0 - 60 * D, reason="sti_testing")
    run_tick(T0 - 60 * D + H)
    contact(w, "health", "health_visit", reason="sti_testing")
    run_tick()
    task = tasks(protocol_id="rescreening_triggers")["rescreen_repeated_sti_testing"]
    assert (task.agency, task.category) == (w.agencies["health"], "health")
    return task


def missing_reports(w: County_, at: dt.datetime = T0) -> dict[str, Task]:
    """Child welfare's two 24-hour reports (case manager) after an absence from placement."""
    contact(w, "child_welfare", "absence_start", at=at)
    run_tick(at + dt.timedelta(minutes=1))
    opened = {s: t for s, t in tasks(protocol_id="missing_from_placement").items()
              if t.event.occurred_at == at}
    assert sorted(opened) == ["report_missing_to_law_enforcement", "report_missing_to_ncmec"]
    return opened


def all_ids(work: selectors.MyWork) -> list[str]:
    return [v.public_id for v in work.overdue + work.due_soon + work.later + work.done]


def youth_ids(w: County_, actor: User, purpose: str) -> list[str]:
    return [v.public_id for v in selectors.tasks_of_youth(actor=actor, youth_public_id=str(w.youth.public_id),
                                                          purpose=purpose)]


def refused(actor: User, task: Task, purpose: str) -> AuditEvent:
    """get_task refuses with NotFound; returns the refusal's (single) audit event."""
    seq = last_seq()
    with pytest.raises(NotFound):
        selectors.get_task(actor=actor, public_id=str(task.public_id), purpose=purpose)
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.actor_id, event.purpose) == ("read", False, actor.pk, purpose)
    assert (event.object_type, event.object_id, event.category) == ("task", str(task.public_id), task.category)
    assert (event.youth_id, event.owner_agency_id) == (task.youth_id, task.agency_id)
    return event


# -- 1. a school never sees probation's task unless probation shares it -------------------


def test_a_school_never_sees_a_probation_task_or_its_evidence_without_an_agreement(world: County_) -> None:
    task = probation_task(world)
    reader = world.user("education", "screener")
    with clock.frozen(READ_AT):
        event = refused(reader, task, "screening")
        assert "no sharing agreement" in event.reason
        # the school knows the youth (its own record), so the list opens, and it holds no probation task
        assert str(task.public_id) not in youth_ids(world, reader, "screening")
        assert all(v.agency_type != "probation" for v in selectors.tasks_of_youth(
            actor=reader, youth_public_id=str(world.youth.public_id), purpose="screening"))
        for role in ("screener", "case_manager", "supervisor"):
            assert str(task.public_id) not in all_ids(selectors.my_work(actor=world.user("education", role),
                                                                        purpose="screening"))
    # a hidden task and no task at all look the same
    with pytest.raises(NotFound) as unknown:
        selectors.get_task(actor=reader, public_id=UNKNOWN_ID, purpose="screening")
    with pytest.raises(NotFound) as hidden:
        selectors.get_task(actor=reader, public_id=str(task.public_id), purpose="screening")
    assert str(hidden.value) == str(unknown.value)


def test_an_agreement_naming_probation_for_another_purpose_shares_nothing(world: County_) -> None:
    task = probation_task(world)
    agree(world, "probation", "education", ["probation"], ["case_coordination"])
    agree(world, "probation", "education", ["identity", "screening", "case_notes"], ["screening"])
    reader = world.user("education", "screener")
    with clock.frozen(READ_AT):
        refused(reader, task, "screening")
        assert str(task.public_id) not in youth_ids(world, reader, "screening")


def test_an_agreement_sharing_probation_for_the_readers_purpose_shows_the_task_and_its_evidence(
    world: County_,
) -> None:
    task = probation_task(world)
    agree(world, "probation", "education", ["probation"], ["screening"])
    reader = world.user("education", "screener")
    with clock.frozen(READ_AT):
        seen = selectors.get_task(actor=reader, public_id=str(task.public_id), purpose="screening")
        assert (seen.public_id, seen.own, seen.agency, seen.agency_type, seen.status) == (
            str(task.public_id), False, world.agencies["probation"].name, "probation", "done")
        assert seen.evidence == {"hotline_referral_id": HOTLINE_REF}
        assert seen.closed_by == world.user("probation", "screener").username
        assert str(task.public_id) in youth_ids(world, reader, "screening")
        # seeing is not working: it is never in the school's work, and the school cannot touch it
        assert str(task.public_id) not in all_ids(selectors.my_work(actor=reader, purpose="screening"))
    # the school's case manager reading for case coordination is not covered by this agreement
    with clock.frozen(READ_AT):
        refused(world.user("education", "case_manager"), task, "case_coordination")


def test_another_agency_never_works_a_shared_task(world: County_) -> None:
    contact(world, "probation", "probation_intake")
    run_tick()
    task = tasks(protocol_id="universal_intake_screening")["screen_at_intake"]
    agree(world, "probation", "education", ["probation"], ["screening"])
    for role in ("screener", "supervisor"):
        with clock.frozen(READ_AT), pytest.raises(NotFound):
            services.waive_task(actor=world.user("education", role), task_public_id=str(task.public_id),
                                expected_version=task.version, reason="Not ours to waive, synthetic case.")
    assert Task.objects.get(pk=task.pk).status == Task.OPEN


# -- 2. a clinic's task is health data: agreement and consent --------------------------------


def test_probation_never_sees_a_clinic_task_without_an_agreement(world: County_) -> None:
    task = clinic_task(world)
    reader = world.user("probation", "screener")
    with clock.frozen(READ_AT):
        event = refused(reader, task, "screening")
        assert "no sharing agreement" in event.reason
        assert str(task.public_id) not in youth_ids(world, reader, "screening")


def test_an_agreement_alone_does_not_open_a_clinic_task_consent_is_needed(world: County_) -> None:
    task = clinic_task(world)
    agree(world, "health", "probation", ["health"], ["screening"])
    reader = world.user("probation", "screener")
    with clock.frozen(READ_AT):
        event = refused(reader, task, "screening")
        assert "consent" in event.reason
        assert str(task.public_id) not in youth_ids(world, reader, "screening")


def test_consent_alone_does_not_open_a_clinic_task(world: County_) -> None:
    task = clinic_task(world)
    consent(world, "health", "probation")
    reader = world.user("probation", "screener")
    with clock.frozen(READ_AT):
        refused(reader, task, "screening")
        assert str(task.public_id) not in youth_ids(world, reader, "screening")


def test_agreement_and_consent_open_a_clinic_task_and_its_evidence(world: County_) -> None:
    task = clinic_task(world)
    with clock.frozen(T0 + H):
        task = services.complete_task(actor=world.user("health", "screener"), task_public_id=str(task.public_id),
                                      expected_version=task.version, evidence={"screening_id": "SCR-SYN-77"})
    agree(world, "health", "probation", ["health"], ["screening"])
    consent(world, "health", "probation")
    reader = world.user("probation", "screener")
    with clock.frozen(READ_AT):
        seq = last_seq()
        seen = selectors.get_task(actor=reader, public_id=str(task.public_id), purpose="screening")
        assert (seen.public_id, seen.own, seen.agency_type, seen.status) == (
            str(task.public_id), False, "health", "done")
        assert seen.evidence == {"screening_id": "SCR-SYN-77"}
        [event] = [e for e in events_since(seq) if e.object_type == "task"]
        assert (event.allowed, event.basis) == (True, "agreement_and_consent")
        assert str(task.public_id) in youth_ids(world, reader, "screening")


def test_consent_for_another_category_does_not_open_a_clinic_task(world: County_) -> None:
    task = clinic_task(world)
    agree(world, "health", "probation", ["health"], ["screening"])
    consent(world, "mental_health", "probation")
    with clock.frozen(READ_AT):
        refused(world.user("probation", "screener"), task, "screening")


# -- 3. expired and terminated agreements stop the sharing ---------------------------------


def test_an_expired_agreement_shares_nothing(world: County_) -> None:
    task = probation_task(world)
    agree(world, "probation", "education", ["probation"], ["screening"], valid_from=dt.date(2026, 1, 1),
          valid_to=dt.date(2026, 11, 19))
    reader = world.user("education", "screener")
    with clock.frozen(dt.datetime(2026, 11, 19, 12, 0, tzinfo=T0.tzinfo)):  # the last day: still shared
        assert selectors.get_task(actor=reader, public_id=str(task.public_id), purpose="screening").own is False
    with clock.frozen(READ_AT):  # the day after it expired
        refused(reader, task, "screening")
        assert str(task.public_id) not in youth_ids(world, reader, "screening")


def test_a_terminated_agreement_shares_nothing_from_the_day_it_ends(world: County_) -> None:
    task = probation_task(world)
    agreement = agree(world, "probation", "education", ["probation"], ["screening"])
    reader = world.user("education", "screener")
    with clock.frozen(READ_AT):
        assert selectors.get_task(actor=reader, public_id=str(task.public_id), purpose="screening").evidence == {
            "hotline_referral_id": HOTLINE_REF}
        assert str(task.public_id) in youth_ids(world, reader, "screening")
        terminate_agreement(actor=admin(world), agreement=agreement, expected_version=agreement.version,
                            on=clock.today())
        refused(reader, task, "screening")
        assert str(task.public_id) not in youth_ids(world, reader, "screening")


# -- 4. analysts: counts only ---------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["analytics", "screening", "case_coordination"])
def test_analysts_never_open_individual_tasks_even_in_their_own_agency(world: County_, purpose: str) -> None:
    opened = missing_reports(world)
    task = opened["report_missing_to_law_enforcement"]
    analyst = User.objects.create(username=f"analyst-{world.county.pk}", role="analyst",
                                  agency=world.agencies["child_welfare"])
    seq = last_seq()
    with clock.frozen(READ_AT):
        with pytest.raises(AccessDenied):
            selectors.my_work(actor=analyst, purpose=purpose)
        with pytest.raises(AccessDenied):
            selectors.get_task(actor=analyst, public_id=str(task.public_id), purpose=purpose)
        with pytest.raises(AccessDenied):
            selectors.tasks_of_youth(actor=analyst, youth_public_id=str(world.youth.public_id), purpose=purpose)
        with pytest.raises(AccessDenied):
            selectors.agency_board(actor=analyst, purpose=purpose)
    assert not [e for e in events_since(seq) if e.allowed and e.object_type == "task"]


COMPLIANCE_KEYS = {"kind", "agency", "county", "due", "on_time", "late", "waived", "still_open", "on_time_rate",
                   "suppressed"}


def test_compliance_gives_analysts_counts_only_and_suppresses_small_cells(world: County_) -> None:
    # 6 absences: 12 "report" tasks for child welfare, each due 24 hours after its absence
    reports: list[Task] = []
    for k in range(6):
        reports += missing_reports(world, at=T0 + k * dt.timedelta(minutes=1)).values()
    reports.sort(key=lambda t: t.pk)
    worker = world.user("child_welfare", "case_manager")

    def finish(task: Task, at: dt.datetime) -> None:
        evidence = {e["id"]: "SYN-REF-1" for e in task.evidence_spec if e["required"]}
        with clock.frozen(at):
            services.complete_task(actor=worker, task_public_id=str(task.public_id), expected_version=task.version,
                                   evidence=evidence)

    for task in reports[:5]:
        finish(task, T0 + 3 * H)  # on time
    for task in reports[5:8]:
        finish(task, T0 + 30 * H)  # late: after every report's due time
    with clock.frozen(T0 + 30 * H):
        services.waive_task(actor=world.user("child_welfare", "supervisor"), task_public_id=str(reports[8].public_id),
                            expected_version=reports[8].version, reason="Youth found within the hour, synthetic.")
    # three stay open; and one probation screening task makes a small cell
    contact(world, "probation", "probation_intake")
    run_tick()
    analyst = User.objects.create(username=f"analyst-{world.county.pk}", role="analyst",
                                  agency=world.agencies["probation"])

    seq = last_seq()
    with clock.frozen(T0 + 7 * D):
        rows = selectors.compliance(actor=analyst)
    by_cell = {(r["agency"], r["kind"]): r for r in rows}
    assert all(set(r) == COMPLIANCE_KEYS for r in rows)
    # 12 due: 5 on time, 3 late, 1 waived, 3 open. The total is shown; every part is 1-10,
    # so masked, and so is the rate on a masked count.
    assert by_cell[(world.agencies["child_welfare"].name, "report")] == {
        "kind": "report", "agency": world.agencies["child_welfare"].name, "county": world.county.name,
        "due": 12, "on_time": None, "late": None, "waived": None, "still_open": None, "on_time_rate": None,
        "suppressed": True,
    }
    small = by_cell[(world.agencies["probation"].name, "screening")]
    assert small["suppressed"] is True
    # one task, still open: its 1s are masked, its zeros shown (a zero says nothing about a youth)
    assert [small[k] for k in ("due", "on_time", "late", "waived", "still_open", "on_time_rate")] == \
        [None, 0, 0, 0, None, None]
    # counts only: nothing that names a youth or a task
    flat = repr(rows)
    assert str(world.youth.public_id) not in flat
    assert not any(str(t.public_id) in flat for t in reports)
    [event] = events_since(seq)
    assert (event.actor_id, event.object_type, event.youth_id, event.purpose) == (
        analyst.pk, "compliance", None, "analytics")
    with clock.frozen(T0 + 7 * D):  # a supervisor reads their own agency's tasks one by one: unmasked
        [own] = [r for r in selectors.compliance(actor=world.user("child_welfare", "supervisor"))
                 if r["kind"] == "report"]
    assert [own[k] for k in ("due", "on_time", "late", "waived", "still_open", "on_time_rate", "suppressed")] == \
        [12, 5, 3, 1, 3, round(5 / 12, 3), False]


def test_compliance_counts_only_tasks_already_due(world: County_) -> None:
    for k in range(6):
        missing_reports(world, at=T0 + k * dt.timedelta(minutes=1))
    analyst = User.objects.create(username=f"analyst-{world.county.pk}", role="analyst",
                                  agency=world.agencies["probation"])
    with clock.frozen(T0 + 23 * H):  # none due yet
        assert selectors.compliance(actor=analyst) == []
    with clock.frozen(T0 + 24 * H + 2 * dt.timedelta(minutes=1)):  # the first three absences' reports: 6 tasks
        [row] = selectors.compliance(actor=analyst)
    assert (row["kind"], row["suppressed"], row["due"]) == ("report", True, None)


@pytest.mark.parametrize("role", ["screener", "case_manager", "mdt_coordinator", "agency_admin"])
def test_compliance_is_refused_to_staff_who_are_neither_analysts_nor_supervisors(world: County_, role: str) -> None:
    missing_reports(world)
    with clock.frozen(T0 + 7 * D), pytest.raises(AccessDenied):
        selectors.compliance(actor=world.user("child_welfare", role))


def test_a_supervisors_compliance_covers_their_own_agency_only(world: County_) -> None:
    for k in range(6):
        missing_reports(world, at=T0 + k * dt.timedelta(minutes=1))
    contact(world, "probation", "probation_intake")
    run_tick()
    with clock.frozen(T0 + 7 * D):
        rows = selectors.compliance(actor=world.user("probation", "supervisor"))
    assert {r["agency"] for r in rows} == {world.agencies["probation"].name}


# -- 5. my work: by role, and by assignee -------------------------------------------------


def test_my_work_shows_a_case_manager_their_roles_tasks_and_not_the_mdt_coordinators(world: County_) -> None:
    screen(world, "probation", clear=True)
    run_tick()
    opened = tasks(protocol_id="csec_identified")
    by_id = {str(t.public_id): step for step, t in opened.items()}
    with clock.frozen(READ_AT):
        mine = selectors.my_work(actor=world.user("child_welfare", "case_manager"), purpose="screening")
        coordinator = selectors.my_work(actor=world.user("child_welfare", "mdt_coordinator"),
                                        purpose="case_coordination")
    mine_steps = {by_id[i].split("#")[0] for i in all_ids(mine)}
    assert mine_steps == {"medical_assessment", "mental_health_assessment", "advocate_meeting", "placement_survey",
                          "liaison_checkin"}
    assert len(all_ids(mine)) == 4 + 13
    assert [by_id[i] for i in all_ids(coordinator)] == ["convene_mdt"]
    # probation's own reports are the probation screener's, nobody's at child welfare
    with clock.frozen(READ_AT):
        prob = selectors.my_work(actor=world.user("probation", "screener"), purpose="screening")
    assert sorted(by_id[i] for i in all_ids(prob)) == ["report_hotline", "report_law_enforcement"]
    # urgency: nothing due yet at READ_AT; the 48-hour steps are "later", no week-long check-in is "due soon"
    assert mine.overdue == [] and mine.due_soon == []
    with clock.frozen(T0 + 30 * H):
        later = selectors.my_work(actor=world.user("child_welfare", "case_manager"), purpose="screening")
    assert {by_id[v.public_id] for v in later.due_soon} == {
        "medical_assessment", "mental_health_assessment", "advocate_meeting", "placement_survey"}


def test_an_assigned_task_shows_for_the_assignee_only(world: County_, make_user: Any) -> None:
    opened = missing_reports(world)
    task = opened["report_missing_to_ncmec"]
    first = world.user("child_welfare", "case_manager")
    second = make_user("case_manager", world.agencies["child_welfare"])
    with clock.frozen(T0 + H):
        assigned = services.assign_task(actor=world.user("child_welfare", "supervisor"),
                                        task_public_id=str(task.public_id), expected_version=task.version,
                                        assignee_username=second.username)
    assert assigned.assignee == second
    with clock.frozen(READ_AT):
        assert str(task.public_id) in all_ids(selectors.my_work(actor=second, purpose="screening"))
        assert str(task.public_id) not in all_ids(selectors.my_work(actor=first, purpose="screening"))
        # the other report is still the role's: both case managers see it
        other = str(opened["report_missing_to_law_enforcement"].public_id)
        assert other in all_ids(selectors.my_work(actor=first, purpose="screening"))
        assert other in all_ids(selectors.my_work(actor=second, purpose="screening"))


def test_a_task_assigned_outside_the_role_can_be_worked_by_the_assignee_and_not_the_role(world: County_) -> None:
    opened = missing_reports(world)
    task = opened["report_missing_to_ncmec"]
    screener = world.user("child_welfare", "screener")
    with clock.frozen(T0 + H):
        task = services.assign_task(actor=world.user("child_welfare", "supervisor"),
                                    task_public_id=str(task.public_id), expected_version=task.version,
                                    assignee_username=screener.username)
    with clock.frozen(READ_AT):
        assert str(task.public_id) in all_ids(selectors.my_work(actor=screener, purpose="screening"))
        assert str(task.public_id) not in all_ids(selectors.my_work(
            actor=world.user("child_welfare", "case_manager"), purpose="screening"))
        # the mdt coordinator is neither the role, the assignee nor a supervisor
        with pytest.raises(AccessDenied):
            services.complete_task(actor=world.user("child_welfare", "mdt_coordinator"),
                                   task_public_id=str(task.public_id), expected_version=task.version,
                                   evidence={"ncmec_case_number": "NCMEC-SYN-1"})
        done = services.complete_task(actor=screener, task_public_id=str(task.public_id),
                                      expected_version=task.version, evidence={"ncmec_case_number": "NCMEC-SYN-1"})
    assert (done.status, done.closed_by) == (Task.DONE, screener)


def test_only_a_supervisor_assigns(world: County_) -> None:
    task = missing_reports(world)["report_missing_to_ncmec"]
    with clock.frozen(T0 + H), pytest.raises(AccessDenied):
        services.assign_task(actor=world.user("child_welfare", "case_manager"), task_public_id=str(task.public_id),
                             expected_version=task.version,
                             assignee_username=world.user("child_welfare", "screener").username)
    assert Task.objects.get(pk=task.pk).assignee is None


# -- 6. the agency board ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["screener", "case_manager", "mdt_coordinator", "agency_admin"])
def test_the_agency_board_is_for_supervisors_only(world: County_, role: str) -> None:
    missing_reports(world)
    with clock.frozen(READ_AT), pytest.raises(AccessDenied):
        selectors.agency_board(actor=world.user("child_welfare", role), purpose="screening")


def test_the_agency_board_lists_overdue_before_due_soon(world: County_) -> None:
    screen(world, "probation", clear=True)  # child welfare's 48-hour steps, due T0 + 48 h
    run_tick()
    late = missing_reports(world, at=T0 + 10 * H)  # child welfare's 24-hour reports, due T0 + 34 h
    now = T0 + 40 * H
    with clock.frozen(now):
        board = selectors.agency_board(actor=world.user("child_welfare", "supervisor"), purpose="screening")
    assert sorted(v.public_id for v in board.overdue) == sorted(str(t.public_id) for t in late.values())
    assert all(v.overdue and v.due_at <= now for v in board.overdue)
    assert {v.step_id for v in board.due_soon} == {"medical_assessment", "mental_health_assessment",
                                                   "advocate_meeting", "placement_survey"}
    assert all(now < v.due_at <= now + 24 * H for v in board.due_soon)
    assert max(v.due_at for v in board.overdue) < min(v.due_at for v in board.due_soon)
    kinds = {row["kind"]: (row["open"], row["overdue"]) for row in board.by_kind}
    assert kinds["report"] == (2, 2)
    assert kinds["follow_up"] == (13, 0)
    assert board.by_kind[0]["kind"] == "report"  # most overdue first
    assert board.open_count == 2 + 4 + 1 + 13
    # another agency's supervisor sees none of it
    with clock.frozen(now):
        other = selectors.agency_board(actor=world.user("education", "supervisor"), purpose="screening")
    assert (other.overdue, other.due_soon, other.open_count) == ([], [], 0)


# -- 7. every allowed read is audited -------------------------------------------------------


def test_every_allowed_read_of_a_task_writes_an_audit_event(world: County_) -> None:
    opened = missing_reports(world)
    task = opened["report_missing_to_law_enforcement"]
    worker = world.user("child_welfare", "case_manager")
    supervisor = world.user("child_welfare", "supervisor")

    with clock.frozen(T0 + 30 * H):
        seq = last_seq()
        selectors.get_task(actor=worker, public_id=str(task.public_id), purpose="screening")
        [event] = events_since(seq)
        assert (event.action, event.allowed, event.object_type, event.object_id, event.actor_id) == (
            "read", True, "task", str(task.public_id), worker.pk)
        assert (event.youth_id, event.category, event.basis, event.owner_agency_id, event.purpose) == (
            world.youth.pk, "child_welfare", "own_agency", world.agencies["child_welfare"].pk, "screening")

        seq = last_seq()
        selectors.my_work(actor=worker, purpose="screening")
        [event] = events_since(seq)
        assert (event.action, event.allowed, event.object_type, event.actor_id) == ("read", True, "task", worker.pk)
        assert event.detail["list"] == "my_work"
        assert sorted(event.detail["ids"]) == sorted(t.pk for t in opened.values())

        seq = last_seq()
        selectors.agency_board(actor=supervisor, purpose="screening")
        [event] = events_since(seq)
        assert (event.action, event.allowed, event.object_type, event.actor_id) == (
            "read", True, "task", supervisor.pk)
        assert event.detail["list"] == "agency_board"
        assert sorted(event.detail["ids"]) == sorted(t.pk for t in opened.values())

        seq = last_seq()
        selectors.tasks_of_youth(actor=worker, youth_public_id=str(world.youth.public_id), purpose="screening")
        task_events = [e for e in events_since(seq) if e.object_type == "task"]
        assert len(task_events) == 1
        event = task_events[0]
        assert (event.action, event.allowed, event.youth_id, event.actor_id) == (
            "read", True, world.youth.pk, worker.pk)
        assert sorted(event.detail["ids"]) == sorted(t.pk for t in opened.values())


def test_a_shared_read_is_audited_with_its_basis(world: County_) -> None:
    task = probation_task(world)
    agree(world, "probation", "education", ["probation"], ["screening"])
    reader = world.user("education", "screener")
    with clock.frozen(READ_AT):
        seq = last_seq()
        selectors.get_task(actor=reader, public_id=str(task.public_id), purpose="screening")
    [event] = events_since(seq)
    assert (event.action, event.allowed, event.object_type, event.object_id) == (
        "read", True, "task", str(task.public_id))
    assert (event.basis, event.category, event.owner_agency_id, event.actor_agency_id) == (
        "agreement", "probation", world.agencies["probation"].pk, world.agencies["education"].pk)


# -- 8. over the API ----------------------------------------------------------------------


@pytest.fixture
def api(client: Any) -> Any:
    client.raise_request_exception = False
    return client


def test_api_another_agencys_unshared_task_is_404_and_the_owner_reads_it(world: County_, api: Any) -> None:
    task = probation_task(world)
    api.force_login(world.user("education", "screener"))
    with clock.frozen(READ_AT):
        assert api.get(f"/api/tasks/{task.public_id}").status_code == 404
        assert api.get(f"/api/tasks/{UNKNOWN_ID}").status_code == 404
        listed = api.get(f"/api/youth/{world.youth.public_id}/tasks")
        assert listed.status_code == 200
        assert str(task.public_id) not in [t["id"] for t in listed.json()]
    api.force_login(world.user("probation", "screener"))
    with clock.frozen(READ_AT):
        own = api.get(f"/api/tasks/{task.public_id}")
    assert own.status_code == 200
    assert (own.json()["id"], own.json()["evidence"]) == (str(task.public_id), {"hotline_referral_id": HOTLINE_REF})


def test_api_complete_with_missing_evidence_is_422_naming_each_piece(world: County_, api: Any) -> None:
    screen(world, "probation", clear=True)
    run_tick()
    task = tasks(protocol_id="csec_identified")["report_hotline"]
    api.force_login(world.user("probation", "screener"))
    with clock.frozen(T0 + H):
        response = post(api, f"/api/tasks/{task.public_id}/complete", {"version": task.version, "evidence": {}})
        assert response.status_code == 422
        assert fields_named(response) == {"evidence.hotline_referral_id"}
        blank = post(api, f"/api/tasks/{task.public_id}/complete",
                     {"version": task.version, "evidence": {"hotline_referral_id": "   ", "made_up": "x"}})
        assert blank.status_code == 422
        assert fields_named(blank) == {"evidence.hotline_referral_id", "evidence.made_up"}
    assert Task.objects.get(pk=task.pk).status == Task.OPEN
    with clock.frozen(T0 + H):
        done = post(api, f"/api/tasks/{task.public_id}/complete",
                    {"version": task.version, "evidence": {"hotline_referral_id": HOTLINE_REF}})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["evidence"]) == ("done", {"hotline_referral_id": HOTLINE_REF})


def test_api_complete_with_a_stale_version_is_409_and_changes_nothing(world: County_, api: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    worker = world.user("child_welfare", "case_manager")
    with clock.frozen(T0 + H):
        services.assign_task(actor=world.user("child_welfare", "supervisor"), task_public_id=str(task.public_id),
                             expected_version=task.version, assignee_username=worker.username)
    api.force_login(worker)
    with clock.frozen(T0 + 2 * H):
        response = post(api, f"/api/tasks/{task.public_id}/complete",
                        {"version": task.version, "evidence": {"law_enforcement_report_number": "LE-SYN-9"}})
    assert response.status_code == 409
    assert response.json()["current_version"] == task.version + 1
    fresh = Task.objects.get(pk=task.pk)
    assert (fresh.status, fresh.evidence, fresh.closed_at) == (Task.OPEN, {}, None)


@pytest.mark.parametrize(("agency_type", "role", "status"), [
    ("child_welfare", "screener", 403),  # the task is the case manager's
    ("child_welfare", "mdt_coordinator", 403),
    ("child_welfare", "agency_admin", 403),
    ("probation", "supervisor", 404),  # another agency: it may not even know the task exists
])
def test_api_complete_by_someone_who_does_not_own_the_task_is_refused(
    world: County_, api: Any, agency_type: str, role: str, status: int
) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    api.force_login(world.user(agency_type, role))
    seq = last_seq()
    with clock.frozen(T0 + H):
        response = post(api, f"/api/tasks/{task.public_id}/complete",
                        {"version": task.version, "evidence": {"law_enforcement_report_number": "LE-SYN-9"}})
    assert response.status_code == status
    assert Task.objects.get(pk=task.pk).status == Task.OPEN
    if status == 403 and role != "agency_admin":
        refusal = [e for e in events_since(seq) if not e.allowed]
        assert [(e.action, e.object_type, e.object_id) for e in refusal] == [
            ("update", "task", str(task.public_id))]


def test_api_waive_and_assign_by_the_wrong_people_are_refused(world: County_, api: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    api.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + H):
        assign = post(api, f"/api/tasks/{task.public_id}/assign",
                      {"version": task.version, "assignee": world.user("child_welfare", "screener").username})
        assert assign.status_code == 403
        api.force_login(world.user("child_welfare", "screener"))
        waive = post(api, f"/api/tasks/{task.public_id}/waive",
                     {"version": task.version, "reason": "Not mine to waive, synthetic case."})
        assert waive.status_code == 403
    fresh = Task.objects.get(pk=task.pk)
    assert (fresh.status, fresh.assignee, fresh.version) == (Task.OPEN, None, task.version)


def test_api_analytics_compliance_for_analysts_and_not_for_screeners(world: County_, api: Any) -> None:
    missing_reports(world)
    api.force_login(User.objects.create(username=f"analyst-{world.county.pk}", role="analyst",
                                        agency=world.agencies["probation"]))
    with clock.frozen(T0 + 7 * D):
        rows = api.get("/api/analytics/task-compliance")
        assert rows.status_code == 200
        assert [(r["kind"], r["suppressed"], r["due"]) for r in rows.json()] == [("report", True, None)]
        assert api.get("/api/tasks").status_code == 403
        api.force_login(world.user("child_welfare", "screener"))
        assert api.get("/api/analytics/task-compliance").status_code == 403

